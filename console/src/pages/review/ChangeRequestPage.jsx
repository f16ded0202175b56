import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { PlaceMap } from "../../components/PlaceMap.jsx";
import { Link } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { kindOf, RequestStatus, UnitLink } from "./requestParts.jsx";
import { differs, fieldLabel, fieldsOf, useNames, Value } from "./values.jsx";

const REVIEW_PERMISSION = "orgunits.review";

// The request, and its unit as it is now (loaded again after a decision, to show what was applied).
function useRequest(id) {
  const [state, setState] = useState({ request: null, unit: null, error: null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const request = await api("GET", `/api/change-requests/${id}`);
        if (!live) return;
        setState((previous) => ({ ...previous, request, error: null }));
        const unit = await api("GET", `/api/orgunits/${request.org_unit_id}`);
        if (live) setState({ request, unit, error: null });
      } catch (error) {
        if (live) setState((previous) => ({ ...previous, error }));
      }
    })();
    return () => {
      live = false;
    };
  }, [id, round]);
  return [state, () => setRound((n) => n + 1)];
}

function Facts({ request }) {
  return (
    <dl class="facts">
      <dt>{t("review.unit")}</dt>
      <dd>
        <UnitLink request={request} />
      </dd>
      <dt>{t("review.kind")}</dt>
      <dd>{kindOf(request)}</dd>
      <dt>{t("review.status")}</dt>
      <dd data-testid="request-status" data-status={request.status} aria-live="polite">
        <RequestStatus status={request.status} />
      </dd>
      <dt>{t("review.askedBy")}</dt>
      <dd>{request.created_by_email || t("review.someone")}</dd>
      <dt>{t("review.asked")}</dt>
      <dd>{formatTime(request.created_at)}</dd>
      {request.status !== "new" && (
        <>
          <dt>{t("review.decidedBy")}</dt>
          <dd data-testid="decided-by">{request.reviewed_by_email || t("review.someone")}</dd>
          <dt>{t("review.decided")}</dt>
          <dd>{formatTime(request.reviewed_at)}</dd>
        </>
      )}
      {request.rejection_reason && (
        <>
          <dt>{t("review.reason")}</dt>
          <dd data-testid="rejection-reason">{request.rejection_reason}</dd>
        </>
      )}
    </dl>
  );
}

