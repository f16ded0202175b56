"""Response types that several groups of operations return: pages, tasks, upload grants, GeoJSON
geometries, org units."""

from typing import Any, Literal

from chalicelib.platform.contract import UNSET, Date, Timestamp, UnsetType, Wire


class Page[T](Wire):
    results: list[T]
    next_cursor: str | None


class Results[T](Wire):
    """A list that is not paged (it is short by nature)."""

    results: list[T]


class Progress(Wire):
    value: int
    end: int | None
    percent: float | None
    message: str | None


class Artifact(Wire):
    name: str
    content_type: str
    size: int
    url: str | UnsetType = UNSET  # a presigned download link, on one task (not in lists)
    expires_in: int | UnsetType = UNSET


class Task(Wire):
    id: int
    kind: str
    status: Literal["QUEUED", "RUNNING", "SUCCESS", "ERRORED", "KILLED"]
    params: dict[str, Any]
    progress: Progress
    result: Any
    error: str | None
    artifacts: list[Artifact]
    attempts: int
    launcher_id: int | None
    unique_key: str | None
    should_be_killed: bool
    relaunched_from: int | None
    created_at: Timestamp
    started_at: Timestamp | None
    ended_at: Timestamp | None
    updated_at: Timestamp


class UploadUrl(Wire):
    """A presigned S3 POST: send `fields` and then the file as multipart/form-data to `url`."""

    url: str
    fields: dict[str, str]
    s3_key: str
    max_bytes: int
    expires_in: int


class Point(Wire):
    type: Literal["Point"]
    coordinates: list[float]


class MultiPolygon(Wire):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[list[float]]]]


class Ancestor(Wire):
    id: int
    name: str
    org_unit_type_name: str | None
    depth: int


class OrgUnit(Wire):
    """A unit; `fields=` keeps only the named fields, so every field but `id` may be absent."""

    id: int
    uuid: str | UnsetType = UNSET
    version_id: int | UnsetType = UNSET
    parent_id: int | None | UnsetType = UNSET
    parent_name: str | None | UnsetType = UNSET
    org_unit_type_id: int | None | UnsetType = UNSET
    org_unit_type_name: str | None | UnsetType = UNSET
    name: str | UnsetType = UNSET
    code: str | None | UnsetType = UNSET
    source_ref: str | None | UnsetType = UNSET
    aliases: list[str] | UnsetType = UNSET
    validation_status: Literal["NEW", "VALID", "REJECTED"] | UnsetType = UNSET
    opening_date: Date | None | UnsetType = UNSET
    closed_date: Date | None | UnsetType = UNSET
    extra_fields: dict[str, Any] | UnsetType = UNSET
    depth: int | UnsetType = UNSET
    ancestor_ids: list[int] | UnsetType = UNSET
    location: Point | None | UnsetType = UNSET
    has_territory: bool | UnsetType = UNSET
    geom: MultiPolygon | None | UnsetType = UNSET  # with with_geometry=true, and on one unit
    group_ids: list[int] | UnsetType = UNSET
    created_at: Timestamp | UnsetType = UNSET
    updated_at: Timestamp | UnsetType = UNSET
    ancestors: list[Ancestor] | UnsetType = UNSET  # on one unit
    warnings: list[str] | UnsetType = UNSET  # after a write: geometries repaired


class Feature(Wire):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(Wire):
    type: Literal["FeatureCollection"]
    features: list[Feature]
    next_cursor: str | None
    count: int | UnsetType = UNSET
