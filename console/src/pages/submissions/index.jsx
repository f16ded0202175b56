// The paths of the submissions section.
export function submissionsPage({ path }) {
  return null;
}
