// Builds the console into dist/: the entry's JS and CSS with content hashes in their names (so a
// CDN may cache them for ever) and an index.html naming them; code behind a dynamic import (the map,
// MapLibre) is split into chunks/ and fetched only by the pages that need it. No network: everything comes from
// node_modules. `node build.mjs --check` exits 1 when dist/ is older than its sources.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const here = new URL(".", import.meta.url).pathname;
// GEOREGISTRY_CONSOLE_DIST builds elsewhere (tests of several working copies at once).
const dist = resolve(process.env.GEOREGISTRY_CONSOLE_DIST || join(here, "dist"));
const STAMP = join(dist, ".sources.sha256");

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

export function sourcesHash() {
  const hash = createHash("sha256");
  const inputs = [...files(join(here, "src")), join(here, "build.mjs"), join(here, "package-lock.json")];
  for (const path of inputs.sort()) hash.update(path.slice(here.length)).update(readFileSync(path));
  return hash.digest("hex");
}

async function build() {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: join(here, "src/main.jsx") },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "[name]-[hash]",
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    outdir: join(dist, "assets"),
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const outputs = Object.entries(result.metafile.outputs);
  const [entry, output] = outputs.find(([, out]) => out.entryPoint?.endsWith("src/main.jsx"));
  const served = (path) => relative(dist, resolve(path)); // metafile paths are the working dir's
  // The chunks the entry imports statically are part of the first load: preloaded, not discovered late.
  const preloads = output.imports
    .filter((imported) => imported.kind === "import-statement")
    .map((imported) => `<link rel="modulepreload" href="${served(imported.path)}" />`);
  const page = readFileSync(join(here, "src/index.html"), "utf8")
    .replace("{{script}}", served(entry))
    .replace("{{style}}", served(output.cssBundle))
    .replace("{{preloads}}", preloads.join("\n    "));
  writeFileSync(join(dist, "index.html"), page);
  writeFileSync(STAMP, sourcesHash());
}

function upToDate() {
  try {
    return readFileSync(STAMP, "utf8") === sourcesHash();
  } catch {
    return false;
  }
}

if (process.argv.includes("--check")) process.exit(upToDate() ? 0 : 1);
await build();
