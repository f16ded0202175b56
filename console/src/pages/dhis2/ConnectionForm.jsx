// A DHIS2 connection's form: name, address, and Basic (username, password) or a personal access token.
// The password or token goes to the API (Secrets Manager) and never comes back: left empty on a change,
// the stored one stays (the API asks for it again when the address or the kind changes).
import { useState } from "preact/hooks";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { t } from "../../strings.js";

export function ConnectionForm({ id, initial = null, busy, error, onSubmit, submitLabel }) {
  const [kind, setKind] = useState(initial?.auth_kind || "basic");
  function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = { name: form.get("name").trim(), base_url: form.get("base_url").trim(), auth_kind: kind };
    if (kind === "basic") {
      body.username = form.get("username").trim();
      if (form.get("password")) body.password = form.get("password");
    } else if (form.get("token")) {
      body.token = form.get("token").trim();
    }
    if (initial) {
      // a change: only what differs, and a secret only when one was typed
      for (const key of ["name", "base_url", "auth_kind", "username"]) {
        if (body[key] === (initial[key] ?? undefined)) delete body[key];
      }
    }
    onSubmit(body);
  }
  return (
    <form class="connection-form" onSubmit={submit}>
      <ErrorMessage error={formLevel(error)} />
      <div class="inline-form">
        <Field
          id={`${id}-name`}
          name="name"
          label={t("dhis2.form.name")}
          required
          maxLength={100}
          defaultValue={initial?.name}
          error={error}
        />
        <Field
          id={`${id}-url`}
          name="base_url"
          label={t("dhis2.form.url")}
          required
          inputMode="url"
          placeholder="https://dhis2.example.org"
          size={40}
          defaultValue={initial?.base_url}
          error={error}
        />
      </div>
      <fieldset class="auth-kind">
        <legend>{t("dhis2.form.auth")}</legend>
        {["basic", "token"].map((value) => (
          <label class="inline" key={value}>
            <input
              type="radio"
              name="auth_kind"
              value={value}
              checked={kind === value}
              onChange={() => setKind(value)}
            />
            {t(`dhis2.auth.${value}`)}
          </label>
        ))}
      </fieldset>
      <div class="inline-form">
        {kind === "basic" ? (
          <>
            <Field
              id={`${id}-username`}
              name="username"
              label={t("dhis2.form.username")}
              autoComplete="off"
              defaultValue={initial?.username || ""}
              error={error}
            />
            <Field
              id={`${id}-password`}
              name="password"
              type="password"
              label={initial ? t("dhis2.form.newPassword") : t("dhis2.form.password")}
              autoComplete="new-password"
              error={error}
            />
          </>
        ) : (
          <Field
            id={`${id}-token`}
            name="token"
            type="password"
            label={initial ? t("dhis2.form.newToken") : t("dhis2.form.token")}
            autoComplete="off"
            placeholder="d2pat_…"
            size={44}
            error={error}
          />
        )}
      </div>
      <p class="hint">{initial ? t("dhis2.form.secretKept") : t("dhis2.form.secretHint")}</p>
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
