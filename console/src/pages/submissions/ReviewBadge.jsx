import { t } from "../../strings.js";

// A submission's validation status, as a badge coloured by its meaning.
export function ReviewBadge({ status }) {
  return <span class={`badge review-${status.toLowerCase()}`}>{t(`submissions.status.${status}`)}</span>;
}
