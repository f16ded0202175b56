"""Org units: JSON, or GeoJSON with ?format=geojson / Accept: application/geo+json; their history,
locating units by a point, and bulk updates."""

from typing import Annotated, Any, Literal

from chalicelib.handlers.http import GEOJSON, Call, geojson_response, wants_geojson
from chalicelib.handlers.wire import FeatureCollection, OrgUnit, Page, Results, Task
from chalicelib.identity.permissions import READ_REGISTRY, RUN_TASKS, WRITE_REGISTRY
from chalicelib.platform import paging, problems
from chalicelib.platform.contract import (
    UNSET,
    Body,
    Date,
    Id,
    Ids,
    JsonObject,
    Limit,
    Meta,
    PageQuery,
    PathId,
    Query,
    Reason,
    Strings,
    Timestamp,
    UnsetType,
    Wire,
    given,
    one_of,
    operation,
    text,
)
from chalicelib.registry import bulk_update, unit_filters, unit_tree, units
from chalicelib.tasks import task_views

Status = one_of(*units.STATUSES)
UnitId = Annotated[int, PathId("orgunit")]
DEFAULTS = {"aliases": [], "validation_status": "NEW", "extra_fields": {}, "group_ids": []}


class UnitFields(Body):
    """The fields of a unit a request may set; null clears one."""

    name: text(500, required=True) | None | UnsetType = UNSET
    parent_id: Id | None | UnsetType = UNSET
    org_unit_type_id: Id | None | UnsetType = UNSET
    code: text(100) | None | UnsetType = UNSET
    source_ref: text(255) | None | UnsetType = UNSET
    aliases: Strings | None | UnsetType = UNSET
    validation_status: Status | None | UnsetType = UNSET
    opening_date: Date | None | UnsetType = UNSET
    closed_date: Date | None | UnsetType = UNSET
    extra_fields: JsonObject | None | UnsetType = UNSET
    location: Annotated[Any, Meta(description="GeoJSON Point, longitude first")] = UNSET
    geom: Annotated[Any, Meta(description="GeoJSON Polygon or MultiPolygon")] = UNSET
    group_ids: Ids | None | UnsetType = UNSET


class NewUnit(UnitFields):
    version_id: Id | None | UnsetType = UNSET  # default: the account's


def unit_fields(body: UnitFields) -> dict:
    """The fields the body carries, null meaning clear (or the default where a unit must have one)."""
    fields = given(body)
    fields.pop("version_id", None)
    return {name: DEFAULTS.get(name) if value is None else value for name, value in fields.items()}


class UnitListQuery(unit_filters.UnitFilters):
    limit: Limit = 50
    cursor: str | None = None


class OneUnitQuery(Query):
    format: Literal["json", "geojson"] | None = None


class LocateQuery(Query):
    lat: Annotated[
        float, Meta(ge=-90, le=90, description="latitude"), Reason("must be decimal degrees, -90 to 90")
    ]
    lon: Annotated[
        float, Meta(ge=-180, le=180, description="longitude"), Reason("must be decimal degrees, -180 to 180")
    ]
    type: Annotated[str | None, Meta(description="org-unit type ids, comma-separated")] = None
    version: Annotated[int | None, Meta(description="version id (default: the account's)")] = None


class ChildCountsQuery(Query):
    ids: Annotated[str, Meta(description="unit ids, comma-separated (at most 100)")]
    version: Annotated[int | None, Meta(description="version id (default: the account's)")] = None


class TypeCount(Wire):
    org_unit_type_id: int | None
    org_unit_type_name: str | None
    count: int


class ChildCounts(Wire):
    id: int
    children: int  # all of them
    by_type: list[TypeCount]  # most numerous first


class UnitPage(Page[OrgUnit]):
    count: int | UnsetType = UNSET  # with count=true


class AuditEntry(Wire):
    id: int
    created_at: Timestamp
    user_id: int | None
    user_email: str | None
    task_id: int | None
    source: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class BulkChanges(Body):
    validation_status: Status | UnsetType = UNSET
    org_unit_type_id: Id | None | UnsetType = UNSET
    opening_date: Date | None | UnsetType = UNSET
    closed_date: Date | None | UnsetType = UNSET
    add_group_ids: Ids | UnsetType = UNSET
    remove_group_ids: Ids | UnsetType = UNSET


class BulkUpdate(Body):
    filters: Annotated[
        dict[str, str | int | bool],
        Meta(description="GET /api/orgunits parameters"),
        Reason("must map parameter names to values, as in GET /api/orgunits"),
    ]
    changes: BulkChanges


def filter_strings(filters: dict[str, str | int | bool]) -> dict[str, str]:
    """A `filters` object of GET /api/orgunits parameters, as the strings a query string has."""
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in filters.items()
    }


