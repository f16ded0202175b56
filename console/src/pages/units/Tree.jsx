import { useEffect, useState } from "preact/hooks";
import { allPages, api, page } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";

const PAGE = 50;

// "3 children (District: 2, No type: 1)", from GET /api/orgunits/child-counts.
export function childrenText(counts) {
  if (!counts) return "";
  const total =
    counts.children === 0
      ? t("tree.children.none")
      : t(counts.children === 1 ? "tree.children.one" : "tree.children.other", { count: counts.children });
  const parts = counts.by_type.map((c) => t("tree.byType", { type: c.org_unit_type_name || t("tree.untyped"), count: c.count }));
  return parts.length ? `${total} (${parts.join(", ")})` : total;
}

// One level of the tree: the units `query` lists (the children of a unit, or the top), a page at a
// time, each with its children's counts per type and a button that expands it.
function Level({ query, version, level }) {
  const [state, setState] = useState({ rows: [], counts: {}, next: null, loading: true, error: null });
  const load = async (cursor) => {
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const answer = await page("/api/orgunits", { ...query, version }, cursor, PAGE);
      const ids = answer.results.map((row) => row.id);
      const counts = ids.length
        ? (await api("GET", "/api/orgunits/child-counts", { query: { ids: ids.join(","), version } })).results
        : [];
      setState((s) => ({
        rows: [...(cursor ? s.rows : []), ...answer.results],
        counts: { ...(cursor ? s.counts : {}), ...Object.fromEntries(counts.map((c) => [c.id, c])) },
        next: answer.next_cursor,
        loading: false,
        error: null,
      }));
    } catch (error) {
      setState((s) => ({ ...s, loading: false, error }));
    }
  };
  useEffect(() => {
    load(null);
  }, [JSON.stringify(query), version]);
  const { rows, counts, next, loading, error } = state;
  return (
    <>
      <ErrorMessage error={error} />
      {level === 0 && !loading && !error && rows.length === 0 && <p>{t("tree.empty")}</p>}
      {rows.length > 0 && (
        <ul class={level === 0 ? "tree" : "tree-level"}>
          {rows.map((row) => (
            <Node key={row.id} unit={row} counts={counts[row.id]} version={version} level={level} />
          ))}
        </ul>
      )}
      {loading && <p aria-busy="true">{t("list.loading")}</p>}
      {next && !loading && (
        <button type="button" class="link" onClick={() => load(next)}>
          {t("tree.more")}
        </button>
      )}
    </>
  );
}

function Node({ unit, counts, version, level }) {
  const [open, setOpen] = useState(false);
  const hasChildren = counts?.children > 0;
  return (
    <li data-testid="tree-node" data-unit={unit.id}>
      <span class="tree-row">
        {hasChildren ? (
          <button
            type="button"
            class="tree-toggle"
            aria-expanded={open ? "true" : "false"}
            aria-label={t(open ? "tree.collapse" : "tree.expand", { name: unit.name })}
            onClick={() => setOpen(!open)}
          >
            {open ? "▾" : "▸"}
          </button>
        ) : (
          <span class="tree-toggle" aria-hidden="true" />
        )}
        <Link to={`/units/${unit.id}`}>{unit.name}</Link>
        <span class="muted">{unit.org_unit_type_name ? ` · ${unit.org_unit_type_name}` : ""}</span>
        <span class="tree-counts" data-testid="tree-counts">
          {childrenText(counts)}
        </span>
      </span>
      {open && <Level query={{ parent: String(unit.id) }} version={version} level={level + 1} />}
    </li>
  );
}

// Every version of the account's sources, each with its source's name, for the version pickers.
export function useVersions() {
  const [versions, setVersions] = useState([]);
  useEffect(() => {
    (async () => {
      const sources = await allPages("/api/data-sources");
      const lists = await Promise.all(
        sources.map(async (source) =>
          (await allPages(`/api/data-sources/${source.id}/versions`)).map((v) => ({ ...v, source: source.name })),
        ),
      );
      setVersions(lists.flat());
    })().catch(() => {});
  }, []);
  return versions;
}

// A version's tree from its top: the top-level units, or a restricted profile's roots.
export function Tree({ version, setVersion }) {
  const versions = useVersions();
  const [top, setTop] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api("GET", "/api/me").then(
      (me) => setTop(me.org_unit_ids?.length ? { ids: me.org_unit_ids.join(",") } : { roots: "true" }),
      setError,
    );
  }, []);
  return (
    <section aria-labelledby="tree-title">
      <h2 id="tree-title">{t("tree.title")}</h2>
      <div class="field">
        <label for="tree-version">{t("tree.version")}</label>
        <select id="tree-version" value={version} onChange={(event) => setVersion(event.target.value)}>
          <option value="">{t("tree.version.default")}</option>
          {versions.map((v) => (
            <option key={v.id} value={String(v.id)}>
              {t("tree.version.option", { source: v.source, number: v.number })}
            </option>
          ))}
        </select>
      </div>
      <ErrorMessage error={error} />
      {top && <Level query={top} version={version || undefined} level={0} />}
    </section>
  );
}
