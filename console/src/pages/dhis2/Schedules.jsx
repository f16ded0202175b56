// A connection's sync schedules (EventBridge rate or cron, UTC): listed, made, paused, deleted.
import { useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { useAction } from "../../components/useAction.js";
import { Link } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { SourceSelect } from "./TreeActions.jsx";

export function Schedules({ connection, sources, sourceName, canWrite }) {
  const [refresh, setRefresh] = useState(0);
  const [rowError, setRowError] = useState(null);
  const [choice, setChoice] = useState("");
  const [act, busy, error] = useAction();
  const sourceId = choice || (sources?.length ? String(sources[0].id) : "");
  async function create(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await act(async () => {
      const body = {
        data_source_id: Number(sourceId),
        expression: form.get("expression").trim(),
        enabled: form.get("enabled") === "on",
      };
      await api("POST", `/api/dhis2/connections/${connection.id}/schedules`, { body });
      setRefresh((n) => n + 1);
    });
  }
  async function change(schedule, method, body) {
    setRowError(null);
    try {
      await api(method, `/api/dhis2/schedules/${schedule.id}`, { body });
    } catch (failure) {
      setRowError(failure);
    }
    setRefresh((n) => n + 1);
  }
  const columns = [
    {
      label: t("dhis2.schedules.col.source"),
      render: (s) => <Link to={`/sources/${s.data_source_id}`}>{sourceName(s.data_source_id)}</Link>,
    },
    { label: t("dhis2.schedules.col.expression"), render: (s) => <code>{s.expression}</code> },
    { label: t("dhis2.schedules.col.enabled"), render: (s) => t(s.enabled ? "dhis2.yes" : "dhis2.no") },
    { label: t("dhis2.schedules.col.next"), render: (s) => (s.enabled ? formatTime(s.next_run_at) : "—") },
    { label: t("dhis2.schedules.col.last"), render: (s) => formatTime(s.last_fired_at) },
  ];
  if (canWrite) {
    columns.push({
      label: t("dhis2.col.actions"),
      render: (s) => (
        <span class="button-row">
          <button type="button" onClick={() => change(s, "PATCH", { enabled: !s.enabled })}>
            {t(s.enabled ? "dhis2.schedules.pause" : "dhis2.schedules.resume")}
          </button>
          <button
            type="button"
            class="danger"
            aria-label={t("dhis2.schedules.deleteFor", { expression: s.expression })}
            onClick={() => window.confirm(t("dhis2.schedules.confirmDelete")) && change(s, "DELETE")}
          >
            {t("dhis2.schedules.delete")}
          </button>
        </span>
      ),
    });
  }
  return (
    <section aria-labelledby="dhis2-schedules-title">
      <h2 id="dhis2-schedules-title">{t("dhis2.schedules.title")}</h2>
      <ErrorMessage error={rowError} />
      <PagedList
        path={`/api/dhis2/connections/${connection.id}/schedules`}
        columns={columns}
        caption={t("dhis2.schedules.caption")}
        refresh={refresh}
      />
      {canWrite && (
        <form class="inline-form" onSubmit={create} aria-label={t("dhis2.schedules.create")}>
          <ErrorMessage error={formLevel(error)} />
          <SourceSelect id="schedule-source" sources={sources} value={sourceId} onChange={setChoice} error={error} />
          <Field
            id="schedule-expression"
            name="expression"
            label={t("dhis2.schedules.expression")}
            placeholder="rate(6 hours)"
            required
            error={error}
          />
          <div class="field check-field">
            <label class="inline">
              <input type="checkbox" name="enabled" defaultChecked />
              {t("dhis2.schedules.enabled")}
            </label>
          </div>
          <div class="field">
            <button type="submit" disabled={busy || !sourceId}>
              {t("dhis2.schedules.create")}
            </button>
          </div>
          <p class="hint schedule-hint">{t("dhis2.schedules.hint")}</p>
        </form>
      )}
    </section>
  );
}
