import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { PagedList } from "../components/PagedList.jsx";
import { UnitMap } from "../components/UnitMap.jsx";
import { UNIT_STATUSES } from "../components/UnitStatusOptions.jsx";
import { useAll } from "../components/useAll.js";
import { Link, ROOT } from "../router.jsx";
import { t } from "../strings.js";
import { Tree, useVersions } from "./units/Tree.jsx";

const FILTERS = ["search", "type", "validation_status", "group", "parent", "descendants_of", "version"];
const IN_URL = [...FILTERS, "view"]; // view: "tree" or the list and map
const SEARCH_PAUSE_MS = 300; // search once typing pauses, not on every key

// The filters live in the URL (?search=&type=&...), so a selection can be bookmarked; the list and
// the map's tiles take the same ones.
function useFilters(params) {
  const [filters, setFilters] = useState(() => Object.fromEntries(IN_URL.map((n) => [n, params.get(n) || ""])));
  const change = (changes) => {
    const next = { ...filters, ...changes };
    setFilters(next);
    const search = new URLSearchParams(Object.entries(next).filter(([, v]) => v)).toString();
    window.history.replaceState(null, "", `${ROOT}/registry${search ? `?${search}` : ""}`);
  };
  return [filters, change];
}

function Choice({ id, label, value, onChange, anyLabel, options }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">{anyLabel}</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

function SearchField({ value, change }) {
  const [text, setText] = useState(value);
  useEffect(() => {
    if (text === value) return undefined;
    const timer = setTimeout(() => change({ search: text.trim() }), SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <div class="field">
      <label for="filter-search">{t("registry.search")}</label>
      <input id="filter-search" type="search" value={text} onInput={(event) => setText(event.target.value)} />
    </div>
  );
}

function Filters({ filters, change, types, within }) {
  const versions = useVersions();
  // the groups of the version shown (the account's default when none is picked)
  const groups = useAll(filters.version ? `/api/groups?version=${filters.version}` : "/api/groups") || [];
  return (
    <form class="filters" aria-label={t("registry.filters")} onSubmit={(event) => event.preventDefault()}>
      <SearchField value={filters.search} change={change} />
      <Choice
        id="filter-version"
        label={t("tree.version")}
        value={filters.version}
        onChange={(version) => change({ version, group: "", parent: "", descendants_of: "" })}
        anyLabel={t("tree.version.default")}
        options={versions.map((v) => ({
          value: String(v.id),
          label: t("tree.version.option", { source: v.source, number: v.number }),
        }))}
      />
      <Choice
        id="filter-type"
        label={t("registry.type")}
        value={filters.type}
        onChange={(type) => change({ type })}
        anyLabel={t("registry.type.any")}
        options={types.map((type) => ({ value: String(type.id), label: type.name }))}
      />
      <Choice
        id="filter-status"
        label={t("registry.status")}
        value={filters.validation_status}
        onChange={(status) => change({ validation_status: status })}
        anyLabel={t("registry.status.any")}
        options={UNIT_STATUSES.map((status) => ({ value: status, label: t(`unitStatus.${status}`) }))}
      />
      <Choice
        id="filter-group"
        label={t("registry.group")}
        value={filters.group}
        onChange={(group) => change({ group })}
        anyLabel={t("registry.group.any")}
        options={groups.map((group) => ({ value: String(group.id), label: group.name }))}
      />
      {(filters.parent || filters.descendants_of) && (
        <p class="within" data-testid="within">
          {t(filters.parent ? "registry.within.children" : "registry.within.below", {
            name: within || `#${filters.parent || filters.descendants_of}`,
          })}{" "}
          <button type="button" class="link" onClick={() => change({ parent: "", descendants_of: "" })}>
            {t("registry.within.clear")}
          </button>
        </p>
      )}
    </form>
  );
}

// The unit picked in the list or on the map: what the tile or the list row knows of it.
function UnitSummary({ unit, change }) {
  if (!unit) return <p class="muted">{t("registry.pickHint")}</p>;
  return (
    <section class="unit-summary" aria-labelledby="unit-title" data-testid="unit-summary">
      <h2 id="unit-title">{unit.name}</h2>
      <dl class="facts">
        <dt>{t("registry.col.type")}</dt>
        <dd>{unit.type || "—"}</dd>
        <dt>{t("registry.col.status")}</dt>
        <dd>{t(`unitStatus.${unit.status}`)}</dd>
        <dt>{t("registry.id")}</dt>
        <dd>{unit.id}</dd>
      </dl>
      <div class="inline-form">
        <Link to={`/units/${unit.id}`} class="button-link" aria-label={t("registry.openLabel", { name: unit.name })}>
          {t("registry.open")}
        </Link>
        <button type="button" onClick={() => change({ parent: String(unit.id), descendants_of: "" })}>
          {t("registry.showChildren")}
        </button>
        <button type="button" onClick={() => change({ descendants_of: String(unit.id), parent: "" })}>
          {t("registry.showBelow")}
        </button>
      </div>
    </section>
  );
}

// [[west, south], [east, north]] around [lon, lat] positions, for the map to show them.
function boundsAround(points) {
  if (!points.length) return null;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [
    [Math.min(...xs), Math.min(...ys)],
    [Math.max(...xs), Math.max(...ys)],
  ];
}

const positionsOf = (geometry) => (typeof geometry[0] === "number" ? [geometry] : geometry.flatMap(positionsOf));
const located = (rows) => boundsAround(rows.map((row) => row.location?.coordinates).filter(Boolean));

// One unit's territory, else its point (the list leaves territories out: they can be large).
async function unitBounds(id) {
  const unit = await api("GET", `/api/orgunits/${id}`);
  return boundsAround(positionsOf(unit.geom?.coordinates || unit.location?.coordinates || []));
}

const summaryOf = (row) => ({
  id: row.id,
  name: row.name,
  type: row.org_unit_type_name,
  status: row.validation_status,
});

export function Registry({ params }) {
  const [filters, change] = useFilters(params);
  const types = useAll("/api/orgunit-types") || [];
  useEffect(() => {
    document.title = `${t("registry.title")} · ${t("app.name")}`;
  }, []);
  const query = Object.fromEntries(FILTERS.map((name) => [name, filters[name]]).filter(([, value]) => value));
  return (
    <main id="main" class="wide">
      <h1>{t("registry.title")}</h1>
      <div class="inline-form view-switch" role="group" aria-label={t("registry.view")}>
        <button type="button" aria-pressed={filters.view !== "tree"} onClick={() => change({ view: "" })}>
          {t("registry.view.list")}
        </button>
        <button type="button" aria-pressed={filters.view === "tree"} onClick={() => change({ view: "tree" })}>
          {t("registry.view.tree")}
        </button>
      </div>
      {filters.view === "tree" ? (
        <Tree version={filters.version} setVersion={(version) => change({ version })} />
      ) : (
        <ListAndMap filters={filters} change={change} types={types} query={query} />
      )}
    </main>
  );
}

function ListAndMap({ filters, change, types, query }) {
  const [picked, setPicked] = useState(null);
  const [bounds, setBounds] = useState(null);
  const [within, setWithin] = useState(null);
  const pickRow = (row) => {
    setPicked(summaryOf(row));
    unitBounds(row.id).then((found) => found && setBounds(found), () => {});
  };
  const narrow = (changes) => {
    if (changes.parent || changes.descendants_of) setWithin(picked?.name);
    change(changes);
  };
  const columns = [
    {
      label: t("registry.col.name"),
      render: (row) => (
        <button
          type="button"
          class="link"
          aria-pressed={picked?.id === row.id}
          onClick={() => pickRow(row)}
        >
          {row.name}
        </button>
      ),
    },
    { label: t("registry.col.type"), render: (row) => row.org_unit_type_name || "—" },
    { label: t("registry.col.status"), render: (row) => t(`unitStatus.${row.validation_status}`) },
    { label: t("registry.col.parent"), render: (row) => row.parent_name || "—" },
  ];
  return (
    <>
      <Filters filters={filters} change={change} types={types} within={within} />
      <div class="registry">
        <div class="registry-list">
          <PagedList
            path="/api/orgunits"
            query={query}
            columns={columns}
            caption={t("registry.caption")}
            onRows={(rows) => setBounds(located(rows))}
          />
          <UnitSummary unit={picked} change={narrow} />
        </div>
        <UnitMap query={query} selected={picked?.id} bounds={bounds} onPick={setPicked} />
      </div>
    </>
  );
}
