import { useEffect, useState } from "preact/hooks";
import { api, ApiError, TERMINAL } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { errorProps, Field, formLevel } from "../../components/Field.jsx";
import { useTask } from "../../components/useTask.js";
import { RowsTable } from "../../components/RowsTable.jsx";
import { TaskFollow, useArtifactJson } from "../../components/TaskFollow.jsx";
import { Link, navigate } from "../../router.jsx";
import { formatBytes, t } from "../../strings.js";
import { canWrite, NotFoundSource, useSource, useVersions } from "./sourceParts.jsx";

const FORMATS = ["gpkg", "csv", "geojson"];
const EXTENSIONS = { gpkg: "gpkg", csv: "csv", txt: "csv", geojson: "geojson", json: "geojson" };

const fieldError = (field, message) => new ApiError(400, "invalid", message, { field });

function parsedJson(form, name) {
  const raw = (form.get(name) || "").trim();
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw fieldError(`options.${name}`, t("sources.import.badJson", { message: error.message }));
  }
}

// S3 answers a refused POST with XML: its <Message>, else the status alone.
async function uploadFailure(response) {
  const text = await response.text().catch(() => "");
  const message = text.match(/<Message>([^<]*)<\/Message>/)?.[1] || response.statusText;
  const said = t("sources.import.uploadFailed", { status: response.status, message });
  return new ApiError(response.status, "upload", said);
}

// The file goes to S3 with the presigned POST (its fields, then the file), never through the API.
async function upload(file) {
  const grant = await api("POST", "/api/imports/upload-url", { body: { filename: file.name } });
  const body = new FormData();
  for (const [name, value] of Object.entries(grant.fields)) body.append(name, value);
  body.append("file", file);
  let response;
  try {
    response = await fetch(grant.url, { method: "POST", body });
  } catch {
    throw new ApiError(0, "upload", t("sources.import.uploadFailed", { status: 0, message: t("error.network") }));
  }
  if (!response.ok) throw await uploadFailure(response);
  return grant.s3_key;
}

