/**
 * Hex density scaling (Helium HIP-17, parameters as retuned by HIP-104).
 *
 * Devices are counted per H3 cell at resolution 10; going up resolution by resolution to 4, a
 * cell's unclipped count is the sum of its children's clipped counts (at 10: the devices in it),
 * and its clipped count is
 *
 *   clipped = min(unclipped, min(max, target x max(1, occupied - N + 1)))
 *
 * where `occupied` counts the cells of its 1-ring (itself and its neighbours) whose unclipped count
 * reaches `target` (Helium's implementation, blockchain_hex.erl). A device's scale is the product
 * over resolutions 4..10 of clipped / unclipped of its ancestor cell, an exact fraction in (0, 1]:
 * crowded areas share their rewards, sparse ones keep full rewards.
 *
 * Every device in one resolution-10 cell has the same scale, so scales are computed per cell.
 */
import * as h3 from "h3-js";

import { frac, mul, ONE, type Fraction } from "./fixed.js";

export interface DensityLevel {
  readonly resolution: number;
  /** Occupied-neighbour threshold N. */
  readonly neighbours: number;
  readonly target: number;
  readonly max: number;
}

/** SPEC table: (N, target, max) by resolution, HIP-104. Ordered from fine (10) to coarse (4). */
export const HIP104_LEVELS: readonly DensityLevel[] = [
  { resolution: 10, neighbours: 2, target: 1, max: 1 },
  { resolution: 9, neighbours: 2, target: 1, max: 1 },
  { resolution: 8, neighbours: 2, target: 1, max: 1 },
  { resolution: 7, neighbours: 4, target: 5, max: 10 },
  { resolution: 6, neighbours: 4, target: 25, max: 50 },
  { resolution: 5, neighbours: 4, target: 100, max: 200 },
  { resolution: 4, neighbours: 2, target: 500, max: 1000 },
];

export interface DensityMap {
  /** Scale of a device by its asserted cell (any resolution finer than the first level). */
  scaleOf(cell: string): Fraction;
  /** Clipped and unclipped counts of a cell at one of the levels' resolutions (for inspection). */
  counts(cell: string): { readonly unclipped: number; readonly clipped: number } | undefined;
}

/**
 * Builds the density map from the cells of every counted device (one entry per device; the
 * caller decides which devices count: active with an asserted location).
 */
export function buildDensity(
  deviceCells: Iterable<string>,
  levels: readonly DensityLevel[] = HIP104_LEVELS,
): DensityMap {
  const first = levels[0];
  if (first === undefined) throw new Error("no density levels");
  // Every counted cell of every level has a slot: one map for both counts (~4 cells a device at a
  // million devices).
  const slots = new Map<string, number>();
  const unclipped: number[] = [];
  const clipped: number[] = [];

  let current = new Map<string, number>();
  for (const cell of deviceCells) {
    const parent = h3.cellToParent(cell, first.resolution);
    current.set(parent, (current.get(parent) ?? 0) + 1);
  }
  for (let li = 0; li < levels.length; li++) {
    const level = levels[li]!;
    const levelStart = clipped.length;
    for (const [cell, count] of current) {
      let occupied = 0;
      for (const n of h3.gridDisk(cell, 1)) if ((current.get(n) ?? 0) >= level.target) occupied++;
      const limit = Math.min(level.max, level.target * Math.max(1, occupied - level.neighbours + 1));
      const c = Math.min(count, limit);
      slots.set(cell, unclipped.length);
      unclipped.push(count);
      clipped.push(c);
    }
    const next = levels[li + 1];
    if (next === undefined) break;
    const up = new Map<string, number>();
    let k = levelStart; // this level's slots, in the order of `current`
    for (const cell of current.keys()) {
      const parent = h3.cellToParent(cell, next.resolution);
      up.set(parent, (up.get(parent) ?? 0) + clipped[k++]!);
    }
    current = up;
  }

  const scaleCache = new Map<string, Fraction>();
  return {
    scaleOf(cell) {
      const base = h3.cellToParent(cell, first.resolution);
      let s = scaleCache.get(base);
      if (s === undefined) {
        s = ONE;
        for (const level of levels) {
          const ancestor =
            level.resolution === first.resolution ? base : h3.cellToParent(base, level.resolution);
          const k = slots.get(ancestor);
          if (k === undefined) throw new Error(`cell ${cell} was not counted`);
          s = mul(s, frac(clipped[k]!, unclipped[k]!));
        }
        scaleCache.set(base, s);
      }
      return s;
    },
    counts(cell) {
      const k = slots.get(cell);
      return k === undefined ? undefined : { unclipped: unclipped[k]!, clipped: clipped[k]! };
    },
  };
}
