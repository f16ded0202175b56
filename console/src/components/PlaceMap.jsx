import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../strings.js";

const KINDS = { current: "placeMap.current", proposed: "placeMap.proposed", plain: "placeMap.plain" };

const onEarth = ([lon, lat]) => Math.abs(lon) <= 180 && Math.abs(lat) <= 90;

// A point being typed (latitude 95, say) is not drawn until it is a place on Earth: the API says why.
function drawable(geometry) {
  if (!geometry) return false;
  if (geometry.type !== "Point") return true;
  const [lon, lat] = geometry.coordinates || [];
  return Number.isFinite(lon) && Number.isFinite(lat) && onEarth([lon, lat]);
}

// A small map of a few geometries: `places` = [{geometry, kind: "current"|"proposed"|"plain", label}].
// With `onMove`, the first point can be dragged and `onMove([lon, lat])` is called where it is dropped.
// MapLibre comes in by a dynamic import (its own chunk). The view fits the places when they change,
// unless the change came from a drag.
export function PlaceMap({ places, label, onMove }) {
  const container = useRef(null);
  const [map, setMap] = useState(null);
  const [failed, setFailed] = useState(false);
  const moved = useRef(null);
  const move = useRef(onMove);
  move.current = onMove;
  const drawn = places.filter((place) => drawable(place.geometry));
  const key = JSON.stringify(drawn.map((place) => [place.kind, place.geometry]));

  useEffect(() => {
    let live = true;
    let mounted = null;
    const onDrop = (position) => {
      moved.current = JSON.stringify(position);
      move.current?.(position);
    };
    import("../map/placeMap.js").then(
      ({ mountPlaces }) => {
        if (!live) return;
        mounted = mountPlaces(container.current, drawn, label, onMove ? onDrop : null);
        setMap(mounted);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      mounted?.remove();
    };
  }, []);
  useEffect(() => {
    if (!map) return;
    const point = drawn.find((place) => place.geometry?.type === "Point");
    const fromDrag = point && moved.current === JSON.stringify(point.geometry.coordinates);
    map.setPlaces(drawn, { refit: !fromDrag });
  }, [map, key]);

  return (
    <figure class="place-map">
      <div class="map map-small" ref={container} data-testid="place-map" role="region" aria-label={label} />
      {drawn.length === 0 && <figcaption>{t("placeMap.none")}</figcaption>}
      {drawn.length > 0 && (
        <figcaption>
          <ul class="legend">
            {drawn.map((place, index) => (
              <li key={index} class={`legend-${place.kind || "plain"}`}>
                {place.label || t(KINDS[place.kind] || KINDS.plain)}
              </li>
            ))}
          </ul>
          {onMove && <p class="hint">{t("placeMap.dragHint")}</p>}
        </figcaption>
      )}
      {failed && <p class="error">{t("registry.map.failed")}</p>}
    </figure>
  );
}
