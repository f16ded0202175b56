"""Vector tiles of org units for maps (MapLibre): GET /api/tiles/{z}/{x}/{y}.mvt with the filters of
GET /api/orgunits.

Bytes behind API Gateway: a REST API returns a Lambda's base64 body as bytes only when the request's
*first* Accept type is among the API's binary media types. MVT is one of ours (http.mount lists
every declared answer type that is not text); a browser's fetch sends `Accept: */*`, which would get
base64 text, and listing `*/*` as binary would make Chalice treat every answer as binary (JSON and
XML included, and a 400 for a client that sends no Accept). So a client asks for the tile type:
MapLibre's `transformRequest` sets `Accept: application/vnd.mapbox-vector-tile` beside the
Authorization header it must add anyway. An Accept naming neither it nor `*/*` is a 406 of ours.

Caching: tiles depend on the caller (account, subtrees), so `private` (the browser's cache, not
CloudFront's), briefly fresh, and a strong ETag (a hash of the bytes) that turns a repeat into 304.
An empty tile is 204, which MapLibre draws as empty.
"""

import hashlib
from typing import Annotated

from chalice.app import Response

from chalicelib.handlers.http import Call
from chalicelib.identity.permissions import READ_REGISTRY
from chalicelib.platform import problems
from chalicelib.platform.contract import PathText, RawResponse, operation
from chalicelib.platform.openapi import Error
from chalicelib.registry import tiles

MAX_AGE_SECONDS = 30  # panning back over a tile reuses it; an edit shows within this (or on reload)
Zoom = Annotated[str, PathText("tile")]
Column = Annotated[str, PathText("tile")]
Row = Annotated[str, PathText("tile")]


@operation(
    "GET",
    "/api/tiles/{z}/{x}/{y}",
    summary="A vector tile (MVT) of the org units the filters of GET /api/orgunits select: layers "
    "`territories` and `points` (or `overflow` past 4,000 points); y may end in .mvt",
    tag="orgunits",
    permission=READ_REGISTRY,
    produces=tiles.MVT,
    other_responses={204: RawResponse, 304: RawResponse, 406: Error},
)
def get_tile(call: Call, query: tiles.TileFilters, z: Zoom, x: Column, y: Row) -> RawResponse:
    at = tiles.address(z, x, y)
    _check_accept(call.request.headers.get("accept"))
    mvt = tiles.tile(call.cur, call.principal, at, dict(call.request.query_params or {}))
    etag = '"' + hashlib.blake2b(mvt, digest_size=16).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={MAX_AGE_SECONDS}",
        "Vary": "Authorization, Accept",
    }
    if _etags(call.request.headers.get("if-none-match")) & {etag, "*"}:
        return Response(body="", status_code=304, headers=headers)
    if not mvt:
        return Response(body="", status_code=204, headers=headers)
    return Response(body=mvt, status_code=200, headers=headers | {"Content-Type": tiles.MVT})


def _check_accept(accept: str | None) -> None:
    """What Chalice requires before it answers bytes (else its own 400), said in our words."""
    kinds = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    if tiles.MVT not in kinds and "*/*" not in kinds:
        raise problems.Problem(
            406,
            "request.not_acceptable",
            f"A tile is {tiles.MVT}: send Accept: {tiles.MVT} (or */*, but behind API Gateway only the "
            "tile type as the first Accept type gets bytes rather than base64 text).",
            {"accept": accept or "", "produces": tiles.MVT},
        )


def _etags(header: str | None) -> set[str]:
    """If-None-Match's tags (weak ones compared as strong: the bytes are what the tag names)."""
    return {tag.strip().removeprefix("W/") for tag in (header or "").split(",") if tag.strip()}
