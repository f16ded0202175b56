-- The org-unit registry: data sources and their versions, types, groups, units, change requests, audit.
-- Every table carries account_id, and composite foreign keys (id, account_id) keep references inside
-- one account: a row can never point at another tenant's row, whatever the code does.

-- Name search ignores case and accents; unaccent() is only STABLE, so wrap it to index it.
CREATE FUNCTION search_text(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, value));

CREATE TABLE data_sources (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL CONSTRAINT data_sources_name_not_blank CHECK (btrim(name) <> ''),
    description  text NOT NULL DEFAULT '',
    read_only    boolean NOT NULL DEFAULT false,
    default_version_id bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT data_sources_account_name_key UNIQUE (account_id, name),
    CONSTRAINT data_sources_id_account_key UNIQUE (id, account_id)
);

CREATE TABLE source_versions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL,
    data_source_id  bigint NOT NULL,
    number          integer NOT NULL CONSTRAINT source_versions_number_positive CHECK (number > 0),
    description     text NOT NULL DEFAULT '',
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (data_source_id, account_id) REFERENCES data_sources (id, account_id) ON DELETE CASCADE,
    CONSTRAINT source_versions_source_number_key UNIQUE (data_source_id, number),
    CONSTRAINT source_versions_id_account_key UNIQUE (id, account_id)
);
CREATE INDEX source_versions_account_idx ON source_versions (account_id, data_source_id);
CREATE INDEX source_versions_created_by_idx ON source_versions (created_by);

ALTER TABLE data_sources ADD CONSTRAINT data_sources_default_version_fkey
    FOREIGN KEY (default_version_id, account_id) REFERENCES source_versions (id, account_id);
CREATE INDEX data_sources_default_version_idx ON data_sources (default_version_id, account_id);

-- The version that "the registry" of an account means when a request names none.
ALTER TABLE accounts ADD COLUMN default_version_id bigint;
ALTER TABLE accounts ADD CONSTRAINT accounts_default_version_fkey
    FOREIGN KEY (default_version_id, id) REFERENCES source_versions (id, account_id);
CREATE INDEX accounts_default_version_idx ON accounts (default_version_id, id);

CREATE TABLE org_unit_types (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT org_unit_types_name_not_blank CHECK (btrim(name) <> ''),
    short_name  text NOT NULL DEFAULT '',
    depth       smallint CONSTRAINT org_unit_types_depth_range CHECK (depth BETWEEN 0 AND 20),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT org_unit_types_account_name_key UNIQUE (account_id, name),
    CONSTRAINT org_unit_types_id_account_key UNIQUE (id, account_id)
);

-- Which types may sit directly under a type (an empty list means any).
CREATE TABLE org_unit_type_sub_types (
    account_id   bigint NOT NULL,
    type_id      bigint NOT NULL,
    sub_type_id  bigint NOT NULL,
    PRIMARY KEY (type_id, sub_type_id),
    FOREIGN KEY (type_id, account_id) REFERENCES org_unit_types (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (sub_type_id, account_id) REFERENCES org_unit_types (id, account_id) ON DELETE CASCADE
);
CREATE INDEX org_unit_type_sub_types_type_idx ON org_unit_type_sub_types (type_id, account_id);
CREATE INDEX org_unit_type_sub_types_sub_idx ON org_unit_type_sub_types (sub_type_id, account_id);

CREATE TABLE groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL,
    version_id  bigint NOT NULL,
    name        text NOT NULL CONSTRAINT groups_name_not_blank CHECK (btrim(name) <> ''),
    source_ref  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE CASCADE,
    CONSTRAINT groups_version_ref_key UNIQUE (version_id, source_ref),
    CONSTRAINT groups_id_account_key UNIQUE (id, account_id),
    CONSTRAINT groups_id_version_key UNIQUE (id, version_id)
);
CREATE INDEX groups_version_account_idx ON groups (version_id, account_id);
CREATE INDEX groups_account_idx ON groups (account_id, id);

