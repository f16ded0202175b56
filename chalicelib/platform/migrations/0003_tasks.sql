-- The task engine: the row is the truth; the SQS message only carries {"task_id"}.
CREATE TABLE tasks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    launcher_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    kind             text NOT NULL,
    params           jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'QUEUED' CONSTRAINT tasks_status_known CHECK (
                         status IN ('QUEUED', 'RUNNING', 'SUCCESS', 'ERRORED', 'KILLED')),
    progress_value   bigint NOT NULL DEFAULT 0,
    end_value        bigint,
    progress_message text,
    result           jsonb,
    -- [{name, key, content_type, size}]: files in the exports bucket under tasks/<account>/<task>/
    artifacts        jsonb NOT NULL DEFAULT '[]',
    -- Where a task that spans several invocations goes on from.
    cursor           jsonb,
    error_message    text,
    error_traceback  text,
    -- Claims so far (continuations included); also the fencing token: a worker may only finish
    -- the attempt it claimed.
    attempts         integer NOT NULL DEFAULT 0,
    -- Attempts that failed or whose worker died; the sweeper gives up after TASK_MAX_ATTEMPTS.
    failures         integer NOT NULL DEFAULT 0,
    lease_until      timestamptz,
    heartbeat_at     timestamptz,
    unique_key       text,
    should_be_killed boolean NOT NULL DEFAULT false,
    relaunched_from  bigint REFERENCES tasks (id) ON DELETE SET NULL,
    -- Outbox: NULL until the SQS message is known to be sent; the sweeper re-sends stale ones.
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- When it last went (back) to QUEUED: the queue age that health and alarms watch.
    queued_at        timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    ended_at         timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One live task per unique key and account (django-q's unique_task).
CREATE UNIQUE INDEX tasks_unique_key_live ON tasks (account_id, unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('QUEUED', 'RUNNING');
-- Listing newest first per account, optionally by status or kind.
CREATE INDEX tasks_account_id_idx ON tasks (account_id, id DESC);
CREATE INDEX tasks_launcher_id_idx ON tasks (launcher_id, id DESC);
CREATE INDEX tasks_relaunched_from_idx ON tasks (relaunched_from);
-- The sweeper's two scans stay small: only live rows are indexed.
CREATE INDEX tasks_queued_idx ON tasks (sent_at NULLS FIRST) WHERE status = 'QUEUED';
CREATE INDEX tasks_queued_at_idx ON tasks (queued_at) WHERE status = 'QUEUED';
CREATE INDEX tasks_running_lease_idx ON tasks (lease_until) WHERE status = 'RUNNING';
-- Retention purge.
CREATE INDEX tasks_ended_at_idx ON tasks (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE task_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id     bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    level       text NOT NULL DEFAULT 'INFO',
    message     text NOT NULL
);
CREATE INDEX task_logs_task_id_idx ON task_logs (task_id, id);
CREATE INDEX task_logs_created_at_idx ON task_logs (created_at);
