// What the DHIS2 pages share: who may do what, links to a connection and a task,
// a run's status, and the "not found" of another account's connection.
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";

const can = (me, permission) => me.permissions.includes(permission);
export const canManage = (me) => can(me, "account.manage"); // create, change, check connections
export const canList = (me) => can(me, "tasks.run"); // list connections
export const canImport = (me) => can(me, "orgunits.write") && can(me, "tasks.run"); // imports, syncs, pushes
export const canReadMappings = (me) => can(me, "submissions.read");
export const canRunMappings = (me) => can(me, "forms.manage");

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
