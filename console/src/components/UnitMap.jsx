import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../strings.js";

// A map of the units `query` selects. MapLibre comes in by a dynamic import (its own chunk), so only
// the pages that show a map fetch it. `selected` highlights a unit; `bounds` ([[w, s], [e, n]])
// moves the view when it changes; `onPick(properties)` on a click on a unit.
export function UnitMap({ query, selected, bounds, onPick }) {
  const container = useRef(null);
  const [map, setMap] = useState(null);
  const [failed, setFailed] = useState(false);
  const [crowded, setCrowded] = useState(false);
  const pick = useRef(onPick);
  pick.current = onPick;
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    let live = true;
    let mounted = null;
    import("../map/registryMap.js").then(
      ({ mountMap }) => {
        if (!live) return;
        const settled = (state) => setCrowded(state.crowded);
        mounted = mountMap(container.current, query, (unit) => pick.current(unit), settled);
        setMap(mounted);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      mounted?.remove();
    };
  }, []);
  useEffect(() => map?.setQuery(query), [map, queryKey]);
  useEffect(() => map?.select(selected), [map, selected]);
  useEffect(() => bounds && map?.fit(bounds), [map, JSON.stringify(bounds)]);

  return (
    <div class="map-box">
      <div class="map" ref={container} data-testid="map" role="region" aria-label={t("registry.map.label")} />
      <p class="map-note" role="status" data-testid="map-note">
        {crowded ? t("registry.map.crowded") : ""}
      </p>
      {failed && <p class="error">{t("registry.map.failed")}</p>}
    </div>
  );
}
