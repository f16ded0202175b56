import { useEffect } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { useAction } from "../../components/useAction.js";
import { Link, navigate } from "../../router.jsx";
import { t } from "../../strings.js";
import { canWrite } from "./sourceParts.jsx";

function CreateSource() {
  const [act, busy, error] = useAction();
  async function create(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await act(async () => {
      const body = { name: form.get("name"), description: form.get("description") || null };
      const source = await api("POST", "/api/data-sources", { body });
      navigate(`/sources/${source.id}`);
    });
  }
  return (
    <section aria-labelledby="create-source-title">
      <h2 id="create-source-title">{t("sources.create.title")}</h2>
      <ErrorMessage error={formLevel(error)} />
      <form class="inline-form" onSubmit={create}>
        <Field id="source-name" name="name" label={t("sources.create.name")} required error={error} />
        <Field id="source-description" name="description" label={t("sources.create.description")} error={error} />
        <div class="field">
          <button type="submit" disabled={busy}>
            {t("sources.create.submit")}
          </button>
        </div>
      </form>
    </section>
  );
}

export function Sources({ me }) {
  useEffect(() => {
    document.title = `${t("sources.title")} · ${t("app.name")}`;
  }, []);
  const columns = [
    { label: t("sources.col.name"), render: (source) => <Link to={`/sources/${source.id}`}>{source.name}</Link> },
    { label: t("sources.col.description"), render: (source) => source.description || t("sources.none") },
    { label: t("sources.col.readOnly"), render: (source) => t(source.read_only ? "sources.yes" : "sources.no") },
  ];
  return (
    <main id="main">
      <h1>{t("sources.title")}</h1>
      <PagedList path="/api/data-sources" columns={columns} caption={t("sources.caption")} />
      {canWrite(me) && <CreateSource />}
    </main>
  );
}
