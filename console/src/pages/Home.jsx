import { useEffect } from "preact/hooks";
import { PagedList } from "../components/PagedList.jsx";
import { t } from "../strings.js";

export function Home({ me }) {
  useEffect(() => {
    document.title = `${t("home.title")} · ${t("app.name")}`;
  }, []);
  const columns = [
    { label: t("home.projectId"), render: (project) => project.id },
    { label: t("home.projectName"), render: (project) => project.name },
    { label: t("home.projectAppId"), render: (project) => project.app_id ?? "—" },
  ];
  return (
    <main id="main">
      <h1>{t("home.title")}</h1>
      <dl class="facts">
        <dt>{t("home.user")}</dt>
        <dd data-testid="me-name">{me.full_name || me.email}</dd>
        <dt>{t("home.email")}</dt>
        <dd>{me.email}</dd>
        <dt>{t("home.account")}</dt>
        <dd data-testid="account-name">{me.account.name}</dd>
        <dt>{t("home.role")}</dt>
        <dd>{me.role}</dd>
      </dl>
      <h2>{t("home.projects")}</h2>
      <PagedList path="/api/projects" columns={columns} caption={t("home.projects")} />
    </main>
  );
}
