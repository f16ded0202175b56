// The paths of the review section: change requests.
export function reviewPage({ path }) {
  return null;
}
