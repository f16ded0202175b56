import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";

// One object of the API (null while loading), its error (404: not found or another account's).
export function useOne(path) {
  const [state, setState] = useState({ value: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    api("GET", path).then(
      (value) => live && setState({ value, error: null }),
      (error) => live && setState({ value: null, error }),
    );
    return () => {
      live = false;
    };
  }, [path, round]);
  return [state, () => setRound((n) => n + 1), (value) => setState({ value, error: null })];
}
