// What a finished DHIS2 task made, by kind: an import's counts and new version, a sync's changes and
// diff, a push's totals and each object's fate (push-report.json), a data-value run's import count.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { Artifacts } from "../../components/Artifacts.jsx";
import { RowsTable } from "../../components/RowsTable.jsx";
import { useArtifactJson } from "../../components/TaskFollow.jsx";
import { Link } from "../../router.jsx";
import { t } from "../../strings.js";
import { count } from "./dhis2Parts.jsx";

const REPORT_MAX_BYTES = 20 * 1024 * 1024; // larger push reports: the download only

export function Counts({ values, prefix, testid }) {
  const shown = values.filter(([, value]) => value !== undefined && value !== null);
  return (
    <dl class="facts" data-testid={testid}>
      {shown.flatMap(([key, value]) => [
        <dt key={`${key}-t`}>{t(`${prefix}.${key}`)}</dt>,
        <dd key={`${key}-d`} data-testid={`count-${key.replace(".", "-")}`}>
          {count(value)}
        </dd>,
      ])}
    </dl>
  );
}

// The version an import or sync made: its number and unit count, a link to its source.
function MadeVersion({ id }) {
  const [version, setVersion] = useState(null);
  useEffect(() => {
    api("GET", `/api/versions/${id}`).then(setVersion, () => setVersion(null));
  }, [id]);
  if (!version) return null;
  return (
    <p data-testid="made-version">
      {t("dhis2.result.version", { number: version.number })}{" "}
      <Link to={`/sources/${version.data_source_id}`}>{t("dhis2.result.openSource")}</Link>
    </p>
  );
}

function TreeResult({ task }) {
  const r = task.result || {};
  const sync = task.kind === "dhis2.sync";
  const counts = sync
    ? Object.entries(r.counts || {})
    : ["created", "repeated", "missed", "errors", "warnings", "groups", "group_sets"].map((k) => [k, r[k]]);
  return (
    <>
      {r.note && <p class="notice">{r.note}</p>}
      <Counts values={counts} prefix="dhis2.result" testid="run-counts" />
      {sync && r.diff && (
        <>
          <h3>{t("dhis2.result.diff")}</h3>
          <Counts values={Object.entries(r.diff)} prefix="dhis2.diff" testid="diff-counts" />
        </>
      )}
      {r.version_id && <MadeVersion id={r.version_id} />}
    </>
  );
}

const PUSH_TOTALS_DRY = ["objects", "would_create", "would_update", "invalid", "errors", "deferred"];
const PUSH_TOTALS = ["objects", "created", "updated", "ignored", "errors"];
const PUSH_OTHER = ["units_unchanged", "units_removed_not_pushed", "groups_not_in_dhis2", "batches"];

function PushObjects({ task }) {
  const { data, error, tooLarge } = useArtifactJson(task, "push-report.json", REPORT_MAX_BYTES);
  if (tooLarge) return <p>{t("dhis2.push.reportTooLarge")}</p>;
  if (error) return <p role="alert">{t("dhis2.push.reportFailed", { message: error.message })}</p>;
  if (!data) return <p aria-busy="true">{t("list.loading")}</p>;
  const rows = data.batches.flatMap((batch) => batch.objects.map((object) => ({ ...object, type: batch.type })));
  const columns = [
    { label: t("dhis2.push.col.uid"), render: (o) => o.uid },
    { label: t("dhis2.push.col.name"), render: (o) => o.name || "—" },
    { label: t("dhis2.push.col.type"), render: (o) => t(`dhis2.push.type.${o.type}`) },
    { label: t("dhis2.push.col.changed"), render: (o) => o.changed.join(", ") },
    { label: t("dhis2.push.col.outcome"), render: (o) => t(`dhis2.push.outcome.${o.outcome}`) },
    {
      label: t("dhis2.push.col.errors"),
      render: (o) => o.errors.map((e) => `${e.error_code || ""} ${e.message || ""}`.trim()).join("; ") || "—",
    },
  ];
  return <RowsTable rows={rows} columns={columns} caption={t("dhis2.push.caption")} testid="push-objects" />;
}

function PushResult({ task }) {
  const totals = task.result || {};
  const dry = task.params.dry_run;
  const keys = [...(dry ? PUSH_TOTALS_DRY : PUSH_TOTALS), ...PUSH_OTHER];
  return (
    <>
      <Counts values={keys.map((k) => [k, totals[k]])} prefix="dhis2.push.total" testid="push-totals" />
      <PushObjects task={task} />
    </>
  );
}

function DataValuesResult({ task }) {
  const r = task.result || {};
  const imported = r.import_count || {};
  return (
    <>
      <Counts
        values={[
          ...Object.entries(r.submissions || {}).map(([status, n]) => [`submissions.${status}`, n]),
          ["requests", r.requests],
          ...["imported", "updated", "ignored", "deleted"].map((key) => [key, imported[key]]),
          ["conflict_count", r.conflict_count],
        ]}
        prefix="dhis2.values.result"
        testid="values-counts"
      />
      {r.conflicts?.length > 0 && (
        <RowsTable
          rows={r.conflicts}
          caption={t("dhis2.values.conflicts")}
          columns={[
            { label: t("dhis2.values.col.object"), render: (c) => c.object || "—" },
            { label: t("dhis2.values.col.code"), render: (c) => c.error_code || "—" },
            { label: t("dhis2.values.col.message"), render: (c) => c.message },
            { label: t("dhis2.values.col.submissions"), render: (c) => c.submission_ids.join(", ") },
          ]}
        />
      )}
    </>
  );
}

const RESULTS = {
  "dhis2.import": TreeResult,
  "dhis2.sync": TreeResult,
  "dhis2.push": PushResult,
  "dhis2.data_values": DataValuesResult,
};

// A finished task's result (when it succeeded) and, whatever its end, its files.
export function TaskResult({ task }) {
  const Shown = RESULTS[task.kind];
  return (
    <section class="task-result" aria-labelledby={`result-${task.id}`} data-testid="task-result">
      <h3 id={`result-${task.id}`}>{t("dhis2.result.title")}</h3>
      {task.status === "SUCCESS" && Shown && <Shown task={task} />}
      {task.artifacts.length > 0 && <Artifacts artifacts={task.artifacts} />}
    </section>
  );
}
