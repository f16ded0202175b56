import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorMessage } from "../components/ErrorMessage.jsx";
import { Field, formLevel } from "../components/Field.jsx";
import { saveToken } from "../session.js";
import { language, t } from "../strings.js";

export function Login({ notice }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const lang = language();
  useEffect(() => {
    document.title = `${t("login.title")} · ${t("app.name")}`;
  }, [lang]);

  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const answer = await api("POST", "/api/auth/login", {
        body: { email: form.get("email"), password: form.get("password") },
      });
      saveToken(answer.token, answer.expires_in);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  return (
    <main id="main" class="login">
      <h1>{t("login.title")}</h1>
      {notice && <p class="notice" role="status">{notice}</p>}
      <p>{t("login.intro")}</p>
      <ErrorMessage error={formLevel(error)} />
      <form onSubmit={submit}>
        <Field
          id="login-email"
          name="email"
          label={t("login.email")}
          type="email"
          autoComplete="username"
          required
          error={error}
        />
        <Field
          id="login-password"
          name="password"
          required
          label={t("login.password")}
          type="password"
          autoComplete="current-password"
          error={error}
        />
        <button type="submit" disabled={busy}>
          {busy ? t("login.busy") : t("login.submit")}
        </button>
      </form>
    </main>
  );
}
