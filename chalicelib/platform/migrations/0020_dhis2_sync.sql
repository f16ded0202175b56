-- DHIS2 tree imports and scheduled syncs (chalicelib/dhis2/tree_*.py, sync_*.py, schedules*.py).

-- A schedule per (connection, data source): an EventBridge rate or cron expression, and when it is
-- next due. The minute trigger (app.py) queues a sync for each due schedule.
CREATE TABLE dhis2_schedules (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id   bigint NOT NULL REFERENCES dhis2_connections (id) ON DELETE CASCADE,
    data_source_id  bigint NOT NULL,
    expression      text NOT NULL CONSTRAINT dhis2_schedules_expression_form
                        CHECK (expression ~ '^(rate|cron)\(.*\)$'),
    enabled         boolean NOT NULL DEFAULT true,
    next_run_at     timestamptz NOT NULL,
    last_fired_at   timestamptz,
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (data_source_id, account_id) REFERENCES data_sources (id, account_id) ON DELETE CASCADE,
    CONSTRAINT dhis2_schedules_connection_source_key UNIQUE (connection_id, data_source_id)
);
CREATE INDEX dhis2_schedules_due_idx ON dhis2_schedules (next_run_at) WHERE enabled;
CREATE INDEX dhis2_schedules_account_idx ON dhis2_schedules (account_id, id);
CREATE INDEX dhis2_schedules_source_idx ON dhis2_schedules (data_source_id, account_id);
CREATE INDEX dhis2_schedules_created_by_idx ON dhis2_schedules (created_by);

-- Every import or sync asked for, and what came of it: the version it made, the DHIS2 server time
-- it started from (the next delta's `lastUpdated:ge:`), its counts; or why it was a no-op.
CREATE TABLE dhis2_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id   bigint NOT NULL REFERENCES dhis2_connections (id) ON DELETE CASCADE,
    data_source_id  bigint NOT NULL,
    schedule_id     bigint REFERENCES dhis2_schedules (id) ON DELETE SET NULL,
    kind            text NOT NULL CONSTRAINT dhis2_runs_kind_known CHECK (kind IN ('import', 'sync')),
    status          text NOT NULL DEFAULT 'QUEUED'
                        CONSTRAINT dhis2_runs_status_known
                        CHECK (status IN ('QUEUED', 'SUCCESS', 'UNCHANGED', 'SKIPPED')),
    task_id         bigint REFERENCES tasks (id) ON DELETE SET NULL,
    base_version_id bigint,
    version_id      bigint,
    server_started  text,  -- DHIS2's serverDate when the run began fetching
    counts          jsonb NOT NULL DEFAULT '{}',
    note            text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    FOREIGN KEY (data_source_id, account_id) REFERENCES data_sources (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE SET NULL (version_id),
    FOREIGN KEY (base_version_id, account_id) REFERENCES source_versions (id, account_id)
        ON DELETE SET NULL (base_version_id)
);
CREATE INDEX dhis2_runs_account_idx ON dhis2_runs (account_id, connection_id, id);
CREATE INDEX dhis2_runs_last_idx ON dhis2_runs (connection_id, data_source_id, id) WHERE version_id IS NOT NULL;
CREATE INDEX dhis2_runs_source_idx ON dhis2_runs (data_source_id, account_id);
CREATE INDEX dhis2_runs_task_idx ON dhis2_runs (task_id);
CREATE INDEX dhis2_runs_schedule_idx ON dhis2_runs (schedule_id);
CREATE INDEX dhis2_runs_version_idx ON dhis2_runs (version_id, account_id);
CREATE INDEX dhis2_runs_base_version_idx ON dhis2_runs (base_version_id, account_id);

-- Pages an import fetched before its Lambda's deadline, kept (committed with the task's cursor) for
-- the invocation that goes on; the one that writes the version deletes them in its transaction.
CREATE TABLE dhis2_fetched_pages (
    task_id  bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq      integer NOT NULL,
    data     bytea NOT NULL,
    PRIMARY KEY (task_id, seq)
);
