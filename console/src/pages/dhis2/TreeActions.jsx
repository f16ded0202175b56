// A connection's actions on the registry: import DHIS2's tree or sync its changes into a new version
// of a data source, and push a version's changes to DHIS2 (a dry run first, then for real). Each
// starts a task, followed on the page (?task=<id>).
import { useState } from "preact/hooks";
import { api, TERMINAL } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { errorProps, Field, formLevel } from "../../components/Field.jsx";
import { useAction } from "../../components/useAction.js";
import { TaskFollow } from "../../components/TaskFollow.jsx";
import { useAll } from "../../components/useAll.js";
import { t } from "../../strings.js";
import { TaskResult } from "./results.jsx";

const NEW_SOURCE = "new";

// A task started from this page, followed inline: progress, status, link, then its result.
export function Followed({ id, state, title }) {
  const { task } = state;
  return (
    <>
      <TaskFollow id={id} state={state} title={title} />
      {task && TERMINAL.has(task.status) && <TaskResult task={task} />}
    </>
  );
}

export function SourceSelect({ id, sources, value, onChange, error, withNew = false, name = "data_source_id" }) {
  return (
    <Field id={id} name={name} label={t("dhis2.tree.source")} error={error}>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)} {...errorProps(error, name, id)}>
        {sources === null && <option value="">{t("list.loading")}</option>}
        {sources?.length === 0 && !withNew && <option value="">{t("dhis2.tree.noSource")}</option>}
        {sources?.map((source) => (
          <option key={source.id} value={String(source.id)}>
            {source.name}
          </option>
        ))}
        {withNew && <option value={NEW_SOURCE}>{t("dhis2.tree.newSource")}</option>}
      </select>
    </Field>
  );
}

// Import or sync: into a chosen data source (or a new one, named here).
export function TreeForm({ connection, sources, onStarted, onSourceMade }) {
  const [choice, setChoice] = useState("");
  const [note, setNote] = useState(null);
  const [act, busy, error] = useAction();
  const selected = choice || (sources?.length ? String(sources[0].id) : NEW_SOURCE);
  async function start(event, what) {
    event.preventDefault();
    const form = new FormData(event.currentTarget.form || event.currentTarget);
    setNote(null);
    await act(async () => {
      let sourceId = Number(selected);
      if (selected === NEW_SOURCE) {
        const made = await api("POST", "/api/data-sources", { body: { name: form.get("name") } });
        sourceId = made.id;
        setChoice(String(made.id));
        onSourceMade();
      }
      const body = { data_source_id: sourceId, skip_invalid: form.get("skip_invalid") === "on" };
      const run = await api("POST", `/api/dhis2/connections/${connection.id}/${what}`, { body });
      if (run.status === "SKIPPED") setNote(t("dhis2.tree.skipped", { note: run.note }));
      onStarted(run.task_id);
    });
  }
  return (
    <section aria-labelledby="dhis2-tree-title">
      <h2 id="dhis2-tree-title">{t("dhis2.tree.title")}</h2>
      <p class="hint">{t("dhis2.tree.intro")}</p>
      <ErrorMessage error={formLevel(error)} />
      {note && <p class="notice" role="status">{note}</p>}
      <form class="inline-form" onSubmit={(event) => start(event, "imports")}>
        <SourceSelect id="tree-source" sources={sources} value={selected} onChange={setChoice} error={error} withNew />
        {selected === NEW_SOURCE && (
          <Field id="tree-new-source" name="name" label={t("dhis2.tree.newSourceName")} required error={error} />
        )}
        <div class="field check-field">
          <label class="inline">
            <input type="checkbox" name="skip_invalid" />
            {t("dhis2.tree.skipInvalid")}
          </label>
        </div>
        <div class="field button-row">
          <button type="submit" disabled={busy || sources === null}>
            {t("dhis2.tree.import")}
          </button>
          <button type="button" disabled={busy || sources === null} onClick={(event) => start(event, "syncs")}>
            {t("dhis2.tree.sync")}
          </button>
        </div>
      </form>
    </section>
  );
}

