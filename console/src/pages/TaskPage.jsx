import { useEffect, useState } from "preact/hooks";
import { api, TERMINAL } from "../api.js";
import { ErrorMessage } from "../components/ErrorMessage.jsx";
import { PagedList } from "../components/PagedList.jsx";
import { ProgressBar } from "../components/ProgressBar.jsx";
import { Link, navigate } from "../router.jsx";
import { formatBytes, formatTime, t } from "../strings.js";
import { StatusBadge } from "./Tasks.jsx";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

// Polls the task while it runs: quickly while it moves, backing off ×1.5 (to 8 s) while it does
// not, and not at all once it has ended. `again()` polls at once (after a kill, say).
function useTask(id) {
  const [state, setState] = useState({ task: null, error: null, polling: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer = null;
    let delay = FIRST_DELAY_MS;
    let seen = null;
    async function poll() {
      try {
        const task = await api("GET", `/api/tasks/${id}`);
        if (stopped) return;
        const ended = TERMINAL.has(task.status);
        setState({ task, error: null, polling: !ended });
        if (ended) return;
        delay = seen !== null && task.updated_at !== seen ? FIRST_DELAY_MS : Math.min(delay * 1.5, MAX_DELAY_MS);
        seen = task.updated_at;
      } catch (error) {
        if (stopped) return;
        const final = error.status === 404 || error.status === 401 || error.status === 403;
        setState((previous) => ({ ...previous, error, polling: !final }));
        if (final) return;
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
      timer = setTimeout(poll, delay);
    }
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id, round]);
  return [state, () => setRound((n) => n + 1)];
}

function useNow(ticking) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!ticking) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

function elapsedSeconds(task, now) {
  if (!task.started_at) return 0;
  const end = task.ended_at ? Date.parse(task.ended_at) : now;
  return Math.max(0, (end - Date.parse(task.started_at)) / 1000);
}

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

function Artifacts({ artifacts }) {
  if (!artifacts.length) return <p>{t("task.artifactsNone")}</p>;
  return (
    <ul class="artifacts">
      {artifacts.map((artifact) => (
        <li key={artifact.name}>
          <a href={artifact.url} download={artifact.name}>
            {artifact.name}
          </a>{" "}
          ({artifact.content_type}, {formatBytes(artifact.size)})
        </li>
      ))}
    </ul>
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
