import { t } from "../strings.js";

// An org unit's validation statuses, as the API names them.
export const UNIT_STATUSES = ["NEW", "VALID", "REJECTED"];

// The <option>s of a select of unit statuses, in the console's language.
export function UnitStatusOptions() {
  return UNIT_STATUSES.map((status) => (
    <option key={status} value={status}>
      {t(`unitStatus.${status}`)}
    </option>
  ));
}
