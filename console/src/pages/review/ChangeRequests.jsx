import { useEffect } from "preact/hooks";
import { PagedList } from "../../components/PagedList.jsx";
import { Link, navigate } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { kindOf, RequestStatus, UnitLink } from "./requestParts.jsx";

// The API's statuses, and "all" (no filter). Pending ("new") first: what a reviewer has to do.
const CHOICES = ["new", "approved", "rejected", "all"];

export function statusFromUrl(params) {
  const status = params.get("status");
  return CHOICES.includes(status) ? status : "new";
}

// The status lives in the URL (?status=), so a filtered list can be bookmarked and Back works.
function StatusFilter({ status }) {
  const choose = (choice) => navigate(`/change-requests?status=${choice}`, { replace: true });
  return (
    <form class="filters" aria-label={t("review.filters")} onSubmit={(event) => event.preventDefault()}>
      <fieldset>
        <legend>{t("review.status")}</legend>
        {CHOICES.map((choice) => (
          <label key={choice} class="inline">
            <input
              type="radio"
              name="status"
              value={choice}
              checked={status === choice}
              onChange={() => choose(choice)}
            />
            {t(`review.status.${choice}`)}
          </label>
        ))}
      </fieldset>
    </form>
  );
}

export function ChangeRequests({ params }) {
  const status = statusFromUrl(params);
  useEffect(() => {
    document.title = `${t("review.title")} · ${t("app.name")}`;
  }, []);
  const columns = [
    {
      label: t("review.col.id"),
      render: (request) => <Link to={`/change-requests/${request.id}`}>{t("review.request", { id: request.id })}</Link>,
    },
    { label: t("review.col.unit"), render: (request) => <UnitLink request={request} /> },
    { label: t("review.col.kind"), render: kindOf },
    { label: t("review.col.fields"), render: (request) => Object.keys(request.proposed).length },
    { label: t("review.col.askedBy"), render: (request) => request.created_by_email || t("review.someone") },
    { label: t("review.col.asked"), render: (request) => formatTime(request.created_at) },
    { label: t("review.col.status"), render: (request) => <RequestStatus status={request.status} /> },
  ];
  return (
    <main id="main">
      <h1>{t("review.title")}</h1>
      <StatusFilter status={status} />
      <PagedList
        path="/api/change-requests"
        query={{ status: status === "all" ? null : status }}
        columns={columns}
        caption={`${t("review.caption")} · ${t(`review.status.${status}`)}`}
      />
    </main>
  );
}
