"""The hierarchical CSV layout: one row per leaf, one column per level, read through a column mapping."""

import pytest

from chalicelib.imports import csv_tree
from chalicelib.imports.csv_text import CsvError

MAPPING = csv_tree.parse_mapping(
    {
        "levels": [
            {"column": "Region", "type": "Region"},
            {"column": "District", "type": "District"},
            {"column": "Facility", "type": "Facility", "ref_column": "facility_code"},
        ],
        "latitude": "lat",
        "longitude": "lon",
        "code": "dhis2",
    }
)


def _read(tmp_path, text: str, mapping=MAPPING):
    path = tmp_path / "tree.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    return csv_tree.read(path, mapping)


def test_each_distinct_path_of_names_is_one_unit_with_its_parent(tmp_path):
    package = _read(
        tmp_path,
        "Region;District;Facility;facility_code;lat;lon;dhis2\n"
        "Kindia;Coyah;CS Manéah;F001;9.71;-13.41;abc\n"
        "Kindia;Coyah;CS Coyah;F002;9.70;-13.38;\n"
        "Kindia;Dubréka;CS Tanéné;;9.80;-13.52;\n"
        "Boké;Boffa;;;10.18;-14.03;\n",
    )
    assert not package.problems
    units = {unit.ref: unit for unit in package.features}
    assert set(units) == {
        "Kindia", "Kindia/Coyah", "F001", "F002", "Kindia/Dubréka", "Kindia/Dubréka/CS Tanéné", "Boké",
        "Boké/Boffa",
    }  # fmt: skip
    assert (units["F001"].name, units["F001"].parent_ref, units["F001"].type_name) == (
        "CS Manéah", "Kindia/Coyah", "Facility",
    )  # fmt: skip
    assert units["F001"].code == "abc" and units["F002"].code is None
    assert (units["F001"].location.x, units["F001"].location.y) == (-13.41, 9.71)
    assert units["Kindia/Coyah"].parent_ref == "Kindia" and units["Kindia"].parent_ref is None
    assert [units[ref].depth for ref in ("Kindia", "Kindia/Coyah", "F001")] == [0, 1, 2]
    # a row ending at the district level is that district's row: its point belongs to the district
    assert units["Boké/Boffa"].location.y == 10.18 and units["Boké/Boffa"].type_name == "District"
    assert units["Kindia"].location is None


def test_the_leaf_ref_column_names_the_leaf_at_whatever_level(tmp_path):
    mapping = csv_tree.parse_mapping(
        {"levels": [{"column": "Region", "type": "Region"}, {"column": "District", "type": "District"}],
         "ref": "id"}
    )  # fmt: skip
    package = _read(tmp_path, "Region,District,id\nKindia,Coyah,D1\nKindia,,R1\n", mapping)
    assert not package.problems
    assert {(u.ref, u.parent_ref) for u in package.features} == {("R1", None), ("D1", "R1")}


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("Region,District,Facility,facility_code,lat,lon,dhis2\n,Coyah,X,,,,\n", "Region",
         "is empty but a deeper level is filled"),
        ("Region,District,Facility,facility_code,lat,lon,dhis2\n,,,,,,\n", "Region", "the row names no unit"),
        ("Region,District,Facility,facility_code,lat,lon,dhis2\nK,C,X,F1,,,\nK,C,X,F1,,,\n", "facility_code",
         "'F1' is already the leaf of row 2"),
        ("Region,District,Facility,facility_code,lat,lon,dhis2\nK,C,,,,,\nK,C,,,,,\n", "District",
         "'K/C' is already the leaf of row 2"),
        ("Region,District,Facility,facility_code,lat,lon,dhis2\nK,C,X,F1,north,3,\n", "lat",
         "must both be numbers"),
        ("Region,District,Facility,facility_code,lat,lon,dhis2\nK,C,X,F1,95,3,\n", "lat", "outside"),
        ("Region,District,Facility,facility_code,lat,lon,dhis2\nK,C,X,F1,1,3,,extra\n", "row",
         "more values than the header"),
    ],
)  # fmt: skip
def test_row_problems_name_the_row_the_column_and_the_reason(tmp_path, text, field, message):
    problems = _read(tmp_path, text).problems
    assert [(p.row, p.field) for p in problems][-1][1] == field, problems
    assert message in problems[-1].message
    assert problems[-1].row >= 2


def test_a_header_without_a_mapped_column_is_refused_naming_it(tmp_path):
    with pytest.raises(CsvError, match="names column\\(s\\) District, lat, lon that the header lacks"):
        _read(tmp_path, "Region,Facility,facility_code,dhis2\nK,X,F1,\n")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ([], "must be an object"),
        ({"levels": []}, "levels must be a list of 1 to 12"),
        ({"levels": [{"column": "A"}]}, "levels[0] needs a column and a type"),
        ({"levels": [{"column": "A", "type": "T", "colour": "x"}]}, "levels[0] must be an object"),
        ({"levels": [{"column": "A", "type": "T"}], "latitude": "lat"}, "come together"),
        ({"levels": [{"column": "A", "type": "T"}, {"column": "a", "type": "U"}]}, "the same column"),
        ({"levels": [{"column": "A", "type": "T"}], "sheet": 1}, "unknown key(s) sheet"),
    ],
)
def test_a_wrong_mapping_says_what_is_wrong(mapping, message):
    with pytest.raises(ValueError) as raised:
        csv_tree.parse_mapping(mapping)
    assert message in str(raised.value)


