import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { Artifacts } from "../../components/Artifacts.jsx";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { useTask } from "../../components/useTask.js";
import { UnitStatusOptions } from "../../components/UnitStatusOptions.jsx";
import { TaskFollow } from "../../components/TaskFollow.jsx";
import { Link, ROOT } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { canWrite, NotFoundSource, useSource, useVersions } from "./sourceParts.jsx";

const EXPORT_FORMATS = ["csv", "xlsx", "geojson", "gpkg"];

function Versions({ source, me, refresh, changed }) {
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  async function makeDefault(version) {
    setError(null);
    try {
      await api("POST", `/api/versions/${version.id}/make-default`);
      setNotice(t("sources.source.madeDefault", { number: version.number }));
      changed();
    } catch (failure) {
      setError(failure);
    }
  }
  async function copy(version) {
    setError(null);
    try {
      const copied = await api("POST", `/api/versions/${version.id}/copy`, { body: {} });
      setNotice(
        <>
          {t("sources.source.copying", { number: copied.version.number, from: version.number })}{" "}
          <Link to={`/tasks/${copied.task.id}`}>{t("follow.open")}</Link>
        </>,
      );
      changed();
    } catch (failure) {
      setError(failure);
    }
  }
  const writable = canWrite(me) && !source.read_only;
  const columns = [
    { label: t("sources.source.col.version"), render: (v) => t("sources.source.versionName", { number: v.number }) },
    { label: t("sources.source.col.description"), render: (v) => v.description || t("sources.none") },
    {
      label: t("sources.source.col.units"),
      render: (v) => <span data-testid={`units-${v.number}`}>{v.org_unit_count}</span>,
    },
    { label: t("sources.source.col.created"), render: (v) => formatTime(v.created_at) },
    {
      label: t("sources.source.col.default"),
      render: (v) =>
        v.account_default ? (
          <span class="badge status-success">{t("sources.source.accountDefault")}</span>
        ) : (
          canWrite(me) && (
            <button type="button" class="link" onClick={() => makeDefault(v)}>
              {t("sources.source.makeDefault", { number: v.number })}
            </button>
          )
        ),
    },
  ];
  if (writable) {
    columns.push({
      label: t("sources.source.col.actions"),
      render: (v) => (
        <button type="button" class="link" onClick={() => copy(v)}>
          {t("sources.source.copy", { number: v.number })}
        </button>
      ),
    });
  }
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">{t("sources.source.versions")}</h2>
      <ErrorMessage error={error} />
      {notice && <p role="status">{notice}</p>}
      <PagedList
        path={`/api/data-sources/${source.id}/versions`}
        columns={columns}
        caption={t("sources.source.versions.caption")}
        refresh={refresh}
      />
    </section>
  );
}

