import { expect } from "chai";
import fc from "fast-check";

import { DEFAULT_COVERAGE_PARAMS } from "@hexmesh/oracle";
import {
  ClaimLog,
  LinkStatsTable,
  MissProbability,
  type LinkStats,
  type OneWayRule,
} from "@hexmesh/oracle/verify/links";

import { near } from "../../helpers/approx.js";

const RULE: OneWayRule = DEFAULT_COVERAGE_PARAMS.oneWayLinks!;

/** Standard normal CDF by the Abramowitz-Stegun 26.2.17 series (|error| < 7.5e-8), independent of @stdlib. */
function phi(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const p =
    d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - p : p;
}

describe("oracle / one-way links", function () {
  describe("MissProbability", function () {
    it("without a per-link term it is Phi(-m / packetSigma)^k", function () {
      const miss = new MissProbability({ ...RULE, linkSigmaDb: 0, packetSigmaDb: 3 });
      for (const [m, k] of [
        [0, 1],
        [30, 1],
        [30, 4],
        [-20, 2],
        [100, 3],
      ] as const) {
        near(miss.of(m, k), phi(-m / 10 / 3) ** k, 1e-6);
      }
    });

    it("at zero margin a single packet is missed half the time, whatever the link term", function () {
      near(new MissProbability(RULE).of(0, 1), 0.5, 1e-9);
      near(new MissProbability({ ...RULE, linkSigmaDb: 6 }).of(0, 1), 0.5, 1e-9);
    });

    it("a per-link term makes misses of strong links likelier (it cannot be averaged away by k)", function () {
      const with_ = new MissProbability(RULE).of(60, 4);
      const without = new MissProbability({ ...RULE, linkSigmaDb: 0 }).of(60, 4);
      expect(with_).to.be.greaterThan(without);
      // k = 4 packets at a 6 dB margin, link sigma 3 dB, packet sigma 3 dB: E[Phi(-2 - z)^4] over
      // z ~ N(0, 1) = 0.0058686266462346 (Python, math.erfc, 20,000-step Riemann sum)
      near(with_, 0.0058686266462346, 1e-9);
    });

    it("is a probability, falling with the margin and with the number of beacons (property)", function () {
      const miss = new MissProbability(RULE);
      fc.assert(
        fc.property(fc.integer({ min: -300, max: 300 }), fc.integer({ min: 1, max: 8 }), (m, k) => {
          const p = miss.of(m, k);
          expect(p).to.be.within(0, 1);
          expect(miss.of(m + 10, k)).to.be.at.most(p);
          expect(miss.of(m, k + 1)).to.be.at.most(p);
        }),
      );
    });
  });

  describe("LinkStatsTable", function () {
    const stat = fc.record({
      device: fc.integer({ min: 0, max: 2 ** 26 - 1 }),
      links: fc.nat({ max: 2 ** 32 - 1 }),
      unconfirmed: fc.nat({ max: 2 ** 32 - 1 }),
      expected: fc.double({ noNaN: true }),
      variance: fc.double({ noNaN: true, min: 0 }),
      score: fc.double({ noNaN: true }),
      flagged: fc.boolean(),
    });

    it("gives back every pushed LinkStats exactly, in order, past its growth", function () {
      fc.assert(
        fc.property(fc.array(stat, { maxLength: 80 }), (all: LinkStats[]) => {
          const table = new LinkStatsTable();
          for (const s of all) table.push(s);
          expect(table.length).to.equal(all.length);
          expect([...table]).to.deep.equal(all);
          all.forEach((s, k) => expect(table.at(k)).to.deep.equal(s));
        }),
      );
    });

    it("refuses to read outside what was pushed", function () {
      const table = new LinkStatsTable();
      table.push({
        device: 1,
        links: 2,
        unconfirmed: 1,
        expected: 0.5,
        variance: 0.25,
        score: 1,
        flagged: false,
      });
      expect(() => table.at(1)).to.throw(RangeError, /link test 1 of 1/);
      expect(() => table.at(-1)).to.throw(RangeError, /link test -1 of 1/);
      expect(() => table.at(0.5)).to.throw(RangeError);
    });
  });

  describe("ClaimLog", function () {
    // devices: 0 = relay, 1..6 = far devices (listening: each claims device 7), 7 = hub
    function relayLog(confirmedBy: number[], order = (xs: [number, number, number][]) => xs) {
      const claims: [number, number, number][] = [];
      for (let b = 1; b <= 6; b++) claims.push([0, b, 0]); // snr - txPower_b = 0 tenths
      for (let b = 1; b <= 6; b++) claims.push([b, 7, 0]);
      for (const b of confirmedBy) claims.push([b, 0, 0]);
      const log = new ClaimLog(claims.length, 8);
      for (const [w, b, v] of order(claims)) log.add(w, b, v);
      return log;
    }
    // every device beaconed twice; budget = txPower - SNR floor = 270 + 100 tenths: margin 37 dB
    const budget = new Int32Array(8).fill(370);
    const beacons = new Uint32Array(8).fill(2);

    it("flags a device whose strong links nobody confirms, and nobody else", function () {
      const { flagged, stats } = relayLog([]).test(budget, beacons, RULE);
      expect([...flagged]).to.deep.equal([0]);
      const relay = [...stats].find((s) => s.device === 0)!;
      expect([relay.links, relay.unconfirmed, relay.flagged]).to.deep.equal([6, 6, true]);
      expect(relay.expected).to.be.below(1e-6);
      expect(relay.score).to.be.above(RULE.z);
      // the far devices' claims of the hub: the hub filed nothing, so it was not shown listening
      expect([...stats].filter((s) => s.device !== 0)).to.deep.equal([]);
    });

    it("does not flag when enough links are confirmed, and the verdict ignores claim order", function () {
      expect([...relayLog([1, 2, 3]).test(budget, beacons, RULE).flagged]).to.deep.equal([]);
      expect([...relayLog([1, 2]).test(budget, beacons, RULE).flagged]).to.deep.equal([0]);
      const reversed = relayLog([1, 2], (xs) => [...xs].reverse()).test(budget, beacons, RULE);
      const forward = relayLog([1, 2]).test(budget, beacons, RULE);
      expect(reversed.flagged).to.deep.equal(forward.flagged);
      expect([...reversed.stats]).to.deep.equal([...forward.stats]);
    });

    it("weak claimed links expect misses: at the floor six unconfirmed links are not enough", function () {
      // budget = 0: the reverse margin equals the claimed snr - txPower_b = 0 dB
      const { flagged, stats } = relayLog([]).test(new Int32Array(8), beacons, RULE);
      expect([...flagged]).to.deep.equal([]);
      expect([...stats].find((s) => s.device === 0)!.expected).to.be.above(1);
    });

    it("a device that sent no beacon is not tested; the weakest report of a link counts", function () {
      const none = new Uint32Array(8).fill(2);
      none[0] = 0;
      expect([...relayLog([]).test(budget, none, RULE).stats].find((s) => s.device === 0)).to.equal(
        undefined,
      );
      const log = new ClaimLog(4, 3);
      log.add(0, 1, 500);
      log.add(0, 1, -370); // the same link heard at the floor
      log.add(1, 2, 0);
      const s = log.test(budget, beacons, { ...RULE, linkSigmaDb: 0 }).stats.at(0);
      near(s.expected, phi(0) ** 2, 1e-6);
    });

    it("grows in place within the claims it was sized for, and refuses more distinct links than that", function () {
      const log = new ClaimLog(16, 40, 40);
      for (let b = 1; b <= 16; b++) log.add(0, b, b);
      expect(log.capacity).to.equal(16);
      log.add(0, 1, -5); // full: compacting frees nothing, so the log grows by half
      expect([log.held, log.capacity]).to.deep.equal([17, 24]);
      for (let b = 17; b <= 24; b++) log.add(0, b, 0); // 24 links in 24 slots, then 8 more
      for (let b = 25; b <= 32; b++) log.add(0, b, 0);
      expect([log.held, log.capacity]).to.deep.equal([32, 36]);
      // Sized for 16 claims: a 17th distinct link has nowhere to go.
      const tight = new ClaimLog(16, 40, 16);
      for (let b = 1; b <= 16; b++) tight.add(0, b, 0);
      expect(() => tight.add(0, 17, 0)).to.throw(RangeError, /more distinct links than the 16 claims/);
    });

    it("packs up to 2^26 devices (indexes and values at their limits survive the packing)", function () {
      expect(() => new ClaimLog(1, 2 ** 26 + 1)).to.throw(RangeError, /at most 67108864 devices/);
      const top = 2 ** 26 - 1;
      const log = new ClaimLog(3, 2 ** 26);
      log.add(top, top - 1, 99_999); // value clamped to +204.7 dB
      log.add(top - 1, top, -99_999); // and to -204.8 dB
      const budget = new Int32Array(2 ** 26);
      const beacons = new Uint32Array(2 ** 26);
      beacons[top] = 1;
      beacons[top - 1] = 1;
      const { stats } = log.test(budget, beacons, { ...RULE, linkSigmaDb: 0 });
      expect([...stats].map((s) => [s.device, s.links, s.unconfirmed])).to.deep.equal([
        [top - 1, 1, 0],
        [top, 1, 0],
      ]);
      near(stats.at(0).expected, 1, 1e-9); // at -204.8 dB a miss is certain
      near(stats.at(1).expected, 0, 1e-9);
    });
  });
});
