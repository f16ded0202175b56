// The paths of the DHIS2 section: connections, their imports, syncs, pushes and data-value runs.
export function dhis2Page({ path }) {
  return null;
}
