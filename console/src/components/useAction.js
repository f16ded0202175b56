import { useState } from "preact/hooks";

// For a form or a button that calls the API: `run(action)` clears the last error, is busy while the
// action runs, and keeps the API's error for the form to show (resolving to undefined). A page that
// navigates away on success is not re-rendered.
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null });
  async function run(action) {
    setState({ busy: true, error: null });
    try {
      const result = await action();
      setState({ busy: false, error: null });
      return result;
    } catch (failure) {
      setState({ busy: false, error: failure });
      return undefined;
    }
  }
  const setError = (error) => setState({ busy: false, error });
  return [run, state.busy, state.error, setError];
}
