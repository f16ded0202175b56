-- Where units were before they moved. Mobile sync sends a tombstone to a phone restricted to a
-- subtree when one of its units moves out of it: the unit's row no longer says it was ever there.
CREATE TABLE org_unit_moves (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version_id   bigint NOT NULL,
    account_id   bigint NOT NULL,
    org_unit_id  bigint NOT NULL,
    old_path     text NOT NULL,
    new_path     text NOT NULL,
    moved_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE CASCADE
);
CREATE INDEX org_unit_moves_unit_idx ON org_unit_moves (version_id, org_unit_id, moved_at);
CREATE INDEX org_unit_moves_version_account_idx ON org_unit_moves (version_id, account_id);
