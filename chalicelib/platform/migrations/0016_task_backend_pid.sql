-- The PostgreSQL backend that runs a task's transaction, recorded at each claim, so that a kill can
-- cancel the one long statement the task may be stuck in (tasks_sql.CANCEL_STATEMENT); a task inside
-- one statement never reaches its next progress report to see should_be_killed.
ALTER TABLE tasks ADD COLUMN backend_pid integer;
