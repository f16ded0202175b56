-- DHIS2 instances an account works with (chalicelib/dhis2/). The credential (a password for Basic, or a
-- personal access token, DHIS2 >= 2.37) is one Secrets Manager secret per connection: the row keeps
-- only its ARN, never the secret.
CREATE TABLE dhis2_connections (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name           text NOT NULL CONSTRAINT dhis2_connections_name_not_blank CHECK (btrim(name) <> ''),
    base_url       text NOT NULL,
    auth_kind      text NOT NULL CONSTRAINT dhis2_connections_auth_kind_known CHECK (auth_kind IN ('basic', 'token')),
    username       text,  -- Basic only; the password is in the secret
    secret_arn     text NOT NULL,
    dhis2_version  text,  -- from /api/system/info at the last successful check
    checked_at     timestamptz,
    check_error    text,  -- the last check's failure, in words (never a credential)
    created_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dhis2_connections_name_key UNIQUE (account_id, name),
    CONSTRAINT dhis2_connections_basic_has_username CHECK (auth_kind <> 'basic' OR username IS NOT NULL)
);
CREATE INDEX dhis2_connections_created_by_idx ON dhis2_connections (created_by);
