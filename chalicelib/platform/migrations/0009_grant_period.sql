-- The period a phone declares for a submission (forms with a period type) travels with its upload
-- grant to ingestion, like the org unit does.
ALTER TABLE submission_upload_grants ADD COLUMN period text;
