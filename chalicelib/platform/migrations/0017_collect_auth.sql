-- ODK Collect's ways in (forms/openrosa.py).
-- Digest authentication needs MD5(email:realm:password) on the server; we keep only scrypt hashes, so
-- the HA1 is kept sealed with a key derived from the token secret (identity/sealed.py), set whenever the
-- password is set or checked. NULL: the user has not given their password since; Digest waits for it.
ALTER TABLE users ADD COLUMN digest_ha1_sealed bytea;

-- Collect tokens, as ODK Central's app users: a project's phones configured with one URL (or QR code)
-- holding the token, no password asked. Only the token's SHA-256 is kept; it acts as a data collector
-- of its project, with the subtrees of the user who made it.
CREATE TABLE collect_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    project_id    bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name          text NOT NULL CONSTRAINT collect_tokens_name_not_blank CHECK (btrim(name) <> ''),
    secret_sha256 bytea NOT NULL CONSTRAINT collect_tokens_secret_key UNIQUE,
    created_by    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX collect_tokens_project_idx ON collect_tokens (project_id, id);
CREATE INDEX collect_tokens_account_idx ON collect_tokens (account_id);
CREATE INDEX collect_tokens_created_by_idx ON collect_tokens (created_by);