// Push: a version of a source, against its DHIS2 mirror (by default the last version an import or
// sync made); a dry run first, then, from its report, for real.
export function PushForm({ connection, sources, onStarted, refresh }) {
  const [sourceChoice, setSourceChoice] = useState("");
  const sourceId = sourceChoice || (sources?.length ? String(sources[0].id) : "");
  const versions = useAll(sourceId ? `/api/data-sources/${sourceId}/versions` : null, refresh);
  const [versionChoice, setVersionChoice] = useState("");
  const [mirror, setMirror] = useState("");
  const [act, busy, error] = useAction();
  const latest = versions?.length ? String(versions[versions.length - 1].id) : "";
  const versionId = versions?.some((v) => String(v.id) === versionChoice) ? versionChoice : latest;
  const options = (versions || []).map((v) => (
    <option key={v.id} value={String(v.id)}>
      {t("dhis2.push.versionOption", { number: v.number, description: v.description || "" })}
    </option>
  ));
  async function dryRun(event) {
    event.preventDefault();
    await act(async () => {
      const body = { version_id: Number(versionId), dry_run: true };
      if (mirror) body.mirror_version_id = Number(mirror);
      const task = await api("POST", `/api/dhis2/connections/${connection.id}/pushes`, { body });
      onStarted(task.id);
    });
  }
  return (
    <section aria-labelledby="dhis2-push-title">
      <h2 id="dhis2-push-title">{t("dhis2.push.title")}</h2>
      <p class="hint">{t("dhis2.push.intro")}</p>
      <ErrorMessage error={formLevel(error)} />
      <form class="inline-form" onSubmit={dryRun}>
        <SourceSelect
          id="push-source"
          name="data_source"
          sources={sources}
          value={sourceId}
          onChange={(value) => {
            setSourceChoice(value);
            setVersionChoice("");
            setMirror("");
          }}
          error={error}
        />
        <Field id="push-version" name="version_id" label={t("dhis2.push.version")} error={error}>
          <select
            id="push-version"
            value={versionId}
            onChange={(event) => setVersionChoice(event.target.value)}
            {...errorProps(error, "version_id", "push-version")}
          >
            {options}
          </select>
        </Field>
        <Field id="push-mirror" name="mirror_version_id" label={t("dhis2.push.mirror")} error={error}>
          <select
            id="push-mirror"
            value={mirror}
            onChange={(event) => setMirror(event.target.value)}
            {...errorProps(error, "mirror_version_id", "push-mirror")}
          >
            <option value="">{t("dhis2.push.mirrorDefault")}</option>
            {options}
          </select>
        </Field>
        <div class="field">
          <button type="submit" disabled={busy || !versionId}>
            {t("dhis2.push.dryRun")}
          </button>
        </div>
      </form>
    </section>
  );
}

// After a dry run that went through: the same push for real.
export function PushForReal({ task, onStarted }) {
  const [act, busy, error] = useAction();
  const { connection_id: connectionId, version_id: versionId, mirror_version_id: mirrorId } = task.params;
  const invalid = (task.result?.invalid || 0) + (task.result?.errors || 0);
  async function commit() {
    await act(async () => {
      const body = { version_id: versionId, mirror_version_id: mirrorId, dry_run: false };
      const started = await api("POST", `/api/dhis2/connections/${connectionId}/pushes`, { body });
      onStarted(started.id);
    });
  }
  return (
    <div class="push-commit">
      <ErrorMessage error={error} />
      {invalid > 0 && <p class="task-error">{t("dhis2.push.invalidWarning", { count: invalid })}</p>}
      <button type="button" disabled={busy || !task.result?.objects} onClick={commit}>
        {t("dhis2.push.commit", { count: task.result?.objects || 0 })}
      </button>
    </div>
  );
}
