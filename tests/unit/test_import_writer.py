import shapely

from chalicelib.imports import unit_rows
from chalicelib.imports.unit_model import Feature


def test_points_are_written_as_shapely_writes_them():
    points = [
        shapely.Point(-11.8, 12.8),
        None,
        shapely.Point(2.35, 48.85, 35.5),
        shapely.Point(-180.0, -90.0),
        shapely.Point(179.99999999999997, 0.1 + 0.2, -0.0),
        None,
    ]
    assert unit_rows._points_ewkb(points) == unit_rows._ewkb_all(points, three_d=True)
    assert unit_rows._points_ewkb([None, None]) == [None, None]


def test_an_empty_point_is_written_the_general_way():
    points = [shapely.Point(1, 2), shapely.from_wkt("POINT EMPTY"), None]
    assert unit_rows._points_ewkb(points) == unit_rows._ewkb_all(points, three_d=True)


def test_a_point_with_an_unknown_altitude_is_written_the_general_way():
    points = [shapely.Point(1, 2), shapely.Point(3, 4, float("nan"))]
    assert unit_rows._points_ewkb(points) == unit_rows._ewkb_all(points, three_d=True)


def test_a_batch_is_written_as_its_values_unless_one_of_them_needs_escaping():
    def batch(*names):
        return [Feature("csv", row, 0, "T", f"R{row}", name, code=None if row % 2 else "C")
                for row, name in enumerate(names)]  # fmt: skip

    def middles(features):
        return [unit[6].split("\t")[1:4] for unit in unit_rows.encoded_units(features, {"T": 7}, None)]

    assert middles(batch("Plain", "Accentuée")) == [["Plain", "C", "R0"], ["Accentuée", "\\N", "R1"]]
    # One value to escape sends the whole batch through loader.text; each value comes out as COPY reads it
    assert middles(batch("Plain", "Tab\there", "Back\\slash", "Line\nbreak")) == [
        ["Plain", "C", "R0"],
        ["Tab\\there", "\\N", "R1"],
        ["Back\\\\slash", "C", "R2"],
        ["Line\\nbreak", "\\N", "R3"],
    ]
