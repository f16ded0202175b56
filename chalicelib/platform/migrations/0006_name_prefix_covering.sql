-- The name-prefix index also carries the name itself. PostgreSQL answers from an index alone only
-- when every column the query mentions is in it; `search_text(name) LIKE 'abc%'` mentions `name`,
-- which an index on the expression does not hold, so each match cost a heap visit: 801 of them,
-- 3.1 ms, for a common 3-letter prefix at 1M units (bench/README.md). With `name` included the
-- matches come from the index (Index Only Scan).
DROP INDEX org_units_name_prefix_idx;
CREATE INDEX org_units_name_prefix_idx ON org_units (version_id, search_text(name) text_pattern_ops)
    INCLUDE (id, name) WHERE deleted_at IS NULL;
