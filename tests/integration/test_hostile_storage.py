"""Hostile input against what is stored and returned: task messages, log lines and import reports
capped at STORED_MESSAGE_MAX_CHARS; an org unit's extra_fields and aliases bounded; NUL characters
and blank names refused by name; what the database refuses in a value a 400 (an ERRORED task at its
first attempt), never a 500 or a retry; list pages within one response. Each answer names the limit
or the reason, with nothing stored."""

import base64
import json

import pytest

from chalicelib.platform import db, problems
from chalicelib.platform.limits import (
    ALIASES_MAX_COUNT,
    EXTRA_FIELDS_MAX_BYTES,
    MIB,
    PAGE_MAX_BYTES,
    RESPONSE_MAX_BYTES,
    STORED_MESSAGE_MAX_CHARS,
)
from chalicelib.tasks import engine
from tests.integration.helpers import call, make_tenant
from tests.integration.registrykit import post
from tests.integration.taskkit import drain, enqueue, probe_count, row
from tests.integration.test_imports import _upload

CUT = "exceeds the limit of 2,000 characters (STORED_MESSAGE_MAX_CHARS)"
NUL_REFUSED = "must not contain NUL characters"


def _register() -> None:
    if "test.hostile_texts" in engine.REGISTRY:
        return

    @engine.task("test.hostile_texts")
    def hostile_texts(ctx):
        """Says `text` × `times` in its progress, its log and (with `fail`) its error."""
        text = ctx.params["text"].replace("<NUL>", "\x00") * ctx.params["times"]  # jsonb holds no NUL
        ctx.cur.execute("INSERT INTO task_probe (task_id, n) VALUES (%s, 1)", (ctx.task["id"],))
        ctx.progress(1, 2, text)
        ctx.log(text)
        if ctx.params["fail"] == "input":
            raise engine.TaskInputError(text)
        if ctx.params["fail"] == "transient":
            raise RuntimeError(text)
        if ctx.params["fail"] == "database":
            ctx.cur.execute("SELECT %(text)s::integer", {"text": text})
        return {"done": True}


_register()


@pytest.fixture
def alpha(client):
    return make_tenant(client, "alpha", roles=("viewer", "registry_editor", "data_collector"))


@pytest.fixture
def busy(client, task_aws):
    """A tenant whose tasks run (the task tests commit: progress goes through a second connection)."""
    return make_tenant(client, "busy", roles=("registry_editor",))


def _raw(client, path: str, token: str) -> tuple[int, bytes]:
    response = client.http.request("GET", path, headers={"Authorization": f"Bearer {token}"}, body=b"")
    return response.status_code, response.body


def _lambda_bytes(body: bytes) -> int:
    """What the body weighs in the Lambda's answer to API Gateway, which carries it as a JSON string."""
    return len(json.dumps(body.decode()))


def _count(sql: str, **params) -> int:
    with db.transaction() as cur:
        return db.one(cur, f"SELECT count(*) AS n FROM {sql}", params)["n"]


# 1. Messages that are stored are capped


@pytest.mark.commits
def test_a_10_mb_input_error_ends_errored_at_once_with_every_text_capped(client, busy, task_aws):
    params = {"text": "x", "times": 10 * MIB, "fail": "input"}
    created = enqueue(busy.account_id, busy.user_ids["admin"], "test.hostile_texts", params)
    drain(task_aws)
    done = row(created["id"])
    assert (done["status"], done["attempts"], done["failures"]) == ("ERRORED", 1, 0)
    for text in (done["error_message"], done["progress_message"]):
        assert len(text) == STORED_MESSAGE_MAX_CHARS and text.startswith("xxx") and CUT in text
    assert probe_count(created["id"]) == 0  # the task's own writes were rolled back
    token = busy.tokens["admin"]
    status, shown = _raw(client, f"/api/tasks/{created['id']}", token)
    assert status == 200 and len(shown) < 3 * STORED_MESSAGE_MAX_CHARS
    status, listed = _raw(client, "/api/tasks", token)
    assert status == 200 and len(listed) < 3 * STORED_MESSAGE_MAX_CHARS
    _, logs, _ = call(client, "GET", f"/api/tasks/{created['id']}/logs", token)
    [line] = logs["results"]
    assert len(line["message"]) == STORED_MESSAGE_MAX_CHARS and CUT in line["message"]


