// /dhis2/<id>: a connection, its check, its change (credential, address) and deletion for admins;
// importing DHIS2's tree, syncing and pushing for registry editors, each task followed here
// (?task=<id>); the runs the API keeps and the sync schedules.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { useTask } from "../../components/useTask.js";
import { useAll } from "../../components/useAll.js";
import { useOne } from "../../components/useOne.js";
import { Link, navigate } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { canImport, canManage, NotFound, RunStatus, TaskLink } from "./dhis2Parts.jsx";
import { ConnectionForm } from "./ConnectionForm.jsx";
import { authText, CheckResult } from "./Connections.jsx";
import { Schedules } from "./Schedules.jsx";
import { Followed, PushForm, PushForReal, TreeForm } from "./TreeActions.jsx";

const LIVE_RUN = new Set(["QUEUED", "RUNNING"]);
const TREE_KINDS = new Set(["dhis2.import", "dhis2.sync"]);

function Facts({ connection, me, onChecked }) {
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState(null);
  async function check() {
    setBusy(true);
    setAnswer(null);
    try {
      const checked = await api("POST", `/api/dhis2/connections/${connection.id}/check`);
      setAnswer({ ok: t("dhis2.check.okHere", { version: checked.dhis2_version }) });
      onChecked(checked);
    } catch (error) {
      setAnswer({ error });
      onChecked(null);
    }
    setBusy(false);
  }
  return (
    <div class="connection-facts">
      <dl class="facts" data-testid="connection-facts">
        <dt>{t("dhis2.col.url")}</dt>
        <dd class="url">{connection.base_url}</dd>
        <dt>{t("dhis2.col.auth")}</dt>
        <dd>{authText(connection)}</dd>
        <dt>{t("dhis2.facts.secret")}</dt>
        <dd>{t(connection.has_secret ? "dhis2.facts.secretKept" : "dhis2.facts.secretMissing")}</dd>
        <dt>{t("dhis2.col.checked")}</dt>
        <dd>{formatTime(connection.checked_at)}</dd>
        <dt>{t("dhis2.col.result")}</dt>
        <dd data-testid="check-result">
          <CheckResult connection={connection} />
        </dd>
      </dl>
      {canManage(me) && (
        <p>
          <button type="button" onClick={check} disabled={busy}>
            {busy ? t("dhis2.check.busy") : t("dhis2.check.thisOne")}
          </button>
        </p>
      )}
      <div aria-live="polite">{answer?.ok && <p class="notice">{answer.ok}</p>}</div>
      {answer?.error && <ErrorMessage error={answer.error} />}
    </div>
  );
}

