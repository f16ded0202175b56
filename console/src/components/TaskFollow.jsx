// A task followed where it was started (an import, an export, a diff, a DHIS2 run): polled with backoff
// by its page, its progress bar, status and a link to its own page; and its artifacts' JSON.
import { useEffect, useState } from "preact/hooks";
import { TERMINAL } from "../api.js";
import { Link } from "../router.jsx";
import { t } from "../strings.js";
import { ErrorMessage } from "./ErrorMessage.jsx";
import { ProgressBar } from "./ProgressBar.jsx";
import { StatusBadge } from "./StatusBadge.jsx";
import { elapsedSeconds, useNow } from "./useTask.js";

// The task's progress, status and a link to its page, from useTask's state.
export function TaskFollow({ id, state, title }) {
  const { task, error } = state;
  const running = task ? !TERMINAL.has(task.status) : false;
  const now = useNow(running);
  return (
    <section class="task-follow" aria-labelledby={`follow-${id}`} data-testid="task-follow">
      <h2 id={`follow-${id}`}>{title || t("follow.title", { id })}</h2>
      <ErrorMessage error={error} />
      {task && (
        <>
          <p class="follow-head">
            <span data-testid="task-status" data-status={task.status} aria-live="polite">
              <StatusBadge status={task.status} />
            </span>{" "}
            <Link to={`/tasks/${id}`}>{t("follow.open")}</Link>
          </p>
          <ProgressBar progress={task.progress} running={running} elapsedSeconds={elapsedSeconds(task, now)} />
          {task.status === "ERRORED" && task.error && (
            <p class="task-error" role="alert">
              {t("follow.error", { error: task.error })}
            </p>
          )}
          {task.status === "KILLED" && <p role="status">{t("follow.killed")}</p>}
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
