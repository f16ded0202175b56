import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { PlaceMap } from "../../components/PlaceMap.jsx";
import { useAll } from "../../components/useAll.js";
import { useOne } from "../../components/useOne.js";
import { Link } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { childrenText } from "./Tree.jsx";
import { UnitEdit } from "./UnitEdit.jsx";

const WRITE = "orgunits.write";

function useFetched(path, query, deps) {
  const [value, setValue] = useState(null);
  useEffect(() => {
    if (!path) return;
    api("GET", path, { query }).then(setValue, () => setValue(null));
  }, deps);
  return value;
}

export const pointText = (location) =>
  location ? t("units.point", { lon: location.coordinates[0], lat: location.coordinates[1] }) : t("units.none");

function Breadcrumb({ unit }) {
  return (
    <nav class="breadcrumb" aria-label={t("units.ancestors")}>
      <ol>
        <li>
          <Link to="/registry">{t("units.registry")}</Link>
        </li>
        {unit.ancestors.map((above) => (
          <li key={above.id}>
            <Link to={`/units/${above.id}`}>{above.name}</Link>
          </li>
        ))}
        <li>
          <span aria-current="page">{unit.name}</span>
        </li>
      </ol>
    </nav>
  );
}

function Facts({ unit }) {
  const none = t("units.none");
  const extra = Object.entries(unit.extra_fields || {});
  const rows = [
    ["type", unit.org_unit_type_name || none],
    ["status", t(`unitStatus.${unit.validation_status}`)],
    [
      "parent",
      unit.parent_id ? <Link to={`/units/${unit.parent_id}`}>{unit.parent_name || `#${unit.parent_id}`}</Link> : none,
    ],
    ["code", unit.code || none],
    ["source_ref", unit.source_ref || none],
    ["aliases", unit.aliases?.length ? unit.aliases.join(", ") : none],
    ["opening_date", unit.opening_date || none],
    ["closed_date", unit.closed_date || none],
    ["location", pointText(unit.location)],
    ["has_territory", t(unit.has_territory ? "units.yes" : "units.no")],
    ["version", unit.version_id],
    ["depth", unit.depth],
    ["id", unit.id],
    ["uuid", unit.uuid],
    ["created_at", formatTime(unit.created_at)],
    ["updated_at", formatTime(unit.updated_at)],
  ];
  return (
    <section aria-labelledby="unit-details">
      <h2 id="unit-details">{t("units.details")}</h2>
      <dl class="facts" data-testid="unit-facts">
        {rows.map(([name, value]) => [<dt key={`${name}-t`}>{t(`units.field.${name}`)}</dt>, <dd key={name}>{value}</dd>])}
        {extra.map(([name, value]) => [
          <dt key={`x-${name}-t`}>{name}</dt>,
          <dd key={`x-${name}`}>{typeof value === "string" ? value : JSON.stringify(value)}</dd>,
        ])}
      </dl>
    </section>
  );
}

