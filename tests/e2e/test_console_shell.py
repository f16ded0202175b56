"""The console's shell in a real browser: logging in and out, staying in across a reload, the API's
own error messages, and one account seeing nothing of another's."""

import pytest

from tests.e2e.conftest import check_accessibility, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.commits]


def test_login_survives_a_reload_until_logout(page, console):
    tenant = console.tenant("shell")
    page.goto("/console/")
    check_accessibility(page)
    page.get_by_label("Email").fill(tenant.admin_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").get_by_text("The email or password is wrong.").wait_for()

    log_in(page, tenant.admin_email)
    page.get_by_test_id("account-name").get_by_text("shell").wait_for()
    page.get_by_role("cell", name="shell project").wait_for()
    check_accessibility(page)

    page.reload()
    page.get_by_test_id("who").get_by_text("· shell").wait_for()

    # A token the API no longer takes (revoked, say) ends the session with a word why.
    page.evaluate("""() => {
        const saved = JSON.parse(localStorage.getItem("georegistry.session"));
        localStorage.setItem("georegistry.session", JSON.stringify({...saved, token: "revoked"}));
    }""")
    page.reload()
    page.get_by_role("status").get_by_text("Your session has ended").wait_for()
    log_in(page, tenant.admin_email)

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("status").get_by_text("You are logged out.").wait_for()
    page.reload()
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.evaluate("localStorage.length") == 0


def test_another_account_sees_none_of_the_first_accounts_tasks(page, console):
    first, second = console.tenant("first"), console.tenant("second")
    task = console.api("POST", "/api/tasks/demo", first.tokens["admin"], {"n": 3})

    log_in(page, second.admin_email)
    page.goto("/console/tasks?scope=account")
    page.get_by_role("cell", name="Nothing here yet.").wait_for()
    check_accessibility(page)

    page.goto(f"/console/tasks/{task['id']}")
    page.get_by_role("alert").get_by_text(f"There is no task {task['id']}").wait_for()
    check_accessibility(page)
