-- The trigram index behind "name contains" searches becomes each partition's own, no longer an index
-- of the partitioned table: attaching an imported version then no longer builds it inside the
-- import (half a second per 100k units, the largest of the partition's indexes, bench/README.md);
-- the task that follows the import builds it (sources.name_search_index). The planner uses a
-- partition's own index as it used the partitioned table's.
DROP INDEX org_units_name_trgm_idx;

DO $$
DECLARE
    part text;
BEGIN
    FOR part IN SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'org_units'::regclass LOOP
        EXECUTE format('CREATE INDEX %I ON %I USING gin (search_text(name) gin_trgm_ops)',
                       part || '_name_trgm_idx', part);
        -- the name's expression statistics come from this (non-partial) index: finer than the default
        EXECUTE format('ALTER INDEX %I ALTER COLUMN 1 SET STATISTICS 1000', part || '_name_trgm_idx');
    END LOOP;
END $$;
