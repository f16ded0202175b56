"""Imports every module that defines task kinds, so that the registry is complete wherever tasks are
enqueued or run."""

from chalicelib.dhis2 import data_export, push_task, sync_task, tree_import  # noqa: F401
from chalicelib.exports import unit_exports  # noqa: F401
from chalicelib.imports import import_task  # noqa: F401
from chalicelib.registry import bulk_update, version_tasks  # noqa: F401
from chalicelib.submissions import bulk_submissions, submission_export  # noqa: F401
from chalicelib.tasks import demo  # noqa: F401
