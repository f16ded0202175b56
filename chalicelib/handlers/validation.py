"""Reading request bodies field by field, with errors that name the field."""

import datetime
import re
from collections.abc import Iterable
from typing import Any

from chalicelib.platform import problems

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Body:
    """A JSON object from a request; refuses unknown fields, so typos do not pass silently."""

    def __init__(self, data: Any, allowed: Iterable[str]):
        if not isinstance(data, dict):
            raise problems.Problem(400, "request.invalid_body", "The request body must be a JSON object.")
        unknown = set(data) - set(allowed)
        if unknown:
            raise problems.unknown_fields(list(unknown))
        self.data = data

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            raise problems.missing_field(name)
        return value

    def text(self, name: str, required: bool = False, max_length: int = 200) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise problems.invalid_field(name, "must be a string")
        value = value.strip()
        if required and not value:
            raise problems.invalid_field(name, "must not be blank")
        if len(value) > max_length:
            raise problems.invalid_field(name, f"must be at most {max_length} characters")
        return value

    def email(self, name: str, required: bool = False) -> str | None:
        value = self.text(name, required, max_length=254)
        if value is not None and not EMAIL.match(value):
            raise problems.invalid_field(name, "must be an email address")
        return value.lower() if value else value

    def secret(self, name: str, required: bool = False) -> str | None:
        """A password as typed (not stripped): for checking, not for setting."""
        value = self._get(name, required)
        if value is not None and (not isinstance(value, str) or len(value) > 256):
            raise problems.invalid_field(name, "must be a string of at most 256 characters")
        return value

    def password(self, name: str, required: bool = False) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not 8 <= len(value) <= 256:
            raise problems.invalid_field(name, "must be a string of 8 to 256 characters")
        return value

    def boolean(self, name: str, required: bool = False) -> bool | None:
        value = self._get(name, required)
        if value is not None and not isinstance(value, bool):
            raise problems.invalid_field(name, "must be true or false")
        return value

    def choice(self, name: str, options: Iterable[str], required: bool = False) -> str | None:
        value = self._get(name, required)
        options = sorted(options)
        if value is not None and value not in options:
            raise problems.invalid_field(name, f"must be one of {', '.join(options)}")
        return value

    def ids(self, name: str, required: bool = False) -> list[int] | None:
        value = self._get(name, required)
        if value is None:
            return None
        valid = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not valid:
            raise problems.invalid_field(name, "must be a list of integer ids")
        return sorted(set(value))

    def id(self, name: str, required: bool = False) -> int | None:
        value = self._get(name, required)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise problems.invalid_field(name, "must be an id (a positive integer)")
        return value

    def date(self, name: str, required: bool = False) -> datetime.date | None:
        value = self._get(name, required)
        if value is None:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise problems.invalid_field(name, "must be a date, YYYY-MM-DD") from error

    def strings(self, name: str, required: bool = False, max_length: int = 200) -> list[str] | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= max_length for v in value):
            raise problems.invalid_field(
                name, f"must be a list of strings of at most {max_length} characters"
            )
        return [v.strip() for v in value if v.strip()]

    def object(self, name: str, required: bool = False) -> dict | None:
        value = self._get(name, required)
        if value is not None and not isinstance(value, dict):
            raise problems.invalid_field(name, "must be a JSON object")
        return value

    def raw(self, name: str):
        """The value as sent, for fields checked elsewhere (GeoJSON geometries)."""
        return self.data.get(name)
