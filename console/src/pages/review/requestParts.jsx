// What the list and a request's page share: the status badge, the unit's link, the kind.
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";

// The badge colours of styles.css, by a request's status.
const TONES = { new: "queued", approved: "success", rejected: "errored" };

export function RequestStatus({ status }) {
  return <span class={`badge status-${TONES[status]}`}>{t(`review.status.${status}`)}</span>;
}

export function UnitLink({ request }) {
  const name = request.org_unit_name || t("review.unitId", { id: request.org_unit_id });
  return <Link to={`/units/${request.org_unit_id}`}>{name}</Link>;
}

export function kindOf(request) {
  return t(request.creates_unit ? "review.kind.new" : "review.kind.change");
}