@pytest.mark.commits
def test_a_10_mb_transient_error_is_retried_with_its_message_and_traceback_capped(busy, task_aws):
    params = {"text": "y", "times": 10 * MIB, "fail": "transient"}
    created = enqueue(busy.account_id, busy.user_ids["admin"], "test.hostile_texts", params)
    with pytest.raises(engine.Retry):
        engine.run(created["id"])
    failed = row(created["id"])
    assert failed["status"] == "QUEUED" and failed["failures"] == 1
    assert failed["error_message"].startswith("Attempt 1 failed: yyy") and CUT in failed["error_message"]
    assert len(failed["error_message"]) == STORED_MESSAGE_MAX_CHARS
    # a traceback keeps its end, where the innermost frames and the error are
    assert len(failed["error_traceback"]) == STORED_MESSAGE_MAX_CHARS
    assert failed["error_traceback"].startswith("… (cut:") and failed["error_traceback"].endswith("yyy\n")
    assert engine.give_up(created["id"])
    given_up = row(created["id"])
    assert given_up["status"] == "ERRORED" and len(given_up["error_message"]) == STORED_MESSAGE_MAX_CHARS


@pytest.mark.commits
def test_a_nul_in_an_input_error_is_written_out_not_a_crash_and_a_retry(busy, task_aws):
    params = {"text": "bad <NUL> byte", "times": 1, "fail": "input"}
    created = enqueue(busy.account_id, busy.user_ids["admin"], "test.hostile_texts", params)
    drain(task_aws)
    done = row(created["id"])
    assert (done["status"], done["attempts"]) == ("ERRORED", 1)
    assert done["error_message"] == "bad \\x00 byte" and done["progress_message"] == "bad \\x00 byte"


@pytest.mark.commits
def test_a_value_the_database_refuses_ends_a_task_errored_at_its_first_attempt(busy, task_aws):
    params = {"text": "not a number", "times": 1, "fail": "database"}
    created = enqueue(busy.account_id, busy.user_ids["admin"], "test.hostile_texts", params)
    drain(task_aws)
    done = row(created["id"])
    assert (done["status"], done["attempts"], done["failures"]) == ("ERRORED", 1, 0)
    assert "invalid input syntax for type integer" in done["error_message"]
    assert probe_count(created["id"]) == 0


@pytest.mark.commits
def test_an_import_problem_of_100_kb_is_capped_and_points_to_the_report(client, busy, task_aws):
    source = post(client, busy.tokens["admin"], "/api/data-sources", {"name": "Imported"})
    huge_ref = "p" * 100_000  # under the csv module's field limit: the reader keeps it
    content = f"ref,name,parent_ref,type\nA,Alpha,{huge_ref},Region\n".encode()
    key = _upload(client, task_aws, busy, content, "units.csv")
    body = {"s3_key": key, "format": "csv", "data_source_id": source["id"]}
    status, created, _ = call(client, "POST", "/api/imports", busy.tokens["registry_editor"], body)
    assert status == 201, created
    drain(task_aws)
    done = row(created["id"])
    assert (done["status"], done["attempts"]) == ("ERRORED", 1), done["error_message"]
    message = done["error_message"]
    assert len(message) == STORED_MESSAGE_MAX_CHARS and CUT in message
    assert message.endswith("the full report is the task's report.json artifact)")
    [report] = done["artifacts"]  # kept with the input error, so that the message's pointer holds
    stored = task_aws.s3.get_object(Bucket="georegistry-test-exports", Key=report["key"])["Body"].read()
    [problem] = json.loads(stored)["errors"]
    assert len(problem["message"]) == STORED_MESSAGE_MAX_CHARS and CUT in problem["message"]
    assert _count("source_versions WHERE data_source_id = %(s)s", s=source["id"]) == 1  # no new version


