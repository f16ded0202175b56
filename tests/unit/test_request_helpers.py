import pytest

from chalicelib.handlers.validation import Body
from chalicelib.identity.permissions import ROLES, Principal, require
from chalicelib.platform import paging, problems


def test_page_request_defaults_and_limits():
    assert paging.page_request({}) == paging.PageRequest(paging.DEFAULT_LIMIT, None)
    cursor = paging.encode_cursor(17)
    assert paging.page_request({"limit": "5", "cursor": cursor}) == paging.PageRequest(5, 17)
    for bad in ("0", "501", "-1", "ten"):
        with pytest.raises(problems.Problem) as raised:
            paging.page_request({"limit": bad})
        assert raised.value.details == {"parameter": "limit"}


def test_page_has_a_cursor_only_when_more_rows_exist():
    request = paging.PageRequest(2, None)
    assert paging.page([{"id": 1}, {"id": 2}], request)["next_cursor"] is None
    more = paging.page([{"id": 1}, {"id": 2}, {"id": 3}], request)
    assert [row["id"] for row in more["results"]] == [1, 2]
    assert paging.page_request({"cursor": more["next_cursor"]}).after == 2


def test_body_refuses_unknown_fields_and_names_bad_ones():
    with pytest.raises(problems.Problem) as raised:
        Body({"nmae": "x"}, ["name"])
    assert raised.value.code == "request.unknown_field"
    body = Body({"name": "  padded  ", "flag": "yes", "ids": [3, 1, 3]}, ["name", "flag", "ids", "email"])
    assert body.text("name") == "padded"
    assert body.ids("ids") == [1, 3]
    with pytest.raises(problems.Problem) as raised:
        body.boolean("flag")
    assert raised.value.details == {"field": "flag"}
    with pytest.raises(problems.Problem) as raised:
        body.email("email", required=True)
    assert raised.value.code == "request.missing_field"


def test_each_role_has_what_its_job_needs():
    assert ROLES["admin"] >= set().union(*[perms for role, perms in ROLES.items() if role != "admin"])
    viewer = Principal(user_id=1, email="v@x.org", account_id=1, role="viewer")
    require(viewer, "orgunits.read")
    with pytest.raises(problems.Problem) as raised:
        require(viewer, "orgunits.write")
    assert raised.value.status == 403
    assert "orgunits.write" in ROLES["registry_editor"]
    assert "forms.manage" in ROLES["form_manager"]
    assert "submissions.review" in ROLES["reviewer"]
    assert "submissions.create" in ROLES["data_collector"]


def test_roles_match_the_database_check_constraint():
    from chalicelib.platform.migrate import MIGRATIONS_DIR

    sql = (MIGRATIONS_DIR / "0002_tenancy.sql").read_text()
    for role in ROLES:
        assert f"'{role}'" in sql
