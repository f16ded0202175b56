"""A small real-looking registry built through the API: Senegal's regions, districts, facilities."""

from tests.integration.helpers import call


def square(west: float, south: float, size: float) -> dict:
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def post(client, token: str, path: str, body: dict) -> dict:
    status, created, _ = call(client, "POST", path, token, body)
    assert status == 201, (path, body, created)
    return created


def build_registry(client, token: str) -> dict:
    """Returns ids by name: the data source, version, types, groups and units."""
    ids: dict = {}
    source = post(client, token, "/api/data-sources", {"name": "Ministry pyramid"})
    ids["source"], ids["version"] = source["id"], source["default_version_id"]
    for name in ("Facility", "District", "Region", "Country"):
        allowed = [
            ids[t]
            for t in {"District": ["Facility"], "Region": ["District"], "Country": ["Region"]}.get(name, [])
        ]
        ids[name] = post(client, token, "/api/orgunit-types", {"name": name, "sub_type_ids": allowed})["id"]
    ids["public"] = post(
        client, token, "/api/groups", {"version_id": ids["version"], "name": "Public", "source_ref": "pub"}
    )["id"]
    units = [
        ("Sénégal", None, "Country", {"geom": square(-17.5, 12.3, 5.0), "source_ref": "SN", "code": "SN"}),
        ("Dakar", "Sénégal", "Region", {"geom": square(-17.5, 14.6, 0.5), "source_ref": "SN-DK"}),
        ("Pikine", "Dakar", "District", {"geom": square(-17.4, 14.7, 0.1), "source_ref": "SN-DK-PK"}),
        ("Centre de Santé Pikine", "Pikine", "Facility",
         {"location": point(-17.35, 14.75), "source_ref": "F1", "code": "CS-PK", "group_ids": [ids["public"]],
          "validation_status": "VALID", "opening_date": "2001-01-01"}),
        ("Rufisque", "Dakar", "District", {"source_ref": "SN-DK-RF"}),
        ("Kédougou", "Sénégal", "Region", {"geom": square(-12.5, 12.3, 0.8), "source_ref": "SN-KE"}),
        ("Saraya", "Kédougou", "District", {"source_ref": "SN-KE-SR"}),
        ("Poste de Santé Saraya", "Saraya", "Facility",
         {"location": point(-11.8, 12.8), "source_ref": "F2", "validation_status": "VALID",
          "opening_date": "1990-05-01", "closed_date": "2020-01-01"}),
    ]  # fmt: skip
    for name, parent, unit_type, extra in units:
        body = {"name": name, "org_unit_type_id": ids[unit_type], "parent_id": ids.get(parent)} | extra
        ids[name] = post(client, token, "/api/orgunits", body)["id"]
    return ids
