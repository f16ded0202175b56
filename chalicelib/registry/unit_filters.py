"""GET /api/orgunits query parameters → a Query of fixed SQL clauses with their values.

Filters: search (+ match=prefix|contains), refs, codes, ids, type, parent, roots, descendants_of,
validation_status, group, version, bbox, has_geometry, open_at, closed_at.
Output options: fields, with_geometry, count, format=geojson.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from chalicelib.identity.permissions import Principal
from chalicelib.platform import contract, problems
from chalicelib.platform.query_params import bool_param, id_param
from chalicelib.registry import reference_data, units, units_sql
from chalicelib.registry.units_sql import Query


def _described(text: str):
    return Annotated[str | None, contract.Meta(description=text)]


class UnitFilters(contract.Query):
    """The filters as the query string of GET /api/orgunits has them, also accepted as the `filters`
    object of bulk updates and exports; each is text, read by `parse`."""

    search: _described(
        "name contains (or starts with, match=prefix) this text, ignoring case and accents"
    ) = None
    match: _described("prefix or contains (default)") = None
    refs: _described("comma-separated source refs") = None
    codes: _described("comma-separated codes") = None
    ids: _described("comma-separated ids") = None
    type: _described("org-unit type ids") = None
    parent: _described("direct children of this unit") = None
    roots: _described("true: top-level units") = None
    descendants_of: _described("every unit below this one") = None
    validation_status: _described("NEW, VALID, REJECTED (comma list)") = None
    group: _described("group ids") = None
    version: _described("version id (default: the account's)") = None
    bbox: _described("west,south,east,north") = None
    has_geometry: _described("true or false") = None
    open_at: _described("open on this date (YYYY-MM-DD)") = None
    closed_at: _described("closed on or before this date") = None
    fields: _described("comma-separated fields to return") = None
    with_geometry: _described("true: include territories") = None
    count: _described("true: include the total count") = None
    format: _described("json or geojson") = None


KNOWN = {*UnitFilters.__struct_fields__, "limit", "cursor"}


@dataclass(frozen=True)
class Options:
    with_geometry: bool
    fields: tuple[str, ...] | None
    count: bool
    geojson: bool


def parse(cur, principal: Principal, params: Mapping[str, str], accept: str | None) -> tuple[Query, Options]:
    unknown = set(params) - KNOWN
    if unknown:
        raise problems.invalid_parameter(
            sorted(unknown)[0], f"is not a filter; known: {', '.join(sorted(KNOWN))}"
        )
    query = Query(reference_data.version_to_read(cur, principal, id_param(params, "version")))
    _text_filters(query, params)
    _tree_filters(cur, principal, query, params)
    _other_filters(query, params)
    geojson = params.get("format") == "geojson" or "application/geo+json" in (accept or "")
    if params.get("format") not in (None, "json", "geojson"):
        raise problems.invalid_parameter("format", "must be json or geojson")
    options = Options(
        with_geometry=geojson or bool_param(params, "with_geometry", False),
        fields=_fields(params),
        count=bool_param(params, "count", False),
        geojson=geojson,
    )
    return query, options


def _text_filters(query: Query, params: Mapping[str, str]) -> None:
    if params.get("search"):
        text = params["search"].strip()
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        match = params.get("match", "contains")
        if match not in ("prefix", "contains"):
            raise problems.invalid_parameter("match", "must be prefix or contains")
        like = f"{pattern}%" if match == "prefix" else f"%{pattern}%"
        query.where(units_sql.NAME_MATCHES, search=like)
        query.narrow = len(text) >= (2 if match == "prefix" else 3)
    for name, clause in (("refs", units_sql.REF_IN), ("codes", units_sql.CODE_IN)):
        if params.get(name):
            query.where(clause, **{name: _list(params[name])})
    if params.get("ids"):
        query.where(units_sql.ID_IN, ids=_ids(params, "ids"))


def _tree_filters(cur, principal: Principal, query: Query, params: Mapping[str, str]) -> None:
    if params.get("type"):
        query.where(units_sql.TYPE_IN, types=_ids(params, "type"))
    if params.get("parent"):
        query.where(units_sql.PARENT_IS, parent=id_param(params, "parent"))
    if bool_param(params, "roots", False):
        query.where(units_sql.IS_ROOT)
    if params.get("descendants_of"):
        path = units.path_of_visible(cur, principal, id_param(params, "descendants_of"), query.version_id)
        query.narrow = True
        query.where(units_sql.BELOW, descendants=f"{path}%", ancestor_path=path)
    if params.get("group"):
        query.where(units_sql.IN_GROUPS, groups=_ids(params, "group"))


def _other_filters(query: Query, params: Mapping[str, str]) -> None:
    if params.get("validation_status"):
        statuses = _list(params["validation_status"])
        if not set(statuses) <= set(units.STATUSES):
            raise problems.invalid_parameter(
                "validation_status", f"must be among {', '.join(units.STATUSES)}"
            )
        query.where(units_sql.STATUS_IN, statuses=statuses)
    if params.get("bbox"):
        west, south, east, north = _bbox(params["bbox"])
        query.where(units_sql.IN_BBOX, west=west, south=south, east=east, north=north)
    if "has_geometry" in params:
        query.where(units_sql.HAS_GEOMETRY, has_geometry=bool_param(params, "has_geometry", True))
    if params.get("open_at"):
        query.where(units_sql.OPEN_AT, open_at=_date(params, "open_at"))
    if params.get("closed_at"):
        query.where(units_sql.CLOSED_BY, closed_at=_date(params, "closed_at"))


def _fields(params: Mapping[str, str]) -> tuple[str, ...] | None:
    if not params.get("fields"):
        return None
    names = tuple(dict.fromkeys(["id", *_list(params["fields"])]))
    unknown = [name for name in names if name not in units.FIELDS]
    if unknown:
        raise problems.invalid_parameter("fields", f"names unknown field(s) {unknown}")
    return names


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def id_list(raw: str, name: str) -> list[int]:
    """Comma-separated ids (none is an empty list); anything else, "²" or an id past bigint, a 400."""
    items = _list(raw)
    if not all(item.isascii() and item.isdigit() and 0 < int(item) < 2**63 for item in items):
        raise problems.invalid_parameter(name, "must be a comma-separated list of ids")
    return [int(item) for item in items]


def _ids(params: Mapping[str, str], name: str) -> list[int]:
    ids = id_list(params[name], name)
    if not ids:
        raise problems.invalid_parameter(name, "must be a comma-separated list of ids")
    return ids


def _date(params: Mapping[str, str], name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(params[name])
    except ValueError as error:
        raise problems.invalid_parameter(name, "must be a date, YYYY-MM-DD") from error


def _bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError as error:
        raise problems.invalid_parameter("bbox", "must be west,south,east,north in degrees") from error
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise problems.invalid_parameter("bbox", "must be west,south,east,north within -180..180 / -90..90")
    return west, south, east, north
