import { useEffect, useState } from "preact/hooks";
import { api } from "../../api.js";
import { ErrorMessage } from "../../components/ErrorMessage.jsx";
import { Field, formLevel } from "../../components/Field.jsx";
import { PlaceMap } from "../../components/PlaceMap.jsx";
import { useAction } from "../../components/useAction.js";
import { UnitStatusOptions } from "../../components/UnitStatusOptions.jsx";
import { t } from "../../strings.js";

const SEARCH_PAUSE_MS = 300;

// The parent: the current one, a search by name among the units of the same version, a choice.
function ParentPicker({ unit, parent, setParent, error }) {
  const [text, setText] = useState("");
  const [found, setFound] = useState(null);
  useEffect(() => {
    const search = text.trim();
    if (!search) {
      setFound(null);
      return undefined;
    }
    const timer = setTimeout(() => {
      api("GET", "/api/orgunits", {
        query: { search, version: unit.version_id, limit: 10, fields: "id,name,org_unit_type_name" },
      }).then(
        (answer) => setFound(answer.results.filter((row) => row.id !== unit.id)),
        () => setFound([]),
      );
    }, SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <fieldset class="field">
      <legend>{t("units.field.parent_id")}</legend>
      <p data-testid="parent-current">
        {parent ? t("units.edit.parent.current", { name: parent.name }) : t("units.edit.parent.none")}
      </p>
      <Field
        id="unit-parent-search"
        name="parent_id"
        label={t("units.edit.parent.search")}
        error={error}
        type="search"
        value={text}
        onInput={(event) => setText(event.target.value)}
      />
      {found && found.length === 0 && <p>{t("units.edit.parent.noMatch")}</p>}
      {found && found.length > 0 && (
        <ul class="parent-results" aria-label={t("units.edit.parent.results")}>
          {found.map((row) => (
            <li key={row.id}>
              <button
                type="button"
                class="link"
                aria-label={t("units.edit.parent.choose", { name: row.name })}
                onClick={() => {
                  setParent({ id: row.id, name: row.name });
                  setText("");
                }}
              >
                {row.name}
                {row.org_unit_type_name ? ` (${row.org_unit_type_name})` : ""}
              </button>
            </li>
          ))}
        </ul>
      )}
      {parent && (
        <button type="button" class="link clear-parent" onClick={() => setParent(null)}>
          {t("units.edit.parent.clear")}
        </button>
      )}
    </fieldset>
  );
}

const coordinate = (text) => (text.trim() === "" ? null : Number(text));

// The changed fields only: PATCH leaves out what is not sent.
function changesOf(unit, form, parent) {
  const changes = {};
  if (form.name !== unit.name) changes.name = form.name;
  const typeId = form.type ? Number(form.type) : null;
  if (typeId !== (unit.org_unit_type_id ?? null)) changes.org_unit_type_id = typeId;
  if ((parent?.id ?? null) !== (unit.parent_id ?? null)) changes.parent_id = parent?.id ?? null;
  if (form.status !== unit.validation_status) changes.validation_status = form.status;
  const [lon, lat] = [coordinate(form.lon), coordinate(form.lat)];
  const [oldLon, oldLat] = unit.location?.coordinates || [null, null];
  if (lon !== oldLon || lat !== oldLat) {
    changes.location = lon === null && lat === null ? null : { type: "Point", coordinates: [lon, lat] };
  }
  return changes;
}

export function UnitEdit({ unit, types, onDone, onCancel }) {
  const [form, setForm] = useState({
    name: unit.name,
    type: unit.org_unit_type_id ? String(unit.org_unit_type_id) : "",
    status: unit.validation_status,
    lon: unit.location ? String(unit.location.coordinates[0]) : "",
    lat: unit.location ? String(unit.location.coordinates[1]) : "",
  });
  const [parent, setParent] = useState(unit.parent_id ? { id: unit.parent_id, name: unit.parent_name } : null);
  const [act, busy, error] = useAction();
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const lon = coordinate(form.lon);
  const lat = coordinate(form.lat);
  const point =
    Number.isFinite(lon) && Number.isFinite(lat) && lon !== null && lat !== null
      ? { type: "Point", coordinates: [lon, lat] }
      : null;
  const moved = JSON.stringify(point) !== JSON.stringify(unit.location ? { type: "Point", coordinates: unit.location.coordinates.slice(0, 2) } : null);

  async function save(event) {
    event.preventDefault();
    const changes = changesOf(unit, form, parent);
    if (!Object.keys(changes).length) {
      onDone(t("units.edit.nothing"));
      return;
    }
    await act(async () => {
      await api("PATCH", `/api/orgunits/${unit.id}`, { body: changes });
      onDone(t("units.edit.saved"));
    });
  }

  const locationError = error?.field === "location";
  return (
    <form class="edit-unit" noValidate onSubmit={save} aria-labelledby="edit-title">
      <h2 id="edit-title">{t("units.edit.title", { name: unit.name })}</h2>
      <ErrorMessage error={formLevel(error)} />
      <Field id="unit-name" name="name" label={t("units.field.name")} error={error} value={form.name} onInput={set("name")} />
      <Field id="unit-type" name="org_unit_type_id" label={t("units.field.type")} error={error}>
        <select
          id="unit-type"
          value={form.type}
          onChange={set("type")}
          aria-invalid={error?.field === "org_unit_type_id" ? "true" : undefined}
          aria-describedby={error?.field === "org_unit_type_id" ? "unit-type-error" : undefined}
        >
          <option value="">{t("units.edit.type.none")}</option>
          {types.map((type) => (
            <option key={type.id} value={String(type.id)}>
              {type.name}
            </option>
          ))}
        </select>
      </Field>
      <Field id="unit-status" name="validation_status" label={t("units.field.status")} error={error}>
        <select id="unit-status" value={form.status} onChange={set("status")}>
          <UnitStatusOptions />
        </select>
      </Field>
      <ParentPicker unit={unit} parent={parent} setParent={setParent} error={error} />
      <fieldset class="field">
        <legend>{t("units.edit.point")}</legend>
        <div class="coords">
          <Field
            id="unit-lon"
            name="longitude"
            label={t("units.edit.longitude")}
            type="number"
            step="any"
            inputMode="decimal"
            value={form.lon}
            onInput={set("lon")}
            aria-invalid={locationError ? "true" : undefined}
            aria-describedby={locationError ? "unit-location-error" : undefined}
          />
          <Field
            id="unit-lat"
            name="latitude"
            label={t("units.edit.latitude")}
            type="number"
            step="any"
            inputMode="decimal"
            value={form.lat}
            onInput={set("lat")}
            aria-invalid={locationError ? "true" : undefined}
            aria-describedby={locationError ? "unit-location-error" : undefined}
          />
        </div>
        {locationError && (
          <p class="field-error" id="unit-location-error" role="alert">
            {error.message}
          </p>
        )}
        <PlaceMap
          places={[
            { geometry: point, kind: moved ? "proposed" : "current", label: t(moved ? "units.map.moved" : "units.map.point") },
            { geometry: unit.geom, kind: "current", label: t("units.map.territory") },
          ]}
          label={t("units.map", { name: unit.name })}
          onMove={([newLon, newLat]) => setForm((f) => ({ ...f, lon: String(newLon), lat: String(newLat) }))}
        />
      </fieldset>
      <div class="actions inline-form">
        <button type="submit" disabled={busy}>
          {busy ? t("units.edit.saving") : t("units.edit.save")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("units.edit.cancel")}
        </button>
      </div>
    </form>
  );
}
