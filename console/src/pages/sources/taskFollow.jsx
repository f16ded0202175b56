// A task followed from a sources page (an import, an export, a diff): polled with backoff until it
// ends, its progress bar, status and a link to its own page; and the tables read from its artifacts.
import { useEffect, useState } from "preact/hooks";
import { api, TERMINAL } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { ProgressBar } from "../../components/ProgressBar.jsx";
import { Table } from "../../components/Table.jsx";
import { elapsedSeconds, useNow } from "../../components/useTask.js";
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";
import { StatusBadge } from "../Tasks.jsx";

// The task's progress, status and link; `children` shows below once it is known.
export function TaskFollow({ id, state, title }) {
  const { task, error } = state;
  const running = task ? !TERMINAL.has(task.status) : false;
  const now = useNow(running);
  return (
    <section class="task-follow" aria-labelledby={`follow-${id}`} data-testid="task-follow">
      <h2 id={`follow-${id}`}>{title || t("sources.follow.title", { id })}</h2>
      <ErrorMessage error={error} />
      {task && (
        <>
          <p class="follow-head">
            <span data-testid="task-status" data-status={task.status} aria-live="polite">
              <StatusBadge status={task.status} />
            </span>{" "}
            <Link to={`/tasks/${id}`}>{t("sources.follow.open")}</Link>
          </p>
          <ProgressBar progress={task.progress} running={running} elapsedSeconds={elapsedSeconds(task, now)} />
          {task.status === "ERRORED" && task.error && (
            <p class="task-error" role="alert">
              {t("sources.follow.error", { error: task.error })}
            </p>
          )}
          {task.status === "KILLED" && <p role="status">{t("sources.follow.killed")}</p>}
        </>
      )}
    </section>
  );
}

// The JSON of one of the task's artifacts, read through its presigned link (S3, the exports bucket's CORS).
export function useArtifactJson(task, name, maxBytes = Infinity) {
  const artifact = task?.artifacts?.find((one) => one.name === name);
  const [state, setState] = useState({ data: null, error: null, tooLarge: false });
  const url = artifact?.url;
  useEffect(() => {
    if (!artifact) return undefined;
    if (artifact.size > maxBytes) {
      setState({ data: null, error: null, tooLarge: true });
      return undefined;
    }
    let live = true;
    setState({ data: null, error: null, tooLarge: false });
    fetch(artifact.url)
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then(
        (data) => live && setState({ data, error: null, tooLarge: false }),
        (error) => live && setState({ data: null, error, tooLarge: false }),
      );
    return () => {
      live = false;
    };
  }, [task?.id, url]);
  return { artifact, ...state };
}

// A table over rows already in the browser, shown a page at a time.
export function RowsTable({ rows, columns, caption, pageSize = 50, testid, rowKey = (row, index) => index }) {
  const [start, setStart] = useState(0);
  useEffect(() => setStart(0), [rows]);
  const shown = rows.slice(start, start + pageSize);
  return (
    <div class="paged-list" data-testid={testid}>
      <Table caption={caption} columns={columns} rows={shown} rowKey={(row, index) => rowKey(row, start + index)} />
      {rows.length > pageSize && (
        <nav class="pager" aria-label={caption}>
          <button type="button" disabled={start === 0} onClick={() => setStart(Math.max(0, start - pageSize))}>
            {t("sources.rows.previous")}
          </button>
          <span>
            {t("sources.rows.range", {
              from: start + 1,
              to: Math.min(start + pageSize, rows.length),
              total: rows.length,
            })}
          </span>
          <button
            type="button"
            disabled={start + pageSize >= rows.length}
            onClick={() => setStart(start + pageSize)}
          >
            {t("sources.rows.next")}
          </button>
        </nav>
      )}
    </div>
  );
}

// For a control given to Field as its child: marked invalid and described by Field's message.
export const errorProps = (error, name, id) =>
  error?.field === name ? { "aria-invalid": "true", "aria-describedby": `${id}-error` } : {};

// Whether the caller may change sources, versions and units (managers).
export const canWrite = (me) => me.permissions.includes("orgunits.write");
export const canRunTasks = (me) => me.permissions.includes("tasks.run");

// The source itself, or the API's error (404: not found or not the caller's).
export function useSource(id) {
  const [state, setState] = useState({ source: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    api("GET", `/api/data-sources/${id}`).then(
      (source) => live && setState({ source, error: null }),
      (error) => live && setState({ source: null, error }),
    );
    return () => {
      live = false;
    };
  }, [id, round]);
  return [state, () => setRound((n) => n + 1)];
}

// Every version of a source (a registry has a handful), for the pickers.
export function useVersions(sourceId, refresh) {
  const [versions, setVersions] = useState([]);
  useEffect(() => {
    let live = true;
    (async () => {
      const all = [];
      let cursor = null;
      do {
        const answer = await api("GET", `/api/data-sources/${sourceId}/versions`, { query: { cursor, limit: 100 } });
        all.push(...answer.results);
        cursor = answer.next_cursor;
      } while (cursor && all.length < 1000);
      if (live) setVersions(all);
    })().catch(() => {});
    return () => {
      live = false;
    };
  }, [sourceId, refresh]);
  return versions;
}

export function NotFoundSource({ id, error }) {
  return error?.status === 404 ? (
    <p role="alert" data-testid="not-found">
      {t("sources.source.notFound", { id })}
    </p>
  ) : (
    <ErrorMessage error={error} />
  );
}
