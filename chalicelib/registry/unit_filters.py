"""GET /api/orgunits query parameters → a Query of fixed SQL clauses with their values.

Filters: search (+ match=prefix|contains), refs, codes, ids, type, parent, roots, descendants_of,
validation_status, group, version, bbox, has_geometry, open_at, closed_at.
Output options: fields, with_geometry, count, format=geojson.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.identity.permissions import Principal
from chalicelib.platform import problems
from chalicelib.platform.query_params import bool_param, id_param
from chalicelib.registry import units
from chalicelib.registry.units_sql import Query

KNOWN = {
    "search", "match", "refs", "codes", "ids", "type", "parent", "roots", "descendants_of",
    "validation_status", "group", "version", "bbox", "has_geometry", "open_at", "closed_at",
    "fields", "with_geometry", "count", "format", "limit", "cursor",
}  # fmt: skip


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
    query = Query(units.version_id_for(cur, principal, id_param(params, "version")))
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
        query.where("search_text(ou.name) LIKE search_text(%(search)s)", search=like)
        query.narrow = len(text) >= (2 if match == "prefix" else 3)
    for name, column in (("refs", "source_ref"), ("codes", "code")):
        if params.get(name):
            query.where(f"ou.{column} = ANY(%({name})s)", **{name: _list(params[name])})
    if params.get("ids"):
        query.where("ou.id = ANY(%(ids)s)", ids=_ids(params, "ids"))


def _tree_filters(cur, principal: Principal, query: Query, params: Mapping[str, str]) -> None:
    if params.get("type"):
        query.where("ou.org_unit_type_id = ANY(%(types)s)", types=_ids(params, "type"))
    if params.get("parent"):
        query.where("ou.parent_id = %(parent)s", parent=id_param(params, "parent"))
    if bool_param(params, "roots", False):
        query.where("ou.parent_id IS NULL")
    if params.get("descendants_of"):
        path = units.path_of_visible(cur, principal, id_param(params, "descendants_of"), query.version_id)
        query.narrow = True
        query.where("ou.path LIKE %(descendants)s AND ou.path <> %(ancestor_path)s", descendants=f"{path}%",
                    ancestor_path=path)  # fmt: skip
    if params.get("group"):
        query.where(
            "EXISTS (SELECT 1 FROM org_unit_groups m"
            " WHERE m.version_id = ou.version_id AND m.org_unit_id = ou.id AND m.group_id = ANY(%(groups)s))",
            groups=_ids(params, "group"),
        )


def _other_filters(query: Query, params: Mapping[str, str]) -> None:
    if params.get("validation_status"):
        statuses = _list(params["validation_status"])
        if not set(statuses) <= set(units.STATUSES):
            raise problems.invalid_parameter(
                "validation_status", f"must be among {', '.join(units.STATUSES)}"
            )
        query.where("ou.validation_status = ANY(%(statuses)s)", statuses=statuses)
    if params.get("bbox"):
        west, south, east, north = _bbox(params["bbox"])
        query.where(
            "(ou.location && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)"
            " OR ou.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326))",
            west=west, south=south, east=east, north=north,
        )  # fmt: skip
    if "has_geometry" in params:
        wanted = bool_param(params, "has_geometry", True)
        query.where(
            "(ou.location IS NOT NULL OR ou.geom IS NOT NULL) = %(has_geometry)s", has_geometry=wanted
        )
    if params.get("open_at"):
        query.where(
            "(ou.opening_date IS NULL OR ou.opening_date <= %(open_at)s)"
            " AND (ou.closed_date IS NULL OR ou.closed_date > %(open_at)s)",
            open_at=_date(params, "open_at"),
        )
    if params.get("closed_at"):
        query.where("ou.closed_date <= %(closed_at)s", closed_at=_date(params, "closed_at"))


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


def _ids(params: Mapping[str, str], name: str) -> list[int]:
    items = _list(params[name])
    if not items or not all(item.isdigit() for item in items):
        raise problems.invalid_parameter(name, "must be a comma-separated list of ids")
    return [int(item) for item in items]


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