def test_leaves_of_the_last_level_are_one_unit_per_row_named_apart_when_they_have_no_ref(tmp_path):
    package = _read(
        tmp_path,
        "Region,District,Facility,facility_code,lat,lon,dhis2\n"
        "K,C,École,,1,1,\nK,C,École,,2,2,\nK,C,École,F7,3,3,\nK,C,Poste,,4,4,\nK,C,École,,5,5,\n",
    )
    assert not package.problems
    leaves = [
        (unit.ref, unit.name, unit.parent_ref, unit.location.x)
        for unit in package.features
        if unit.depth == 2
    ]
    assert leaves == [
        ("K/C/École", "École", "K/C", 1), ("K/C/École#2", "École", "K/C", 2), ("F7", "École", "K/C", 3),
        ("K/C/Poste", "Poste", "K/C", 4), ("K/C/École#3", "École", "K/C", 5),
    ]  # fmt: skip
    assert package.placed_by_name == {"K/C/École", "K/C/École#2", "K/C/Poste", "K/C/École#3"}


def test_two_refs_for_one_unit_above_the_leaves_are_refused(tmp_path):
    mapping = csv_tree.parse_mapping(
        {"levels": [{"column": "Region", "type": "Region", "ref_column": "rc"}, {"column": "F", "type": "F"}]}
    )
    problems = _read(tmp_path, "Region,rc,F\nK,R1,a\nK,R2,b\n", mapping).problems
    assert [(p.row, p.field) for p in problems] == [(3, "rc")]
    assert "'R2' differs from 'R1' given to 'K' in row 2" in problems[0].message


IASO_DATA_DICT = {"name": "Nom", "source_ref": "Ref", "latitude": "Lat", "longitude": "Lon",
                  "parents": ["Province", "Zone", "Aire"], "comment": "Iaso ignores other keys"}  # fmt: skip


def test_iasos_data_dict_reads_its_parents_as_levels_skipping_blank_and_neant_ones(tmp_path):
    mapping = csv_tree.parse_data_dict(IASO_DATA_DICT, "Ecole")
    package = _read(
        tmp_path,
        "Province;Zone;Aire;Nom;Ref;Lat;Lon\n"
        "Kongo;Boma;Kalamu;EP Nzadi;S1;-5.8;13.0\n"
        "Kongo;NÉANT;Kalamu;EP Kisolo;;-5.9;13.1\n"
        "Kongo;;;EP Mbenza;;;\n",
        mapping,
    )
    assert not package.problems
    units = {unit.ref: unit for unit in package.features}
    assert set(units) == {"Kongo", "Kongo/Boma", "Kongo/Boma/Kalamu", "S1", "Kongo//Kalamu",
                          "Kongo//Kalamu/EP Kisolo", "Kongo///EP Mbenza"}  # fmt: skip
    assert (units["S1"].type_name, units["S1"].parent_ref) == ("Ecole", "Kongo/Boma/Kalamu")
    assert units["Kongo//Kalamu"].parent_ref == "Kongo" and units["Kongo//Kalamu"].type_name == "Aire"
    assert units["Kongo///EP Mbenza"].parent_ref == "Kongo"
    assert package.placed_by_name == {"Kongo//Kalamu/EP Kisolo", "Kongo///EP Mbenza"}
    assert csv_tree.parse_data_dict(IASO_DATA_DICT).levels[-1].type_name == "Nom"  # Iaso's name column


def test_a_row_of_an_iaso_file_without_a_name_is_refused(tmp_path):
    problems = _read(
        tmp_path, "Province;Zone;Aire;Nom;Ref;Lat;Lon\nKongo;Boma;Kalamu;;S1;;\n",
        csv_tree.parse_data_dict(IASO_DATA_DICT),
    ).problems  # fmt: skip
    assert [(p.row, p.field, p.message) for p in problems] == [
        (2, "Nom", "is empty: each row of the file is a unit")
    ]


@pytest.mark.parametrize(
    ("data_dict", "message"),
    [
        ({"name": "Nom", "parents": []}, "lacks key(s) source_ref, latitude, longitude"),
        (IASO_DATA_DICT | {"parents": "Province"}, "parents must be a list"),
        (IASO_DATA_DICT | {"parents": ["Province", 3]}, "parents must be a column name"),
        (IASO_DATA_DICT | {"parents": ["Nom"]}, "two levels read the same column"),
    ],
)
def test_a_wrong_data_dict_says_what_is_wrong(data_dict, message):
    with pytest.raises(ValueError) as raised:
        csv_tree.parse_data_dict(data_dict)
    assert message in str(raised.value)
