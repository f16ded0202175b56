-- A unit's parent, and a membership's unit, are in the same version, hence in the same partition:
-- their foreign keys become each partition's own (org_units_vN -> org_units_vN, org_unit_groups_vN
-- -> org_units_vN) instead of the partitioned tables'. The same rows are allowed. But attaching an
-- imported version no longer checks these keys against every version's units: PostgreSQL cannot
-- prune the partitioned side of that check, so it hashed all the units of all accounts, 0.6 s at
-- 11 versions of 100,000 units, and growing with every version (bench/README.md).
-- sources.create_partition and unit_loader.load_new_version add them to the versions made later.
ALTER TABLE org_units DROP CONSTRAINT org_units_version_id_parent_id_fkey;

DO $$
DECLARE
    version bigint;
BEGIN
    FOR version IN SELECT id FROM source_versions WHERE to_regclass('org_units_v' || id) IS NOT NULL LOOP
        EXECUTE format('ALTER TABLE %1$I ADD CONSTRAINT %2$I FOREIGN KEY (version_id, parent_id)'
                       ' REFERENCES %1$I (version_id, id)',
                       'org_units_v' || version, 'org_units_v' || version || '_parent_fkey');
        EXECUTE format('ALTER TABLE %1$I ADD CONSTRAINT %2$I FOREIGN KEY (version_id, org_unit_id)'
                       ' REFERENCES %3$I (version_id, id) ON DELETE CASCADE',
                       'org_unit_groups_v' || version, 'org_unit_groups_v' || version || '_unit_fkey',
                       'org_units_v' || version);
    END LOOP;
END $$;
