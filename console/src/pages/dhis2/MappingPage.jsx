// /dhis2/mappings/<id>: a data-value mapping (a form's questions to a data set's data elements), a run
// started and followed here (?task=<id>), its past runs and each submission's export status.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { Table } from "../../components/Table.jsx";
import { useTask } from "../../components/useTask.js";
import { useAction } from "../../components/useAction.js";
import { Link, navigate } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { StatusBadge } from "../../components/StatusBadge.jsx";
import { useOne } from "../../components/useOne.js";
import { canRunMappings, ConnectionLink, NotFound, TaskLink } from "./dhis2Parts.jsx";
import { Followed } from "./TreeActions.jsx";

const EXPORT_STATUSES = ["exported", "conflict", "skipped"];

function RunForm({ mapping, onStarted }) {
  const [act, busy, error] = useAction();
  async function run(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await act(async () => {
      const body = { dry_run: form.get("dry_run") === "on", force: form.get("force") === "on" };
      const task = await api("POST", `/api/dhis2/data-mappings/${mapping.id}/runs`, { body });
      onStarted(task.id);
    });
  }
  return (
    <section aria-labelledby="mapping-run-title">
      <h2 id="mapping-run-title">{t("dhis2.mapping.run.title")}</h2>
      <ErrorMessage error={error} />
      <form class="inline-form" onSubmit={run}>
        <div class="field check-field">
          <label class="inline">
            <input type="checkbox" name="dry_run" defaultChecked />
            {t("dhis2.mapping.run.dryRun")}
          </label>
        </div>
        <div class="field check-field">
          <label class="inline">
            <input type="checkbox" name="force" />
            {t("dhis2.mapping.run.force")}
          </label>
        </div>
        <div class="field">
          <button type="submit" disabled={busy}>
            {t("dhis2.mapping.run.submit")}
          </button>
        </div>
      </form>
    </section>
  );
}

function Exports({ mapping, refresh }) {
  const [status, setStatus] = useState("");
  const columns = [
    {
      label: t("dhis2.exports.col.submission"),
      render: (e) => <Link to={`/submissions/${e.submission_id}`}>{e.submission_id}</Link>,
    },
    { label: t("dhis2.exports.col.status"), render: (e) => t(`dhis2.exports.status.${e.status}`) },
    { label: t("dhis2.exports.col.values"), render: (e) => e.value_count },
    { label: t("dhis2.exports.col.message"), render: (e) => e.message || "—" },
    { label: t("dhis2.exports.col.task"), render: (e) => <TaskLink id={e.task_id} /> },
    { label: t("dhis2.exports.col.updated"), render: (e) => formatTime(e.updated_at) },
  ];
  return (
    <section aria-labelledby="mapping-exports-title">
      <h2 id="mapping-exports-title">{t("dhis2.exports.title")}</h2>
      <div class="filters">
        <div class="field">
          <label for="exports-status">{t("dhis2.exports.filter")}</label>
          <select id="exports-status" value={status} onChange={(event) => setStatus(event.target.value)}>
            <option value="">{t("dhis2.exports.any")}</option>
            {EXPORT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`dhis2.exports.status.${s}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <PagedList
        path={`/api/dhis2/data-mappings/${mapping.id}/exports`}
        query={{ status }}
        columns={columns}
        caption={t("dhis2.exports.caption")}
        refresh={refresh}
        rowKey={(e) => e.submission_id}
      />
    </section>
  );
}

export function MappingPage({ id, me, params }) {
  const [{ value: mapping, error }] = useOne(`/api/dhis2/data-mappings/${id}`);
  const taskId = Number(params.get("task")) || null;
  const [followed] = useTask(taskId);
  useEffect(() => {
    document.title = `${mapping ? mapping.name : t("dhis2.mapping.title")} · ${t("app.name")}`;
  }, [mapping?.name]);
  const runColumns = [
    { label: t("dhis2.runs.col.task"), render: (task) => <TaskLink id={task.id} /> },
    { label: t("dhis2.runs.col.status"), render: (task) => <StatusBadge status={task.status} /> },
    { label: t("dhis2.mapping.col.dryRun"), render: (task) => t(task.params.dry_run ? "dhis2.yes" : "dhis2.no") },
    { label: t("dhis2.runs.col.started"), render: (task) => formatTime(task.created_at) },
    { label: t("dhis2.runs.col.finished"), render: (task) => formatTime(task.ended_at) },
  ];
  const refresh = `${taskId}-${followed.task?.status}`;
  return (
    <main id="main">
      <p>
        <Link to="/dhis2">← {t("dhis2.connection.back")}</Link>
      </p>
      <h1>{mapping ? t("dhis2.mapping.heading", { name: mapping.name }) : t("dhis2.mapping.title")}</h1>
      <NotFound error={error} message={t("dhis2.mapping.notFound", { id })} />
      {mapping && (
        <>
          <dl class="facts">
            <dt>{t("dhis2.mappings.col.connection")}</dt>
            <dd>
              <ConnectionLink id={mapping.connection_id} />
            </dd>
            <dt>{t("dhis2.mappings.col.form")}</dt>
            <dd>
              <Link to={`/submissions?form=${mapping.form_id}`}>
                {mapping.form_version_id ? t("dhis2.mapping.formVersion", mapping) : t("dhis2.mapping.form", mapping)}
              </Link>
            </dd>
            <dt>{t("dhis2.mappings.col.dataSet")}</dt>
            <dd>{mapping.data_set}</dd>
            <dt>{t("dhis2.mapping.approvedOnly")}</dt>
            <dd>{t(mapping.approved_only ? "dhis2.yes" : "dhis2.no")}</dd>
            <dt>{t("dhis2.mappings.col.lastExported")}</dt>
            <dd>{formatTime(mapping.last_exported_at)}</dd>
          </dl>
          <Table
            caption={t("dhis2.mapping.elements")}
            rows={mapping.elements}
            rowKey={(e, index) => index}
            columns={[
              { label: t("dhis2.mapping.col.question"), render: (e) => e.question },
              { label: t("dhis2.mapping.col.element"), render: (e) => e.data_element },
              { label: t("dhis2.mapping.col.combo"), render: (e) => e.category_option_combo || "—" },
            ]}
          />
          {canRunMappings(me) && (
            <RunForm mapping={mapping} onStarted={(task) => navigate(`/dhis2/mappings/${id}?task=${task}`)} />
          )}
          {taskId && (
            <Followed id={taskId} state={followed} title={t("dhis2.follow.dhis2.data_values", { id: taskId })} />
          )}
          <section aria-labelledby="mapping-runs-title">
            <h2 id="mapping-runs-title">{t("dhis2.mapping.runs")}</h2>
            <PagedList
              path={`/api/dhis2/data-mappings/${id}/runs`}
              columns={runColumns}
              caption={t("dhis2.mapping.runsCaption")}
              refresh={refresh}
            />
          </section>
          <Exports mapping={mapping} refresh={refresh} />
        </>
      )}
    </main>
  );
}
