import { render } from "preact";
import { useEffect, useErrorBoundary, useState } from "preact/hooks";
import { api } from "./api.js";
import { ErrorMessage } from "./components/ErrorMessage.jsx";
import { dhis2Page } from "./pages/dhis2/dhis2Section.jsx";
import { Home } from "./pages/Home.jsx";
import { Login } from "./pages/Login.jsx";
import { Registry } from "./pages/Registry.jsx";
import { reviewPage } from "./pages/review/reviewSection.jsx";
import { sourcesPage } from "./pages/sources/sourcesSection.jsx";
import { submissionsPage } from "./pages/submissions/submissionsSection.jsx";
import { TaskPage } from "./pages/TaskPage.jsx";
import { Tasks } from "./pages/Tasks.jsx";
import { unitsPage } from "./pages/units/unitsSection.jsx";
import { Link, useRoute } from "./router.jsx";
import { currentToken, endSession, onSessionChange, tokenExpiresAt } from "./session.js";
import {
  followOtherTabs,
  LANGUAGES,
  language,
  onLanguageChange,
  preferredLanguage,
  setLanguage,
  t,
} from "./strings.js";
// MapLibre's CSS (10 KB gzipped) with ours: esbuild gives a lazy chunk's CSS a file the page would
// have to load itself, and the map's controls need it the moment the map shows.
import "maplibre-gl/dist/maplibre-gl.css";
import "./styles.css";

// Each section answers the paths it owns (a page) and null for the others.
const SECTIONS = [unitsPage, reviewPage, submissionsPage, sourcesPage, dhis2Page];

const NOTICES = { expired: "login.expired", logout: "login.loggedOut" };

// The language picked here is kept (localStorage); the whole app re-renders in it at once.
function LanguagePicker() {
  return (
    <div class="language">
      <label for="language">{t("language.label")}</label>
      <select
        id="language"
        value={language()}
        onChange={(event) => setLanguage(event.currentTarget.value, { remember: true })}
      >
        {LANGUAGES.map(({ code, name }) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </div>
  );
}

function NotFound() {
  return (
    <main id="main">
      <h1>{t("notFound.title")}</h1>
      <p>{t("notFound.body")}</p>
    </main>
  );
}

function Page({ route, me }) {
  const { path, params } = route;
  if (path === "/") return <Home me={me} />;
  if (path === "/registry") return <Registry params={params} />;
  if (path === "/tasks") return <Tasks me={me} params={params} />;
  const task = path.match(/^\/tasks\/(\d+)$/);
  if (task) return <TaskPage key={task[1]} id={Number(task[1])} />;
  for (const section of SECTIONS) {
    const found = section({ path, params, me });
    if (found) return found;
  }
  return <NotFound />;
}

// A page that throws while rendering shows a message instead of half of itself; another path resets it.
function Guarded({ children }) {
  const [error] = useErrorBoundary((thrown) => console.error(thrown));
  if (!error) return children;
  return (
    <main id="main">
      <h1>{t("error.title")}</h1>
      <p role="alert">{t("error.page", { message: String(error.message || error) })}</p>
    </main>
  );
}

function Shell({ me, children }) {
  const { path } = useRoute();
  const current = (prefix) => (path === prefix || (prefix !== "/" && path.startsWith(prefix)) ? "page" : undefined);
  return (
    <>
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <header class="top">
        <span class="brand">{t("app.name")}</span>
        <nav aria-label={t("nav.label")}>
          <Link to="/" aria-current={current("/")}>
            {t("nav.home")}
          </Link>
          <Link to="/registry" aria-current={current("/registry")}>
            {t("nav.registry")}
          </Link>
          <Link to="/change-requests" aria-current={current("/change-requests")}>
            {t("nav.review")}
          </Link>
          <Link to="/submissions" aria-current={current("/submissions")}>
            {t("nav.submissions")}
          </Link>
          <Link to="/sources" aria-current={current("/sources")}>
            {t("nav.sources")}
          </Link>
          <Link to="/dhis2" aria-current={current("/dhis2")}>
            {t("nav.dhis2")}
          </Link>
          <Link to="/tasks" aria-current={current("/tasks")}>
            {t("nav.tasks")}
          </Link>
        </nav>
        <span class="who" data-testid="who">
          {t("nav.signedInAs", { name: me.full_name || me.email })} · {me.account.name}
        </span>
        <button type="button" class="link" onClick={() => endSession("logout")}>
          {t("nav.logout")}
        </button>
        <LanguagePicker />
      </header>
      {children}
    </>
  );
}

// Logs out when the token expires, rather than at the next failing request.
function useExpiry(token) {
  useEffect(() => {
    const at = token && tokenExpiresAt();
    if (!at) return undefined;
    const timer = setTimeout(() => endSession("expired"), Math.min(at - Date.now(), 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [token]);
}

function App() {
  const route = useRoute();
  const [token, setToken] = useState(currentToken);
  const [notice, setNotice] = useState(null);
  const [me, setMe] = useState(null);
  const [error, setError] = useState(null);
  const [lang, setLang] = useState(language);
  useExpiry(token);
  useEffect(() => onLanguageChange(setLang), []);
  useEffect(() => followOtherTabs(), []);
  useEffect(
    () =>
      onSessionChange((reason) => {
        setToken(currentToken());
        setMe(null);
        setNotice(NOTICES[reason] ?? null);
      }),
    [],
  );
  useEffect(() => {
    if (!token) return;
    setError(null);
    api("GET", "/api/me").then(setMe, setError);
  }, [token]);

  if (!token) {
    return (
      <>
        <header class="top">
          <span class="brand">{t("app.name")}</span>
          <LanguagePicker />
        </header>
        <Login notice={notice && t(notice)} />
      </>
    );
  }
  if (!me) {
    return (
      <main id="main" aria-busy={error ? "false" : "true"}>
        <h1>{t("app.name")}</h1>
        {error ? <ErrorMessage error={error} /> : <p>{t("list.loading")}</p>}
      </main>
    );
  }
  return (
    <Shell me={me}>
      {/* A new language remounts the page: its title and what it computed once are redone. */}
      <Guarded key={`${lang} ${route.path}`}>
        <Page route={route} me={me} />
      </Guarded>
    </Shell>
  );
}

setLanguage(preferredLanguage());
render(<App />, document.getElementById("app"));
