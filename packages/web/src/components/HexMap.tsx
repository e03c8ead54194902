/**
 * Hexes on a MapLibre GL map: H3 cells drawn from GeoJSON with an inline style (a plain background,
 * no tiles, no glyphs, no server). Colour by a count; the table beside it carries the same data.
 */
import type { FeatureCollection, Polygon } from "geojson";
import { cellToBoundary } from "h3-js";
import { LngLatBounds, Map as MapLibreMap, setWorkerUrl } from "maplibre-gl";
// MapLibre parses GeoJSON in a worker: bundled by Vite (?worker&url), served beside the app.
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url";

import "maplibre-gl/dist/maplibre-gl.css";

import { useEffect, useRef } from "react";

setWorkerUrl(workerUrl);

export interface HexValue {
  readonly hex: string;
  readonly value: number;
}

function geojson(hexes: readonly HexValue[]): FeatureCollection {
  return {
    type: "FeatureCollection",
    features: hexes.map((h) => {
      const ring = cellToBoundary(h.hex, true);
      return {
        type: "Feature",
        properties: { hex: h.hex, value: h.value },
        geometry: { type: "Polygon", coordinates: [[...ring, ring[0]!]] },
      };
    }),
  };
}

export function HexMap({ hexes, label }: { readonly hexes: readonly HexValue[]; readonly label: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (el.current === null || hexes.length === 0) return;
    const data = geojson(hexes);
    const max = Math.max(1, ...hexes.map((h) => h.value));
    const map = new MapLibreMap({
      container: el.current,
      style: {
        version: 8,
        sources: { hexes: { type: "geojson", data } },
        layers: [
          { id: "background", type: "background", paint: { "background-color": "#eef2f5" } },
          {
            id: "hex-fill",
            type: "fill",
            source: "hexes",
            paint: {
              "fill-color": ["interpolate", ["linear"], ["get", "value"], 0, "#c7d2fe", max, "#3730a3"],
              "fill-opacity": 0.8,
            },
          },
          {
            id: "hex-line",
            type: "line",
            source: "hexes",
            paint: { "line-color": "#1e1b4b", "line-width": 1 },
          },
        ],
      },
      attributionControl: false,
      canvasContextAttributes: { preserveDrawingBuffer: true }, // screenshots see the drawn hexes
    });
    const bounds = new LngLatBounds();
    for (const f of data.features)
      for (const c of (f.geometry as Polygon).coordinates[0]!) bounds.extend(c as [number, number]);
    map.fitBounds(bounds, { padding: 24, animate: false });
    return () => map.remove();
  }, [hexes]);
  return <div ref={el} className="map" role="img" aria-label={label} data-testid="hex-map" />;
}
