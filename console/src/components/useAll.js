import { useEffect, useState } from "preact/hooks";
import { allPages } from "../api.js";

// Every row of a paged list (null while loading, [] without a path or on failure); read again when
// `refresh` changes.
export function useAll(path, refresh = 0) {
  const [rows, setRows] = useState(null);
  useEffect(() => {
    if (!path) {
      setRows([]);
      return undefined;
    }
    let live = true;
    setRows(null);
    allPages(path).then(
      (all) => live && setRows(all),
      () => live && setRows([]),
    );
    return () => {
      live = false;
    };
  }, [path, refresh]);
  return rows;
}
