import { t } from "../strings.js";

// A task's status as a coloured badge.
export function StatusBadge({ status }) {
  return <span class={`badge status-${status.toLowerCase()}`}>{t(`status.${status}`)}</span>;
}
