// The paths of the data sources section: sources, versions, imports, exports, diffs.
export function sourcesPage({ path }) {
  return null;
}
