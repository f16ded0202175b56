-- Failed logins per email and per client address, counted in windows of a minute, so that guessing
-- passwords is throttled (identity/login_throttle.py). A success deletes the email's row; rows of
-- windows long gone are purged as failures come.
CREATE TABLE login_failures (
    kind text NOT NULL CHECK (kind IN ('email', 'address')),
    key text NOT NULL,
    window_start timestamptz NOT NULL,
    failures integer NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE INDEX login_failures_window_idx ON login_failures (window_start);
