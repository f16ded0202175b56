"""The web console on the local stack: built when its sources changed, served beside the API.

`ensure_built()` runs console/build.mjs (esbuild, from console/node_modules: no downloads) unless
dist/ already matches the sources. `ConsoleRequestHandler` answers GET/HEAD under /console/ from
console/dist, and index.html for any other path there (the console routes in the browser); every
other request goes to the API as before, so the console and the API share one origin.
"""

import fcntl
import mimetypes
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from devstack.chunked_requests import ChunkedRequestHandler

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = ROOT / "console"
# GEOREGISTRY_CONSOLE_DIST puts the build elsewhere (build.mjs reads it too).
DIST = Path(os.environ.get("GEOREGISTRY_CONSOLE_DIST") or CONSOLE / "dist")
PREFIX = "/console"
# Hashed asset names never change content; index.html must be asked for again to find new ones.
IMMUTABLE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def security_headers(s3_endpoint: str | None) -> dict[str, str]:
    """SECURITY_HEADERS, with S3's origin (moto's, locally) where the browser meets S3 itself:
    presigned uploads (connect-src) and photos through presigned links (img-src), as in AWS."""
    if not s3_endpoint:
        return SECURITY_HEADERS
    parts = urlsplit(s3_endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "img-src 'self' data: blob:;", f"connect-src 'self' {origin}; img-src 'self' data: blob: {origin};"
    )
    return SECURITY_HEADERS | {"Content-Security-Policy": policy}


class ConsoleUnavailable(RuntimeError):
    pass


def ensure_built(dist: Path = DIST) -> str:
    """Builds the console when out of date; returns what it did, or raises ConsoleUnavailable."""
    node = shutil.which("node")
    if node is None:
        raise ConsoleUnavailable("Node.js is missing (`make setup` installs it)")
    if not (CONSOLE / "node_modules" / "esbuild").exists():
        raise ConsoleUnavailable("console/node_modules is missing (`make setup` runs npm ci)")
    build = [node, str(CONSOLE / "build.mjs")]
    # One build at a time: the test workers each ask, and a build empties dist/ first.
    with open(CONSOLE / "node_modules" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = subprocess.run([*build, "--check"], cwd=CONSOLE).returncode == 0
        if current and (dist / "index.html").exists():
            return "up to date"
        done = subprocess.run(build, cwd=CONSOLE, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConsoleUnavailable(f"its build failed: {done.stderr.strip()[-2000:]}")
    return "built"


def resolve(path: str, dist: Path = DIST) -> Path | None:
    """The file a /console/... path names, index.html for the console's own routes, None elsewhere."""
    path = unquote(urlsplit(path).path)
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    relative = path[len(PREFIX) :].lstrip("/")
    root = dist.resolve()
    candidate = (root / relative).resolve()
    if relative and candidate.is_file() and candidate.is_relative_to(root):
        return candidate
    return root / "index.html"


class ConsoleRequestHandler(ChunkedRequestHandler):
    """Chalice's local request handler, with the console's static files under /console/."""

    dist = DIST

    def _generic_handle(self) -> None:
        if self.command in ("GET", "HEAD") and (found := resolve(self.path, self.dist)) is not None:
            self._send_file(found)
        else:
            super()._generic_handle()

    do_GET = do_HEAD = _generic_handle

    def _send_file(self, path: Path) -> None:
        if not path.is_file():
            body = b"The console is not built: run `make run` (or node console/build.mjs)."
            self._send_static(503, "text/plain; charset=utf-8", body, "no-store")
            return
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        caching = "no-cache" if path.name == "index.html" else IMMUTABLE
        self._send_static(200, content_type, path.read_bytes(), caching)

    def _send_static(self, status: int, content_type: str, body: bytes, caching: str) -> None:
        self.send_response(status)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body)), "Cache-Control": caching}
        for name, value in (headers | security_headers(os.environ.get("AWS_ENDPOINT_URL"))).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def prepare() -> str:
    """For `make run`'s banner: the console's URL path state in words; never stops the stack."""
    try:
        return f"web console {ensure_built()}"
    except ConsoleUnavailable as reason:
        return f"web console unavailable: {reason}"
