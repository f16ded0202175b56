import { useEffect, useState } from "preact/hooks";
import { allPages, api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { PagedList } from "../../components/PagedList.jsx";
import { Link, ROOT } from "../../router.jsx";
import { formatTime, t } from "../../strings.js";
import { ReviewBadge } from "./ReviewBadge.jsx";

export const REVIEW_STATUSES = ["PENDING", "APPROVED", "REJECTED"];
// The API's filters (SubmissionListQuery), as the URL keeps them; `to` is the last day included.
const FILTERS = ["form", "validation_status", "org_unit", "period", "from", "to", "has_location", "deleted"];
const SEARCH_PAUSE_MS = 300;
const UNIT_CHOICES = 8;

function useFilters(params) {
  const [filters, setFilters] = useState(() => Object.fromEntries(FILTERS.map((n) => [n, params.get(n) || ""])));
  const change = (changes) => {
    const next = { ...filters, ...changes };
    setFilters(next);
    const search = new URLSearchParams(Object.entries(next).filter(([, v]) => v)).toString();
    window.history.replaceState(null, "", `${ROOT}/submissions${search ? `?${search}` : ""}`);
  };
  return [filters, change];
}

// Every form of the account, page after page (an account has tens of forms, not thousands).
function useForms() {
  const [state, setState] = useState({ forms: null, error: null });
  useEffect(() => {
    let live = true;
    allPages("/api/forms").then(
      (forms) => live && setState({ forms, error: null }),
      (error) => live && setState({ forms: [], error }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

function nextDay(date) {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

// The API's query from the URL's filters: dates are whole days (UTC), the last one included.
function apiQuery(filters) {
  const query = {
    form: filters.form,
    validation_status: filters.validation_status,
    org_unit: filters.org_unit,
    period: filters.period,
    created_from: filters.from,
    created_to: filters.to ? nextDay(filters.to) : "",
    has_location: filters.has_location,
    deleted: filters.deleted,
  };
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value));
}

// A unit picked by searching its name; the filter takes it and everything below it.
function UnitFilter({ value, change }) {
  const [text, setText] = useState("");
  const [found, setFound] = useState([]);
  const [picked, setPicked] = useState(null);
  useEffect(() => {
    if (!value) return setPicked(null);
    if (picked?.id === Number(value)) return undefined;
    api("GET", `/api/orgunits/${value}`).then(
      (unit) => setPicked({ id: unit.id, name: unit.name }),
      () => setPicked({ id: Number(value), name: `#${value}` }),
    );
    return undefined;
  }, [value]);
  useEffect(() => {
    const search = text.trim();
    if (!search) return setFound([]);
    const timer = setTimeout(() => {
      api("GET", "/api/orgunits", { query: { search, limit: UNIT_CHOICES } }).then(
        (answer) => setFound(answer.results),
        () => setFound([]),
      );
    }, SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const pick = (unit) => {
    setPicked({ id: unit.id, name: unit.name });
    setText("");
    setFound([]);
    change({ org_unit: String(unit.id) });
  };
  if (picked) {
    return (
      <p class="within" data-testid="unit-filter">
        {t("submissions.unit.within", { name: picked.name })}{" "}
        <button type="button" class="link" onClick={() => change({ org_unit: "" })}>
          {t("submissions.unit.clear")}
        </button>
      </p>
    );
  }
  return (
    <div class="field unit-filter">
      <label for="filter-unit">{t("submissions.unit")}</label>
      <input id="filter-unit" type="search" value={text} onInput={(event) => setText(event.target.value)} />
      {found.length > 0 && (
        <ul class="unit-choices" aria-label={t("submissions.unit.choices")}>
          {found.map((unit) => (
            <li key={unit.id}>
              <button type="button" class="link" onClick={() => pick(unit)}>
                {unit.name}
              </button>{" "}
              <span class="muted">{unit.org_unit_type_name || ""}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Filters({ filters, change, forms }) {
  const select = (id, name, label, options, anyLabel) => (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={filters[name]} onChange={(event) => change({ [name]: event.target.value })}>
        <option value="">{anyLabel}</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
  const input = (id, name, label, type) => (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={filters[name]}
        onChange={(event) => change({ [name]: event.target.value.trim() })}
      />
    </div>
  );
  const formOptions = (forms || []).map((form) => [String(form.id), form.name]);
  const statusOptions = REVIEW_STATUSES.map((status) => [status, t(`submissions.status.${status}`)]);
  const locationOptions = ["true", "false"].map((value) => [value, t(`submissions.hasLocation.${value}`)]);
  return (
    <form class="filters" aria-label={t("submissions.filters")} onSubmit={(event) => event.preventDefault()}>
      {select("filter-form", "form", t("submissions.form"), formOptions, t("submissions.form.any"))}
      {select("filter-status", "validation_status", t("submissions.status"), statusOptions, t("submissions.status.any"))}
      {input("filter-from", "from", t("submissions.from"), "date")}
      {input("filter-to", "to", t("submissions.to"), "date")}
      {input("filter-period", "period", t("submissions.period"), "text")}
      {select("filter-location", "has_location", t("submissions.hasLocation"), locationOptions, t("submissions.hasLocation.any"))}
      <label class="inline">
        <input
          type="checkbox"
          checked={filters.deleted === "true"}
          onChange={(event) => change({ deleted: event.target.checked ? "true" : "" })}
        />
        {t("submissions.deleted")}
      </label>
      <UnitFilter value={filters.org_unit} change={change} />
    </form>
  );
}

export function Submissions({ params }) {
  const [filters, change] = useFilters(params);
  const { forms, error } = useForms();
  useEffect(() => {
    document.title = `${t("submissions.title")} · ${t("app.name")}`;
  }, []);
  const formName = (id) => forms?.find((form) => form.id === id)?.name ?? `#${id}`;
  const picked = filters.form ? formName(Number(filters.form)) : null;
  const columns = [
    {
      label: t("submissions.col.id"),
      render: (row) => <Link to={`/submissions/${row.id}`}>{t("submissions.link", { id: row.id })}</Link>,
    },
    { label: t("submissions.col.received"), render: (row) => formatTime(row.created_at) },
    { label: t("submissions.col.who"), render: (row) => row.created_by_email || row.device_id || "—" },
    {
      label: t("submissions.col.unit"),
      render: (row) =>
        row.org_unit_id ? <Link to={`/units/${row.org_unit_id}`}>{row.org_unit_name || `#${row.org_unit_id}`}</Link> : "—",
    },
    ...(filters.form ? [] : [{ label: t("submissions.col.form"), render: (row) => formName(row.form_id) }]),
    { label: t("submissions.col.status"), render: (row) => <ReviewBadge status={row.validation_status} /> },
  ];
  return (
    <main id="main">
      <h1>{t("submissions.title")}</h1>
      <ErrorMessage error={error} />
      {forms?.length === 0 && !error && <p>{t("submissions.noForms")}</p>}
      <Filters filters={filters} change={change} forms={forms} />
      <PagedList
        path="/api/submissions"
        query={apiQuery(filters)}
        columns={columns}
        caption={picked ? t("submissions.caption.form", { form: picked }) : t("submissions.caption")}
      />
    </main>
  );
}
