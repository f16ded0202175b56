"""DHIS2 identifiers: 11 characters, a letter then letters or digits (dhis2-core's CodeGenerator).

Generated here, before a unit is sent, so that the uid is ours to keep (dhis2_unit_uids) and a
batch sent twice names the same objects both times."""

import re
import secrets
import string

UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
_LETTERS = string.ascii_letters
_ALPHANUMERIC = string.ascii_letters + string.digits


def new_uid() -> str:
    return secrets.choice(_LETTERS) + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(10))


def is_uid(text: object) -> bool:
    return isinstance(text, str) and UID.match(text) is not None
