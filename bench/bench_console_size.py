"""The web console's first load: JavaScript + CSS, gzipped, against the 400 KB budget of issue 18.

    .venv/bin/python -m bench.bench_console_size

Builds the console when out of date (devstack/console.py, as `make run` does), reads the files its
index.html loads (script, preloaded chunks and stylesheet: what a browser fetches before the first
page shows) and the chunks loaded later by a dynamic import (the map's: MapLibre), which a page
with a map adds to its first load; the budget applies to that heavier total.
gzips each at level 9, as CloudFront's compression roughly does. Anchors from console/node_modules:
preact with its hooks (the floor of our framework) and MapLibre GL's JS + CSS when installed (the
map, ~220 KB gzipped, is the budget's largest share), and prints a Markdown table. Exits 1 over
the budget.
"""

import argparse
import gzip
import re
import sys

from devstack import console

BUDGET = 400 * 1024
LOADED = re.compile(r'<(?:script[^>]+src|link[^>]+rel="(?:stylesheet|modulepreload)"[^>]+href)="([^"]+)"')
MODULES = console.CONSOLE / "node_modules"
ANCHORS = {
    "anchor: preact + preact/hooks (minified ESM)": [
        "preact/dist/preact.mjs",
        "preact/hooks/dist/hooks.mjs",
    ],
    "anchor: maplibre-gl JS + CSS as npm ships them": [
        "maplibre-gl/dist/maplibre-gl.js",
        "maplibre-gl/dist/maplibre-gl.css",
    ],
}


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def first_load() -> list[tuple[str, int, int]]:
    """(file, bytes, gzipped bytes) of each JS and CSS file index.html loads."""
    page = (console.DIST / "index.html").read_text()
    rows = []
    for name in LOADED.findall(page):
        data = (console.DIST / name).read_bytes()
        rows.append((name, len(data), gzipped(data)))
    return rows


def lazy_chunks(loaded: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The chunks no first load fetches: those behind a dynamic import (the map)."""
    first = {row[0] for row in loaded}
    rows = []
    for path in sorted((console.DIST / "assets").rglob("*.js")):
        name = str(path.relative_to(console.DIST))
        if name not in first:
            data = path.read_bytes()
            rows.append((f"lazy: {name}", len(data), gzipped(data)))
    return rows


def anchors() -> list[tuple[str, int, int]]:
    rows = []
    for label, paths in ANCHORS.items():
        files = [MODULES / path for path in paths]
        if all(path.exists() for path in files):
            data = [path.read_bytes() for path in files]
            rows.append((label, sum(map(len, data)), sum(map(gzipped, data))))
    return rows


def kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # --help only
    print(f"console: {console.ensure_built()}", file=sys.stderr)
    loaded = first_load()
    lazy = lazy_chunks(loaded)
    first = ("**first load, total**", sum(row[1] for row in loaded), sum(row[2] for row in loaded))
    with_map = ("**first load of a page with the map**", first[1] + sum(row[1] for row in lazy),
                first[2] + sum(row[2] for row in lazy))  # fmt: skip
    total = with_map[2]
    rows = [*loaded, first, *lazy, with_map, *anchors()]
    print("| what | bytes | gzipped |\n| --- | ---: | ---: |")
    for name, raw, packed in rows:
        print(f"| {name} | {kb(raw)} | {kb(packed)} |")
    print(f"| **budget** (issue 18, MapLibre included) | | {kb(BUDGET)} |")
    print(f"| **share of the budget used** (the page with the map) | | {100 * total / BUDGET:.1f} % |")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
