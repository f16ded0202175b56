// The registry's map: MapLibre GL over the API's vector tiles (GET /api/tiles/{z}/{x}/{y}.mvt with
// the list's filters). Loaded by a dynamic import, so MapLibre (~270 KB gzipped) is fetched only by
// the pages that draw a map. No basemap: nothing is downloaded from elsewhere, the tiles are ours.
import maplibregl from "maplibre-gl";
import { apiUrl } from "../api.js";
import { currentToken } from "../session.js";
import { t } from "../strings.js";

const MVT = "application/vnd.mapbox-vector-tile";
const TERRITORY = "#0b5cad";
const POINT = "#a61b1b";
const SELECTED = "#e8a317";
const LAYERS = ["territories-fill", "territories-line", "points"];

function tilesUrl(query) {
  const url = apiUrl("/api/tiles/{z}/{x}/{y}.mvt", query);
  return url.replace(/%7B/g, "{").replace(/%7D/g, "}"); // MapLibre fills {z}/{x}/{y} itself
}

function style(query) {
  const selected = ["==", ["get", "id"], -1];
  return {
    version: 8,
    sources: { units: { type: "vector", tiles: [tilesUrl(query)], minzoom: 0, maxzoom: 14 } },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef2f5" } },
      {
        id: "territories-fill",
        type: "fill",
        source: "units",
        "source-layer": "territories",
        paint: { "fill-color": ["case", selected, SELECTED, TERRITORY], "fill-opacity": 0.12 },
      },
      {
        id: "territories-line",
        type: "line",
        source: "units",
        "source-layer": "territories",
        paint: { "line-color": ["case", selected, SELECTED, TERRITORY], "line-width": 1.2 },
      },
      {
        id: "points",
        type: "circle",
        source: "units",
        "source-layer": "points",
        paint: {
          "circle-color": ["case", selected, SELECTED, POINT],
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 4, 3, 12, 6],
          "circle-stroke-color": "#ffffff",
          "circle-stroke-width": 1,
        },
      },
      // The API's sign that a tile had too many points to send (one feature at its centre); drawn
      // invisibly, so that the map can say "zoom in" (the worker parses only the layers a style uses).
      {
        id: "overflow",
        type: "circle",
        source: "units",
        "source-layer": "overflow",
        paint: { "circle-opacity": 0, "circle-radius": 1 },
      },
    ],
  };
}

// The bearer token on every tile request, and the tile type as the first Accept type (so that
// API Gateway answers bytes; see chalicelib/handlers/tiles_api.py).
function transformRequest(url, kind) {
  if (kind !== "Tile") return { url };
  return { url, headers: { Accept: MVT, Authorization: `Bearer ${currentToken()}` } };
}

function paintSelected(map, id) {
  const selected = ["==", ["get", "id"], id ?? -1];
  map.setPaintProperty("territories-fill", "fill-color", ["case", selected, SELECTED, TERRITORY]);
  map.setPaintProperty("territories-line", "line-color", ["case", selected, SELECTED, TERRITORY]);
  map.setPaintProperty("points", "circle-color", ["case", selected, SELECTED, POINT]);
}

// Draws the units `query` selects in `container`; `onPick(properties)` on a click on one;
// `onSettled({features, crowded})` each time it settles (idle): the features drawn, and whether a
// tile in view left points out. The container's data-features says the same count, for tests.
export function mountMap(container, query, onPick, onSettled) {
  const map = new maplibregl.Map({
    container,
    style: style(query),
    center: [0, 10],
    zoom: 1,
    transformRequest,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.getCanvas().setAttribute("aria-label", t("registry.map.label"));
  map.on("idle", () => {
    const features = map.queryRenderedFeatures({ layers: LAYERS }).length;
    const crowded = map.querySourceFeatures("units", { sourceLayer: "overflow" }).length > 0;
    container.dataset.features = String(features);
    onSettled({ features, crowded });
  });
  map.on("click", (event) => {
    const [feature] = map.queryRenderedFeatures(event.point, { layers: ["points", "territories-fill"] });
    if (feature) onPick(feature.properties);
  });
  for (const layer of ["points", "territories-fill"]) {
    map.on("mouseenter", layer, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", layer, () => (map.getCanvas().style.cursor = ""));
  }
  return {
    setQuery(next) {
      delete container.dataset.features;
      map.getSource("units")?.setTiles([tilesUrl(next)]);
    },
    select(id) {
      // A pick can come before the style has loaded (a slow machine): paint it once it has.
      if (!map.isStyleLoaded()) {
        map.once("load", () => paintSelected(map, id));
        return;
      }
      paintSelected(map, id);
    },
    fit(bounds) {
      delete container.dataset.features; // counted again once the new view has settled
      map.fitBounds(bounds, { padding: 40, maxZoom: 11, duration: 0 });
    },
    remove() {
      map.remove();
    },
  };
}
