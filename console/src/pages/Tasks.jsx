import { useEffect, useState } from "preact/hooks";
import { api, TERMINAL } from "../api.js";
import { ErrorMessage } from "../components/ErrorMessage.jsx";
import { Field, formLevel } from "../components/Field.jsx";
import { PagedList } from "../components/PagedList.jsx";
import { StatusBadge } from "../components/StatusBadge.jsx";
import { Link, navigate, ROOT } from "../router.jsx";
import { formatTime, t } from "../strings.js";

const STATUSES = ["QUEUED", "RUNNING", "SUCCESS", "ERRORED", "KILLED"];
const LIST_RELOAD_MS = 3000; // while a task on the page has not ended
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

// The filters live in the URL (?scope=&status=&kind=), so a filtered list can be bookmarked.
function useFilters(params) {
  const [filters, setFilters] = useState({
    scope: params.get("scope") || "mine",
    status: params.get("status") || "",
    kind: params.get("kind") || "",
  });
  const change = (name, value) => {
    const next = { ...filters, [name]: value };
    setFilters(next);
    const search = new URLSearchParams(Object.entries(next).filter(([, v]) => v)).toString();
    window.history.replaceState(null, "", `${ROOT}/tasks${search ? `?${search}` : ""}`);
  };
  return [filters, change];
}

function Filters({ filters, change }) {
  return (
    <form class="filters" aria-label={t("tasks.filters")} onSubmit={(event) => event.preventDefault()}>
      <fieldset>
        <legend>{t("tasks.scope")}</legend>
        {["mine", "account"].map((scope) => (
          <label key={scope} class="inline">
            <input
              type="radio"
              name="scope"
              value={scope}
              checked={filters.scope === scope}
              onChange={() => change("scope", scope)}
            />
            {t(`tasks.scope.${scope}`)}
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="filter-status">{t("tasks.status")}</label>
        <select id="filter-status" value={filters.status} onChange={(event) => change("status", event.target.value)}>
          <option value="">{t("tasks.status.any")}</option>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {t(`status.${status}`)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-kind">{t("tasks.kind")}</label>
        <input
          id="filter-kind"
          value={filters.kind}
          placeholder={t("tasks.kind.hint")}
          onChange={(event) => change("kind", event.target.value.trim())}
        />
      </div>
    </form>
  );
}

function DemoLauncher() {
  const [error, setError] = useState(null);
  async function start(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const body = { n: Number(form.get("n")), sleep_seconds: Number(form.get("sleep_seconds")) };
      const task = await api("POST", "/api/tasks/demo", { body });
      navigate(`/tasks/${task.id}`);
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <section class="demo" aria-labelledby="demo-title">
      <h2 id="demo-title">{t("tasks.demo.title")}</h2>
      <p>{t("tasks.demo.intro")}</p>
      <ErrorMessage error={formLevel(error)} />
      <form onSubmit={start} class="inline-form">
        {/* No max here: the API's own limit, and its message on the field, are the ones that count. */}
        <Field id="demo-n" name="n" label={t("tasks.demo.n")} type="number" min="1" defaultValue="20" error={error} />
        <Field
          id="demo-sleep"
          name="sleep_seconds"
          label={t("tasks.demo.sleep")}
          type="number"
          min="0"
          step="0.05"
          defaultValue="0.2"
          error={error}
        />
        <button type="submit">{t("tasks.demo.start")}</button>
      </form>
    </section>
  );
}

export function Tasks({ me, params }) {
  const [filters, change] = useFilters(params);
  useEffect(() => {
    document.title = `${t("tasks.title")} · ${t("app.name")}`;
  }, []);
  const query = {
    status: filters.status,
    kind: filters.kind,
    launcher: filters.scope === "mine" ? me.id : null,
  };
  const columns = [
    { label: t("tasks.col.id"), render: (task) => <Link to={`/tasks/${task.id}`}>#{task.id}</Link> },
    { label: t("tasks.col.kind"), render: (task) => task.kind },
    { label: t("tasks.col.status"), render: (task) => <StatusBadge status={task.status} /> },
    {
      label: t("tasks.col.progress"),
      render: (task) => (task.progress.percent === null ? task.progress.value : `${Math.round(task.progress.percent)} %`),
    },
    { label: t("tasks.col.created"), render: (task) => formatTime(task.created_at) },
    { label: t("tasks.col.ended"), render: (task) => formatTime(task.ended_at) },
  ];
  return (
    <main id="main">
      <h1>{t("tasks.title")}</h1>
      <Filters filters={filters} change={change} />
      <PagedList
        path="/api/tasks"
        query={query}
        columns={columns}
        caption={t("tasks.caption")}
        reloadAfter={(tasks) => (tasks.some((task) => !TERMINAL.has(task.status)) ? LIST_RELOAD_MS : null)}
      />
      {LOCAL_HOSTS.has(window.location.hostname) && <DemoLauncher />}
    </main>
  );
}
