-- Forms (XLSForm surveys and their XForm versions) and submissions (filled instances from the field).
-- As in the registry, every table carries account_id and composite foreign keys keep references
-- inside one account.

CREATE TABLE forms (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name               text NOT NULL CONSTRAINT forms_name_not_blank CHECK (btrim(name) <> ''),
    -- The XForm's own id (the `id` attribute of its instance root, settings sheet `form_id`): set by
    -- the first version, and every later version must keep it; submissions name their form by it.
    xform_id           text,
    period_type        text CONSTRAINT forms_period_type_known
                           CHECK (period_type IN ('DAY', 'WEEK', 'MONTH', 'QUARTER', 'SIX_MONTH', 'YEAR')),
    single_per_period  boolean NOT NULL DEFAULT false,
    deleted_at         timestamptz,
    created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT forms_id_account_key UNIQUE (id, account_id),
    CONSTRAINT forms_single_needs_period CHECK (NOT single_per_period OR period_type IS NOT NULL)
);
CREATE UNIQUE INDEX forms_account_xform_id_key ON forms (account_id, xform_id) WHERE deleted_at IS NULL;
CREATE INDEX forms_account_idx ON forms (account_id, id);
CREATE INDEX forms_created_by_idx ON forms (created_by);

CREATE TABLE form_projects (
    account_id  bigint NOT NULL,
    form_id     bigint NOT NULL,
    project_id  bigint NOT NULL,
    PRIMARY KEY (form_id, project_id),
    FOREIGN KEY (form_id, account_id) REFERENCES forms (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, account_id) REFERENCES projects (id, account_id) ON DELETE CASCADE
);
CREATE INDEX form_projects_form_idx ON form_projects (form_id, account_id);
CREATE INDEX form_projects_project_idx ON form_projects (project_id, account_id);

CREATE TABLE form_org_unit_types (
    account_id        bigint NOT NULL,
    form_id           bigint NOT NULL,
    org_unit_type_id  bigint NOT NULL,
    PRIMARY KEY (form_id, org_unit_type_id),
    FOREIGN KEY (form_id, account_id) REFERENCES forms (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (org_unit_type_id, account_id) REFERENCES org_unit_types (id, account_id) ON DELETE CASCADE
);
CREATE INDEX form_org_unit_types_form_idx ON form_org_unit_types (form_id, account_id);
CREATE INDEX form_org_unit_types_type_idx ON form_org_unit_types (org_unit_type_id, account_id);

CREATE TABLE form_versions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL,
    form_id       bigint NOT NULL,
    number        integer NOT NULL CONSTRAINT form_versions_number_positive CHECK (number > 0),
    -- The XForm `version` attribute (settings sheet `version`), which every submission carries.
    version       text NOT NULL CONSTRAINT form_versions_version_not_blank CHECK (btrim(version) <> ''),
    xlsform_key   text NOT NULL,   -- S3 keys in the forms bucket
    xform_key     text NOT NULL,
    xform_md5     text NOT NULL,   -- OpenRosa formList's hash
    descriptor    jsonb NOT NULL,  -- pyxform's JSON form: questions, groups, repeats, labels
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (form_id, account_id) REFERENCES forms (id, account_id) ON DELETE CASCADE,
    CONSTRAINT form_versions_form_number_key UNIQUE (form_id, number),
    CONSTRAINT form_versions_form_version_key UNIQUE (form_id, version),
    CONSTRAINT form_versions_id_account_key UNIQUE (id, account_id),
    CONSTRAINT form_versions_id_form_key UNIQUE (id, form_id)
);
CREATE INDEX form_versions_form_account_idx ON form_versions (form_id, account_id);
CREATE INDEX form_versions_created_by_idx ON form_versions (created_by);

