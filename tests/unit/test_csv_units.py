import math

import pytest

from chalicelib.imports import csv_reader, csv_text
from chalicelib.imports.unit_model import GpkgError


def _read(tmp_path, content: bytes):
    path = tmp_path / "units.csv"
    path.write_bytes(content)
    return csv_reader.read(path)


def test_comma_or_semicolon_with_or_without_bom_and_every_geometry_column(tmp_path):
    text = (
        "ref;name;parent_ref;type;latitude;longitude;code\n"
        "SN;Sénégal;;Country;;;\n"
        "DK;Dakar;SN;Region;14.7;-17.4;DK\n"
    )
    package = _read(tmp_path, "\ufeff".encode() + text.encode())
    assert package.problems == []
    senegal, dakar = package.features
    assert (senegal.name, senegal.type_name, senegal.location) == ("Sénégal", "Country", None)
    assert (
        dakar.parent_ref == "SN"
        and (dakar.location.x, dakar.location.y) == (-17.4, 14.7)
        and dakar.code == "DK"
    )
    wkt = _read(tmp_path, b'ref,name,wkt\nA,Area,"POLYGON((0 0,1 0,1 1,0 1,0 0))"\n')
    assert wkt.features[0].territory.geom_type == "MultiPolygon"
    geojson = _read(
        tmp_path,
        b'ref,name,geojson,group_refs\nB,Point,"{""type"": ""Point"", ""coordinates"": [2, 3]}","g1, g2"\n',
    )
    assert geojson.features[0].location.x == 2 and geojson.features[0].group_refs == ["g1", "g2"]
    assert geojson.groups == {"g1": "g1", "g2": "g2"}


def test_latin1_is_refused_with_advice(tmp_path):
    with pytest.raises(csv_text.CsvError, match="not UTF-8.*CSV UTF-8"):
        _read(tmp_path, "ref,name\nA,Thiès\n".encode("latin-1"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"id,label\n1,x\n", "lacks column"),
        (b"ref,name,colour\nA,B,red\n", "unknown column"),
        (b"ref,name,latitude\nA,B,1\n", "come together"),
    ],
)
def test_unusable_headers_are_refused(tmp_path, content, message):
    with pytest.raises(csv_text.CsvError, match=message):
        _read(tmp_path, content)


def test_row_problems_name_the_row_and_field(tmp_path):
    content = (
        b"ref,name,latitude,longitude,opening_date\n"
        b"A,Alpha,1,1,2020-01-01\n"
        b",No ref,,,\n"
        b"C,Bad lat,abc,1,\n"
        b"D,Off globe,95,1,\n"
        b"E,Bad date,,,01/02/2020\n"
        b"F,Extra,1,1,2020-01-01,surplus\n"
    )
    package = _read(tmp_path, content)
    assert [f.ref for f in package.features] == ["A"]
    assert [(p.row, p.field) for p in package.errors] == [
        (3, "ref"),
        (4, "latitude"),
        (5, "geom"),
        (6, "opening_date"),
        (7, "row"),
    ]


def test_a_million_rows_of_garbage_stop_early_with_a_clear_message(tmp_path):
    content = b"ref,name\n" + b",\n" * 1_000_000
    with pytest.raises(GpkgError, match="more than 10000 rows have problems; is this the right file"):
        _read(tmp_path, content)


def test_odd_cells_are_row_problems_not_crashes(tmp_path):
    circle = [(math.cos(i * math.tau / 8000), math.sin(i * math.tau / 8000)) for i in range(8000)]
    ring = ",".join(f"{x:.12f} {y:.12f}" for x, y in [*circle, circle[0]])
    big = f'"POLYGON(({ring}))"'
    content = (
        b"ref,name,latitude,longitude,geojson,opening_date,closed_date\n"
        b"A,Not a number,nan,nan,,,\n"
        b'B,List,,,"[1, 2]",,\n'
        b"C,Closed first,,,,2020-01-02,2020-01-01\n"
        b"D,Nul\x00 byte,1,1,,,\n"
    )
    package = _read(tmp_path, content)
    assert [(p.row, p.field) for p in package.errors] == [(2, "geom"), (3, "geojson"), (4, "closed_date")]
    assert [f.name for f in package.features] == ["Nul byte"]
    wide = _read(tmp_path, f"ref,name,wkt\nW,Wide,{big}\n".encode())
    assert len(wide.features) == 1 and len(big) > 131_072


