-- Tenancy: accounts own projects; users reach one account through their profile.
CREATE TABLE accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CONSTRAINT accounts_name_not_blank CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_name_key UNIQUE (name)
);

CREATE TABLE projects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT projects_name_not_blank CHECK (btrim(name) <> ''),
    -- The mobile app identifies its project by this id (Iaso's app_id), so it is unique everywhere.
    app_id      text NOT NULL CONSTRAINT projects_app_id_format CHECK (app_id ~ '^[A-Za-z0-9._-]{3,100}$'),
    needs_authentication boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_app_id_key UNIQUE (app_id),
    CONSTRAINT projects_account_name_key UNIQUE (account_id, name),
    -- Target of the composite foreign key that keeps profile_projects inside one account.
    CONSTRAINT projects_id_account_key UNIQUE (id, account_id)
);

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    full_name      text NOT NULL DEFAULT '',
    -- scrypt$n$r$p$salt$hash; NULL means the user cannot log in with a password.
    password_hash  text,
    is_active      boolean NOT NULL DEFAULT true,
    -- Carried in every session token; bumped on password change and deactivation, which ends
    -- every session issued before.
    token_version  integer NOT NULL DEFAULT 1,
    last_login_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE profiles (
    user_id     bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        text NOT NULL CONSTRAINT profiles_role_known CHECK (
                    role IN ('admin', 'registry_editor', 'viewer', 'form_manager', 'reviewer', 'data_collector')),
    -- Restricted to the org-unit subtrees in profile_org_units. Kept apart from those rows so that a
    -- restricted profile whose roots are gone sees nothing, rather than everything.
    restricted  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT profiles_user_account_key UNIQUE (user_id, account_id)
);
CREATE INDEX profiles_account_id_idx ON profiles (account_id);

CREATE TABLE profile_projects (
    user_id     bigint NOT NULL,
    account_id  bigint NOT NULL,
    project_id  bigint NOT NULL,
    PRIMARY KEY (user_id, project_id),
    FOREIGN KEY (user_id, account_id) REFERENCES profiles (user_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, account_id) REFERENCES projects (id, account_id) ON DELETE CASCADE
);
CREATE INDEX profile_projects_project_id_idx ON profile_projects (project_id, account_id);
CREATE INDEX profile_projects_user_account_idx ON profile_projects (user_id, account_id);

-- Long-lived keys for scripts: "grk_<prefix>_<secret>"; only the secret's SHA-256 is kept.
CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CONSTRAINT api_keys_name_not_blank CHECK (btrim(name) <> ''),
    prefix        text NOT NULL,
    secret_sha256 bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);