-- What a phone was allowed to upload for one instance: the keys, names and sizes it asked for.
-- Ingestion accepts an object only if a grant names its key, with a size within the declared one.
CREATE TABLE submission_upload_grants (
    account_id       bigint NOT NULL,
    project_id       bigint NOT NULL,
    instance_uuid    text NOT NULL,
    user_id          bigint REFERENCES users (id) ON DELETE SET NULL,
    form_id          bigint NOT NULL,
    form_version_id  bigint NOT NULL,
    org_unit_id      bigint,
    files            jsonb NOT NULL,  -- [{name, key, size, content_type}], the XML first
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, instance_uuid),
    FOREIGN KEY (project_id, account_id) REFERENCES projects (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (form_id, account_id) REFERENCES forms (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (form_version_id, account_id) REFERENCES form_versions (id, account_id) ON DELETE CASCADE
);
CREATE INDEX submission_upload_grants_project_idx ON submission_upload_grants (project_id, account_id);
CREATE INDEX submission_upload_grants_form_idx ON submission_upload_grants (form_id, account_id);
CREATE INDEX submission_upload_grants_version_idx ON submission_upload_grants (form_version_id, account_id);
CREATE INDEX submission_upload_grants_user_idx ON submission_upload_grants (user_id);

-- One row per instance received. An edit (the XML's deprecatedID names the instance it replaces) is a
-- new row of the same root; only the latest of a root is current, the older ones stay as versions.
CREATE TABLE submissions (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id           bigint NOT NULL,
    project_id           bigint,
    form_id              bigint NOT NULL,
    form_version_id      bigint NOT NULL,
    instance_uuid        text NOT NULL,
    root_id              bigint,          -- the first version's id; NULL on the first version itself
    deprecated_uuid      text,            -- the instance this one replaces
    is_current           boolean NOT NULL DEFAULT true,
    org_unit_id          bigint,          -- with its version: org_units is partitioned, so no FK
    org_unit_version_id  bigint,
    org_unit_path        text,            -- copied at ingestion: "submissions under this unit" is a prefix scan
    period               text,
    answers              jsonb NOT NULL,
    location             geometry(PointZ, 4326),
    accuracy             double precision,
    started_at           timestamptz,
    ended_at             timestamptz,
    device_id            text,
    xml_key              text NOT NULL,
    xml_md5              text NOT NULL,
    validation_status    text NOT NULL DEFAULT 'PENDING'
                             CONSTRAINT submissions_validation_status_known
                             CHECK (validation_status IN ('PENDING', 'APPROVED', 'REJECTED')),
    review_comment       text,
    created_by           bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    CONSTRAINT submissions_account_instance_key UNIQUE (account_id, instance_uuid),
    CONSTRAINT submissions_id_account_key UNIQUE (id, account_id),
    FOREIGN KEY (project_id, account_id) REFERENCES projects (id, account_id) ON DELETE SET NULL (project_id),
    FOREIGN KEY (form_id, account_id) REFERENCES forms (id, account_id),
    FOREIGN KEY (form_version_id, account_id) REFERENCES form_versions (id, account_id),
    FOREIGN KEY (root_id, account_id) REFERENCES submissions (id, account_id)
);
CREATE INDEX submissions_list_idx ON submissions (account_id, form_id, id) WHERE is_current;
CREATE INDEX submissions_account_idx ON submissions (account_id, id) WHERE is_current;
CREATE INDEX submissions_org_unit_idx ON submissions (org_unit_version_id, org_unit_id);
CREATE INDEX submissions_path_idx ON submissions (account_id, org_unit_path text_pattern_ops) WHERE is_current;
CREATE INDEX submissions_root_idx ON submissions (root_id, account_id);
CREATE INDEX submissions_project_idx ON submissions (project_id, account_id);
CREATE INDEX submissions_form_account_idx ON submissions (form_id, account_id);
CREATE INDEX submissions_version_account_idx ON submissions (form_version_id, account_id);
CREATE INDEX submissions_created_by_idx ON submissions (created_by);
CREATE INDEX submissions_location_idx ON submissions USING gist (location);

-- Attachments, recorded when they land, whether the XML came first or not: they belong to the
-- submission with the same instance uuid, whenever it arrives.
CREATE TABLE submission_files (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    instance_uuid  text NOT NULL,
    name           text NOT NULL,
    s3_key         text NOT NULL,
    size           bigint NOT NULL,
    content_type   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT submission_files_instance_name_key UNIQUE (account_id, instance_uuid, name)
);

-- Objects that ingestion could not accept, with the reason: kept, listed by the API, never dropped.
CREATE TABLE quarantined_uploads (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint REFERENCES accounts (id) ON DELETE CASCADE,  -- NULL when the key names none
    bucket       text NOT NULL,
    s3_key       text NOT NULL,
    size         bigint,
    reason       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quarantined_uploads_key UNIQUE (bucket, s3_key)
);
CREATE INDEX quarantined_uploads_account_idx ON quarantined_uploads (account_id, id);
