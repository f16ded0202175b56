-- The DHIS2 uid of each unit a push sends to a connection (chalicelib/dhis2/push_task.py): generated
-- before the unit is sent, and committed before its batch leaves, so that a batch sent again (the
-- task retried after a fault, an answer lost on the way) updates what the first try created in DHIS2
-- instead of creating it twice. Units that came from the connection keep their source_ref as uid.
CREATE TABLE dhis2_unit_uids (
    connection_id  bigint NOT NULL REFERENCES dhis2_connections (id) ON DELETE CASCADE,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    unit_uuid      uuid NOT NULL,  -- org_units.uuid: the unit across the versions of a source
    dhis2_uid      text NOT NULL
                       CONSTRAINT dhis2_unit_uids_uid_format CHECK (dhis2_uid ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, unit_uuid),
    CONSTRAINT dhis2_unit_uids_uid_key UNIQUE (connection_id, dhis2_uid)
);
CREATE INDEX dhis2_unit_uids_account_idx ON dhis2_unit_uids (account_id);
