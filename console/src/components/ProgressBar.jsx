import { formatDuration, t } from "../strings.js";

// Seconds left at the pace so far: elapsed × (end − value) / value. Unknown until a step is done.
export function estimateLeft(progress, elapsedSeconds) {
  const { value, end } = progress;
  if (!end || !value || value >= end || elapsedSeconds <= 0) return null;
  return (elapsedSeconds * (end - value)) / value;
}

export function ProgressBar({ progress, running, elapsedSeconds }) {
  const { value, end, percent, message } = progress;
  const left = running ? estimateLeft(progress, elapsedSeconds) : null;
  const counted = end ? t("task.progressOf", { value, end }) : t("task.progressCount", { value });
  return (
    <div class="progress">
      <div class="progress-head">
        <span id="progress-label">{t("task.progress")}</span>
        <span class="progress-count" data-testid="progress-count">
          {counted}
          {percent !== null && percent !== undefined ? ` (${Math.round(percent)} %)` : ""}
        </span>
      </div>
      {end ? (
        <progress aria-labelledby="progress-label" value={value} max={end} data-testid="progress-bar" />
      ) : (
        <progress aria-labelledby="progress-label" data-testid="progress-bar" />
      )}
      {message && <p class="progress-message">{message}</p>}
      <dl class="facts">
        <dt>{t("task.elapsed")}</dt>
        <dd data-testid="elapsed">{formatDuration(elapsedSeconds)}</dd>
        {running && (
          <>
            <dt>{t("task.left")}</dt>
            <dd data-testid="time-left">{left === null ? t("task.leftUnknown") : formatDuration(left)}</dd>
          </>
        )}
      </dl>
    </div>
  );
}
