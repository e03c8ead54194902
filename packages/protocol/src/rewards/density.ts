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
 * Every device in one resolution-10 cell has the same scale, so scales are computed per cell, and a
 * scale is one of few distinct fractions: each is held once, and callers may key on it.
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
 * A cell's place below its resolution: the base cell and digits of its H3 index (its low 52 bits),
 * without the digits past `resolution`, which are all 7 in a cell of that resolution. Exact in a
 * double (at most 7 + 3 x 15 bits), and an ancestor's is the cell's divided by 8 per resolution up:
 * a cell's ancestors are found with no h3 call and no text.
 */
type CellBits = number;

/**
 * The index's low 52 bits and the cell's resolution, or null unless `cell` is an H3 cell (mode 1) in
 * hex text, of `resolution` when given.
 */
function cellBits(cell: string, resolution?: number): { readonly bits: number; readonly res: number } | null {
  if (cell.length < 9 || cell.length > 16 || !/^[0-9a-f]+$/i.test(cell)) return null;
  const hi = parseInt(cell.slice(0, -8), 16);
  const lo = parseInt(cell.slice(-8), 16);
  const mode = Math.floor(hi / 2 ** 27) & 0xf;
  const res = Math.floor(hi / 2 ** 20) & 0xf;
  if (hi >= 2 ** 31 || mode !== 1 || (resolution !== undefined && res !== resolution)) return null;
  const bits = (hi % 2 ** 20) * 2 ** 32 + lo;
  // below its resolution a cell's digits are all 7
  const unused = 2 ** (3 * (15 - res));
  return bits % unused === unused - 1 ? { bits, res } : null;
}

/** `bits` (of a cell of resolution `from`) at resolution `to` <= from: the key of its ancestor there. */
const keyAt = (bits: number, to: number): CellBits => Math.floor(bits / 2 ** (3 * (15 - to)));

/** One level's counted cells: their keys sorted, with both counts. */
interface LevelTable {
  readonly resolution: number;
  readonly keys: Float64Array;
  readonly unclipped: Uint32Array;
  readonly clipped: Uint32Array;
}

/** Position of `key` in the level's sorted keys, or -1. */
function find(level: LevelTable, key: CellBits): number {
  const keys = level.keys;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < keys.length && keys[lo] === key ? lo : -1;
}

/** A level's counts (cell text -> [unclipped, clipped]) as a table sorted by key. */
function levelTable(resolution: number, counts: ReadonlyMap<string, readonly [number, number]>): LevelTable {
  const n = counts.size;
  const keys = new Float64Array(n);
  const u = new Uint32Array(n);
  const c = new Uint32Array(n);
  let i = 0;
  for (const [cell, [unclipped, clipped]] of counts) {
    keys[i] = keyAt(cellBits(cell, resolution)!.bits, resolution);
    u[i] = unclipped;
    c[i++] = clipped;
  }
  const order = Uint32Array.from({ length: n }, (_, k) => k).sort((a, b) => keys[a]! - keys[b]!);
  const table: LevelTable = {
    resolution,
    keys: new Float64Array(n),
    unclipped: new Uint32Array(n),
    clipped: new Uint32Array(n),
  };
  order.forEach((from, to) => {
    table.keys[to] = keys[from]!;
    table.unclipped[to] = u[from]!;
    table.clipped[to] = c[from]!;
  });
  return table;
}

/**
 * Builds the density map from the cells of every counted device (one entry per device; the
 * caller decides which devices count: active with an asserted location). `levels` go from fine to
 * coarse, each resolution once.
 *
 * Each level is kept as sorted keys and counts (16 bytes a counted cell, ~4 cells a device), and a
 * scale is kept per resolution-10 cell once asked for, each distinct fraction once: with every one
 * of 1.44M devices credited, the weighting holds 540 MB less than with maps of cell texts
 * (bench:device-memory).
 */
export function buildDensity(
  deviceCells: Iterable<string>,
  levels: readonly DensityLevel[] = HIP104_LEVELS,
): DensityMap {
  const first = levels[0];
  if (first === undefined) throw new Error("no density levels");
  for (let li = 0; li < levels.length; li++) {
    const r = levels[li]!.resolution;
    if (!Number.isInteger(r) || r < 0 || r > 15 || (li > 0 && r >= levels[li - 1]!.resolution))
      throw new RangeError("density levels go from fine to coarse resolutions, each once, within 0..15");
  }
  const tables: LevelTable[] = [];

  let current = new Map<string, number>();
  for (const cell of deviceCells) {
    const parent = h3.cellToParent(cell, first.resolution);
    current.set(parent, (current.get(parent) ?? 0) + 1);
  }
  for (let li = 0; li < levels.length; li++) {
    const level = levels[li]!;
    const counts = new Map<string, readonly [number, number]>();
    for (const [cell, count] of current) {
      let occupied = 0;
      for (const n of h3.gridDisk(cell, 1)) if ((current.get(n) ?? 0) >= level.target) occupied++;
      const limit = Math.min(level.max, level.target * Math.max(1, occupied - level.neighbours + 1));
      counts.set(cell, [count, Math.min(count, limit)]);
    }
    tables.push(levelTable(level.resolution, counts));
    const next = levels[li + 1];
    if (next === undefined) break;
    const up = new Map<string, number>();
    for (const [cell, [, clipped]] of counts) {
      const parent = h3.cellToParent(cell, next.resolution);
      up.set(parent, (up.get(parent) ?? 0) + clipped);
    }
    current = up;
  }

  const base = tables[0]!;
  // The scale of each resolution-10 cell once asked for, and each distinct fraction held once.
  const scales: (Fraction | undefined)[] = new Array<Fraction | undefined>(base.keys.length);
  const fractions = new Map<string, Fraction>();
  return {
    scaleOf(cell) {
      const c = cellBits(cell);
      if (c === null || c.res < first.resolution) throw new Error(`cell ${cell} was not counted`);
      const k0 = find(base, keyAt(c.bits, first.resolution));
      if (k0 < 0) throw new Error(`cell ${cell} was not counted`);
      let s = scales[k0];
      if (s === undefined) {
        s = ONE;
        for (const level of tables) {
          const k = level === base ? k0 : find(level, keyAt(c.bits, level.resolution));
          if (k < 0) throw new Error(`cell ${cell} was not counted`);
          s = mul(s, frac(level.clipped[k]!, level.unclipped[k]!));
        }
        const id = `${s.num}/${s.den}`;
        const held = fractions.get(id);
        if (held === undefined) fractions.set(id, s);
        else s = held;
        scales[k0] = s;
      }
      return s;
    },
    counts(cell) {
      const c = cellBits(cell);
      const level = c === null ? undefined : tables.find((t) => t.resolution === c.res);
      if (c === null || level === undefined) return undefined;
      const k = find(level, keyAt(c.bits, c.res));
      return k < 0 ? undefined : { unclipped: level.unclipped[k]!, clipped: level.clipped[k]! };
    },
  };
}