function Groups({ unit }) {
  const groups = useFetched("/api/groups", { version: unit.version_id, limit: 100 }, [unit.version_id]);
  const names = Object.fromEntries((groups?.results || []).map((group) => [group.id, group.name]));
  return (
    <section aria-labelledby="unit-groups">
      <h2 id="unit-groups">{t("units.groups")}</h2>
      {unit.group_ids.length === 0 ? (
        <p>{t("units.groups.none")}</p>
      ) : (
        <ul data-testid="unit-groups">
          {unit.group_ids.map((id) => (
            <li key={id}>{names[id] || `#${id}`}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Children({ unit }) {
  const counts = useFetched(
    "/api/orgunits/child-counts",
    { ids: String(unit.id), version: unit.version_id },
    [unit.id, unit.updated_at],
  );
  const columns = [
    { label: t("registry.col.name"), render: (row) => <Link to={`/units/${row.id}`}>{row.name}</Link> },
    { label: t("registry.col.type"), render: (row) => row.org_unit_type_name || t("units.none") },
    { label: t("registry.col.status"), render: (row) => t(`unitStatus.${row.validation_status}`) },
  ];
  return (
    <section aria-labelledby="unit-children" class="full">
      <h2 id="unit-children">{t("units.children")}</h2>
      <p data-testid="children-counts">{childrenText(counts?.results?.[0])}</p>
      <PagedList
        path="/api/orgunits"
        query={{ parent: String(unit.id), version: String(unit.version_id) }}
        columns={columns}
        caption={t("units.children.caption", { name: unit.name })}
      />
    </section>
  );
}

function formatValue(name, value, types, names = {}) {
  if (value === null || value === undefined || value === "") return t("units.none");
  if (name === "validation_status") return t(`unitStatus.${value}`);
  if (name === "org_unit_type_id") return types.find((type) => type.id === value)?.name || `#${value}`;
  if (name === "parent_id") return <Link to={`/units/${value}`}>{names[value] || `#${value}`}</Link>;
  if (name === "location" && value.type === "Point") return pointText(value);
  if (typeof value === "boolean") return t(value ? "units.yes" : "units.no");
  if (Array.isArray(value)) return value.length ? value.join(", ") : t("units.none");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function Changes({ entry, types, parents }) {
  const before = entry.before || {};
  const after = entry.after || {};
  const blank = (value) =>
    value === null || value === undefined || value === "" || (typeof value === "object" && !Object.keys(value).length);
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (name) => !(blank(before[name]) && blank(after[name])),
  );
  if (!names.length) return t("units.none");
  return (
    <table class="changes">
      <thead>
        <tr>
          <th scope="col">{t("units.history.field")}</th>
          <th scope="col">{t("units.history.before")}</th>
          <th scope="col">{t("units.history.after")}</th>
        </tr>
      </thead>
      <tbody>
        {names.map((name) => (
          <tr key={name}>
            <th scope="row">{t(`units.field.${name}`)}</th>
            <td>{entry.before ? formatValue(name, before[name], types, parents) : t("units.none")}</td>
            <td>{entry.after ? formatValue(name, after[name], types, parents) : t("units.none")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// The names of the parents a page of history names (those the caller may still see).
function useParentNames(unit) {
  const [names, setNames] = useState({});
  const heard = (entries) => {
    const ids = [
      ...new Set(entries.flatMap((e) => [e.before?.parent_id, e.after?.parent_id]).filter((id) => id && !names[id])),
    ];
    if (!ids.length) return;
    const query = { ids: ids.join(","), version: unit.version_id, fields: "id,name", limit: 100 };
    api("GET", "/api/orgunits", { query }).then(
      (answer) => setNames((known) => ({ ...known, ...Object.fromEntries(answer.results.map((u) => [u.id, u.name])) })),
      () => {},
    );
  };
  return [names, heard];
}

function History({ unit, types, refresh }) {
  const [names, heard] = useParentNames(unit);
  const columns = [
    { label: t("units.history.when"), render: (entry) => formatTime(entry.created_at) },
    {
      label: t("units.history.who"),
      render: (entry) =>
        entry.user_email ||
        (entry.task_id ? <Link to={`/tasks/${entry.task_id}`}>{t("units.history.task", { id: entry.task_id })}</Link> : entry.source),
    },
    { label: t("units.history.action"), render: (entry) => t(`units.action.${entry.action}`) },
    { label: t("units.history.changes"), render: (entry) => <Changes entry={entry} types={types} parents={names} /> },
  ];
  return (
    <section aria-labelledby="unit-history" class="full">
      <h2 id="unit-history">{t("units.history")}</h2>
      <PagedList
        path={`/api/orgunits/${unit.id}/history`}
        columns={columns}
        caption={t("units.history.caption", { name: unit.name })}
        refresh={refresh}
        limit={10}
        onRows={heard}
      />
    </section>
  );
}

function places(unit) {
  return [
    { geometry: unit.geom, kind: "current", label: t("units.map.territory") },
    { geometry: unit.location, kind: "current", label: t("units.map.point") },
  ];
}

export function UnitPage({ id, me }) {
  const [{ value: unit, error }, reload] = useOne(`/api/orgunits/${id}`);
  const types = useAll("/api/orgunit-types") || [];
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(null);
  useEffect(() => {
    document.title = `${unit ? unit.name : t("units.loading")} · ${t("app.name")}`;
  }, [unit?.name]);
  if (error) {
    const missing = error.status === 404;
    return (
      <main id="main">
        <h1>{missing ? t("units.notFoundTitle") : t("error.title")}</h1>
        {missing ? <p role="alert">{t("units.notFound", { id })}</p> : <ErrorMessage error={error} />}
      </main>
    );
  }
  if (!unit) {
    return (
      <main id="main" aria-busy="true">
        <h1>{t("units.loading")}</h1>
      </main>
    );
  }
  const canEdit = me?.permissions?.includes(WRITE);
  const done = (message) => {
    setEditing(false);
    setSaved(message);
    reload();
  };
  return (
    <main id="main" class="wide">
      <Breadcrumb unit={unit} />
      <h1>{unit.name}</h1>
      {saved && (
        <p class="notice" role="status">
          {saved}
        </p>
      )}
      {canEdit && !editing && (
        <button type="button" onClick={() => (setSaved(null), setEditing(true))}>
          {t("units.edit")}
        </button>
      )}
      <div class="unit-page">
        {editing ? (
          <UnitEdit unit={unit} types={types} onDone={done} onCancel={() => setEditing(false)} />
        ) : (
          <>
            <Facts unit={unit} />
            <PlaceMap places={places(unit)} label={t("units.map", { name: unit.name })} />
          </>
        )}
        <Groups unit={unit} />
        <Children unit={unit} />
        <History unit={unit} types={types} refresh={unit.updated_at} />
      </div>
    </main>
  );
}