# 2. An org unit stays small enough to be read back


def _too_big_extra() -> dict:
    return {"blob": "x" * EXTRA_FIELDS_MAX_BYTES}


def _assert_refused(status: int, problem: dict, field: str, *words: str) -> None:
    assert status == 400, problem
    assert problem["error"]["details"]["field"] == field
    assert all(word in problem["error"]["message"] for word in words), problem


def test_extra_fields_over_the_limit_are_refused_on_create_and_update(client, alpha, tree):
    token = alpha.tokens["registry_editor"]
    body = {"name": "Big", "extra_fields": _too_big_extra()}
    status, problem, _ = call(client, "POST", "/api/orgunits", token, body)
    _assert_refused(
        status, problem, "extra_fields", "exceeds the limit of 65,536 bytes (EXTRA_FIELDS_MAX_BYTES)"
    )
    assert _count("org_units WHERE name = 'Big'") == 0
    unit = tree["Pikine"]
    status, problem, _ = call(
        client, "PATCH", f"/api/orgunits/{unit}", token, {"extra_fields": _too_big_extra()}
    )
    _assert_refused(status, problem, "extra_fields", "EXTRA_FIELDS_MAX_BYTES")
    assert call(client, "GET", f"/api/orgunits/{unit}", token)[1]["extra_fields"] == {}
    allowed = {"blob": "x" * (EXTRA_FIELDS_MAX_BYTES - 100)}
    status, created, _ = call(
        client, "POST", "/api/orgunits", token, {"name": "Fits", "extra_fields": allowed}
    )
    assert status == 201 and created["extra_fields"] == allowed


def test_more_aliases_than_the_limit_are_refused(client, alpha, tree):
    aliases = [f"alias {i}" for i in range(ALIASES_MAX_COUNT + 1)]
    status, problem, _ = call(
        client,
        "PATCH",
        f"/api/orgunits/{tree['Pikine']}",
        alpha.tokens["registry_editor"],
        {"aliases": aliases},
    )
    _assert_refused(status, problem, "aliases", "exceeds the limit of 100 entries (ALIASES_MAX_COUNT)")
    assert call(client, "GET", f"/api/orgunits/{tree['Pikine']}", alpha.tokens["viewer"])[1]["aliases"] == []


def test_change_requests_proposing_too_big_extra_fields_are_refused(client, alpha, tree):
    token = alpha.tokens["data_collector"]
    for body in (
        {"org_unit_id": tree["Pikine"], "proposed": {"extra_fields": _too_big_extra()}},
        {"new_unit": {"name": "Proposed", "parent_id": tree["Pikine"], "extra_fields": _too_big_extra()}},
    ):
        status, problem, _ = call(client, "POST", "/api/change-requests", token, body)
        _assert_refused(status, problem, "extra_fields", "EXTRA_FIELDS_MAX_BYTES")
    assert _count("org_unit_change_requests") == 0 and _count("org_units WHERE name = 'Proposed'") == 0


def test_a_bulk_update_whose_filters_are_too_big_to_keep_with_its_task_is_refused(client, alpha, tree):
    body = {
        "filters": {"refs": ",".join(f"ref-{i}" for i in range(20_000))},
        "changes": {"validation_status": "VALID"},
    }
    status, problem, _ = call(client, "POST", "/api/orgunits/bulk-update", alpha.tokens["admin"], body)
    assert status == 400 and problem["error"]["code"] == "task.params_too_large"
    assert "exceeds the limit of 65,536 bytes (TASK_PARAMS_MAX_BYTES)" in problem["error"]["message"]
    assert _count("tasks") == 0


