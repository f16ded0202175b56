import { useEffect, useState } from "preact/hooks";
import { api, TERMINAL } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { useTask } from "../../components/useTask.js";
import { RowsTable } from "../../components/RowsTable.jsx";
import { TaskFollow, useArtifactJson } from "../../components/TaskFollow.jsx";
import { Link, navigate } from "../../router.jsx";
import { formatBytes, t } from "../../strings.js";
import { canRunTasks, NotFoundSource, useSource, useVersions } from "./sourceParts.jsx";

const STATUSES = ["added", "removed", "changed"];
const SHOWN_MAX_BYTES = 20 * 1024 * 1024; // larger diffs: the CSV download
const CELL_CHARS = 120;

const cell = (value) => {
  if (value === null || value === undefined) return "";
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  return text.length > CELL_CHARS ? `${text.slice(0, CELL_CHARS)}…` : text;
};

// One row per field that differs: an added unit's fields under "after", a removed one's under "before".
function fieldRows(unit) {
  if (unit.status === "changed") {
    return Object.entries(unit.changes).map(([field, [before, after]]) => ({ field, before, after }));
  }
  const side = unit.status === "added" ? unit.after : unit.before;
  return Object.entries(side)
    .filter(([, value]) => value !== null && value !== undefined && !(Array.isArray(value) && !value.length))
    .map(([field, value]) => (unit.status === "added" ? { field, after: value } : { field, before: value }));
}

function DiffForm({ source, versions, error, onStart }) {
  const [before, setBefore] = useState("");
  const [after, setAfter] = useState("");
  useEffect(() => {
    if (versions.length >= 2 && !before && !after) {
      setBefore(String(versions[versions.length - 2].id));
      setAfter(String(versions[versions.length - 1].id));
    }
  }, [versions]);
  const options = versions.map((v) => (
    <option key={v.id} value={String(v.id)}>
      {t("sources.compare.version", { number: v.number, count: v.org_unit_count })}
    </option>
  ));
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        onStart(Number(before), Number(after));
      }}
    >
      <Field id="diff-before" name="before_version_id" label={t("sources.compare.before")} error={error}>
        <select id="diff-before" value={before} onChange={(event) => setBefore(event.target.value)}>
          {options}
        </select>
      </Field>
      <Field id="diff-after" name="after_version_id" label={t("sources.compare.after")} error={error}>
        <select id="diff-after" value={after} onChange={(event) => setAfter(event.target.value)}>
          {options}
        </select>
      </Field>
      <div class="field">
        <button type="submit" disabled={versions.length < 2}>
          {t("sources.compare.submit")}
        </button>
      </div>
    </form>
  );
}

function Differences({ task }) {
  const { artifact, data, error, tooLarge } = useArtifactJson(task, "diff.json", SHOWN_MAX_BYTES);
  const [shown, setShown] = useState("");
  const csv = task.artifacts.find((one) => one.name === "diff.csv");
  const counts = task.result;
  const summary = (
    <dl class="facts" data-testid="diff-summary">
      {[...STATUSES, "unchanged"].flatMap((status) => [
        <dt key={`${status}-t`}>{t(`sources.compare.${status}`)}</dt>,
        <dd key={`${status}-d`} data-testid={`diff-${status}`}>
          {counts[status]}
        </dd>,
      ])}
    </dl>
  );
  const download = csv && (
    <p>
      <a href={csv.url} download={csv.name}>
        {csv.name}
      </a>{" "}
      ({formatBytes(csv.size)})
    </p>
  );
  let body = null;
  if (tooLarge) body = <p>{t("sources.compare.tooLarge", { size: formatBytes(artifact.size) })}</p>;
  else if (error) body = <p role="alert">{t("sources.compare.failed", { message: error.message })}</p>;
  else if (!data) body = <p aria-busy="true">{t("sources.compare.loading")}</p>;
  else if (!data.units.length) body = <p>{t("sources.compare.none")}</p>;
  else {
    const units = shown ? data.units.filter((unit) => unit.status === shown) : data.units;
    const rows = units.flatMap((unit) =>
      fieldRows(unit).map((row, index) => ({ ...row, ref: unit.source_ref, status: unit.status, first: index === 0 })),
    );
    const columns = [
      { label: t("sources.compare.col.ref"), render: (row) => (row.first ? row.ref : "") },
      {
        label: t("sources.compare.col.change"),
        render: (row) => (row.first ? t(`sources.compare.${row.status}`) : ""),
      },
      { label: t("sources.compare.col.field"), render: (row) => t(`sources.field.${row.field}`) },
      { label: t("sources.compare.col.before"), render: (row) => cell(row.before) },
      { label: t("sources.compare.col.after"), render: (row) => cell(row.after) },
    ];
    body = (
      <>
        <div class="filters">
          <div class="field">
            <label for="diff-show">{t("sources.compare.show")}</label>
            <select id="diff-show" value={shown} onChange={(event) => setShown(event.target.value)}>
              <option value="">{t("sources.compare.show.all")}</option>
              {STATUSES.map((status) => (
                <option key={status} value={status}>
                  {t(`sources.compare.${status}`)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <RowsTable
          rows={rows}
          columns={columns}
          caption={t("sources.compare.caption", { count: units.length })}
          testid="diff-table"
        />
      </>
    );
  }
  return (
    <section aria-labelledby="diff-title" data-testid="diff">
      <h2 id="diff-title">{t("sources.compare.summary")}</h2>
      {summary}
      {download}
      {body}
    </section>
  );
}

function DiffTask({ id }) {
  const [state] = useTask(id);
  const { task } = state;
  return (
    <>
      <TaskFollow id={id} state={state} title={t("sources.compare.task", { id })} />
      {task && TERMINAL.has(task.status) && task.status === "SUCCESS" && <Differences task={task} />}
    </>
  );
}

export function ComparePage({ id, me, params }) {
  const [{ source, error }] = useSource(id);
  const versions = useVersions(id, 0);
  const [startError, setStartError] = useState(null);
  const taskId = Number(params.get("task")) || null;
  useEffect(() => {
    document.title = `${t("sources.source.compare")} · ${t("app.name")}`;
  }, []);
  async function start(before, after) {
    setStartError(null);
    try {
      const body = { before_version_id: before, after_version_id: after };
      const task = await api("POST", "/api/versions/diff", { body });
      navigate(`/sources/${id}/compare?task=${task.id}`);
    } catch (failure) {
      setStartError(failure);
    }
  }
  return (
    <main id="main">
      <p>
        <Link to={`/sources/${id}`}>← {t("sources.import.toSource")}</Link>
      </p>
      <h1>{source ? t("sources.compare.title", { name: source.name }) : t("sources.source.compare")}</h1>
      <NotFoundSource id={id} error={error} />
      {source && canRunTasks(me) && (
        <>
          <ErrorMessage error={formLevel(startError)} />
          <DiffForm source={source} versions={versions} error={startError} onStart={start} />
        </>
      )}
      {source && taskId && <DiffTask key={taskId} id={taskId} />}
    </main>
  );
}