CREATE TABLE group_sets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT group_sets_name_not_blank CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT group_sets_account_name_key UNIQUE (account_id, name),
    CONSTRAINT group_sets_id_account_key UNIQUE (id, account_id)
);

CREATE TABLE group_set_groups (
    account_id    bigint NOT NULL,
    group_set_id  bigint NOT NULL,
    group_id      bigint NOT NULL,
    PRIMARY KEY (group_set_id, group_id),
    FOREIGN KEY (group_set_id, account_id) REFERENCES group_sets (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (group_id, account_id) REFERENCES groups (id, account_id) ON DELETE CASCADE
);
CREATE INDEX group_set_groups_set_idx ON group_set_groups (group_set_id, account_id);
CREATE INDEX group_set_groups_group_idx ON group_set_groups (group_id, account_id);

-- Units, list-partitioned by source version: an import fills a fresh partition with COPY and builds
-- its indexes once, instead of maintaining the indexes of one huge table row by row. Each version's
-- partition is created with the version (chalicelib/models/versions.py).
CREATE SEQUENCE org_units_id_seq AS bigint;

CREATE TABLE org_units (
    id                 bigint NOT NULL DEFAULT nextval('org_units_id_seq'),
    version_id         bigint NOT NULL,
    account_id         bigint NOT NULL,
    uuid               uuid NOT NULL DEFAULT gen_random_uuid(),
    parent_id          bigint,
    org_unit_type_id   bigint,
    name               text NOT NULL CONSTRAINT org_units_name_not_blank CHECK (btrim(name) <> ''),
    code               text,
    source_ref         text,
    aliases            text[] NOT NULL DEFAULT '{}',
    validation_status  text NOT NULL DEFAULT 'NEW'
                           CONSTRAINT org_units_validation_status_known
                           CHECK (validation_status IN ('NEW', 'VALID', 'REJECTED')),
    location           geometry(PointZ, 4326),
    geom               geometry(MultiPolygon, 4326),
    simplified_geom    geometry(MultiPolygon, 4326),
    opening_date       date,
    closed_date        date,
    extra_fields       jsonb NOT NULL DEFAULT '{}',
    -- Materialised ancestry, '/<root id>/.../<own id>/': descendants of X are the rows whose path
    -- starts with X's path, an index range scan; moving a subtree is one UPDATE of those rows.
    path               text NOT NULL,
    depth              smallint NOT NULL,
    deleted_at         timestamptz,
    created_by         bigint,
    updated_by         bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version_id, id),
    FOREIGN KEY (version_id, parent_id) REFERENCES org_units (version_id, id),
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (org_unit_type_id, account_id) REFERENCES org_unit_types (id, account_id),
    CONSTRAINT org_units_dates_ordered CHECK (closed_date IS NULL OR opening_date IS NULL
                                              OR closed_date >= opening_date),
    CONSTRAINT org_units_path_ends_with_id CHECK (path LIKE '%/' || id || '/')
) PARTITION BY LIST (version_id);

-- Unique among live units: a ref or uuid of a deleted unit may be used again.
CREATE UNIQUE INDEX org_units_version_ref_key ON org_units (version_id, source_ref) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX org_units_version_uuid_key ON org_units (version_id, uuid) WHERE deleted_at IS NULL;
CREATE INDEX org_units_parent_idx ON org_units (version_id, parent_id);
-- Live units only (every query but mobile sync asks for those), covering the id: a page of
-- descendants or of a name prefix is picked from the index alone (see bench/README.md).
CREATE INDEX org_units_path_idx ON org_units (version_id, path text_pattern_ops) INCLUDE (id)
    WHERE deleted_at IS NULL;
CREATE INDEX org_units_type_idx ON org_units (org_unit_type_id, account_id);
CREATE INDEX org_units_version_account_idx ON org_units (version_id, account_id);
CREATE INDEX org_units_code_idx ON org_units (version_id, code);
CREATE INDEX org_units_name_prefix_idx ON org_units (version_id, search_text(name) text_pattern_ops)
    INCLUDE (id) WHERE deleted_at IS NULL;
