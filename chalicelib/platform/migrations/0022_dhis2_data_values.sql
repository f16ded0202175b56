-- Aggregate data to DHIS2 (chalicelib/dhis2/data_*.py): a mapping sends a form's submissions to a data
-- set of a connection (question → data element and category option combo); each submission keeps
-- its export status per mapping, with a hash of the values last sent, so that a run sends only what
-- is new or changed.
ALTER TABLE dhis2_connections ADD CONSTRAINT dhis2_connections_id_account_key UNIQUE (id, account_id);

CREATE TABLE dhis2_data_mappings (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id              bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id           bigint NOT NULL,
    form_id                 bigint NOT NULL,
    form_version_id         bigint,  -- NULL: the submissions of every version of the form
    name                    text NOT NULL CONSTRAINT dhis2_data_mappings_name_not_blank CHECK (btrim(name) <> ''),
    data_set                text NOT NULL
                                CONSTRAINT dhis2_data_mappings_data_set_uid CHECK (data_set ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    attribute_option_combo  text
                                CONSTRAINT dhis2_data_mappings_aoc_uid
                                CHECK (attribute_option_combo ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    -- [{question (a path in the form, "group/name"), data_element, category_option_combo?}]
    elements                jsonb NOT NULL CONSTRAINT dhis2_data_mappings_elements_list
                                CHECK (jsonb_typeof(elements) = 'array' AND jsonb_array_length(elements) > 0),
    approved_only           boolean NOT NULL DEFAULT false,  -- else every submission not REJECTED
    created_by              bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dhis2_data_mappings_name_key UNIQUE (account_id, name),
    CONSTRAINT dhis2_data_mappings_id_account_key UNIQUE (id, account_id),
    FOREIGN KEY (connection_id, account_id) REFERENCES dhis2_connections (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (form_id, account_id) REFERENCES forms (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (form_version_id, form_id) REFERENCES form_versions (id, form_id) ON DELETE CASCADE
);
CREATE INDEX dhis2_data_mappings_connection_idx ON dhis2_data_mappings (connection_id, account_id);
CREATE INDEX dhis2_data_mappings_form_idx ON dhis2_data_mappings (form_id, account_id);
CREATE INDEX dhis2_data_mappings_version_idx ON dhis2_data_mappings (form_version_id, form_id);
CREATE INDEX dhis2_data_mappings_created_by_idx ON dhis2_data_mappings (created_by);

-- What the last committed run did with a submission: exported, conflict (DHIS2's message), or skipped
-- (our reason: no unit uid, no period, no answer…). sent_hash is the SHA-256 of the values sent.
CREATE TABLE dhis2_data_exports (
    account_id     bigint NOT NULL,
    mapping_id     bigint NOT NULL,
    submission_id  bigint NOT NULL,
    status         text NOT NULL CONSTRAINT dhis2_data_exports_status_known
                       CHECK (status IN ('exported', 'conflict', 'skipped')),
    message        text,
    sent_hash      text,
    value_count    integer NOT NULL DEFAULT 0,
    task_id        bigint REFERENCES tasks (id) ON DELETE SET NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping_id, submission_id),
    FOREIGN KEY (mapping_id, account_id) REFERENCES dhis2_data_mappings (id, account_id) ON DELETE CASCADE,
    FOREIGN KEY (submission_id, account_id) REFERENCES submissions (id, account_id) ON DELETE CASCADE
);
CREATE INDEX dhis2_data_exports_mapping_status_idx ON dhis2_data_exports (mapping_id, status, submission_id);
CREATE INDEX dhis2_data_exports_submission_idx ON dhis2_data_exports (submission_id, account_id);
CREATE INDEX dhis2_data_exports_task_idx ON dhis2_data_exports (task_id);
CREATE INDEX dhis2_data_exports_mapping_idx ON dhis2_data_exports (mapping_id, account_id); -- the foreign key
