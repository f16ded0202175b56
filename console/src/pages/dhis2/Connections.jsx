// /dhis2: the account's DHIS2 connections (checked from here), a new one for admins, and the
// data-value mappings from forms to DHIS2 data sets.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { useAction } from "../../components/useAction.js";
import { Link, navigate } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { canList, canManage, canReadMappings, ConnectionLink } from "./dhis2Parts.jsx";
import { ConnectionForm } from "./ConnectionForm.jsx";

// The last check: DHIS2's version, its failure, or none yet.
export function CheckResult({ connection }) {
  if (!connection.checked_at) return <span class="muted">{t("dhis2.check.never")}</span>;
  if (connection.check_error) return <span class="check-failed">{connection.check_error}</span>;
  return <span class="check-ok">{t("dhis2.check.version", { version: connection.dhis2_version })}</span>;
}

export function authText(connection) {
  return connection.auth_kind === "basic"
    ? t("dhis2.auth.basicAs", { username: connection.username || "—" })
    : t("dhis2.auth.token");
}

function CreateConnection() {
  const [act, busy, error] = useAction();
  async function create(body) {
    await act(async () => {
      const made = await api("POST", "/api/dhis2/connections", { body });
      navigate(`/dhis2/${made.id}`);
    });
  }
  return (
    <section aria-labelledby="dhis2-create-title">
      <h2 id="dhis2-create-title">{t("dhis2.create.title")}</h2>
      <ConnectionForm
        id="new-connection"
        busy={busy}
        error={error}
        onSubmit={create}
        submitLabel={t("dhis2.create.submit")}
      />
    </section>
  );
}

function Mappings() {
  const columns = [
    { label: t("dhis2.mappings.col.name"), render: (m) => <Link to={`/dhis2/mappings/${m.id}`}>{m.name}</Link> },
    { label: t("dhis2.mappings.col.connection"), render: (m) => <ConnectionLink id={m.connection_id} /> },
    { label: t("dhis2.mappings.col.form"), render: (m) => m.form_id },
    { label: t("dhis2.mappings.col.dataSet"), render: (m) => m.data_set },
    { label: t("dhis2.mappings.col.elements"), render: (m) => m.elements.length },
    { label: t("dhis2.mappings.col.lastExported"), render: (m) => formatTime(m.last_exported_at) },
  ];
  return (
    <section aria-labelledby="dhis2-mappings-title">
      <h2 id="dhis2-mappings-title">{t("dhis2.mappings.title")}</h2>
      <p class="hint">{t("dhis2.mappings.intro")}</p>
      <PagedList path="/api/dhis2/data-mappings" columns={columns} caption={t("dhis2.mappings.caption")} />
    </section>
  );
}

export function Connections({ me }) {
  const [refresh, setRefresh] = useState(0);
  const [checking, setChecking] = useState(null);
  const [checked, setChecked] = useState(null); // {connection} or {name, error}
  useEffect(() => {
    document.title = `${t("dhis2.title")} · ${t("app.name")}`;
  }, []);
  async function check(connection) {
    setChecking(connection.id);
    setChecked(null);
    try {
      setChecked({ connection: await api("POST", `/api/dhis2/connections/${connection.id}/check`) });
    } catch (error) {
      setChecked({ name: connection.name, error });
    }
    setChecking(null);
    setRefresh((n) => n + 1);
  }
  const columns = [
    { label: t("dhis2.col.name"), render: (c) => <Link to={`/dhis2/${c.id}`}>{c.name}</Link> },
    { label: t("dhis2.col.url"), render: (c) => <span class="url">{c.base_url}</span> },
    { label: t("dhis2.col.auth"), render: authText },
    { label: t("dhis2.col.checked"), render: (c) => formatTime(c.checked_at) },
    { label: t("dhis2.col.result"), render: (c) => <CheckResult connection={c} /> },
  ];
  if (canManage(me)) {
    columns.push({
      label: t("dhis2.col.actions"),
      render: (c) => (
        <button
          type="button"
          disabled={checking === c.id}
          aria-label={t("dhis2.check.buttonFor", { name: c.name })}
          onClick={() => check(c)}
        >
          {checking === c.id ? t("dhis2.check.busy") : t("dhis2.check.button")}
        </button>
      ),
    });
  }
  return (
    <main id="main">
      <h1>{t("dhis2.title")}</h1>
      <p class="hint">{t("dhis2.intro")}</p>
      {canList(me) ? (
        <>
          <div aria-live="polite" data-testid="check-answer">
            {checked?.connection && (
              <p class="notice">
                {t("dhis2.check.ok", { name: checked.connection.name, version: checked.connection.dhis2_version })}
              </p>
            )}
          </div>
          {checked?.error && <ErrorMessage error={checked.error} />}
          <PagedList path="/api/dhis2/connections" columns={columns} caption={t("dhis2.caption")} refresh={refresh} />
        </>
      ) : (
        <p>{t("dhis2.cannotList")}</p>
      )}
      {canManage(me) && <CreateConnection />}
      {canReadMappings(me) && <Mappings />}
    </main>
  );
}
