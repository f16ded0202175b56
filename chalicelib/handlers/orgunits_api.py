"""Org units over HTTP: JSON, or GeoJSON with ?format=geojson / Accept: application/geo+json."""

from chalice.app import Response

from chalicelib.handlers.http import Call, endpoint, path_id
from chalicelib.handlers.validation import Body
from chalicelib.platform import jsonutil, paging, problems
from chalicelib.registry import bulk_update, unit_filters, units
from chalicelib.tasks import task_views

GEOJSON = "application/geo+json"
WRITABLE = ["name", "parent_id", "org_unit_type_id", "code", "source_ref", "aliases", "validation_status",
            "opening_date", "closed_date", "extra_fields", "location", "geom", "group_ids"]  # fmt: skip


@endpoint()
def list_orgunits(call: Call):
    query, options = unit_filters.parse(
        call.cur, call.principal, call.query, call.request.headers.get("accept")
    )
    page = paging.page_request(call.query)
    rows = units.list_page(call.cur, call.principal, query, options.with_geometry, page.after, page.limit + 1)
    listed = paging.page(rows, page)
    if options.count:
        listed["count"] = units.count(call.cur, query)
    if options.geojson:
        features = [_feature(row, options.fields) for row in listed.pop("results")]
        return _geojson({"type": "FeatureCollection", "features": features} | listed)
    listed["results"] = [units.present(row, options.fields) for row in listed["results"]]
    return listed


@endpoint()
def get_orgunit(call: Call, unit_id: str):
    unit = units.get(call.cur, call.principal, path_id(unit_id, "orgunit"))
    if call.query.get("format") == "geojson" or GEOJSON in (call.request.headers.get("accept") or ""):
        return _geojson(_feature_of_presented(unit))
    return unit


@endpoint(status=201)
def create_orgunit(call: Call) -> dict:
    body = call.body([*WRITABLE, "version_id"])
    version_id = units.version_id_for(call.cur, call.principal, body.id("version_id"))
    fields = read_unit_fields(body) | {"name": body.text("name", required=True)}
    return units.create(call.cur, call.principal, version_id, fields)


@endpoint()
def update_orgunit(call: Call, unit_id: str) -> dict:
    body = call.body(WRITABLE)
    changes = read_unit_fields(body)
    if "name" in changes and changes["name"] is None:
        changes["name"] = body.text("name", required=True)
    return units.update(call.cur, call.principal, path_id(unit_id, "orgunit"), changes)


@endpoint(status=204)
def delete_orgunit(call: Call, unit_id: str) -> None:
    units.delete(call.cur, call.principal, path_id(unit_id, "orgunit"))


@endpoint()
def orgunit_history(call: Call, unit_id: str) -> dict:
    page = paging.page_request(call.query)
    identifier = path_id(unit_id, "orgunit")
    return paging.page(units.history(call.cur, call.principal, identifier, page.after, page.limit + 1), page)


def read_unit_fields(body: Body) -> dict:
    """The fields the body carries (null included, meaning clear), each checked."""
    readers = {
        "name": lambda: body.text("name", max_length=500),
        "parent_id": lambda: body.id("parent_id"),
        "org_unit_type_id": lambda: body.id("org_unit_type_id"),
        "code": lambda: body.text("code", max_length=100),
        "source_ref": lambda: body.text("source_ref", max_length=255),
        "aliases": lambda: body.strings("aliases") or [],
        "validation_status": lambda: body.choice("validation_status", units.STATUSES) or "NEW",
        "opening_date": lambda: body.date("opening_date"),
        "closed_date": lambda: body.date("closed_date"),
        "extra_fields": lambda: body.object("extra_fields") or {},
        "location": lambda: body.raw("location"),
        "geom": lambda: body.raw("geom"),
        "group_ids": lambda: body.ids("group_ids") or [],
    }
    return {name: read() for name, read in readers.items() if body.has(name)}


def _feature(row: dict, fields) -> dict:
    return _feature_of_presented(units.present(row) | {"_fields": fields})


def _feature_of_presented(unit: dict) -> dict:
    fields = unit.pop("_fields", None)
    territory, point = unit.pop("geom", None), unit.get("location")
    properties = {k: v for k, v in unit.items() if k not in ("location",) and (not fields or k in fields)}
    return {"type": "Feature", "id": unit["id"], "geometry": territory or point, "properties": properties}


def _geojson(body: dict) -> Response:
    return Response(body=jsonutil.dumps(body), status_code=200, headers={"Content-Type": GEOJSON})


@endpoint()
def locate_orgunits(call: Call) -> dict:
    """?lat=&lon=[&type=][&version=]"""
    lat, lon = _coordinate(call.query, "lat", 90), _coordinate(call.query, "lon", 180)
    types = [path_id(part, "org_unit_type") for part in call.query.get("type", "").split(",") if part]
    version = call.query.get("version")
    version_id = units.version_id_for(
        call.cur, call.principal, path_id(version, "version") if version else None
    )
    found = units.locate(call.cur, call.principal, version_id, lon, lat, types)
    return {"results": [units.present(row) for row in found]}


def _coordinate(query: dict, name: str, bound: float) -> float:
    try:
        value = float(query[name])
    except (KeyError, ValueError) as error:
        raise problems.invalid_parameter(name, "is required, in decimal degrees") from error
    if not -bound <= value <= bound:
        raise problems.invalid_parameter(name, f"must be between -{bound} and {bound}")
    return value


@endpoint(status=201)
def bulk_update_units(call: Call) -> dict:
    """{filters: {GET /api/orgunits parameters}, changes: {validation_status, org_unit_type_id, opening_date,
    closed_date, add_group_ids, remove_group_ids}} → the task that applies them."""
    body = call.body(["filters", "changes"])
    filters = read_filters(body, required=True)
    changes_body = call.nested_body(body.object("changes", required=True), list(bulk_update.CHANGEABLE))
    readers = {
        "validation_status": lambda: changes_body.choice("validation_status", units.STATUSES, required=True),
        "org_unit_type_id": lambda: changes_body.id("org_unit_type_id"),
        "opening_date": lambda: _iso(changes_body.date("opening_date")),
        "closed_date": lambda: _iso(changes_body.date("closed_date")),
        "add_group_ids": lambda: changes_body.ids("add_group_ids", required=True),
        "remove_group_ids": lambda: changes_body.ids("remove_group_ids", required=True),
    }
    changes = {name: read() for name, read in readers.items() if changes_body.has(name)}
    created = bulk_update.launch(call.cur, call.principal, filters, changes)
    return task_views.present(created)


def read_filters(body: Body, required: bool = False) -> dict[str, str]:
    """A `filters` object holding GET /api/orgunits parameters, as the strings a query string has."""
    filters = body.object("filters", required=required) or {}
    if not all(isinstance(value, str | int | bool) for value in filters.values()):
        raise problems.invalid_field("filters", "must map parameter names to values, as in GET /api/orgunits")
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in filters.items()
    }


def _iso(value):
    return value.isoformat() if value else None
