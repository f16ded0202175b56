import { useEffect, useState } from "preact/hooks";
import { t } from "../strings.js";
import { Table } from "./Table.jsx";

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
            {t("rows.previous")}
          </button>
          <span>
            {t("rows.range", {
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
            {t("rows.next")}
          </button>
        </nav>
      )}
    </div>
  );
}