function Change({ connection, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [round, setRound] = useState(0); // a new form after a save: no password left in it
  async function save(body) {
    setError(null);
    setSaved(false);
    setBusy(true);
    try {
      onChanged(await api("PATCH", `/api/dhis2/connections/${connection.id}`, { body }));
      setSaved(true);
      setRound((n) => n + 1);
    } catch (failure) {
      setError(failure);
    }
    setBusy(false);
  }
  async function remove() {
    if (!window.confirm(t("dhis2.change.confirmDelete", { name: connection.name }))) return;
    try {
      await api("DELETE", `/api/dhis2/connections/${connection.id}`);
      navigate("/dhis2");
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <details class="connection-change">
      <summary>{t("dhis2.change.title")}</summary>
      <ConnectionForm
        key={round}
        id="change-connection"
        initial={connection}
        busy={busy}
        error={error}
        onSubmit={save}
        submitLabel={t("dhis2.change.submit")}
      />
      <div aria-live="polite">{saved && <p class="notice">{t("dhis2.change.saved")}</p>}</div>
      <p>
        <button type="button" class="danger" onClick={remove}>
          {t("dhis2.change.delete")}
        </button>
      </p>
    </details>
  );
}

function changes(counts) {
  const entries = Object.entries(counts || {});
  return entries.length ? entries.map(([key, value]) => t(`dhis2.runs.count.${key}`, { n: value })).join(", ") : "—";
}

function Runs({ connection, sourceName, refresh }) {
  const columns = [
    { label: t("dhis2.runs.col.kind"), render: (run) => t(`dhis2.runs.kind.${run.kind}`) },
    { label: t("dhis2.runs.col.status"), render: (run) => <RunStatus status={run.status} /> },
    {
      label: t("dhis2.runs.col.source"),
      render: (run) => <Link to={`/sources/${run.data_source_id}`}>{sourceName(run.data_source_id)}</Link>,
    },
    { label: t("dhis2.runs.col.changes"), render: (run) => run.error_message || run.note || changes(run.counts) },
    { label: t("dhis2.runs.col.started"), render: (run) => formatTime(run.created_at) },
    { label: t("dhis2.runs.col.finished"), render: (run) => formatTime(run.finished_at) },
    { label: t("dhis2.runs.col.task"), render: (run) => <TaskLink id={run.task_id} /> },
  ];
  return (
    <section aria-labelledby="dhis2-runs-title">
      <h2 id="dhis2-runs-title">{t("dhis2.runs.title")}</h2>
      <PagedList
        path={`/api/dhis2/connections/${connection.id}/runs`}
        columns={columns}
        caption={t("dhis2.runs.caption")}
        refresh={refresh}
        reloadAfter={(rows) => (rows.some((run) => LIVE_RUN.has(run.status)) ? 2000 : null)}
      />
      <p>
        <Link to="/tasks?scope=account&kind=dhis2.push">{t("dhis2.runs.pushes")}</Link>
      </p>
    </section>
  );
}

export function ConnectionPage({ id, me, params }) {
  const [{ value: connection, error }, , setConnection] = useOne(`/api/dhis2/connections/${id}`);
  const [reloadConnection] = useState(() => () => api("GET", `/api/dhis2/connections/${id}`).then(setConnection));
  const [sourcesRound, setSourcesRound] = useState(0);
  const writer = canImport(me);
  const sources = useAll(connection && writer ? "/api/data-sources" : null, sourcesRound);
  const taskId = Number(params.get("task")) || null;
  const [followed] = useTask(taskId);
  const task = followed.task;
  const ended = `${taskId}-${task?.status}`; // reloads the lists and versions as the followed task moves on
  useEffect(() => {
    document.title = `${connection ? connection.name : t("dhis2.connection.title")} · ${t("app.name")}`;
  }, [connection?.name]);
  const names = new Map((sources || []).map((source) => [source.id, source.name]));
  const sourceName = (sourceId) => names.get(sourceId) || t("dhis2.sourceId", { id: sourceId });
  const follow = (started) => navigate(`/dhis2/${id}?task=${started}`);
  const followedHere = (kinds) =>
    taskId && task && kinds(task.kind) && task.params.connection_id === id ? task : null;
  const treeTask = followedHere((kind) => TREE_KINDS.has(kind));
  const pushTask = followedHere((kind) => kind === "dhis2.push");
  return (
    <main id="main">
      <p>
        <Link to="/dhis2">← {t("dhis2.connection.back")}</Link>
      </p>
      <h1>{connection ? t("dhis2.connection.heading", { name: connection.name }) : t("dhis2.connection.title")}</h1>
      <NotFound error={error} message={t("dhis2.connection.notFound", { id })} />
      {!connection && !error && <p aria-busy="true">{t("list.loading")}</p>}
      {connection && (
        <>
          <Facts
            connection={connection}
            me={me}
            onChecked={(checked) => (checked ? setConnection(checked) : reloadConnection())}
          />
          {canManage(me) && <Change connection={connection} onChanged={setConnection} />}
          {writer && (
            <TreeForm
              connection={connection}
              sources={sources}
              onStarted={follow}
              onSourceMade={() => setSourcesRound((n) => n + 1)}
            />
          )}
          {treeTask && (
            <Followed id={taskId} state={followed} title={t(`dhis2.follow.${treeTask.kind}`, { id: taskId })} />
          )}
          {writer && (
            <PushForm connection={connection} sources={sources} onStarted={follow} refresh={ended} />
          )}
          {pushTask && (
            <>
              <Followed
                id={taskId}
                state={followed}
                title={t(pushTask.params.dry_run ? "dhis2.follow.dryRun" : "dhis2.follow.push", { id: taskId })}
              />
              {pushTask.status === "SUCCESS" && pushTask.params.dry_run && (
                <PushForReal task={pushTask} onStarted={follow} />
              )}
            </>
          )}
          <Runs connection={connection} sourceName={sourceName} refresh={ended} />
          <Schedules connection={connection} sources={sources} sourceName={sourceName} canWrite={writer} />
        </>
      )}
    </main>
  );
}
