// The paths of the review section: change requests (a list by status, and one request's page).
import { ChangeRequestPage } from "./ChangeRequestPage.jsx";
import { ChangeRequests } from "./ChangeRequests.jsx";
import "./review.css";

export function reviewPage({ path, params, me }) {
  if (path === "/change-requests") return <ChangeRequests params={params} />;
  const one = path.match(/^\/change-requests\/(\d+)$/);
  if (one) return <ChangeRequestPage key={one[1]} id={Number(one[1])} me={me} />;
  return null;
}
