"""ODK Central's OData feed of a form's submissions: `/v1/projects/{id}/forms/{xmlFormId}.svc/Submissions`
(what pyodk's `submissions.get_table` reads), a table per repeat (`Submissions.<group>.<repeat>`,
odata_repeats) and the `$metadata` document beside them.

`$top`, `$skip`, `$count`, `$wkt`, `$filter` (on `__id` and `__system/…`, as Central filters, for a
repeat table on its submissions) and `$skiptoken` (from `@odata.nextLink`) as Central takes them;
`$select` only as `*`, and no `$expand`: repeats are read from their own tables. The service
document is `{xmlFormId}.svc` (central_api).
"""

from typing import Annotated, Any

import msgspec
from chalice.app import Response

from chalicelib.handlers.central_api import ProjectId, odata_json, service_url
from chalicelib.handlers.http import Call
from chalicelib.platform import problems
from chalicelib.platform.contract import UNSET, Meta, PathText, Query, UnsetType, Wire, operation
from chalicelib.submissions import odata_edmx, odata_submissions

ServiceRef = Annotated[str, PathText("form")]
Resource = Annotated[str, PathText("table")]
Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]


class FeedQuery(Query):
    top: Count | None = msgspec.field(default=None, name="$top")
    skip: Count = msgspec.field(default=0, name="$skip")
    count: bool = msgspec.field(default=False, name="$count")
    wkt: bool = msgspec.field(default=False, name="$wkt")
    filter: Annotated[str, Meta(max_length=2000)] | None = msgspec.field(default=None, name="$filter")
    skiptoken: Annotated[str, Meta(max_length=1000)] | None = msgspec.field(default=None, name="$skiptoken")
    expand: Annotated[str, Meta(max_length=200)] | None = msgspec.field(default=None, name="$expand")
    select: Annotated[str, Meta(max_length=2000)] | None = msgspec.field(default=None, name="$select")


class ODataPage(Wire):
    value: list[dict[str, Any]]
    context: str = msgspec.field(name="@odata.context")
    next_link: str | UnsetType = msgspec.field(default=UNSET, name="@odata.nextLink")
    count: int | UnsetType = msgspec.field(default=UNSET, name="@odata.count")


@operation(
    "GET",
    "/v1/projects/{project_id}/forms/{form_ref}/{resource}",
    summary="ODK Central OData: `{xmlFormId}.svc/Submissions` (rows with every answer, paged with "
    "@odata.nextLink), a repeat's table `{xmlFormId}.svc/Submissions.<group>.<repeat>` or "
    "`{xmlFormId}.svc/$metadata` (EDMX, application/xml)",
    tag="central",
)
def odata_resource(call: Call, query: FeedQuery, project_id: ProjectId, form_ref: ServiceRef,
                   resource: Resource) -> ODataPage:  # fmt: skip
    if not form_ref.endswith(".svc") or not (
        resource in ("Submissions", "$metadata") or resource.startswith("Submissions.")
    ):
        raise problems.not_found("table", f"{form_ref}/{resource}")
    xml_form_id = form_ref.removesuffix(".svc")
    if resource == "$metadata":
        form = odata_submissions.readable_form(call.cur, call.principal, project_id, xml_form_id)
        return Response(body=odata_edmx.edmx(xml_form_id, form["descriptor"]).encode(), status_code=200,
                        headers={"Content-Type": "application/xml"})  # fmt: skip
    if query.expand is not None:
        raise problems.invalid_parameter("$expand", "is not supported: read a repeat's own table, "
                                                    "Submissions.<group>.<repeat>")  # fmt: skip
    if query.select not in (None, "*"):
        raise problems.invalid_parameter("$select", "is supported only as *")
    options = odata_submissions.FeedOptions(query.top, query.skip, query.count, query.wkt, query.filter,
                                            query.skiptoken)  # fmt: skip
    params = dict(call.request.query_params or {})
    url = service_url(call.request, project_id, xml_form_id)
    return odata_json(odata_submissions.feed(call.cur, call.principal, project_id, xml_form_id, options,
                                             url, params, resource))  # fmt: skip