// Field by field: the current value, the proposed one, whether it changes, and a box to approve it
// (while the request is open and the user may review it) or what became of it (once decided).
function Values({ request, unit, names, choosing, chosen, toggle }) {
  const fresh = request.creates_unit;
  const decided = request.status !== "new" && !fresh;
  return (
    <div class="paged-list">
      <table class="review-values">
        <caption>{t(fresh ? "review.values.captionNew" : "review.values.caption")}</caption>
        <thead>
          <tr>
            {choosing && <th scope="col">{t("review.col.approve")}</th>}
            <th scope="col">{t("review.col.field")}</th>
            {!fresh && <th scope="col">{t("review.col.current")}</th>}
            <th scope="col">{t("review.col.proposed")}</th>
            {!fresh && <th scope="col">{t("review.col.change")}</th>}
            {decided && <th scope="col">{t("review.col.outcome")}</th>}
          </tr>
        </thead>
        <tbody>
          {fieldsOf(request.proposed).map((name) => {
            const changed = !fresh && unit && differs(name, unit[name], request.proposed[name]);
            const applied = request.approved_fields.includes(name);
            return (
              <tr key={name} class={changed ? "is-changed" : undefined} data-field={name}>
                {choosing && (
                  <td>
                    <input
                      type="checkbox"
                      checked={chosen.has(name)}
                      onChange={() => toggle(name)}
                      aria-label={t("review.approveField", { field: fieldLabel(name) })}
                    />
                  </td>
                )}
                <th scope="row">{fieldLabel(name)}</th>
                {!fresh && (
                  <td>{unit ? <Value name={name} value={unit[name]} names={names} /> : t("review.loadingUnit")}</td>
                )}
                <td>
                  <Value name={name} value={request.proposed[name]} names={names} />
                </td>
                {!fresh && (
                  <td>
                    {unit && (changed ? <strong class="changed">{t("review.changed")}</strong> : t("review.same"))}
                  </td>
                )}
                {decided && <td>{applied ? t("review.applied") : t("review.notApplied")}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

// The current and proposed point (and territory) when the request moves or draws the unit.
function Places({ request, unit }) {
  const proposed = request.proposed;
  if (!unit || !(proposed.location || proposed.geom)) return null;
  const places = [];
  const add = (geometry, kind, label) => places.push({ geometry, kind, label: t(label) });
  if (proposed.location) {
    if (!request.creates_unit) add(unit.location, "current", "review.map.currentPoint");
    add(proposed.location, "proposed", "review.map.proposedPoint");
  }
  if (proposed.geom) {
    if (!request.creates_unit) add(unit.geom, "current", "review.map.currentGeom");
    add(proposed.geom, "proposed", "review.map.proposedGeom");
  }
  return (
    <section aria-labelledby="review-map-title">
      <h2 id="review-map-title">{t("review.map")}</h2>
      <PlaceMap places={places} label={t("review.map.label")} />
    </section>
  );
}

// `decided(request)` after a decision, or after a 409 (someone else decided first: the page reloads
// to show their decision, and `conflict` keeps the API's message on it).
function Decision({ request, chosen, decided, conflict }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function act(path, body) {
    setBusy(true);
    setError(null);
    try {
      decided(await api("POST", `/api/change-requests/${request.id}/${path}`, { body }));
    } catch (failure) {
      if (failure.status === 409) conflict(failure);
      else setError(failure);
    } finally {
      setBusy(false);
    }
  }
  const approve = () => act("approve", request.creates_unit ? {} : { fields: [...chosen] });
  const reject = (event) => {
    event.preventDefault();
    act("reject", { reason });
  };
  const none = !request.creates_unit && chosen.size === 0;
  return (
    <section aria-labelledby="decide-title" class="decision">
      <h2 id="decide-title">{t("review.decide")}</h2>
      <ErrorMessage error={formLevel(error) || (error?.field === "fields" ? error : null)} />
      <div class="decision-approve">
        {!request.creates_unit && <p class="hint">{none ? t("review.chooseOne") : t("review.approveHint")}</p>}
        <button type="button" onClick={approve} disabled={busy || none}>
          {t(request.creates_unit ? "review.approveNew" : "review.approve")}
        </button>
      </div>
      <form class="inline-form" onSubmit={reject}>
        <Field id="reject-reason" name="reason" label={t("review.rejectReason")} error={error}>
          <textarea
            id="reject-reason"
            name="reason"
            rows="2"
            value={reason}
            onInput={(event) => setReason(event.currentTarget.value)}
            aria-invalid={error?.field === "reason" ? "true" : undefined}
            aria-describedby={error?.field === "reason" ? "reject-reason-error" : undefined}
          />
        </Field>
        <button type="submit" class="danger" disabled={busy}>
          {t("review.reject")}
        </button>
      </form>
      {busy && <p role="status">{t("review.busy")}</p>}
    </section>
  );
}

export function ChangeRequestPage({ id, me }) {
  const [{ request, unit, error }, reload] = useRequest(id);
  const [chosen, setChosen] = useState(null);
  const [conflict, setConflict] = useState(null);
  const names = useNames(request, unit);
  useEffect(() => {
    document.title = `${t("review.page.title", { id })} · ${t("app.name")}`;
  }, [id]);
  useEffect(() => {
    if (request && chosen === null) setChosen(new Set(Object.keys(request.proposed)));
  }, [request]);
  const reviewer = me.permissions.includes(REVIEW_PERMISSION);
  const open = request?.status === "new";
  const toggle = (name) => {
    const next = new Set(chosen);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setChosen(next);
  };
  return (
    <main id="main">
      <p>
        <Link to="/change-requests">← {t("review.back")}</Link>
      </p>
      <h1>{t("review.page.title", { id })}</h1>
      {error && error.status === 404 ? (
        <p role="alert">{t("review.notFound", { id })}</p>
      ) : (
        <ErrorMessage error={error} />
      )}
      {request && (
        <>
          <ErrorMessage error={conflict} />
          <Facts request={request} />
          {request.creates_unit && <p>{t("review.newUnitNote")}</p>}
          <h2>{t("review.values")}</h2>
          <Values
            request={request}
            unit={unit}
            names={names}
            choosing={open && reviewer && !request.creates_unit && chosen !== null}
            chosen={chosen || new Set()}
            toggle={toggle}
          />
          <Places request={request} unit={unit} />
          {open && reviewer && chosen !== null && (
            <Decision
              request={request}
              chosen={chosen}
              decided={reload}
              conflict={(failure) => {
                setConflict(failure);
                reload();
              }}
            />
          )}
          {open && !reviewer && <p class="notice">{t("review.noPermission")}</p>}
        </>
      )}
    </main>
  );
}
