"""The console in French: picked in the header (or on the login page) it re-renders at once, stays
across a reload and a logout; a browser that asks for French gets it from the start; English stays
the default for everyone else."""

import re

import pytest

from tests.e2e.conftest import check_accessibility, log_in
from tests.integration.helpers import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.commits]

# toLocaleString("fr"): 07/12/2026 19:55:04 (English would be 12/7/2026, 7:55:04 PM).
FRENCH_DATE = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$")


def html_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def test_french_picked_in_the_header_stays_across_reload_and_logout(page, console):
    tenant = console.tenant("francais")
    task = console.api("POST", "/api/tasks/demo", tenant.tokens["admin"], {"n": 2})
    log_in(page, tenant.admin_email)
    assert html_lang(page) == "en"  # a browser asking for nothing in particular (en-US) gets English

    page.get_by_label("Language / Langue").select_option("fr")
    nav = page.get_by_role("navigation", name="Principale")
    nav.get_by_role("link", name="Tâches").wait_for()
    for text in ("Compte", "Registre", "Demandes de modification", "Soumissions", "Sources de données"):
        nav.get_by_role("link", name=text, exact=True).wait_for()
    page.get_by_role("button", name="Se déconnecter").wait_for()
    page.get_by_role("heading", name="Votre compte").wait_for()  # the page re-rendered too, no reload
    page.get_by_role("cell", name="francais project").wait_for()
    assert html_lang(page) == "fr"
    assert page.title() == "Votre compte · georegistry"
    assert page.evaluate("localStorage.getItem('georegistry.language')") == "fr"
    check_accessibility(page)

    nav.get_by_role("link", name="Tâches").click()
    page.get_by_role("heading", name="Tâches").wait_for()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"#{task['id']}", exact=True))
    row.get_by_text("En attente").wait_for()
    created = page.get_by_role("columnheader").all_inner_texts().index("Créée")
    assert FRENCH_DATE.match(row.get_by_role("cell").nth(created).inner_text().strip())
    check_accessibility(page)

    page.reload()
    page.get_by_role("heading", name="Tâches").wait_for()
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("heading", name="Connexion").wait_for()
    page.get_by_role("status").get_by_text("Vous êtes déconnecté.").wait_for()
    assert html_lang(page) == "fr"
    check_accessibility(page)

    # Switching on the login page: the page re-renders at once and keeps what was typed.
    page.get_by_label("Adresse e-mail").fill(tenant.admin_email)
    page.get_by_label("Language / Langue").select_option("en")
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.get_by_label("Email").input_value() == tenant.admin_email
    assert page.get_by_role("status").inner_text() == "You are logged out."
    assert html_lang(page) == "en"
    page.reload()
    page.get_by_role("heading", name="Log in").wait_for()


def test_a_french_browser_opens_in_french_and_another_account_sees_nothing(browser, console):
    owner = console.tenant("proprietaire")
    task = console.api("POST", "/api/tasks/demo", owner.tokens["admin"], {"n": 2})
    other = console.tenant("autre")
    tablet = {"width": 800, "height": 900}
    context = browser.new_context(base_url=console.url, locale="fr-FR", viewport=tablet)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/console/")
        page.get_by_role("heading", name="Connexion").wait_for()
        assert html_lang(page) == "fr"
        assert page.get_by_label("Language / Langue").input_value() == "fr"
        check_accessibility(page)

        page.locator("#login-email").fill(other.admin_email)
        page.locator("#login-password").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("button", name="Se déconnecter").wait_for()

        # Another account's task: the API answers 404, the page says so in French.
        page.goto(f"/console/tasks/{task['id']}")
        missing = f"La tâche {task['id']} n'existe pas, ou vous n'avez pas le droit de la voir."
        page.get_by_role("alert").get_by_text(missing).wait_for()
        check_accessibility(page)
        page.get_by_role("navigation").get_by_role("link", name="Tâches").click()
        page.get_by_role("cell", name="Rien pour l'instant.").wait_for()
        assert page.get_by_role("link", name=f"#{task['id']}", exact=True).count() == 0
        assert errors == []
    finally:
        context.close()
