import { t } from "../strings.js";

// A table of `rows` with a caption and `columns` ({label, render(row)}); `rows` null while loading.
// `empty` says whether to show "Nothing here yet." for no rows (not when an error says why).
export function Table({ caption, columns, rows, rowKey = (row) => row.id, empty = true }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col" key={column.label}>
              {column.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody aria-busy={rows === null ? "true" : "false"}>
        {rows === null && (
          <tr>
            <td colSpan={columns.length}>{t("list.loading")}</td>
          </tr>
        )}
        {rows?.length === 0 && empty && (
          <tr>
            <td colSpan={columns.length}>{t("list.empty")}</td>
          </tr>
        )}
        {rows?.map((row, index) => (
          <tr key={rowKey(row, index)}>
            {columns.map((column) => (
              <td key={column.label}>{column.render(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
