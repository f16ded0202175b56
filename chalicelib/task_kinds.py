"""Imports every module that defines task kinds, so that the registry is complete wherever tasks are
enqueued or run."""

from chalicelib import bulk_submissions, bulk_update, demo, exports, imports, submission_export, versions  # noqa: F401
