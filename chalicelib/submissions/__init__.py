"""Submissions: upload grants, ingestion, instance XML, review, bulk uploads, OpenRosa
submissions, exports."""
