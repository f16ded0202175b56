"""The live-HTTP fixture serves the app over a real socket against the test's committed database."""

import pytest
import requests

from tests.integration.helpers import PASSWORD

pytestmark = pytest.mark.commits


def test_the_live_server_answers_over_http_with_what_the_test_set_up(live):
    tenant = live.tenant("alpha")
    answer = requests.post(
        f"{live.url}/api/auth/login", json={"email": tenant.admin_email, "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    me = requests.get(
        f"{live.url}/api/me", headers={"Authorization": f"Bearer {answer.json()['token']}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["email"] == tenant.admin_email, me.text
