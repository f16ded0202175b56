// A unit's fields as a reviewer reads them: names for ids (type, parent, groups), statuses in words,
// points as coordinates; and whether a proposed value differs from the current one.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";

// The fields a request may carry, in the order a unit's page shows them; any other comes after.
export const FIELDS = [
  "name",
  "org_unit_type_id",
  "parent_id",
  "validation_status",
  "code",
  "source_ref",
  "aliases",
  "opening_date",
  "closed_date",
  "location",
  "geom",
  "group_ids",
  "extra_fields",
];

export function fieldsOf(proposed) {
  const known = FIELDS.filter((name) => name in proposed);
  return [...known, ...Object.keys(proposed).filter((name) => !FIELDS.includes(name))];
}

export function fieldLabel(name) {
  const key = `review.field.${name}`;
  const text = t(key);
  return text === key ? name : text;
}

function normal(name, value) {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return null;
  if (name === "group_ids" || name === "aliases") return JSON.stringify([...value].sort());
  if (name === "extra_fields" && Object.keys(value).length === 0) return null;
  return JSON.stringify(value);
}

export function differs(name, current, proposed) {
  return normal(name, current) !== normal(name, proposed);
}

function countPoints(coordinates) {
  if (!Array.isArray(coordinates)) return 0;
  if (typeof coordinates[0] === "number") return 1;
  return coordinates.reduce((sum, part) => sum + countPoints(part), 0);
}

// Names for the ids a request and its unit mention: {"unit:12": "Pikine", "type:3": "Facility", ...}.
// The unit's own parent and type come with it; the others are asked for, one request each.
export function useNames(request, unit) {
  const [names, setNames] = useState({});
  const proposed = request?.proposed || {};
  const wanted = [];
  if (proposed.parent_id) wanted.push(["unit", proposed.parent_id]);
  if (proposed.org_unit_type_id) wanted.push(["type", proposed.org_unit_type_id]);
  for (const id of new Set([...(proposed.group_ids || []), ...(unit?.group_ids || [])])) wanted.push(["group", id]);
  const key = JSON.stringify(wanted);
  useEffect(() => {
    let live = true;
    const paths = { unit: "/api/orgunits/", type: "/api/orgunit-types/", group: "/api/groups/" };
    for (const [kind, id] of wanted) {
      api("GET", paths[kind] + id).then(
        (found) => live && setNames((known) => ({ ...known, [`${kind}:${id}`]: found.name })),
        () => {}, // not visible to this user: the id is shown instead
      );
    }
    return () => {
      live = false;
    };
  }, [key]);
  const known = { ...names };
  if (unit?.parent_id) known[`unit:${unit.parent_id}`] = unit.parent_name;
  if (unit?.org_unit_type_id) known[`type:${unit.org_unit_type_id}`] = unit.org_unit_type_name;
  return known;
}

// One value, as text (or a link to a unit).
export function Value({ name, value, names }) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) {
    return <span class="muted">{t("review.none")}</span>;
  }
  switch (name) {
    case "parent_id":
      return <Link to={`/units/${value}`}>{names[`unit:${value}`] || `#${value}`}</Link>;
    case "org_unit_type_id":
      return names[`type:${value}`] || `#${value}`;
    case "validation_status":
      return t(`unitStatus.${value}`);
    case "group_ids":
      return value.map((id) => names[`group:${id}`] || `#${id}`).join(", ");
    case "aliases":
      return value.join(", ");
    case "location":
      return t("review.point", { lon: value.coordinates[0], lat: value.coordinates[1] });
    case "geom":
      return t("review.geom", { type: value.type, n: countPoints(value.coordinates) });
    default:
      return typeof value === "object" ? <code>{JSON.stringify(value)}</code> : String(value);
  }
}
