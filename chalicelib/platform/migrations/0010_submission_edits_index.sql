-- Ingestion asks, for every instance, whether an edit naming it (deprecatedID) arrived first: without
-- this index that is a scan of the account's submissions.
CREATE INDEX submissions_deprecated_idx ON submissions (account_id, deprecated_uuid)
    WHERE deprecated_uuid IS NOT NULL;
