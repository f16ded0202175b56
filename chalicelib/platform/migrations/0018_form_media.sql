-- The files a form version's XForm references (jr://images/…, jr://file/….csv, search('name')), one row
-- per expected file from the version's creation; s3_key, md5 and size are set once it is uploaded.
-- A later version starts with the uploads of the version before it, for the names both expect: the
-- S3 object is then shared (objects are never deleted while a version may name them).
CREATE TABLE form_media (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint NOT NULL,
    form_version_id  bigint NOT NULL,
    filename         text NOT NULL,   -- as the XForm names it (the last segment of its jr:// path)
    media_type       text NOT NULL CONSTRAINT form_media_type_known
                         CHECK (media_type IN ('image', 'audio', 'video', 'file')),
    s3_key           text,            -- in the forms bucket
    md5              text,            -- hex, as the OpenRosa manifest gives it (md5:…)
    size             bigint CONSTRAINT form_media_size_positive CHECK (size > 0),
    content_type     text,
    uploaded_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at      timestamptz,
    FOREIGN KEY (form_version_id, account_id) REFERENCES form_versions (id, account_id) ON DELETE CASCADE,
    CONSTRAINT form_media_version_filename_key UNIQUE (form_version_id, filename),
    CONSTRAINT form_media_uploaded_whole CHECK (
        (s3_key IS NULL) = (md5 IS NULL) AND (md5 IS NULL) = (size IS NULL)
        AND (size IS NULL) = (uploaded_at IS NULL))
);
CREATE INDEX form_media_version_account_idx ON form_media (form_version_id, account_id);
CREATE INDEX form_media_uploaded_by_idx ON form_media (uploaded_by);
