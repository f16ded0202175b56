"""What a push sends: DHIS2 organisation units and groups built from the plan's rows (push_sql.py),
and which of a unit's fields changed since the mirror.

An update replaces the object in DHIS2 (its metadata import merges in REPLACE mode), so every field
is sent, an emptied one as null: a geometry removed here is removed there. shortName is required by
DHIS2 and limited to 50 characters: a unit that has none gets its name's first 50.
"""

import json

from chalicelib.dhis2.uids import is_uid

SHORT_NAME_MAX = 50
# The unit's fields a push compares with the mirror and sends, in DHIS2's names.
FIELDS = ("name", "shortName", "code", "openingDate", "closedDate", "parent", "geometry")


def short_name(name: str | None, given: str | None) -> str | None:
    """The given shortName as it is (DHIS2 reports one too long); else the name, cut to 50."""
    if given:
        return given
    return name[:SHORT_NAME_MAX].rstrip() if name else None


def _side(row: dict, prefix: str) -> dict:
    """One side of a plan row (prefix "" for the version, "m_" for the mirror) in DHIS2's terms."""
    name = row[f"{prefix}name"]
    geometry = row[f"{prefix}geometry"]
    return {
        "name": name,
        "shortName": short_name(name, row[f"{prefix}short_name"]),
        "code": row[f"{prefix}code"] or None,
        "openingDate": row[f"{prefix}opening_date"],
        "closedDate": row[f"{prefix}closed_date"],
        "parent": row["parent_uid" if not prefix else "m_parent_uid"],
        "geometry": json.loads(geometry) if geometry else None,
    }


def changed_fields(row: dict) -> list[str]:
    """The fields of a unit that differ from its mirror unit; every field for a unit new to DHIS2."""
    if not row["in_mirror"]:
        return list(FIELDS)
    here, there = _side(row, ""), _side(row, "m_")
    return [name for name in FIELDS if here[name] != there[name]]


def unit_object(row: dict) -> dict:
    """The organisationUnit as /api/metadata takes it, every field present (null when empty)."""
    fields = _side(row, "")
    parent = fields.pop("parent")
    return {"id": row["uid"], **fields, "parent": {"id": parent} if parent else None}


def group_changed(row: dict) -> bool:
    return is_uid(row["source_ref"]) and list(row["members"]) != list(row["m_members"] or [])


def group_object(row: dict) -> dict:
    """The group with all its members: DHIS2 owns membership on the group's side. The registry keeps
    no short name for groups: DHIS2 gets the name's first 50 characters in place of its own."""
    members = [{"id": uid} for uid in row["members"]]
    name = row["name"]
    short = name[:SHORT_NAME_MAX].rstrip()
    return {"id": row["source_ref"], "name": name, "shortName": short, "organisationUnits": members}
