import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { PlaceMap } from "../../components/PlaceMap.jsx";
import { useAction } from "../../components/useAction.js";
import { Link } from "../../router.jsx";
import { formatBytes, formatTime, t } from "../../strings.js";
import { Answers, languageName, languagesOf } from "./Answers.jsx";
import { ReviewBadge } from "./ReviewBadge.jsx";

const REVIEW = "submissions.review";

// The submission, then its form and its version's descriptor (questions and labels). A form that
// cannot be read (deleted since) leaves the answers under their XML names.
function useSubmission(id) {
  const [state, setState] = useState({ submission: null, form: null, version: null, error: null });
  useEffect(() => {
    let live = true;
    api("GET", `/api/submissions/${id}`).then(
      (submission) => {
        if (!live) return;
        setState((previous) => ({ ...previous, submission }));
        const formPath = `/api/forms/${submission.form_id}`;
        Promise.allSettled([
          api("GET", formPath),
          api("GET", `${formPath}/versions/${submission.form_version_number}`),
        ]).then(([form, version]) => {
          if (!live) return;
          setState((previous) => ({
            ...previous,
            form: form.value ?? false,
            version: version.value ?? false,
          }));
        });
      },
      (error) => live && setState((previous) => ({ ...previous, error })),
    );
    return () => {
      live = false;
    };
  }, [id]);
  const update = (submission) => setState((previous) => ({ ...previous, submission }));
  return [state, update];
}

function Review({ submission, update }) {
  const [comment, setComment] = useState("");
  const [act, busy, error] = useAction();
  const [done, setDone] = useState(null);
  async function decide(status) {
    setDone(null);
    await act(async () => {
      const body = { validation_status: status, comment: comment.trim() || null };
      update(await api("PATCH", `/api/submissions/${submission.id}`, { body }));
      setDone(status);
      setComment("");
    });
  }
  const mine = error?.field === "comment";
  return (
    <section class="review" aria-labelledby="review-title">
      <h2 id="review-title">{t("submission.review")}</h2>
      <ErrorMessage error={formLevel(error)} />
      {done && (
        <p role="status" class="notice" data-testid="review-done">
          {t(`submission.reviewed.${done}`)}
        </p>
      )}
      <form onSubmit={(event) => event.preventDefault()}>
        <Field id="review-comment" name="comment" label={t("submission.review.comment")} error={error}>
          <textarea
            id="review-comment"
            name="comment"
            rows="3"
            value={comment}
            aria-invalid={mine ? "true" : undefined}
            aria-describedby={mine ? "review-comment-error" : undefined}
            onInput={(event) => setComment(event.target.value)}
          />
        </Field>
        <div class="inline-form">
          <button type="button" disabled={busy} onClick={() => decide("APPROVED")}>
            {t("submission.approve")}
          </button>
          <button type="button" class="danger" disabled={busy} onClick={() => decide("REJECTED")}>
            {t("submission.reject")}
          </button>
        </div>
      </form>
    </section>
  );
}

function Facts({ submission, form }) {
  const who = submission.created_by_email || "—";
  return (
    <dl class="facts">
      <dt>{t("submission.form")}</dt>
      <dd>
        {form ? form.name : `#${submission.form_id}`} ·{" "}
        {t("submission.formVersion", { version: submission.form_version })}
      </dd>
      <dt>{t("submission.status")}</dt>
      <dd data-testid="review-status" data-status={submission.validation_status} aria-live="polite">
        <ReviewBadge status={submission.validation_status} />
      </dd>
      <dt>{t("submission.comment")}</dt>
      <dd data-testid="review-comment">{submission.review_comment || "—"}</dd>
      <dt>{t("submission.received")}</dt>
      <dd>{formatTime(submission.created_at)}</dd>
      <dt>{t("submission.by")}</dt>
      <dd>{who}</dd>
      <dt>{t("submission.unit")}</dt>
      <dd>
        {submission.org_unit_id ? (
          <Link to={`/units/${submission.org_unit_id}`}>{submission.org_unit_name || `#${submission.org_unit_id}`}</Link>
        ) : (
          "—"
        )}
      </dd>
      <dt>{t("submission.period")}</dt>
      <dd>{submission.period || "—"}</dd>
      <dt>{t("submission.started")}</dt>
      <dd>{formatTime(submission.started_at)}</dd>
      <dt>{t("submission.ended")}</dt>
      <dd>{formatTime(submission.ended_at)}</dd>
      <dt>{t("submission.device")}</dt>
      <dd>{submission.device_id || "—"}</dd>
      <dt>{t("submission.instance")}</dt>
      <dd>
        <code>{submission.instance_uuid}</code>
      </dd>
      {submission.versions.length > 1 && (
        <>
          <dt>{t("submission.edits")}</dt>
          <dd>{t("submission.editsCount", { n: submission.versions.length - 1 })}</dd>
        </>
      )}
    </dl>
  );
}

