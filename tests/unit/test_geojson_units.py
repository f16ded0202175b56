import json
from pathlib import Path

import pytest

from chalicelib.imports import geojson_reader
from chalicelib.imports.unit_model import GpkgError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _write(tmp_path, document) -> Path:
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_natural_earth_countries_read_as_territories(tmp_path):
    # Natural Earth has no ref: give each country one, as a user would before importing
    document = json.loads((FIXTURES / "naturalearth_admin0.geojson").read_text())
    for index, feature in enumerate(document["features"]):
        feature["properties"] |= {"ref": f"{feature['properties']['iso_a3']}-{index}", "type": "Country"}
    package = geojson_reader.read(_write(tmp_path, document))
    assert package.errors == []
    assert len(package.features) == 177
    assert all(f.territory is not None and f.territory.is_valid for f in package.features)
    assert {f.territory.geom_type for f in package.features} == {"MultiPolygon"}
    senegal = next(f for f in package.features if f.name == "Senegal")
    assert -18 < senegal.territory.bounds[0] < -17  # longitude first


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("", "empty"),
        ("{not json", "not JSON"),
        ({"type": "Feature"}, "FeatureCollection"),
        (
            {"type": "FeatureCollection", "crs": {"properties": {"name": "EPSG:3857"}}, "features": []},
            "EPSG:3857",
        ),
    ],
)
def test_unusable_documents_are_refused(tmp_path, document, message):
    with pytest.raises(GpkgError, match=message):
        geojson_reader.read(_write(tmp_path, document))


def test_feature_problems_are_numbered(tmp_path):
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ref": "A", "name": "Alpha"},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
            {"type": "Feature", "properties": {"name": "No ref"}, "geometry": None},
            {
                "type": "Feature",
                "properties": {"ref": "C", "name": "Line"},
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            },
            {
                "type": "Feature",
                "properties": {"ref": "D", "name": "Broken"},
                "geometry": {"type": "Point", "coordinates": []},
            },
            "not a feature",
        ],
    }
    package = geojson_reader.read(_write(tmp_path, document))
    assert [f.ref for f in package.features] == ["A"]
    assert [(p.row, p.field) for p in package.errors] == [
        (2, "ref"),
        (3, "geom"),
        (4, "geom"),
        (5, "feature"),
    ]