def test_a_source_knows_types_groups_and_count_before_streaming_the_same_features(tmp_path):
    rows = ["ref,name,parent_ref,type,group_refs,groups,latitude,longitude"]
    rows += [f"R{i},Unit {i},{'R0' if i else ''},{'Region' if i else 'Country'},g{i % 3},Group {i % 3},1,2"
             for i in range(25_000)]  # fmt: skip
    rows += ["", ",no ref,,Ghost type,gx,,,", "S1,Short row"]  # a blank line (not counted), a bad row
    path = tmp_path / "units.csv"
    path.write_text("\n".join(rows) + "\n")
    source = csv_reader.source(path)
    assert source.levels == [(0, "Country"), (0, "Org unit"), (0, "Region")]  # not the ref-less row's type
    assert (
        source.package.groups == {"g0": "Group 0", "g1": "Group 1", "g2": "Group 2"}
        and source.count == 25_002
    )
    streamed = list(source.features())
    whole = csv_reader.read(path)
    assert [(f.row, f.ref, f.parent_ref, f.location.x) for f in streamed[:25_000]] == [
        (f.row, f.ref, f.parent_ref, f.location.x) for f in whole.features[:25_000]
    ]
    assert (streamed[-1].ref, streamed[-1].row, streamed[-1].type_name) == ("S1", 25_003, "Org unit")
    assert [(p.row, p.field) for p in source.package.problems] == [(25_002, "ref")]


def test_bytes_that_are_not_utf8_half_way_name_their_row(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(b"ref,name\n" + b"A,B\n" * 20_000 + "C,Thiès\n".encode("latin-1"))
    with pytest.raises(
        csv_text.CsvError, match=r"not UTF-8 \(line 20002: invalid continuation byte\).*CSV UTF-8"
    ):
        csv_reader.source(path)


def test_a_short_row_is_reported_on_its_missing_values(tmp_path):
    package = _read(tmp_path, b"ref,name,latitude,longitude\na,A,5\nb,B,5,6\nc\n")
    assert [f.ref for f in package.features] == ["b"]
    assert [(p.row, p.field) for p in package.problems] == [(2, "latitude"), (4, "name")]


def test_nul_characters_are_taken_out_of_values_and_a_line_of_them_is_still_a_row(tmp_path):
    package = _read(tmp_path, b"ref,name\nA\x00,Al\x00pha\n\x00\x00\nB,Beta\n")
    assert [(f.ref, f.name) for f in package.features] == [("A", "Alpha"), ("B", "Beta")]
    assert [(p.row, p.field) for p in package.problems] == [(3, "ref")]


def test_the_survey_reads_rows_as_the_stream_does(tmp_path):
    """The survey keeps the file's raw parents and types and cleans each once at the end: it must still
    find what the stream finds, row by row (a repeated column, a short row, a long row, NUL, blanks)."""
    rows = [
        "ref,name,parent_ref,type,name",  # `name` twice: the last one is read
        "A,x,,Country,Alpha",
        "iaso:5,x, A ,\x00,Beta",  # a type of NUL alone is no type
        "  ,x,iaso:9,Region,Gamma",  # no ref: its type is nobody's, its parent is still named
        "C,x,iaso#5,District",  # too short to reach the second `name`
        "D,x,C,Facility,Delta,extra",  # too long: not read at all
    ]
    path = tmp_path / "units.csv"
    path.write_text("\n".join(rows) + "\n")
    source = csv_reader.source(path)
    assert source.levels == [(0, "Country"), (0, "Org unit")] and source.count == 5
    assert source.parents == {"A", "iaso#9", "iaso#5"}
    features = list(source.features())
    assert [(f.ref, f.name, f.parent_ref, f.type_name) for f in features] == [
        ("A", "Alpha", None, "Country"),
        ("iaso#5", "Beta", "A", "Org unit"),
    ]
    assert [(p.row, p.field) for p in source.package.problems] == [(4, "ref"), (5, "name"), (6, "row")]


def test_lines_are_split_as_csv_reader_splits_them():
    """Lines without a quote are split without the csv module: random text made of the characters
    that matter (delimiters, quotes, line breaks of every kind, NUL) reads as csv.reader reads it."""
    import csv
    import io
    import random

    rng = random.Random(2026)
    alphabet = ["a", "é", ",", ";", '"', '"', "\n", "\r", "\r\n", " ", "\t", "\x00", "'"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(30)))
        delimiter = rng.choice([",", ";"])
        expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        assert list(csv_text._records(iter(io.StringIO(text, newline="")), delimiter)) == expected, text


@pytest.mark.parametrize("quoted", [False, True], ids=["unquoted", "quoted"])
def test_a_value_over_the_field_limit_is_refused_naming_its_row(tmp_path, monkeypatch, quoted):
    import csv

    monkeypatch.setattr(csv_text, "FIELD_LIMIT", 40)  # stands for the 64 MiB a territory may take
    previous = csv.field_size_limit(40)
    try:
        wkt = "POINT (1 2)" + " " * 40
        path = tmp_path / "units.csv"
        path.write_text(f"ref,name,wkt\nA,Alpha,POINT (3 4)\nB,Beta,{f'"{wkt}"' if quoted else wkt}\n")
        with pytest.raises(csv_text.CsvError, match=r"row 3: field larger than field limit \(40\)"):
            list(csv_reader.source(path).features())
    finally:
        csv.field_size_limit(previous)