function NewVersion({ source, changed }) {
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  async function create(event) {
    event.preventDefault();
    const form = event.currentTarget;
    setError(null);
    try {
      const description = new FormData(form).get("description") || null;
      const version = await api("POST", `/api/data-sources/${source.id}/versions`, { body: { description } });
      setNotice(t("sources.source.newVersion.created", { number: version.number }));
      form.reset();
      changed();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <section aria-labelledby="new-version-title">
      <h2 id="new-version-title">{t("sources.source.newVersion.title")}</h2>
      <ErrorMessage error={formLevel(error)} />
      {notice && <p role="status">{notice}</p>}
      <form class="inline-form" onSubmit={create}>
        <Field
          id="version-description"
          name="description"
          label={t("sources.source.newVersion.description")}
          error={error}
        />
        <div class="field">
          <button type="submit">{t("sources.source.newVersion.submit")}</button>
        </div>
      </form>
    </section>
  );
}

function ExportResult({ id }) {
  const [state] = useTask(id);
  const { task } = state;
  return (
    <>
      <TaskFollow id={id} state={state} title={t("sources.export.task", { id })} />
      {task?.status === "SUCCESS" && (
        <div data-testid="export-done">
          <p>{t("sources.export.exported", { count: task.result.exported })}</p>
          <Artifacts artifacts={task.artifacts} />
        </div>
      )}
    </>
  );
}

function Export({ source, versions, params }) {
  const [error, setError] = useState(null);
  const [taskId, setTaskId] = useState(() => Number(params.get("export")) || null);
  const fallback = versions.find((v) => v.account_default) || versions.find((v) => v.id === source.default_version_id);
  async function start(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    const filters = { version: form.get("version") };
    if (form.get("search")) filters.search = form.get("search");
    if (form.get("validation_status")) filters.validation_status = form.get("validation_status");
    try {
      const body = { what: "orgunits", format: form.get("format"), filters };
      const task = await api("POST", "/api/exports", { body });
      setTaskId(task.id);
      window.history.replaceState(null, "", `${ROOT}/sources/${source.id}?export=${task.id}`);
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <section aria-labelledby="export-title">
      <h2 id="export-title">{t("sources.export.title")}</h2>
      <p>{t("sources.export.intro")}</p>
      <ErrorMessage error={formLevel(error)} />
      <form class="inline-form" onSubmit={start}>
        <Field id="export-version" name="version" label={t("sources.export.version")} error={error}>
          <select id="export-version" name="version" key={fallback?.id}>
            {versions.map((v) => (
              <option key={v.id} value={String(v.id)} selected={v.id === fallback?.id}>
                {t("sources.compare.version", { number: v.number, count: v.org_unit_count })}
              </option>
            ))}
          </select>
        </Field>
        <Field id="export-format" name="format" label={t("sources.export.format")} error={error}>
          <select id="export-format" name="format">
            {EXPORT_FORMATS.map((format) => (
              <option key={format} value={format}>
                {t(`sources.export.format.${format}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="export-search" name="search" label={t("sources.export.search")} error={error} />
        <Field id="export-status" name="validation_status" label={t("sources.export.status")} error={error}>
          <select id="export-status" name="validation_status">
            <option value="">{t("sources.export.status.any")}</option>
            <UnitStatusOptions />
          </select>
        </Field>
        <div class="field">
          <button type="submit" disabled={!versions.length}>
            {t("sources.export.submit")}
          </button>
        </div>
      </form>
      {taskId && <ExportResult key={taskId} id={taskId} />}
    </section>
  );
}

export function SourcePage({ id, me, params }) {
  const [{ source, error }] = useSource(id);
  const [refresh, setRefresh] = useState(0);
  const changed = () => setRefresh((n) => n + 1);
  const versions = useVersions(id, refresh);
  useEffect(() => {
    document.title = `${source ? source.name : t("sources.title")} · ${t("app.name")}`;
  }, [source?.name]);
  const sourceDefault = versions.find((v) => v.id === source?.default_version_id);
  return (
    <main id="main">
      <p>
        <Link to="/sources">← {t("sources.back")}</Link>
      </p>
      <h1>{source ? t("sources.source.title", { name: source.name }) : t("sources.title")}</h1>
      {!source && !error && <p aria-busy="true">{t("sources.source.loading")}</p>}
      <NotFoundSource id={id} error={error} />
      {source && (
        <>
          <dl class="facts">
            <dt>{t("sources.source.description")}</dt>
            <dd>{source.description || t("sources.none")}</dd>
            <dt>{t("sources.source.readOnly")}</dt>
            <dd>{t(source.read_only ? "sources.yes" : "sources.no")}</dd>
            <dt>{t("sources.source.sourceDefault")}</dt>
            <dd>
              {sourceDefault ? t("sources.source.versionName", { number: sourceDefault.number }) : t("sources.none")}
            </dd>
          </dl>
          <nav class="inline-form source-actions" aria-label={t("sources.source.actions")}>
            {canWrite(me) && !source.read_only && (
              <Link to={`/sources/${id}/import`}>{t("sources.source.import")}</Link>
            )}
            <Link to={`/sources/${id}/compare`}>{t("sources.source.compare")}</Link>
          </nav>
          <Versions source={source} me={me} refresh={refresh} changed={changed} />
          {canWrite(me) && !source.read_only && <NewVersion source={source} changed={changed} />}
          <Export source={source} versions={versions} params={params} />
        </>
      )}
    </main>
  );
}
