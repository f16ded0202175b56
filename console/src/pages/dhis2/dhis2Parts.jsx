// What the DHIS2 pages share: who may do what, the connection itself, whole lists for the pickers,
// a run's status, and the "not found" of another account's connection.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";

const can = (me, permission) => me.permissions.includes(permission);
export const canManage = (me) => can(me, "account.manage"); // create, change, check connections
export const canList = (me) => can(me, "tasks.run"); // list connections
export const canImport = (me) => can(me, "orgunits.write") && can(me, "tasks.run"); // imports, syncs, pushes
export const canReadMappings = (me) => can(me, "submissions.read");
export const canRunMappings = (me) => can(me, "forms.manage");

// One object of the API (null while loading), its error (404: not found or another account's).
export function useOne(path) {
  const [state, setState] = useState({ value: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    api("GET", path).then(
      (value) => live && setState({ value, error: null }),
      (error) => live && setState({ value: null, error }),
    );
    return () => {
      live = false;
    };
  }, [path, round]);
  return [state, () => setRound((n) => n + 1), (value) => setState({ value, error: null })];
}

// Every row of a paged list (a few pages at most: data sources, a source's versions), for a picker.
export function useAll(path, refresh = 0) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    if (!path) {
      setRows([]);
      return undefined;
    }
    let live = true;
    setRows(null);
    (async () => {
      const all = [];
      let cursor = null;
      do {
        const answer = await api("GET", path, { query: { cursor, limit: 200 } });
        all.push(...answer.results);
        cursor = answer.next_cursor;
      } while (cursor && all.length < 2000);
      if (live) setRows(all);
    })().catch(() => live && setRows([]));
    return () => {
      live = false;
    };
  }, [path, refresh]);
  return rows;
}

// A run's status: the task's five, and a run's own UNCHANGED (nothing new) and SKIPPED (another was live).
export function RunStatus({ status }) {
  const tone = { SUCCESS: "success", UNCHANGED: "success", ERRORED: "errored", KILLED: "killed" }[status] || "queued";
  return <span class={`badge status-${tone}`}>{t(`dhis2.runStatus.${status}`)}</span>;
}

export function NotFound({ error, message }) {
  if (error?.status === 404) {
    return (
      <p role="alert" data-testid="not-found">
        {message}
      </p>
    );
  }
  return <ErrorMessage error={error} />;
}

// A count or a dash.
export const count = (value) => (value === null || value === undefined ? "—" : String(value));

// A link to a task's page, or a dash.
export function TaskLink({ id }) {
  return id ? <Link to={`/tasks/${id}`}>{t("dhis2.runs.task", { id })}</Link> : "—";
}

// A link to a connection's page.
export function ConnectionLink({ id }) {
  return <Link to={`/dhis2/${id}`}>{t("dhis2.connection.link", { id })}</Link>;
}