# 3. NUL characters, which PostgreSQL's text cannot hold


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/orgunits?search=%00", "search"),
        ("/api/orgunits?refs=a%00b", "refs"),
        ("/api/orgunits?codes=%00", "codes"),
        ("/api/submissions?period=2024%00", "period"),
        ("/api/change-requests?status=new%00", "status"),
        ("/api/tasks?kind=demo%00", "kind"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(client, alpha, tree, path, parameter):
    status, problem, _ = call(client, "GET", path, alpha.tokens["admin"])
    assert status == 400, problem
    assert problem["error"]["code"] == "request.invalid_parameter"
    assert (
        problem["error"]["details"]["parameter"] == parameter and NUL_REFUSED in problem["error"]["message"]
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/orgunits", {"name": "a\x00b"}, "name"),
        ("POST", "/api/orgunits", {"name": "Ok", "extra_fields": {"note": "a\x00"}}, "extra_fields.note"),
        ("POST", "/api/orgunits", {"name": "Ok", "extra_fields": {"k\x00": 1}}, "extra_fields"),
        ("POST", "/api/orgunits", {"name": "Ok", "aliases": ["x", "y\x00"]}, "aliases[1]"),
        ("POST", "/api/projects", {"name": "p\x00", "app_id": "org.alpha.nul"}, "name"),
        ("POST", "/api/data-sources", {"name": "\x00"}, "name"),
        (
            "POST",
            "/api/orgunits/bulk-update",
            {"filters": {"search": "\x00"}, "changes": {"validation_status": "VALID"}},
            "filters.search",
        ),
    ],  # fmt: skip
)
def test_a_nul_in_a_json_string_is_a_400_naming_the_field(client, alpha, tree, method, path, body, field):
    before = _count("org_units") + _count("projects") + _count("data_sources") + _count("tasks")
    status, problem, _ = call(client, method, path, alpha.tokens["admin"], body)
    _assert_refused(status, problem, field, NUL_REFUSED)
    assert _count("org_units") + _count("projects") + _count("data_sources") + _count("tasks") == before


def test_a_nul_in_a_proposed_change_is_a_400_naming_its_path(client, alpha, tree):
    body = {"org_unit_id": tree["Pikine"], "proposed": {"name": "a\x00"}}
    status, problem, _ = call(client, "POST", "/api/change-requests", alpha.tokens["data_collector"], body)
    _assert_refused(status, problem, "proposed.name", NUL_REFUSED)
    assert _count("org_unit_change_requests") == 0


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, alpha, tree):
    status, created, _ = call(client, "POST", "/api/orgunits", alpha.tokens["admin"], {"name": "a\\u0000b"})
    assert status == 201 and created["name"] == "a\\u0000b"


# 4. Blank names, and what the database refuses


@pytest.fixture
def named(client, alpha, tree) -> dict[str, str]:
    """One object of each kind with a name: its path."""
    group_set = post(client, alpha.tokens["admin"], "/api/group-sets", {"name": "Sets"})
    return {
        "projects": f"/api/projects/{alpha.project_id}",
        "data_sources": f"/api/data-sources/{tree['source']}",
        "groups": f"/api/groups/{tree['public']}",
        "group_sets": f"/api/group-sets/{group_set['id']}",
        "org_unit_types": f"/api/orgunit-types/{tree['Facility']}",
        "org_units": f"/api/orgunits/{tree['Pikine']}",
    }


CREATES = {
    "projects": ("/api/projects", {"app_id": "org.alpha.blank"}),
    "data_sources": ("/api/data-sources", {}),
    "groups": ("/api/groups", {"version_id": None}),
    "group_sets": ("/api/group-sets", {}),
    "org_unit_types": ("/api/orgunit-types", {}),
    "org_units": ("/api/orgunits", {}),
}


@pytest.mark.parametrize("table", list(CREATES))
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_name_is_a_400_naming_it_on_create_and_update(client, alpha, tree, named, table, blank):
    token = alpha.tokens["admin"]
    path, extra = CREATES[table]
    extra = {name: tree["version"] if value is None else value for name, value in extra.items()}
    before = _count(table)
    status, problem, _ = call(client, "POST", path, token, {"name": blank} | extra)
    _assert_refused(status, problem, "name", "must not be blank")
    assert _count(table) == before
    name_before = call(client, "GET", named[table], token)[1]["name"]
    status, problem, _ = call(client, "PATCH", named[table], token, {"name": blank})
    _assert_refused(status, problem, "name", "must not be blank")
    assert call(client, "GET", named[table], token)[1]["name"] == name_before