function Location({ submission }) {
  const location = submission.location;
  if (!location) return <p class="muted">{t("submission.noLocation")}</p>;
  const [lon, lat] = location.coordinates;
  const accuracy = submission.accuracy === null ? "" : t("submission.accuracy", { m: submission.accuracy });
  return (
    <>
      <p>
        {t("submission.coordinates", { lat: lat.toFixed(6), lon: lon.toFixed(6) })} {accuracy}
      </p>
      <PlaceMap
        places={[{ geometry: location, kind: "plain", label: t("submission.map.point") }]}
        label={t("submission.map.label")}
      />
    </>
  );
}

function Files({ attachments }) {
  if (!attachments.length) return <p class="muted">{t("submission.filesNone")}</p>;
  return (
    <ul class="artifacts">
      {attachments.map((file) => (
        <li key={file.name}>
          <a href={file.url}>{file.name}</a> ({file.content_type || "?"}, {formatBytes(file.size)})
        </li>
      ))}
    </ul>
  );
}

function AnswersSection({ submission, version }) {
  const descriptor = version ? version.descriptor : null;
  const languages = descriptor ? languagesOf(descriptor) : [];
  const [lang, setLang] = useState(languages[0] ?? null);
  return (
    <section aria-labelledby="answers-title">
      <div class="answers-head">
        <h2 id="answers-title">{t("submission.answers")}</h2>
        {languages.length > 1 && (
          <div class="field">
            <label for="answers-language">{t("submission.language")}</label>
            <select id="answers-language" value={lang} onChange={(event) => setLang(event.target.value)}>
              {languages.map((code) => (
                <option key={code} value={code}>
                  {languageName(code)}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      {version === false && <p class="muted">{t("submission.noDescriptor")}</p>}
      <Answers descriptor={descriptor} answers={submission.answers} lang={lang} attachments={submission.attachments} />
    </section>
  );
}

export function SubmissionPage({ id, me }) {
  const [{ submission, form, version, error }, update] = useSubmission(id);
  useEffect(() => {
    document.title = `${t("submission.title", { id })} · ${t("app.name")}`;
  }, [id]);
  const canReview = me.permissions.includes(REVIEW);
  return (
    <main id="main" aria-busy={submission || error ? "false" : "true"}>
      <p>
        <Link to={submission ? `/submissions?form=${submission.form_id}` : "/submissions"}>
          ← {t("submission.back")}
        </Link>
      </p>
      <h1>{t("submission.title", { id })}</h1>
      {error && error.status === 404 ? (
        <p role="alert">{t("submission.notFound", { id })}</p>
      ) : (
        <ErrorMessage error={error} />
      )}
      {!submission && !error && <p>{t("list.loading")}</p>}
      {submission && (
        <>
          {submission.deleted_at && (
            <p class="notice">{t("submission.deletedAt", { when: formatTime(submission.deleted_at) })}</p>
          )}
          <div class="submission-top">
            <Facts submission={submission} form={form} />
            {canReview && !submission.deleted_at && <Review submission={submission} update={update} />}
          </div>
          {version === null ? (
            <p>{t("list.loading")}</p>
          ) : (
            <AnswersSection key={version ? version.id : "raw"} submission={submission} version={version} />
          )}
          <h2>{t("submission.location")}</h2>
          <Location submission={submission} />
          <h2>{t("submission.files")}</h2>
          <Files attachments={submission.attachments} />
        </>
      )}
    </main>
  );
}
