// Every English text has its French one and the other way round, with the same {placeholders};
// each section's French keys sit in the same file as its English ones (or a .fr.js beside it). Prints the problems found,
// one a line, and exits 1 when there are any. Run: node console/e2e/strings_check.mjs
import { tables } from "../src/strings.js";
import { fr as coreFr } from "../src/strings/core.fr.js";
import { en as dhis2En } from "../src/strings/dhis2.js";
import { fr as dhis2Fr } from "../src/strings/dhis2.fr.js";
import * as review from "../src/strings/review.js";
import * as sources from "../src/strings/sources.js";
import * as submissions from "../src/strings/submissions.js";
import * as units from "../src/strings/units.js";

const placeholders = (text) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((found) => found[1]))].sort();
const problems = [];

function compare(where, en, fr) {
  for (const [key, text] of Object.entries(en)) {
    if (!(key in fr)) {
      problems.push(`${where}: ${key} has no French text`);
      continue;
    }
    const [wanted, got] = [placeholders(text), placeholders(fr[key])];
    if (wanted.join() !== got.join()) {
      problems.push(`${where}: ${key} has {${got.join("}, {")}} in French, {${wanted.join("}, {")}} in English`);
    }
  }
  for (const [key, text] of Object.entries(fr)) {
    if (!(key in en)) problems.push(`${where}: ${key} is in French only`);
    else if (typeof text !== "string" || !text.trim()) problems.push(`${where}: ${key} is empty in French`);
  }
}

const { en, fr, ...others } = tables;
if (Object.keys(others).length) problems.push(`languages not checked here: ${Object.keys(others).join(", ")}`);
compare("strings.js (all merged)", en, fr);
// Each file's French beside its English (the core's French is in strings/core.fr.js).
const sections = { review, sources, submissions, units, dhis2: { en: dhis2En, fr: dhis2Fr } };
const sectionKeys = new Set(Object.values(sections).flatMap((table) => Object.keys(table.en)));
const coreEn = Object.fromEntries(
  Object.entries(en).filter(([key]) => !sectionKeys.has(key)),
);
compare("strings/core.fr.js", coreEn, coreFr);
for (const [name, table] of Object.entries(sections)) {
  if (!table.fr) problems.push(`strings/${name}.js has no French table`);
  else compare(`strings/${name}.js`, table.en, table.fr);
}
for (const problem of problems) console.log(problem);
console.log(`${Object.keys(en).length} English keys, ${Object.keys(fr).length} French keys, ${problems.length} problems`);
process.exitCode = problems.length ? 1 : 0;
