import { useEffect, useState } from "preact/hooks";
import { api, TERMINAL } from "../api.js";
import { Artifacts } from "../components/Artifacts.jsx";
import { ErrorMessage } from "../components/ErrorMessage.jsx";
import { PagedList } from "../components/PagedList.jsx";
import { ProgressBar } from "../components/ProgressBar.jsx";
import { elapsedSeconds, useNow, useTask } from "../components/useTask.js";
import { Link, navigate } from "../router.jsx";
import { formatTime, t } from "../strings.js";
import { StatusBadge } from "../components/StatusBadge.jsx";

function Actions({ task, again }) {
  const [error, setError] = useState(null);
  async function act(path, then) {
    setError(null);
    try {
      then(await api("POST", `/api/tasks/${task.id}/${path}`));
    } catch (failure) {
      setError(failure);
    }
  }
  const running = !TERMINAL.has(task.status);
  return (
    <div class="actions">
      <ErrorMessage error={error} />
      {running && !task.should_be_killed && (
        <button type="button" class="danger" onClick={() => act("kill", again)}>
          {t("task.kill")}
        </button>
      )}
      {running && task.should_be_killed && <p role="status">{t("task.killRequested")}</p>}
      {(task.status === "ERRORED" || task.status === "KILLED") && (
        <button type="button" onClick={() => act("relaunch", (created) => navigate(`/tasks/${created.id}`))}>
          {t("task.relaunch")}
        </button>
      )}
    </div>
  );
}

function Logs({ task }) {
  const columns = [
    { label: t("task.logs.time"), render: (line) => formatTime(line.created_at) },
    { label: t("task.logs.level"), render: (line) => line.level },
    { label: t("task.logs.message"), render: (line) => line.message },
  ];
  return (
    <PagedList
      path={`/api/tasks/${task.id}/logs`}
      columns={columns}
      caption={t("task.logs.caption")}
      refresh={task.updated_at}
      limit={100}
    />
  );
}

export function TaskPage({ id }) {
  const [{ task, error, polling }, again] = useTask(id);
  const running = task ? !TERMINAL.has(task.status) : false;
  const now = useNow(running);
  useEffect(() => {
    document.title = `${t("task.title", { id })} · ${t("app.name")}`;
  }, [id]);
  return (
    <main id="main" data-polling={polling ? "true" : "false"}>
      <p>
        <Link to="/tasks">← {t("task.back")}</Link>
      </p>
      <h1>{t("task.title", { id })}</h1>
      {error && error.status === 404 ? <p role="alert">{t("task.notFound", { id })}</p> : <ErrorMessage error={error} />}
      {task && (
        <>
          <dl class="facts">
            <dt>{t("task.kind")}</dt>
            <dd>{task.kind}</dd>
            <dt>{t("task.status")}</dt>
            <dd data-testid="task-status" data-status={task.status} aria-live="polite">
              <StatusBadge status={task.status} />
            </dd>
          </dl>
          <ProgressBar progress={task.progress} running={running} elapsedSeconds={elapsedSeconds(task, now)} />
          <Actions task={task} again={again} />
          <dl class="facts">
            <dt>{t("task.created")}</dt>
            <dd>{formatTime(task.created_at)}</dd>
            <dt>{t("task.started")}</dt>
            <dd>{formatTime(task.started_at)}</dd>
            <dt>{t("task.ended")}</dt>
            <dd>{formatTime(task.ended_at)}</dd>
            <dt>{t("task.attempts")}</dt>
            <dd>{task.attempts}</dd>
          </dl>
          {task.error && (
            <>
              <h2>{t("task.error")}</h2>
              <p class="task-error">{task.error}</p>
            </>
          )}
          <h2>{t("task.params")}</h2>
          <pre>{JSON.stringify(task.params, null, 2)}</pre>
          {task.result !== null && (
            <>
              <h2>{t("task.result")}</h2>
              <pre data-testid="task-result">{JSON.stringify(task.result, null, 2)}</pre>
            </>
          )}
          <h2>{t("task.artifacts")}</h2>
          <Artifacts artifacts={task.artifacts} />
          <h2>{t("task.logs")}</h2>
          <Logs task={task} />
        </>
      )}
    </main>
  );
}
