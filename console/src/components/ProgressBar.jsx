import { useId } from "preact/hooks";
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
  const labelId = useId(); // two bars on one page (an import and an export) keep their own labels
  const counted = end ? t("task.progressOf", { value, end }) : t("task.progressCount", { value });
  return (
    <div class="progress">
      <div class="progress-head">
        <span id={labelId}>{t("task.progress")}</span>
        <span class="progress-count" data-testid="progress-count">
          {counted}
          {percent !== null && percent !== undefined ? ` (${Math.round(percent)} %)` : ""}
        </span>
      </div>
      {/* with no end known: a busy bar while it runs, none once it has ended (it would spin on) */}
      {end ? (
        // keyed by its end: Preact compares `value` with the element's, which the old max clamps
        // (40,000 of 40,007, then 3 of 4, read as 4 of 4), and would leave the bar full
        <progress key={end} aria-labelledby={labelId} value={value} max={end} data-testid="progress-bar" />
      ) : (
        running && <progress aria-labelledby={labelId} data-testid="progress-bar" />
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
