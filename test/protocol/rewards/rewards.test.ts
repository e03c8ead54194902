import { expect } from "chai";
import * as h3 from "h3-js";

import {
  beaconerUnits,
  bondCoverage,
  buildDensity,
  ChainIndexError,
  ChainView,
  computePayout,
  formatWad,
  frac,
  hip15Table,
  HIP104_LEVELS,
  keyIdOf,
  PayoutError,
  splitPool,
  toWad,
  WAD,
  witnessUnits,
  type DeviceRecord,
  type Fraction,
} from "@hexmesh/protocol";

import { BASE_LAT, BASE_LNG, testWork, World } from "../../helpers/oracle.js";

const f = (x: Fraction) => `${x.num}/${x.den}`;

/** The ids of the devices a bond covers (the view is sorted by id, so they come ascending). */
function coveredIds(chain: ChainView): bigint[] {
  const covered = bondCoverage(chain);
  expect(covered.length).to.equal(chain.devices.length);
  return chain.devices.filter((d) => covered[d.index] === 1).map((d) => d.record.id);
}

describe("oracle / rewards", function () {
  describe("HIP-15 units", function () {
    // R = 4, D = 0.8, C = 2. Hand values:
    //   n = 5:  beaconer 2 - 0.8 = 1.2;            witness (4 - (1 - 0.8)) / 5 = 3.8 / 5 = 0.76
    //   n = 6:  beaconer 2 - 0.64 = 1.36;          witness 3.64 / 6 = 0.60666...
    //   n = 14: beaconer 2 - 0.8^10 = 1.8926258176; witness 3.1073741824 / 14 = 0.221955298742857142...
    it("beaconer: 0, n/4 up to 4, then 2 - 0.8^(n-4)", function () {
      expect(f(beaconerUnits(0))).to.equal("0/1");
      expect([1, 2, 3, 4].map((n) => f(beaconerUnits(n)))).to.deep.equal(["1/4", "1/2", "3/4", "1/1"]);
      expect(f(beaconerUnits(5))).to.equal("6/5");
      expect(f(beaconerUnits(6))).to.equal("34/25");
      expect(formatWad(toWad(beaconerUnits(14)))).to.equal("1.8926258176");
    });

    it("witness: 1 up to 4, then (4 - (1 - 0.8^(n-4))) / n", function () {
      expect([1, 2, 3, 4].map((n) => f(witnessUnits(n)))).to.deep.equal(["1/1", "1/1", "1/1", "1/1"]);
      expect(f(witnessUnits(5))).to.equal("19/25");
      expect(f(witnessUnits(6))).to.equal("91/150");
      expect(toWad(witnessUnits(6))).to.equal(606_666_666_666_666_666n); // floor at 18 decimals
      expect(toWad(witnessUnits(14))).to.equal(221_955_298_742_857_142n);
    });

    it("total witness units never exceed the cap share and the table has 15 entries", function () {
      const t = hip15Table(14);
      expect(t.beaconer.length).to.equal(15);
      expect(t.witness[0]).to.equal(0n);
      for (let n = 1; n <= 14; n++)
        expect(t.beaconer[n]! <= 2n * WAD && t.witness[n]! <= 2n * WAD).to.equal(true);
      expect(t.beaconer[4]).to.equal(WAD);
      expect(() => beaconerUnits(-1)).to.throw(RangeError);
      expect(() => witnessUnits(0)).to.throw(RangeError);
    });
  });

  describe("hex density (HIP-17 / HIP-104)", function () {
    const base = h3.latLngToCell(BASE_LAT, BASE_LNG, 10);
    /** A res-12 cell at the centre of `cell`. */
    const centre12 = (cell: string) => {
      const [lat, lng] = h3.cellToLatLng(cell);
      return h3.latLngToCell(lat, lng, 12);
    };

    it("uses the SPEC's (N, target, max) table", function () {
      const byRes = Object.fromEntries(
        HIP104_LEVELS.map((l) => [l.resolution, [l.neighbours, l.target, l.max]]),
      );
      expect(byRes).to.deep.equal({
        4: [2, 500, 1000],
        5: [4, 100, 200],
        6: [4, 25, 50],
        7: [4, 5, 10],
        8: [2, 1, 1],
        9: [2, 1, 1],
        10: [2, 1, 1],
      });
    });

    it("a lone device keeps scale 1", function () {
      const d = buildDensity([centre12(base)]);
      expect(f(d.scaleOf(centre12(base)))).to.equal("1/1");
    });

    it("three devices in one res-10 hex share it: scale 1/3 each", function () {
      // res 10: unclipped 3, occupied 1 -> limit min(1, 1 x max(1, 1 - 2 + 1)) = 1 -> 1/3; above: 1/1
      const cell = centre12(base);
      const d = buildDensity([cell, cell, cell]);
      expect(f(d.scaleOf(cell))).to.equal("1/3");
      expect(toWad(d.scaleOf(cell))).to.equal(333_333_333_333_333_333n);
      expect(d.counts(base)).to.deep.equal({ unclipped: 3, clipped: 1 });
    });

    it("seven devices in the seven res-8 children of one res-7 hex: 5/7 each", function () {
      // res 10..8: every device alone in its hex (res-8 siblings are occupied neighbours, but max = 1)
      // res 7: unclipped = 7, occupied = 1 (only itself reaches target 5) -> limit min(10, 5 x 1) = 5 -> 5/7
      // res 6..4: unclipped 5, below target -> 1
      const r7 = h3.cellToParent(base, 7);
      const children = h3.cellToChildren(r7, 8);
      expect(children.length).to.equal(7);
      const cells = children.map(centre12);
      const d = buildDensity(cells);
      for (const c of cells) expect(f(d.scaleOf(c))).to.equal("5/7");
      expect(d.counts(r7)).to.deep.equal({ unclipped: 7, clipped: 5 });
    });

    it("occupied neighbours raise the limit: a full hex ringed by full hexes is not clipped", function () {
      // Levels res 8 (N 2, target 1, max 1) and res 7 (N 4, target 5, max 10) only.
      // Centre res-7 hex: occupied = 7 -> limit min(10, 5 x (7 - 4 + 1)) = 10 >= 7 -> 1/1.
      // Each outer hex: occupied = itself + centre + 2 ring neighbours = 4 -> limit 5 x 1 = 5 -> 5/7.
      const levels = HIP104_LEVELS.filter((l) => l.resolution === 8 || l.resolution === 7).sort(
        (a, b) => b.resolution - a.resolution,
      );
      const centre = h3.cellToParent(base, 7);
      const ring = h3.gridDisk(centre, 1).filter((c) => c !== centre);
      expect(ring.length).to.equal(6);
      const cellsOf = (r7: string) => h3.cellToChildren(r7, 8).map(centre12);
      const d = buildDensity([centre, ...ring].flatMap(cellsOf), levels);
      for (const c of cellsOf(centre)) expect(f(d.scaleOf(c))).to.equal("1/1");
      for (const r of ring) for (const c of cellsOf(r)) expect(f(d.scaleOf(c))).to.equal("5/7");
    });

    it("refuses a cell that was not counted", function () {
      const d = buildDensity([centre12(base)]);
      const far = h3.latLngToCell(BASE_LAT + 1, BASE_LNG, 12);
      expect(() => d.scaleOf(far)).to.throw(/not counted/);
    });
  });

  describe("payout", function () {
    function setup() {
      const world = new World();
      const alice = "0x00000000000000000000000000000000000a11ce" as const;
      const bob = "0x0000000000000000000000000000000000000b0b" as const;
      const carol = "0x00000000000000000000000000000000000ca201" as const;
      const a1 = world.addDevice("a1", { owner: alice }); // id 1
      const a2 = world.addDevice("a2", { owner: alice, northM: 1000 }); // id 2
      const b1 = world.addDevice("b1", { owner: bob, northM: 2000 }); // id 3
      const a0 = world.addDevice("a0", { owner: alice, northM: 3000, status: "suspended" }); // id 4
      world.pool = 1_001n;
      return { world, alice, bob, carol, a1, a2, b1, a0 };
    }
    const work = testWork;

    it("splits the pool by basis points, the last pool taking the remainder", function () {
      expect(splitPool(1_001n, [2_000, 8_000])).to.deep.equal([200n, 801n]);
      expect(splitPool(10n, [3_333, 3_333, 3_334])).to.deep.equal([3n, 3n, 4n]);
      expect(() => splitPool(1n, [2_000, 7_000])).to.throw(PayoutError);
      expect(() => splitPool(1n, [])).to.throw(PayoutError);
    });

    it("amount = floor(pool x weight / total weight) per pool; dust stays", function () {
      const { world, alice, bob } = setup();
      // beacon pool 200: weights 1 and 2 -> 66 and 133 (dust 1)
      // witness pool 801: weights 3, 0, 1 -> 600 (600.75), 0, 200 (200.25) (dust 1)
      const chain = new ChainView(world.chain());
      const p = computePayout(
        chain,
        work([
          { deviceId: 3n, weights: [2n, 1n], metrics: [] },
          { deviceId: 1n, weights: [1n, 3n], metrics: [] },
          { deviceId: 2n, weights: [0n, 0n], metrics: [] },
        ]),
      );
      expect(p.poolAmounts).to.deep.equal([200n, 801n]);
      expect(p.devices.map((d) => [d.deviceId, d.amount])).to.deep.equal([
        [1n, 66n + 600n],
        [2n, 0n],
        [3n, 133n + 200n],
      ]);
      expect(p.owners).to.deep.equal(
        [
          { owner: alice, amount: 666n, cumulative: 666n },
          { owner: bob, amount: 333n, cumulative: 333n },
        ].sort((x, y) => (x.owner < y.owner ? -1 : 1)),
      );
      expect(p.distributed).to.equal(999n);
      expect(p.dust).to.equal(2n);
      expect(p.totalCumulative).to.equal(999n);
    });

    it("bond covers the owner's active devices onboarded first; the others earn nothing", function () {
      const { world, alice } = setup();
      world.bonds.set(alice, 1);
      const chain = new ChainView(world.chain());
      // alice: devices 1, 2 active, 4 suspended (does not take the slot) -> only 1 bonded
      expect(coveredIds(chain)).to.deep.equal([1n, 3n]);
      const p = computePayout(
        chain,
        work([
          { deviceId: 1n, weights: [1n, 1n], metrics: [] },
          { deviceId: 2n, weights: [1n, 1n], metrics: [] },
          { deviceId: 3n, weights: [1n, 1n], metrics: [] },
        ]),
      );
      // device 2's weight leaves the totals: 1 and 3 split each pool evenly
      expect(p.devices.map((d) => [d.deviceId, d.bonded, d.amount])).to.deep.equal([
        [1n, true, 100n + 400n],
        [2n, false, 0n],
        [3n, true, 100n + 400n],
      ]);
      world.bonds.set(alice, 0);
      expect(coveredIds(new ChainView(world.chain()))).to.deep.equal([3n]);
    });

    it("bond follows onboarding order, not device ids (ids are key hashes)", function () {
      const world = new World();
      const alice = "0x00000000000000000000000000000000000a11ce" as const;
      world.addDevice("late", { owner: alice, onboardOrder: 9n << 32n }); // id 1, onboarded last
      world.addDevice("early", { owner: alice, northM: 1000, onboardOrder: (3n << 32n) | 5n }); // id 2
      world.addDevice("middle", { owner: alice, northM: 2000, onboardOrder: (3n << 32n) | 7n }); // id 3
      world.bonds.set(alice, 2);
      expect(coveredIds(new ChainView(world.chain()))).to.deep.equal([2n, 3n]);
      world.bonds.set(alice, 1);
      expect(coveredIds(new ChainView(world.chain()))).to.deep.equal([2n]);
    });

    it("refuses a chain index with two devices at one onboard order", function () {
      const world = new World();
      world.addDevice("x", { onboardOrder: 4n });
      world.addDevice("y", { northM: 1000, onboardOrder: 4n });
      expect(() => new ChainView(world.chain())).to.throw(ChainIndexError, /onboard order 4/);
    });

    it("refuses a chain index with one device id or one key twice", function () {
      const world = new World();
      world.addDevice("x");
      world.addDevice("y", { northM: 1000 });
      const [x, y] = world.chain().devices;
      const index = (devices: DeviceRecord[]) => ({ ...world.chain(), devices });
      expect(() => new ChainView(index([x!, { ...y!, id: x!.id }]))).to.throw(
        ChainIndexError,
        /device id 1 twice/,
      );
      expect(() => new ChainView(index([x!, { ...y!, key: x!.key }]))).to.throw(
        ChainIndexError,
        new RegExp(`key id ${keyIdOf(x!.key)} registered twice`),
      );
    });

    it("adds to previous cumulative amounts and keeps owners who earned nothing this epoch", function () {
      const { world, alice, carol } = setup();
      world.previous.push({ owner: carol, amount: 50n }, { owner: alice, amount: 7n });
      const p = computePayout(
        new ChainView(world.chain()),
        work([{ deviceId: 1n, weights: [1n, 1n], metrics: [] }]),
      );
      expect(p.owners).to.deep.equal([
        { owner: alice, amount: 1_001n, cumulative: 1_008n },
        { owner: carol, amount: 0n, cumulative: 50n },
      ]);
      expect(p.totalCumulative).to.equal(1_058n);
      expect(p.dust).to.equal(0n);
    });

    it("a pool nobody earns from is not distributed", function () {
      const { world } = setup();
      const p = computePayout(
        new ChainView(world.chain()),
        work([{ deviceId: 1n, weights: [0n, 5n], metrics: [] }]),
      );
      expect(p.distributed).to.equal(801n);
      expect(p.dust).to.equal(200n);
    });

    it("finds a device by id, and no device for an id it does not hold", function () {
      const { world } = setup();
      const chain = new ChainView(world.chain());
      expect([1n, 2n, 3n, 4n].map((id) => chain.deviceById(id)?.record.id)).to.deep.equal([1n, 2n, 3n, 4n]);
      for (const id of [0n, 5n, 2n ** 256n]) expect(chain.deviceById(id)).to.equal(undefined);
      expect(new ChainView(new World().chain()).deviceById(1n)).to.equal(undefined);
      // by key id as well
      for (const d of chain.devices) expect(chain.device(keyIdOf(d.record.key))).to.equal(d);
      expect(chain.device(`0x${"ab".repeat(20)}`)).to.equal(undefined);
    });

    it("refuses inconsistent work", function () {
      const { world } = setup();
      const chain = new ChainView(world.chain());
      for (const id of [0n, 99n])
        expect(() => computePayout(chain, work([{ deviceId: id, weights: [1n, 1n], metrics: [] }]))).to.throw(
          PayoutError,
          new RegExp(`unknown device ${id}$`),
        );
      expect(() =>
        computePayout(
          chain,
          work([
            { deviceId: 1n, weights: [1n, 1n], metrics: [] },
            { deviceId: 1n, weights: [1n, 1n], metrics: [] },
          ]),
        ),
      ).to.throw(/twice/);
      expect(() => computePayout(chain, work([{ deviceId: 1n, weights: [1n], metrics: [] }]))).to.throw(
        /bad weights/,
      );
      expect(() => computePayout(chain, work([{ deviceId: 1n, weights: [1n, -1n], metrics: [] }]))).to.throw(
        /bad weights/,
      );
    });
  });

  it("fractions: reduce, compare and refuse a zero denominator", function () {
    expect(frac(6, 4)).to.deep.equal({ num: 3n, den: 2n });
    expect(() => frac(1, 0)).to.throw(RangeError);
    expect(() => toWad({ num: -1n, den: 1n })).to.throw(RangeError);
    expect(formatWad(1_500_000_000_000_000_000n)).to.equal("1.5");
    expect(formatWad(2n * WAD)).to.equal("2");
  });
});
