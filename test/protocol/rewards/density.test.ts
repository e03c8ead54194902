/**
 * The hex density's packed tables (packages/protocol/src/rewards/density.ts) against a reference
 * model: the same HIP-17/104 rules over maps of cell texts, as the density was computed before it
 * was packed. Hand-computed cases are in rewards.test.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as h3 from "h3-js";

import {
  buildDensity,
  frac,
  HIP104_LEVELS,
  mul,
  ONE,
  type DensityLevel,
  type Fraction,
} from "@hexmesh/protocol";

import { BASE_LAT, BASE_LNG } from "../../helpers/oracle.js";

const text = (x: Fraction) => `${x.num}/${x.den}`;

/** The rules over maps of cell texts: each level's counts, and a device's scale. */
function reference(cells: readonly string[], levels: readonly DensityLevel[]) {
  const counts = new Map<string, { unclipped: number; clipped: number }>();
  let current = new Map<string, number>();
  for (const c of cells) {
    const p = h3.cellToParent(c, levels[0]!.resolution);
    current.set(p, (current.get(p) ?? 0) + 1);
  }
  levels.forEach((level, li) => {
    for (const [cell, count] of current) {
      const occupied = h3.gridDisk(cell, 1).filter((n) => (current.get(n) ?? 0) >= level.target).length;
      const limit = Math.min(level.max, level.target * Math.max(1, occupied - level.neighbours + 1));
      counts.set(cell, { unclipped: count, clipped: Math.min(count, limit) });
    }
    const next = levels[li + 1];
    if (next === undefined) return;
    const up = new Map<string, number>();
    for (const cell of current.keys()) {
      const p = h3.cellToParent(cell, next.resolution);
      up.set(p, (up.get(p) ?? 0) + counts.get(cell)!.clipped);
    }
    current = up;
  });
  const scaleOf = (cell: string): Fraction =>
    levels.reduce((s, l) => {
      const c = counts.get(h3.cellToParent(cell, l.resolution))!;
      return mul(s, frac(c.clipped, c.unclipped));
    }, ONE);
  return { counts, scaleOf };
}

/** Res-12 device cells: clusters of devices around a few points near the base, some crowded. */
const fleet = fc
  .array(
    fc.record({
      north: fc.integer({ min: -40, max: 40 }),
      east: fc.integer({ min: -40, max: 40 }),
      devices: fc.integer({ min: 1, max: 12 }),
      spreadM: fc.constantFrom(5, 40, 300, 2_000),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .chain((clusters) =>
    fc.tuple(
      ...clusters.map((c) =>
        fc
          .array(
            fc.tuple(
              fc.double({ min: -1, max: 1, noNaN: true }),
              fc.double({ min: -1, max: 1, noNaN: true }),
            ),
            {
              minLength: c.devices,
              maxLength: c.devices,
            },
          )
          .map((offsets) =>
            offsets.map(([dn, de]) => {
              const lat = BASE_LAT + (c.north * 500 + dn * c.spreadM) / 111_320;
              const lng =
                BASE_LNG + (c.east * 500 + de * c.spreadM) / (111_320 * Math.cos((BASE_LAT * Math.PI) / 180));
              return h3.latLngToCell(lat, lng, 12);
            }),
          ),
      ),
    ),
  )
  .map((groups) => groups.flat());

describe("protocol / hex density tables", function () {
  it("gives every device the reference model's scale and every counted cell its counts (property)", function () {
    this.timeout(120_000);
    let clipped = 0; // devices whose scale is below 1: the runs must reach crowded hexes
    fc.assert(
      fc.property(fleet, (cells) => {
        const model = reference(cells, HIP104_LEVELS);
        const d = buildDensity(cells);
        for (const c of cells) {
          const s = d.scaleOf(c);
          expect(text(s), c).to.equal(text(model.scaleOf(c)));
          if (s.num < s.den) clipped++;
        }
        for (const [cell, counts] of model.counts) expect(d.counts(cell), cell).to.deep.equal(counts);
      }),
      { numRuns: 40 },
    );
    expect(clipped).to.be.above(100);
  });

  it("holds each distinct scale once, whatever cell it was asked for", function () {
    const base = h3.latLngToCell(BASE_LAT, BASE_LNG, 10);
    // three lone devices, far apart: all scale 1, one fraction object
    const cells = [0, 1, 2].map((k) => {
      const far = h3.gridDisk(base, 6 * (k + 1)).at(-1)!;
      return h3.cellToCenterChild(far, 12);
    });
    const d = buildDensity(cells);
    const scales = cells.map((c) => d.scaleOf(c));
    expect(scales.map(text)).to.deep.equal(["1/1", "1/1", "1/1"]);
    expect(scales[0]).to.equal(scales[1]);
    expect(scales[1]).to.equal(scales[2]);
    expect(d.scaleOf(cells[0]!), "asked again").to.equal(scales[0]);
  });

  it("refuses cells it did not count, coarser than its first level, or not cells; counts only its levels' cells", function () {
    const base = h3.latLngToCell(BASE_LAT, BASE_LNG, 10);
    const device = h3.cellToCenterChild(base, 12);
    const d = buildDensity([device]);
    const elsewhere = h3.cellToCenterChild(h3.gridDisk(base, 3).at(-1)!, 12);
    for (const bad of [
      elsewhere,
      h3.cellToParent(device, 9),
      "not a cell",
      "",
      "8a2a1072b59fffz",
      device + "0",
    ])
      expect(() => d.scaleOf(bad), bad).to.throw(/was not counted/);
    expect(d.counts(base)).to.deep.equal({ unclipped: 1, clipped: 1 });
    expect(d.counts(h3.cellToParent(base, 4))).to.deep.equal({ unclipped: 1, clipped: 1 });
    expect(d.counts(device), "res 12 is no level").to.equal(undefined);
    expect(d.counts(h3.cellToParent(base, 3)), "res 3 is no level").to.equal(undefined);
    expect(d.counts(h3.cellToParent(h3.gridDisk(base, 3).at(-1)!, 10)), "not counted").to.equal(undefined);
    expect(d.counts("xyz")).to.equal(undefined);
    // the trailing digits of a res-10 cell set to something other than 7: no cell
    expect(d.counts(base.slice(0, -1) + "e")).to.equal(undefined);
  });

  it("refuses levels that are not fine to coarse, each resolution once", function () {
    const cell = h3.latLngToCell(BASE_LAT, BASE_LNG, 12);
    const l = (resolution: number): DensityLevel => ({ resolution, neighbours: 2, target: 1, max: 1 });
    for (const levels of [[l(8), l(9)], [l(8), l(8)], [l(16)], [l(8), l(-1)], [l(8.5)]])
      expect(() => buildDensity([cell], levels), JSON.stringify(levels)).to.throw(
        RangeError,
        /fine to coarse/,
      );
    expect(() => buildDensity([cell], [])).to.throw(/no density levels/);
  });
});
