import { expect } from "chai";
import fc from "fast-check";

import { fromLimbs, LIMB_BITS, LimbColumns, mulLimbs, toLimbs } from "@hexmesh/protocol";

const WAD_MAX = (1n << 72n) - 1n;

describe("protocol / rewards / limb columns (exact wide sums without a bigint per addition)", function () {
  it("splits and joins any value that fits, and refuses one that does not or is negative", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: WAD_MAX }), (v) => {
        const limbs = toLimbs(v, 3);
        expect(limbs.every((l) => Number.isInteger(l) && l >= 0 && l < 2 ** LIMB_BITS)).to.equal(true);
        expect(fromLimbs(limbs, 0, 3)).to.equal(v);
      }),
    );
    expect(() => toLimbs(1n << 72n, 3)).to.throw(RangeError, /does not fit in 3 limbs/);
    expect(() => toLimbs(-1n, 3)).to.throw(RangeError, /negative/);
  });

  it("multiplies as bigints do, the product normalized", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: WAD_MAX }), fc.bigInt({ min: 0n, max: WAD_MAX }), (a, b) => {
        const out = new Float64Array(6);
        mulLimbs(toLimbs(a, 3), toLimbs(b, 3), out);
        expect(out.every((l) => l < 2 ** LIMB_BITS)).to.equal(true);
        expect(fromLimbs(out, 0, 6)).to.equal(a * b);
      }),
    );
    expect(() => mulLimbs(toLimbs(WAD_MAX, 3), toLimbs(WAD_MAX, 3), new Float64Array(5))).to.throw(
      RangeError,
      /does not fit in 5 limbs/,
    );
  });

  it("sums rows exactly across blocks of rows, in any order of additions", function () {
    const ROWS = 70_001; // two blocks of 65,536 rows
    const row = fc.oneof(fc.nat(ROWS - 1), fc.constantFrom(0, 65_535, 65_536, ROWS - 1));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(row, fc.bigInt({ min: 0n, max: WAD_MAX })), { maxLength: 300 }),
        (adds) => {
          const cols = new LimbColumns(4);
          for (let r = 0; r < ROWS; r++)
            if (cols.push() !== r) throw new Error(`row ${r} pushed out of order`);
          const want = new Map<number, bigint>();
          for (const [r, v] of adds) {
            cols.add(r, toLimbs(v, 3));
            want.set(r, (want.get(r) ?? 0n) + v);
          }
          expect(cols.length).to.equal(ROWS);
          for (const r of [0, 65_535, 65_536, ROWS - 1, ...want.keys()])
            expect(cols.get(r)).to.equal(want.get(r) ?? 0n);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("carries a limb before it leaves a double's exact range: 2^29 + 2^21 additions of the largest limbs", function () {
    this.timeout(300_000); // ~4 s on an idle core; a loaded CI runner is far slower
    // Limbs of 2^24 - 1 added past 2^29 times would pass 2^53 (inexact in a double) uncarried.
    const cols = new LimbColumns(3);
    cols.push();
    const ones = toLimbs((1n << 48n) - 1n, 2);
    const times = 2 ** 29 + 2 ** 21;
    for (let k = 0; k < times; k++) cols.add(0, ones);
    expect(cols.get(0)).to.equal(((1n << 48n) - 1n) * BigInt(times));
    const out = new Float64Array(3);
    cols.limbsOf(0, out);
    expect(fromLimbs(out, 0, 3)).to.equal(cols.get(0));
    expect(out[0]! < 2 ** LIMB_BITS && out[1]! < 2 ** LIMB_BITS).to.equal(true);
  });

  it("refuses a row outside, more limbs than a row holds, a sum that outgrows its limbs, bad sizes", function () {
    const cols = new LimbColumns(2);
    expect(() => cols.add(0, toLimbs(1n, 2))).to.throw(RangeError, /row 0 outside/);
    cols.push();
    expect(() => cols.get(1)).to.throw(RangeError, /row 1 outside/);
    expect(() => cols.limbsOf(-1, new Float64Array(2))).to.throw(RangeError, /row -1 outside/);
    expect(() => cols.add(0, toLimbs(1n, 3))).to.throw(RangeError, /3 limbs added to a row of 2/);
    const top = new Float64Array([0, 2 ** 51]);
    cols.add(0, top);
    expect(() => cols.add(0, top)).to.throw(RangeError, /outgrew its 2 limbs/);
    expect(() => new LimbColumns(0)).to.throw(RangeError, /bad limb count 0/);
    expect(() => mulLimbs(new Float64Array(17), new Float64Array(17), new Float64Array(34))).to.throw(
      RangeError,
      /more than 16 limbs/,
    );
  });
});