@pytest.mark.parametrize("table", list(CREATES))
def test_the_databases_not_blank_checks_are_400s_naming_the_name(alpha, named, table):
    with pytest.raises(problems.Problem) as refused, db.transaction() as cur:
        cur.execute(f"UPDATE {table} SET name = ' ' WHERE account_id = %(a)s", {"a": alpha.account_id})
    assert refused.value.status == 400 and refused.value.details == {"field": "name"}


def test_every_not_blank_check_the_catalogue_maps_exists(cur):
    mapped = {name for name in problems.CONSTRAINTS if name.endswith("_name_not_blank")}
    cur.execute("SELECT conname AS name FROM pg_constraint WHERE conname LIKE '%%_name_not_blank'")
    assert mapped == {found["name"] for found in cur.fetchall()}


@pytest.mark.parametrize(
    ("sql", "params", "reason"),
    [
        ("SELECT 99999999999999999999::bigint", {}, "bigint out of range"),
        ("SELECT %(text)s::date", {"text": "yesterday-ish"}, "invalid input syntax for type date"),
        ("SELECT %(text)s AS text", {"text": "a\x00b"}, "NUL"),
    ],
)
def test_values_the_database_refuses_are_400s_not_500s(database, sql, params, reason):
    with pytest.raises(problems.Problem) as refused, db.transaction() as cur:
        cur.execute(sql, params)
    assert refused.value.status == 400 and refused.value.code == "request.invalid_value"
    assert reason in refused.value.message


def test_a_check_the_catalogue_does_not_name_is_a_400_naming_the_constraint(database):
    with db.transaction() as cur:
        cur.execute("CREATE TEMP TABLE hostile_checked (n integer CONSTRAINT hostile_positive CHECK (n > 0))")
    with pytest.raises(problems.Problem) as refused, db.transaction() as cur:
        cur.execute("INSERT INTO hostile_checked VALUES (0)")
    assert refused.value.status == 400 and refused.value.details == {"constraint": "hostile_positive"}


def test_a_mobile_cursor_with_a_time_that_is_not_one_is_a_400(client, alpha, tree):
    cursor = base64.urlsafe_b64encode(json.dumps(["not a time", 1]).encode()).decode()
    path = f"/api/mobile/orgunits?project={alpha.project_id}&cursor={cursor}"
    status, problem, _ = call(client, "GET", path, alpha.tokens["admin"])
    assert status == 400 and problem["error"]["details"]["parameter"] == "cursor", problem


# 5. Responses fit in what a Lambda may return


