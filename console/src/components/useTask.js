import { useEffect, useState } from "preact/hooks";
import { api, TERMINAL } from "../api.js";

const FIRST_DELAY_MS = 400;
const MAX_DELAY_MS = 8000;
// For the first half minute a bar is watched most closely: never more than a second between polls.
const CLOSE_WATCH_MS = 30_000;
const CLOSE_DELAY_MS = 1000;

// Polls a task while it runs: quickly while it moves, backing off ×1.5 (to 1 s for the first half
// minute, then to 8 s) while it does not,
// and not at all once it has ended or the API refuses it (4xx). `again()` polls at once (after a
// kill, say). No id: nothing is polled.
export function useTask(id) {
  const [state, setState] = useState({ task: null, error: null, polling: Boolean(id) });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (!id) return undefined;
    let stopped = false;
    let timer = null;
    let delay = FIRST_DELAY_MS;
    let seen = null;
    const started = Date.now();
    setState((previous) => (previous.task?.id === id ? previous : { task: null, error: null, polling: true }));
    async function poll() {
      try {
        const task = await api("GET", `/api/tasks/${id}`);
        if (stopped) return;
        const ended = TERMINAL.has(task.status);
        setState({ task, error: null, polling: !ended });
        if (ended) return;
        const ceiling = Date.now() - started < CLOSE_WATCH_MS ? CLOSE_DELAY_MS : MAX_DELAY_MS;
        delay = seen !== null && task.updated_at !== seen ? FIRST_DELAY_MS : Math.min(delay * 1.5, ceiling);
        seen = task.updated_at;
      } catch (error) {
        if (stopped) return;
        const final = error.status >= 400 && error.status < 500;
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

// The time now, every second while `ticking`.
export function useNow(ticking) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!ticking) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

export function elapsedSeconds(task, now) {
  if (!task.started_at) return 0;
  const end = task.ended_at ? Date.parse(task.ended_at) : now;
  return Math.max(0, (end - Date.parse(task.started_at)) / 1000);
}
