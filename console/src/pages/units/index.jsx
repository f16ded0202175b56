// The paths of the units section: a unit's page.
export function unitsPage({ path }) {
  return null;
}