def _insert_tasks(tenant, count: int, message: str, params: dict) -> None:
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO tasks (account_id, launcher_id, kind, params, status, error_message,
                                  progress_message, attempts, ended_at)
               SELECT %(a)s, %(u)s, 'demo.count', %(params)s, 'ERRORED', %(m)s, %(m)s, 1, now()
               FROM generate_series(1, %(n)s)""",
            {
                "a": tenant.account_id,
                "u": tenant.user_ids["admin"],
                "params": params,
                "m": message,
                "n": count,
            },
        )


def _pages_fit(client, path: str, token: str) -> dict:
    status, body = _raw(client, path, token)
    assert status == 200, body[:500]
    assert _lambda_bytes(body) < RESPONSE_MAX_BYTES
    return json.loads(body)


def test_a_page_of_500_tasks_with_messages_at_the_cap_fits_in_a_response(client, alpha):
    _insert_tasks(alpha, 500, "m" * STORED_MESSAGE_MAX_CHARS, {"n": 5})
    page = _pages_fit(client, "/api/tasks?limit=500", alpha.tokens["admin"])
    assert len(page["results"]) == 500


def test_a_page_of_tasks_too_big_for_a_response_is_a_400_saying_how_many_fit(client, alpha):
    # Each character of these messages is 12 bytes of JSON, and the parameters are near their limit
    _insert_tasks(alpha, 500, "\U0001f600" * STORED_MESSAGE_MAX_CHARS, {"blob": "\U0001f600" * 5_000})
    token = alpha.tokens["admin"]
    status, problem, _ = call(client, "GET", "/api/tasks?limit=500", token)
    assert status == 400 and problem["error"]["details"]["parameter"] == "limit"
    assert "exceeds the limit of 5,242,880 bytes (PAGE_MAX_BYTES)" in problem["error"]["message"]
    fits = problem["error"]["details"]["fits"]
    assert 10 < fits < 100 and f"ask for limit={fits} or less" in problem["error"]["message"]
    first = _pages_fit(client, f"/api/tasks?limit={fits}", token)
    second = _pages_fit(client, f"/api/tasks?limit={fits}&cursor={first['next_cursor']}", token)
    assert len(first["results"]) == len(second["results"]) == fits


def test_a_page_of_500_units_with_geometry_fits_or_says_how_many_do(client, alpha, tree):
    token, version = alpha.tokens["viewer"], tree["version"]
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO org_units (id, version_id, account_id, name, path, depth, geom)
               SELECT n.id, %(v)s, %(a)s, 'Unit ' || n.id, '/' || n.id || '/', 0,
                      ST_Multi(ST_MakeEnvelope(-17, 14, -16.9, 14.1, 4326))
               FROM (SELECT nextval('org_units_id_seq') AS id FROM generate_series(1, 500)) n""",
            {"v": version, "a": alpha.account_id},
        )
    path = f"/api/orgunits?version={version}&limit=500&with_geometry=true"
    assert len(_pages_fit(client, path, token)["results"]) == 500
    # extra_fields just within their limit make 500 units weigh more than a response may
    extra = json.dumps({"blob": "x" * (EXTRA_FIELDS_MAX_BYTES - 100)})
    with db.transaction() as cur:
        cur.execute(
            "UPDATE org_units SET extra_fields = %(e)s WHERE version_id = %(v)s", {"e": extra, "v": version}
        )
    for listed in (path, path + "&format=geojson"):
        status, problem, _ = call(client, "GET", listed, token)
        assert status == 400 and problem["error"]["details"]["parameter"] == "limit"
        assert "(PAGE_MAX_BYTES)" in problem["error"]["message"]
    fits = problem["error"]["details"]["fits"]
    assert PAGE_MAX_BYTES // (2 * EXTRA_FIELDS_MAX_BYTES) < fits < PAGE_MAX_BYTES // EXTRA_FIELDS_MAX_BYTES
    page = _pages_fit(client, f"/api/orgunits?version={version}&limit={fits}&with_geometry=true", token)
    assert len(page["results"]) == fits and page["next_cursor"]


def test_pages_of_change_requests_or_log_lines_too_big_for_a_response_are_400s(client, alpha, tree):
    _insert_tasks(alpha, 1, "m", {"n": 1})
    proposed = json.dumps({"extra_fields": {"blob": "x" * (EXTRA_FIELDS_MAX_BYTES - 100)}})
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO org_unit_change_requests (account_id, version_id, org_unit_id, proposed)
               SELECT %(a)s, %(v)s, %(u)s, %(p)s FROM generate_series(1, 100)""",
            {"a": alpha.account_id, "v": tree["version"], "u": tree["Pikine"], "p": proposed},
        )
        task_id = db.one(cur, "SELECT id FROM tasks WHERE account_id = %(a)s", {"a": alpha.account_id})["id"]
        cur.execute(
            "INSERT INTO task_logs (task_id, message) SELECT %(t)s, %(m)s FROM generate_series(1, 500)",
            {"t": task_id, "m": "\U0001f600" * STORED_MESSAGE_MAX_CHARS},
        )
    for path in ("/api/change-requests?limit={}", f"/api/tasks/{task_id}/logs?limit={{}}"):
        status, problem, _ = call(client, "GET", path.format(500), alpha.tokens["admin"])
        assert status == 400 and problem["error"]["details"]["parameter"] == "limit", problem
        assert "(PAGE_MAX_BYTES)" in problem["error"]["message"]
        fits = problem["error"]["details"]["fits"]
        assert len(_pages_fit(client, path.format(fits), alpha.tokens["admin"])["results"]) == fits
