import "./units.css";
import { UnitPage } from "./UnitPage.jsx";

// The paths of the units section: a unit's page (the tree is a view of the registry page).
export function unitsPage({ path, me }) {
  const unit = path.match(/^\/units\/(\d+)$/);
  if (unit) return <UnitPage key={unit[1]} id={Number(unit[1])} me={me} />;
  return null;
}
