"""How the local stack serves the console beside the API (devstack/console.py): no browser needed."""

import http.client
import re
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.commits]


def test_the_console_is_served_beside_the_api_with_its_headers(console):
    page = requests.get(f"{console.url}/console/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"  # so that a new build is found at once
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    script = re.search(r'src="(assets/app-[^"]+\.js)"', page.text).group(1)

    asset = requests.get(f"{console.url}/console/{script}", timeout=10)
    assert asset.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" in asset.headers["Cache-Control"]  # its name changes with its content

    for route in ("/console", "/console/tasks/12", "/console/assets/missing.js"):
        assert requests.get(f"{console.url}{route}", timeout=10).text == page.text  # routed in the browser
    assert raw_get(console.url, "/console/../../app.py") == page.text  # not a file outside dist/
    assert requests.get(f"{console.url}/api/health", timeout=10).json()["status"] == "ok"


def raw_get(url: str, path: str) -> str:
    """GET with the path as given: requests would resolve its ../ before sending it."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_the_api_shares_its_answers_with_no_other_origin(console):
    """The console calls the API on its own origin (here, and through CloudFront in AWS), so the API
    sends no CORS headers at all: a page elsewhere can neither read its answers nor preflight."""
    tenant = console.tenant("cors")
    elsewhere = {"Origin": "https://elsewhere.example", "Authorization": f"Bearer {tenant.tokens['admin']}"}
    answer = requests.get(f"{console.url}/api/me", headers=elsewhere, timeout=10)
    assert answer.status_code == 200
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    preflight = requests.options(
        f"{console.url}/api/orgunits",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
