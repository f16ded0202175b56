import pytest

from chalicelib.identity.permissions import ROLES, Principal, require
from chalicelib.platform import problems


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
