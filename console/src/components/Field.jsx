// A labelled input that shows the API's error for its own field (details.field) beside it.
export function Field({ id, name, label, error, children, ...input }) {
  const mine = error?.field === name;
  const errorId = `${id}-error`;
  const control = children ?? (
    <input
      id={id}
      name={name}
      aria-invalid={mine ? "true" : undefined}
      aria-describedby={mine ? errorId : undefined}
      {...input}
    />
  );
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {control}
      {mine && (
        <p class="field-error" id={errorId} role="alert">
          {error.message}
        </p>
      )}
    </div>
  );
}

// An error for no field of the form: shown above it.
export function formLevel(error) {
  return error && !error.field ? error : null;
}

// For a control given to Field as its child: marked invalid and described by Field's message.
export const errorProps = (error, name, id) =>
  error?.field === name ? { "aria-invalid": "true", "aria-describedby": `${id}-error` } : {};
