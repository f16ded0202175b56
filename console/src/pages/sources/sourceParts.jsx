// What the sources pages share: who may do what, the source and its versions, and "not found".
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { useAll } from "../../components/useAll.js";
import { useOne } from "../../components/useOne.js";
import { t } from "../../strings.js";

// Whether the caller may change sources, versions and units (managers).
export const canWrite = (me) => me.permissions.includes("orgunits.write");
export const canRunTasks = (me) => me.permissions.includes("tasks.run");

// The source itself, or the API's error (404: not found or not the caller's).
export function useSource(id) {
  const [state, reload] = useOne(`/api/data-sources/${id}`);
  return [{ source: state.value, error: state.error }, reload];
}

// Every version of a source (a registry has a handful), for the pickers.
export function useVersions(sourceId, refresh) {
  return useAll(`/api/data-sources/${sourceId}/versions`, refresh) || [];
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
