// A map of a few geometries given as GeoJSON (a unit's territory, a proposed point, a submission's
// location): MapLibre GL with no basemap, loaded by a dynamic import like the registry's map.
// "current"/"plain" places are drawn in blue, "proposed" ones in orange; with `onMove`, the first
// point is a marker that can be dragged.
import maplibregl from "maplibre-gl";
import { t } from "../strings.js";

const COLOURS = { current: "#0b5cad", plain: "#0b5cad", proposed: "#c05a00" };

function collection(places) {
  const features = places
    .filter((place) => place.geometry)
    .map((place, index) => ({
      type: "Feature",
      id: index,
      geometry: place.geometry,
      properties: { colour: COLOURS[place.kind] ?? COLOURS.plain },
    }));
  return { type: "FeatureCollection", features };
}

function positions(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Point") return [geometry.coordinates];
  if (geometry.type === "GeometryCollection") return geometry.geometries.flatMap(positions);
  return geometry.coordinates.flat(geometry.type === "MultiPolygon" ? 2 : geometry.type === "Polygon" ? 1 : 0);
}

function bounds(places) {
  const all = places.flatMap((place) => positions(place.geometry));
  if (!all.length) return null;
  const lons = all.map(([lon]) => lon);
  const lats = all.map(([, lat]) => lat);
  return [
    [Math.min(...lons), Math.min(...lats)],
    [Math.max(...lons), Math.max(...lats)],
  ];
}

const LAYERS = [
  {
    id: "areas",
    type: "fill",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.15 },
  },
  {
    id: "outlines",
    type: "line",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": ["get", "colour"], "line-width": 1.5 },
  },
  {
    id: "points",
    type: "circle",
    filter: ["==", ["geometry-type"], "Point"],
    paint: {
      "circle-color": ["get", "colour"],
      "circle-radius": 7,
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 2,
    },
  },
];

function style(places) {
  return {
    version: 8,
    sources: { places: { type: "geojson", data: collection(places) } },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef2f5" } },
      ...LAYERS.map((layer) => ({ ...layer, source: "places" })),
    ],
  };
}

function fit(map, places) {
  const box = bounds(places);
  if (!box) return;
  map.fitBounds(box, { padding: 40, maxZoom: 13, duration: 0 });
}

// Draws `places` in `container`; `onMove([lon, lat])` when the draggable point is dropped.
export function mountPlaces(container, places, label, onMove) {
  const map = new maplibregl.Map({
    container,
    style: style(places),
    center: [0, 10],
    zoom: 1,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.getCanvas().setAttribute("aria-label", label);
  fit(map, places);
  let marker = null;
  let shown = places;
  map.on("idle", () => {
    container.dataset.features = String(map.queryRenderedFeatures({ layers: LAYERS.map((l) => l.id) }).length);
    container.dataset.ready = "true";
  });

  function placeMarker() {
    marker?.remove();
    marker = null;
    const point = shown.find((place) => place.geometry?.type === "Point");
    if (!onMove || !point) return;
    marker = new maplibregl.Marker({ draggable: true, color: COLOURS[point.kind] ?? COLOURS.plain })
      .setLngLat(point.geometry.coordinates)
      .addTo(map);
    const element = marker.getElement();
    element.dataset.testid = "place-marker";
    element.setAttribute("aria-label", t("placeMap.marker"));
    marker.on("dragend", () => {
      const { lng, lat } = marker.getLngLat();
      onMove([Number(lng.toFixed(6)), Number(lat.toFixed(6))]);
    });
  }
  placeMarker();

  return {
    setPlaces(next, { refit = true } = {}) {
      shown = next;
      delete container.dataset.ready;
      map.getSource("places")?.setData(collection(next));
      const point = next.find((place) => place.geometry?.type === "Point");
      if (marker && point) marker.setLngLat(point.geometry.coordinates);
      else placeMarker();
      if (refit) fit(map, next);
    },
    remove() {
      map.remove();
    },
  };
}
