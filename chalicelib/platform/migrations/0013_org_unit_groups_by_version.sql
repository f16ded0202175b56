-- Group memberships are partitioned by version, as org_units is. An import into a new version
-- then loads its memberships into a table of their own, attached after the units' partition: the
-- foreign keys are checked by one query over the whole table instead of one lookup and row lock
-- per membership through the partitioned org_units (0.68 s per 10,000 memberships, more than the
-- units' own COPY: bench/README.md). Queries name the version, so they read one partition.
ALTER TABLE org_unit_groups RENAME TO org_unit_groups_unpartitioned;
ALTER INDEX org_unit_groups_pkey RENAME TO org_unit_groups_unpartitioned_pkey;
ALTER INDEX org_unit_groups_group_idx RENAME TO org_unit_groups_unpartitioned_group_idx;
ALTER INDEX org_unit_groups_version_account_idx RENAME TO org_unit_groups_unpartitioned_version_account_idx;

CREATE TABLE org_unit_groups (
    account_id   bigint NOT NULL,
    version_id   bigint NOT NULL,
    org_unit_id  bigint NOT NULL,
    group_id     bigint NOT NULL,
    PRIMARY KEY (version_id, org_unit_id, group_id),
    -- the key to the member unit is each partition's own, to its version's units (migration 0014)
    CONSTRAINT org_unit_groups_group_fkey FOREIGN KEY (group_id, version_id)
        REFERENCES groups (id, version_id) ON DELETE CASCADE,
    CONSTRAINT org_unit_groups_version_fkey FOREIGN KEY (version_id, account_id)
        REFERENCES source_versions (id, account_id) ON DELETE CASCADE
) PARTITION BY LIST (version_id);
CREATE INDEX org_unit_groups_group_idx ON org_unit_groups (group_id, version_id);
CREATE INDEX org_unit_groups_version_account_idx ON org_unit_groups (version_id, account_id);

-- A partition for every version that has units (sources.create_partition makes the later ones).
DO $$
DECLARE
    version bigint;
BEGIN
    FOR version IN SELECT id FROM source_versions ORDER BY id LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF org_unit_groups FOR VALUES IN (%s)',
                       'org_unit_groups_v' || version, version);
    END LOOP;
END $$;

INSERT INTO org_unit_groups (account_id, version_id, org_unit_id, group_id)
SELECT account_id, version_id, org_unit_id, group_id FROM org_unit_groups_unpartitioned;
DROP TABLE org_unit_groups_unpartitioned;
