// The paths of the submissions section: /submissions (a form's submissions, filtered) and
// /submissions/<id> (one submission: its answers as the form has them, photos, location, review).
import { SubmissionPage } from "./SubmissionPage.jsx";
import { Submissions } from "./Submissions.jsx";
import "./submissions.css";

export function submissionsPage({ path, params, me }) {
  if (path === "/submissions") return <Submissions params={params} />;
  const one = path.match(/^\/submissions\/(\d+)$/);
  if (one) return <SubmissionPage key={one[1]} id={Number(one[1])} me={me} />;
  return null;
}
