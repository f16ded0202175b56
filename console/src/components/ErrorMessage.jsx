import { t } from "../strings.js";

// The API's own message, in an alert so that screen readers announce it.
export function ErrorMessage({ error }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{t("error.title")}:</strong> {error.message}
    </div>
  );
}
