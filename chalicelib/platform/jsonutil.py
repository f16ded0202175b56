"""JSON for what PostgreSQL rows hold: dates and times as ISO 8601, decimals as numbers, UUIDs as text."""

import datetime
import decimal
import json
import uuid
from typing import Any

from chalicelib.platform.db import Json


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode)


def jsonb(value: Any) -> Json | None:
    """A parameter for a jsonb column (None stays NULL)."""
    return None if value is None else Json(value, dumps=dumps)
