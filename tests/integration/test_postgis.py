from chalicelib import db


def test_the_suite_runs_against_real_postgis(cur):
    version = db.one(cur, "SELECT postgis_version() AS v")["v"]
    assert version.startswith("3.")
    area = db.one(cur, "SELECT ST_Area(ST_MakeEnvelope(0, 0, 2, 3, 4326)) AS a")["a"]
    assert area == 6.0
