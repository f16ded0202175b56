#!/usr/bin/env bash
# Prepares this machine for georegistry, idempotently:
#   - a Python 3.12 virtualenv in .venv with requirements-dev.txt (re-installed when it changes);
#   - PostgreSQL 15 server binaries, PostGIS 3, GDAL's tools and a Java runtime (Debian/Ubuntu packages)
#     when missing;
#   - Node.js with npm, and Chromium for the browser tests (Debian/Ubuntu packages) when missing;
#   - the web console's npm packages (npm ci in console/, again when package-lock.json changes).
# Python 3.12 is the Lambda runtime and `chalice package` must run on it, so no other version will do.
set -euo pipefail
cd "$(dirname "$0")/.."

is_312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }

find_python() {
    local candidate version
    for candidate in "${PYTHON:-}" python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12 python3; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && is_312 "$candidate"; then
            command -v "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -n 1 || true)
        candidate="$(pyenv root)/versions/${version}/bin/python3.12"
        if [ -n "$version" ] && is_312 "$candidate"; then echo "$candidate"; return 0; fi
    fi
    for candidate in "$HOME"/.local/share/uv/python/cpython-3.12*/bin/python3.12; do
        if [ -x "$candidate" ] && is_312 "$candidate"; then echo "$candidate"; return 0; fi
    done
    return 1
}

ensure_venv() {
    local python stamp wanted
    wanted=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
    stamp=.venv/.requirements.sha256
    if [ -x .venv/bin/python ] && is_312 .venv/bin/python && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
        return 0
    fi
    if ! python=$(find_python); then
        echo "georegistry needs Python 3.12 (the AWS Lambda runtime it is packaged for) and found none." >&2
        echo "Install it, e.g. 'sudo apt-get install python3.12 python3.12-venv', 'pyenv install 3.12'," >&2
        echo "or 'uv python install 3.12', or point PYTHON=/path/to/python3.12 at one, then retry." >&2
        exit 1
    fi
    echo "==> virtualenv .venv with $python"
    [ -x .venv/bin/python ] && is_312 .venv/bin/python || { rm -rf .venv; "$python" -m venv .venv; }
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "pip<26.3"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$wanted" > "$stamp"
}

have_postgis() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null &&
        compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null &&
        command -v ogrinfo >/dev/null &&  # GDAL: the tests check that GIS tools read our exports
        command -v java >/dev/null  # ODK Validate (a jar in pyxform's wheel) checks every form we serve
}

ensure_postgis() {
    have_postgis && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "PostgreSQL 15 with PostGIS 3 is needed and this is not a Debian/Ubuntu machine:" >&2
        echo "install the server and PostGIS with your package manager, then retry." >&2
        exit 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> installing PostgreSQL 15 + PostGIS 3, GDAL's command-line tools and Java (apt-get)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 gdal-bin \
        default-jre-headless \
        >/dev/null
    # Debian starts a system cluster on install; we run our own, so leave the system one alone.
    have_postgis || { echo "PostGIS still missing after apt-get install." >&2; exit 1; }
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$1 is needed and this is not a Debian/Ubuntu machine: install it, then retry." >&2
        exit 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> installing $1 (apt-get)"
    shift
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_browser_tools() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
        apt_install "Node.js and npm (the console's build)" nodejs npm
    # The browser tests drive Debian's Chromium through Playwright's executable_path: no browser download.
    [ -x /usr/bin/chromium ] || apt_install "Chromium (the browser tests)" chromium
    # Firefox through puppeteer-core's WebDriver BiDi (no geckodriver), on Xvfb for WebGL.
    [ -x /usr/bin/firefox-esr ] && command -v xvfb-run >/dev/null 2>&1 && command -v xauth >/dev/null 2>&1 ||
        apt_install "Firefox ESR and Xvfb (the browser tests)" firefox-esr xvfb xauth
}

ensure_console_packages() {
    local stamp=console/node_modules/.package-lock.sha256 wanted
    wanted=$(sha256sum console/package-lock.json | cut -d' ' -f1)
    [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] && return 0
    echo "==> the console's npm packages (npm ci, pinned by console/package-lock.json)"
    (cd console && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" > "$stamp"
}

ensure_venv
ensure_postgis
ensure_browser_tools
ensure_console_packages
