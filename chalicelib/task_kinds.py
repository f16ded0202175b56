"""Imports every module that defines task kinds, so that the registry is complete wherever tasks are
enqueued or run."""

from chalicelib import bulk_update, demo, exports, imports, versions  # noqa: F401
