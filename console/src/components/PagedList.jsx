import { useEffect, useState } from "preact/hooks";
import { page } from "../api.js";
import { t } from "../strings.js";
import { ErrorMessage } from "./ErrorMessage.jsx";
import { Table } from "./Table.jsx";

// A table over one of the API's paged lists. The cursors already walked are kept so that
// "Previous" goes back; a change of `query` or `refresh` reloads from the current page, and so
// does `reloadAfter(rows)` milliseconds when it gives a number (rows still changing, say).
// `onRows(rows)` hears of each page loaded (a map fitting itself to them, say).
export function PagedList({
  path,
  query = {},
  columns,
  caption,
  refresh,
  reloadAfter = () => null,
  onRows = () => {},
  limit = 25,
  rowKey = (row) => row.id,
}) {
  const [cursors, setCursors] = useState([null]);
  const [state, setState] = useState({ rows: null, next: null, error: null });
  const [round, setRound] = useState(0);
  const queryKey = JSON.stringify(query);

  useEffect(() => setCursors([null]), [path, queryKey]);

  useEffect(() => {
    let live = true;
    page(path, query, cursors[cursors.length - 1], limit).then(
      (answer) => {
        if (!live) return;
        setState({ rows: answer.results, next: answer.next_cursor, error: null });
        onRows(answer.results);
      },
      (error) => live && setState({ rows: [], next: null, error }),
    );
    return () => {
      live = false;
    };
  }, [path, queryKey, cursors, refresh, round]);

  const delay = state.rows && !state.error ? reloadAfter(state.rows) : null;
  useEffect(() => {
    if (delay === null) return undefined;
    const timer = setTimeout(() => setRound((n) => n + 1), delay);
    return () => clearTimeout(timer);
  }, [state, delay]);

  const { rows, next, error } = state;
  return (
    <div class="paged-list">
      <ErrorMessage error={error} />
      <Table caption={caption} columns={columns} rows={rows} rowKey={rowKey} empty={!error} />
      <nav class="pager" aria-label={caption}>
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          {t("list.previous")}
        </button>
        <span>{t("list.page", { n: cursors.length })}</span>
        <button type="button" disabled={!next} onClick={() => setCursors([...cursors, next])}>
          {t("list.next")}
        </button>
      </nav>
    </div>
  );
}
