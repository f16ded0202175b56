// What the sources pages share: who may do what, the source and its versions, and "not found".
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { t } from "../../strings.js";

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
