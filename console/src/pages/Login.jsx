import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorMessage } from "../components/ErrorMessage.jsx";
import { saveToken } from "../session.js";
import { t } from "../strings.js";

function Field({ name, label, error, ...input }) {
  const mine = error?.field === name;
  return (
    <div class="field">
      <label for={`login-${name}`}>{label}</label>
      <input
        id={`login-${name}`}
        name={name}
        required
        aria-invalid={mine ? "true" : undefined}
        aria-describedby={mine ? `login-${name}-error` : undefined}
        {...input}
      />
      {mine && (
        <p class="field-error" id={`login-${name}-error`}>
          {error.message}
        </p>
      )}
    </div>
  );
}

export function Login({ notice }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${t("login.title")} · ${t("app.name")}`;
  }, []);

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
      <h1 ref={heading}>{t("login.title")}</h1>
      {notice && <p class="notice" role="status">{notice}</p>}
      <p>{t("login.intro")}</p>
      {error && !error.field && <ErrorMessage error={error} />}
      <form onSubmit={submit} noValidate={false}>
        <Field name="email" label={t("login.email")} type="email" autoComplete="username" error={error} />
        <Field
          name="password"
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