CREATE INDEX org_units_name_trgm_idx ON org_units USING gin (search_text(name) gin_trgm_ops);
CREATE INDEX org_units_updated_idx ON org_units (version_id, updated_at, id);
CREATE INDEX org_units_location_idx ON org_units USING gist (location);
CREATE INDEX org_units_geom_idx ON org_units USING gist (geom);

CREATE TABLE org_unit_groups (
    account_id   bigint NOT NULL,
    version_id   bigint NOT NULL,
    org_unit_id  bigint NOT NULL,
    group_id     bigint NOT NULL,
    PRIMARY KEY (version_id, org_unit_id, group_id),
    FOREIGN KEY (version_id, org_unit_id) REFERENCES org_units (version_id, id) ON DELETE CASCADE,
    FOREIGN KEY (group_id, version_id) REFERENCES groups (id, version_id) ON DELETE CASCADE,
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE CASCADE
);
CREATE INDEX org_unit_groups_group_idx ON org_unit_groups (group_id, version_id);
CREATE INDEX org_unit_groups_version_account_idx ON org_unit_groups (version_id, account_id);

-- A profile restricted to subtrees sees only the units under these roots (in their version).
CREATE TABLE profile_org_units (
    user_id      bigint NOT NULL,
    account_id   bigint NOT NULL,
    version_id   bigint NOT NULL,
    org_unit_id  bigint NOT NULL,
    PRIMARY KEY (user_id, version_id, org_unit_id),
    FOREIGN KEY (user_id, account_id) REFERENCES profiles (user_id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (version_id, org_unit_id) REFERENCES org_units (version_id, id) ON DELETE CASCADE,
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE CASCADE
);
CREATE INDEX profile_org_units_user_idx ON profile_org_units (user_id, account_id);
CREATE INDEX profile_org_units_unit_idx ON profile_org_units (version_id, org_unit_id);
CREATE INDEX profile_org_units_version_account_idx ON profile_org_units (version_id, account_id);

CREATE TABLE org_unit_change_requests (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint NOT NULL,
    version_id       bigint NOT NULL,
    org_unit_id      bigint NOT NULL,
    -- Proposed values by field name, e.g. {"name": "...", "parent_id": 12, "location": {GeoJSON}}.
    proposed         jsonb NOT NULL,
    -- The request proposes a new unit (created NEW, made VALID on approval), not a change.
    creates_unit     boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'new'
                         CONSTRAINT change_requests_status_known CHECK (status IN ('new', 'approved', 'rejected')),
    approved_fields  text[] NOT NULL DEFAULT '{}',
    rejection_reason text,
    created_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    reviewed_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    reviewed_at      timestamptz,
    FOREIGN KEY (version_id, org_unit_id) REFERENCES org_units (version_id, id) ON DELETE CASCADE,
    FOREIGN KEY (version_id, account_id) REFERENCES source_versions (id, account_id) ON DELETE CASCADE
);
CREATE INDEX change_requests_account_idx ON org_unit_change_requests (account_id, status, id);
CREATE INDEX change_requests_unit_idx ON org_unit_change_requests (version_id, org_unit_id);
CREATE INDEX change_requests_version_account_idx ON org_unit_change_requests (version_id, account_id);
CREATE INDEX change_requests_created_by_idx ON org_unit_change_requests (created_by);
CREATE INDEX change_requests_reviewed_by_idx ON org_unit_change_requests (reviewed_by);

-- Who changed what, from where, with the values before and after (group membership included).
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    task_id      bigint REFERENCES tasks (id) ON DELETE SET NULL,
    source       text NOT NULL,
    object_type  text NOT NULL,
    object_id    bigint NOT NULL,
    action       text NOT NULL,
    before       jsonb,
    after        jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_object_idx ON audit_log (account_id, object_type, object_id, id);
CREATE INDEX audit_log_user_idx ON audit_log (user_id);
CREATE INDEX audit_log_task_idx ON audit_log (task_id);