@operation(
    "GET",
    "/api/orgunits",
    summary="Search and list org units (JSON, or GeoJSON with format=geojson)",
    tag="orgunits",
    permission=READ_REGISTRY,
    alternatives={GEOJSON: FeatureCollection},
)
def list_orgunits(call: Call, query: UnitListQuery) -> UnitPage:
    params = dict(call.request.query_params or {})
    unit_query, options = unit_filters.parse(
        call.cur, call.principal, params, call.request.headers.get("accept")
    )
    page = paging.page_request(query)
    rows = units.list_page(
        call.cur, call.principal, unit_query, options.with_geometry, page.after, page.limit + 1
    )
    listed = paging.page(rows, page)
    if options.count:
        listed["count"] = units.count(call.cur, unit_query)
    if options.geojson:
        features = [_feature(row, options.fields) for row in listed.pop("results")]
        return geojson_response({"type": "FeatureCollection", "features": features} | listed)
    listed["results"] = [units.present(row, options.fields) for row in listed["results"]]
    return listed


@operation(
    "GET",
    "/api/orgunits/{unit_id}",
    summary="One org unit with its ancestors",
    tag="orgunits",
    permission=READ_REGISTRY,
    alternatives={GEOJSON: dict[str, Any]},
)
def get_orgunit(call: Call, query: OneUnitQuery, unit_id: UnitId) -> OrgUnit:
    unit = units.get(call.cur, call.principal, unit_id)
    if wants_geojson(call.request, query.format):
        return geojson_response(_feature_of_presented(unit))
    return unit


@operation(
    "POST",
    "/api/orgunits",
    summary="Create an org unit",
    tag="orgunits",
    status=201,
    permission=WRITE_REGISTRY,
)
def create_orgunit(call: Call, body: NewUnit) -> OrgUnit:
    version_id = units.version_id_for(call.cur, call.principal, body.version_id or None)
    fields = unit_fields(body)
    if fields.get("name") is None:
        raise problems.missing_field("name")
    return units.create(call.cur, call.principal, version_id, fields)


@operation(
    "PATCH",
    "/api/orgunits/{unit_id}",
    summary="Change an org unit; a new parent_id moves its whole subtree",
    tag="orgunits",
    permission=WRITE_REGISTRY,
)
def update_orgunit(call: Call, body: UnitFields, unit_id: UnitId) -> OrgUnit:
    changes = unit_fields(body)
    if "name" in changes and changes["name"] is None:
        raise problems.missing_field("name")
    return units.update(call.cur, call.principal, unit_id, changes)


@operation(
    "DELETE",
    "/api/orgunits/{unit_id}",
    summary="Delete an org unit without children",
    tag="orgunits",
    status=204,
    permission=WRITE_REGISTRY,
)
def delete_orgunit(call: Call, unit_id: UnitId) -> None:
    units.delete(call.cur, call.principal, unit_id)


@operation(
    "GET",
    "/api/orgunits/{unit_id}/history",
    summary="The audit trail of an org unit",
    tag="orgunits",
    permission=READ_REGISTRY,
)
def orgunit_history(call: Call, query: PageQuery, unit_id: UnitId) -> Page[AuditEntry]:
    page = paging.page_request(query)
    return paging.page(units.history(call.cur, call.principal, unit_id, page.after, page.limit + 1), page)


@operation(
    "GET",
    "/api/orgunits/locate",
    summary="Units whose territory contains ?lat=&lon= (optional type, version)",
    tag="orgunits",
    permission=READ_REGISTRY,
)
def locate_orgunits(call: Call, query: LocateQuery) -> Results[OrgUnit]:
    types = unit_filters.id_list(query.type or "", "type")
    version_id = units.version_to_read(call.cur, call.principal, query.version)
    found = units.locate(call.cur, call.principal, version_id, query.lon, query.lat, types)
    return {"results": [units.present(row) for row in found]}


@operation(
    "GET",
    "/api/orgunits/child-counts",
    summary="How many children each of ?ids= has, per org-unit type (a tree's labels)",
    tag="orgunits",
    permission=READ_REGISTRY,
)
def orgunit_child_counts(call: Call, query: ChildCountsQuery) -> Results[ChildCounts]:
    ids = unit_filters.id_list(query.ids, "ids")
    return {"results": unit_tree.child_counts(call.cur, call.principal, query.version, ids)}


@operation(
    "POST",
    "/api/orgunits/bulk-update",
    summary="A task applying a change to every unit matching filters",
    tag="orgunits",
    status=201,
    permission=RUN_TASKS,
)
def bulk_update_units(call: Call, body: BulkUpdate) -> Task:
    changes = {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in given(body.changes).items()
    }
    created = bulk_update.launch(call.cur, call.principal, filter_strings(body.filters), changes)
    return task_views.present(created)


def _feature(row: dict, fields) -> dict:
    return _feature_of_presented(units.present(row) | {"_fields": fields})


def _feature_of_presented(unit: dict) -> dict:
    fields = unit.pop("_fields", None)
    territory, point = unit.pop("geom", None), unit.get("location")
    properties = {k: v for k, v in unit.items() if k != "location" and (not fields or k in fields)}
    return {"type": "Feature", "id": unit["id"], "geometry": territory or point, "properties": properties}
