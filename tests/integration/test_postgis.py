from chalicelib.platform import db


def test_the_suite_runs_against_real_postgis(cur):
    version = db.one(cur, "SELECT postgis_version() AS v")["v"]
    assert version.startswith("3.")
    area = db.one(cur, "SELECT ST_Area(ST_MakeEnvelope(0, 0, 2, 3, 4326)) AS a")["a"]
    assert area == 6.0


def test_local_settings_apply_inside_and_are_restored_after(cur):
    before = db.one(cur, "SELECT current_setting('jit') AS jit, current_setting('work_mem') AS mem")
    with db.local_settings(cur, {"jit": "off", "work_mem": "77MB"}):
        inside = db.one(cur, "SELECT current_setting('jit') AS jit, current_setting('work_mem') AS mem")
    after = db.one(cur, "SELECT current_setting('jit') AS jit, current_setting('work_mem') AS mem")
    assert inside == {"jit": "off", "mem": "77MB"}
    assert after == before != inside