function ImportForm({ source }) {
  const versions = useVersions(source.id, 0);
  const [format, setFormat] = useState("gpkg");
  const [into, setInto] = useState("");
  const [dryRun, setDryRun] = useState(true);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  function picked(event) {
    const file = event.target.files[0];
    const guessed = file && EXTENSIONS[file.name.split(".").pop().toLowerCase()];
    if (guessed) setFormat(guessed);
  }
  async function start(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get("file");
    setError(null);
    try {
      if (!file || !file.name) throw fieldError("file", t("sources.import.noFile"));
      const csv = format === "csv";
      const options = {
        skip_invalid: form.get("skip_invalid") === "on",
        close_missing: form.get("close_missing") === "on",
        hierarchy: csv ? parsedJson(form, "hierarchy") : null,
        data_dict: csv ? parsedJson(form, "data_dict") : null,
        main_org_unit_name: (csv && (form.get("main_org_unit_name") || "").trim()) || null,
      };
      setBusy(t("sources.import.uploading", { name: file.name, size: formatBytes(file.size) }));
      const key = await upload(file);
      const body = {
        s3_key: key,
        format,
        data_source_id: source.id,
        version_id: into ? Number(into) : null,
        options,
        dry_run: dryRun,
      };
      const task = await api("POST", "/api/imports", { body });
      navigate(`/sources/${source.id}/import?task=${task.id}`);
    } catch (failure) {
      setError(failure);
      setBusy(null);
    }
  }
  return (
    <form class="import-form" onSubmit={start} aria-busy={busy ? "true" : "false"}>
      <ErrorMessage error={formLevel(error)} />
      <Field
        id="import-file"
        name="file"
        label={t("sources.import.file")}
        type="file"
        onChange={picked}
        error={error}
      />
      <div class="inline-form">
        <Field id="import-format" name="format" label={t("sources.import.format")} error={error}>
          <select
            id="import-format"
            value={format}
            onChange={(event) => setFormat(event.target.value)}
            {...errorProps(error, "format", "import-format")}
          >
            {FORMATS.map((name) => (
              <option key={name} value={name}>
                {t(`sources.import.format.${name}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="import-into" name="version_id" label={t("sources.import.into")} error={error}>
          <select
            id="import-into"
            value={into}
            onChange={(event) => setInto(event.target.value)}
            {...errorProps(error, "version_id", "import-into")}
          >
            <option value="">{t("sources.import.into.new")}</option>
            {versions.map((v) => (
              <option key={v.id} value={String(v.id)}>
                {t("sources.compare.version", { number: v.number, count: v.org_unit_count })}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <fieldset class="import-options">
        <legend>{t("sources.import.options")}</legend>
        <label class="inline">
          <input type="checkbox" name="skip_invalid" />
          {t("sources.import.skipInvalid")}
        </label>
        {into && (
          <label class="inline">
            <input type="checkbox" name="close_missing" />
            {t("sources.import.closeMissing")}
          </label>
        )}
        {format === "csv" && (
          <>
            <Field id="import-hierarchy" name="options.hierarchy" label={t("sources.import.hierarchy")} error={error}>
              <textarea
                id="import-hierarchy"
                name="hierarchy"
                rows="3"
                {...errorProps(error, "options.hierarchy", "import-hierarchy")}
              />
            </Field>
            <Field id="import-data-dict" name="options.data_dict" label={t("sources.import.dataDict")} error={error}>
              <textarea
                id="import-data-dict"
                name="data_dict"
                rows="3"
                {...errorProps(error, "options.data_dict", "import-data-dict")}
              />
            </Field>
            <Field
              id="import-main-name"
              name="options.main_org_unit_name"
              label={t("sources.import.mainName")}
              error={error}
            >
              <input
                id="import-main-name"
                name="main_org_unit_name"
                {...errorProps(error, "options.main_org_unit_name", "import-main-name")}
              />
            </Field>
          </>
        )}
        <label class="inline">
          <input type="checkbox" checked={dryRun} onChange={(event) => setDryRun(event.target.checked)} />
          {t("sources.import.dryRun")}
        </label>
      </fieldset>
      <button type="submit" disabled={Boolean(busy)}>
        {t(dryRun ? "sources.import.submitDry" : "sources.import.submitReal")}
      </button>
      {busy && <p role="status">{busy}</p>}
    </form>
  );
}

function Counts({ result, report }) {
  const errors = result ? result.errors : report.errors.length;
  const warnings = result ? result.warnings : report.warnings.length;
  // a dry run's counts say what the import would do
  const would = result?.dry_run ? "sources.import.would." : "sources.import.";
  const counts = result
    ? [
        [`${would}created`, result.created],
        [`${would}updated`, result.updated],
        ["sources.import.unchanged", result.unchanged],
        [`${would}closed`, result.closed],
      ]
    : [];
  return (
    <dl class="facts" data-testid="import-counts">
      {[...counts, ["sources.import.errors", errors], ["sources.import.warnings", warnings]].flatMap(([key, value]) => [
        <dt key={`${key}-t`}>{t(key)}</dt>,
        <dd key={`${key}-d`} data-testid={`count-${key.split(".").pop()}`}>
          {value ?? 0}
        </dd>,
      ])}
    </dl>
  );
}

function Report({ task }) {
  const { artifact, data, error } = useArtifactJson(task, "report.json");
  if (!artifact) return null;
  if (error) return <p role="alert">{t("sources.import.reportFailed", { message: error.message })}</p>;
  if (!data) return <p aria-busy="true">{t("sources.import.reportLoading")}</p>;
  const problems = [
    ...data.errors.map((p) => ({ ...p, kind: "error" })),
    ...data.warnings.map((p) => ({ ...p, kind: "warning" })),
  ];
  const columns = [
    { label: t("sources.import.col.kind"), render: (p) => t(`sources.import.kind.${p.kind}`) },
    { label: t("sources.import.col.layer"), render: (p) => p.layer ?? "" },
    { label: t("sources.import.col.row"), render: (p) => p.row ?? "" },
    { label: t("sources.import.col.field"), render: (p) => p.field ?? "" },
    { label: t("sources.import.col.ref"), render: (p) => p.ref ?? "" },
    { label: t("sources.import.col.message"), render: (p) => p.message },
  ];
  return (
    <section aria-labelledby="report-title" data-testid="import-report">
      <h2 id="report-title">{t("sources.import.report")}</h2>
      <h3>{t("sources.import.counts")}</h3>
      <Counts result={data.result || task.result} report={data} />
      {problems.length ? (
        <RowsTable
          rows={problems}
          columns={columns}
          caption={t("sources.import.problems.caption", { count: problems.length })}
          testid="problems"
        />
      ) : (
        <p>{t("sources.import.problems.none")}</p>
      )}
    </section>
  );
}

function GoForReal({ task, source }) {
  const [error, setError] = useState(null);
  const { params, result } = task;
  const skipping = result.errors > 0 && !params.skip_invalid;
  async function go() {
    setError(null);
    const body = {
      s3_key: params.s3_key,
      format: params.format,
      data_source_id: params.data_source_id,
      version_id: params.version_id,
      options: {
        skip_invalid: params.skip_invalid || skipping,
        close_missing: params.close_missing,
        hierarchy: params.hierarchy,
        data_dict: params.data_dict,
        main_org_unit_name: params.main_org_unit_name,
      },
      dry_run: false,
    };
    try {
      const created = await api("POST", "/api/imports", { body });
      navigate(`/sources/${source.id}/import?task=${created.id}`);
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <div class="actions">
      <ErrorMessage error={error} />
      {skipping && <p>{t("sources.import.hasErrors")}</p>}
      <button type="button" onClick={go}>
        {skipping ? t("sources.import.goSkipping", { count: result.errors }) : t("sources.import.go")}
      </button>
    </div>
  );
}

function Imported({ task, source }) {
  const [version, setVersion] = useState(null);
  const versionId = task.result?.version_id;
  useEffect(() => {
    if (versionId) api("GET", `/api/versions/${versionId}`).then(setVersion, () => {});
  }, [versionId]);
  if (!version) return null;
  return (
    <p role="status" data-testid="imported">
      {t("sources.import.done", { number: version.number, count: version.org_unit_count })}{" "}
      <Link to={`/sources/${source.id}`}>{t("sources.import.toSource")}</Link>
    </p>
  );
}

function ImportTask({ id, source, me }) {
  const [state] = useTask(id);
  const { task } = state;
  const ended = task && TERMINAL.has(task.status);
  const dry = task?.params?.dry_run;
  return (
    <>
      <TaskFollow
        id={id}
        state={state}
        title={task && t(dry ? "sources.import.kind.dry" : "sources.import.kind.real", { id })}
      />
      {ended && <Report task={task} />}
      {ended && task.status === "SUCCESS" && dry && canWrite(me) && <GoForReal task={task} source={source} />}
      {ended && task.status === "SUCCESS" && !dry && <Imported task={task} source={source} />}
      <p>
        <Link to={`/sources/${source.id}/import`}>{t("sources.import.another")}</Link>
      </p>
    </>
  );
}

export function ImportPage({ id, me, params }) {
  const [{ source, error }] = useSource(id);
  const taskId = Number(params.get("task")) || null;
  useEffect(() => {
    document.title = `${t("sources.source.import")} · ${t("app.name")}`;
  }, []);
  return (
    <main id="main">
      <p>
        <Link to={`/sources/${id}`}>← {t("sources.import.toSource")}</Link>
      </p>
      <h1>{source ? t("sources.import.title", { name: source.name }) : t("sources.source.import")}</h1>
      <NotFoundSource id={id} error={error} />
      {source && !taskId && (
        <>
          <p>{t("sources.import.intro")}</p>
          <ImportForm source={source} />
        </>
      )}
      {source && taskId && <ImportTask key={taskId} id={taskId} source={source} me={me} />}
    </main>
  );
}
