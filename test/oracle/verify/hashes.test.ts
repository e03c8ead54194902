import { expect } from "chai";
import fc from "fast-check";

import { ReportTable } from "@hexmesh/oracle";
import { AcceptedBeacons } from "@hexmesh/oracle/verify/beacons";
import { NumberSet, RowIndex } from "@hexmesh/oracle/verify/hashes";

/** A table whose row i cites payload hash `payloads[i]` (32 bytes) and names device index `devices[i]`. */
function tableOf(payloads: Uint8Array[], devices: number[] = []): ReportTable {
  const t = new ReportTable(payloads.length);
  payloads.forEach((p, i) => {
    t.setHeader(i, 2, 0, false, 0, devices[i] ?? i, 1_000 + i);
    t.bytes.set(p, t.at(i, "beacon"));
  });
  return t;
}

/** 32 bytes: the first six (the 48-bit prefix) from `prefix`, the rest from `tail`. */
function hash(prefix: number, tail: number): Uint8Array {
  const b = new Uint8Array(32);
  for (let k = 5; k >= 0; k--) {
    b[k] = prefix % 256;
    prefix = Math.floor(prefix / 256);
  }
  b[31] = tail;
  b[30] = tail >> 8;
  return b;
}

describe("oracle / typed hash tables of stages 3-5", () => {
  describe("RowIndex", () => {
    it("finds a row by its whole field: rows sharing the 48-bit prefix are told apart by the rest", () => {
      // Rows 0-2 share a prefix; row 3 repeats row 1's hash; row 4 shares row 5's low 32 bits only.
      const t = tableOf([hash(7, 1), hash(7, 2), hash(7, 3), hash(7, 2), hash(2 ** 47 + 5, 9), hash(5, 9)]);
      const index = new RowIndex(t, "beacon", 5, (tag) => tag - 100);
      index.add(100);
      index.add(101);
      index.add(104);
      expect(index.find(0)).to.equal(100);
      expect(index.find(1)).to.equal(101);
      expect(index.find(3), "another row with row 1's hash").to.equal(101);
      expect(index.find(4)).to.equal(104);
      expect(index.find(5), "the same low 32 bits and tail, another high 16").to.equal(-1);
      expect(index.find(2), "same prefix, other bytes").to.equal(-1);
      index.add(103);
      expect(index.find(1), "the first row added with that hash").to.equal(101);
      index.add(102);
      expect(index.find(2)).to.equal(102);
      expect(() => index.add(102)).to.throw(RangeError, /sized for 5 rows is full/);
      const other = new RowIndex(t, "beacon", 5, (tag) => tag);
      for (const bad of [-1, 2 ** 31, 1.5]) expect(() => other.add(bad)).to.throw(RangeError, /bad tag/);
    });

    for (const [what, spread] of [
      ["prefixes colliding often", 2 ** 20],
      ["every prefix's low 32 bits the same", 2 ** 36],
    ] as const)
      it(`agrees with a Map over random hashes, ${what} (property)`, () => {
        fc.assert(
          fc.property(
            fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })), {
              minLength: 1,
              maxLength: 200,
            }),
            (keys) => {
              const t = tableOf(keys.map(([p, tail]) => hash(p * spread, tail)));
              const index = new RowIndex(t, "beacon", keys.length, (tag) => tag);
              const model = new Map<string, number>();
              keys.forEach(([p, tail], i) => {
                const key = `${p}:${tail}`;
                expect(index.find(i)).to.equal(model.get(key) ?? -1);
                index.add(i);
                if (!model.has(key)) model.set(key, i);
              });
            },
          ),
        );
      });
  });

  describe("NumberSet", () => {
    it("adds each key once, exact up to 2^53, and refuses more keys than it was sized for", () => {
      const set = new NumberSet(3);
      expect(set.add(0)).to.equal(true);
      expect(set.add(2 ** 53 - 1)).to.equal(true);
      expect(set.add(2 ** 53 - 2), "differs from the last in the lowest bit").to.equal(true);
      expect(set.add(0)).to.equal(false);
      expect(set.add(2 ** 53 - 1)).to.equal(false);
      expect(() => set.add(5)).to.throw(RangeError, /sized for 3 is full/);
      expect(set.add(2 ** 53 - 2), "a key already there is still recognised when full").to.equal(false);
    });
  });

  describe("AcceptedBeacons", () => {
    it("lists each beacon's witnesses in the order placed, takes a device's second witness off as a duplicate and refused devices' witnesses off", () => {
      // Rows 0, 1: beacons of devices 10, 11 (payloads A, B); rows 2-7 witnesses citing them.
      const A = hash(1, 1);
      const B = hash(2, 2);
      const t = tableOf([A, B, A, B, A, A, hash(3, 3), A], [10, 11, 20, 21, 22, 21, 23, 20]);
      const accepted = new AcceptedBeacons(t, 2, 5);
      expect(accepted.add(0)).to.equal(0);
      expect(accepted.add(1)).to.equal(1);
      expect(() => accepted.add(6)).to.throw(RangeError, /more than 2 accepted beacons/);
      expect([accepted.find(2), accepted.find(3), accepted.find(6)]).to.deep.equal([0, 1, -1]);
      expect(accepted.row(1)).to.equal(1);
      const lists = /witness lists are counting, not closed/;
      expect(() => accepted.witnessesOf(0, [])).to.throw(Error, lists);
      // first pass: counted; second: placed in the same order
      const witnesses: [number, number][] = [
        [0, 2],
        [1, 3],
        [0, 4],
        [0, 5],
        [0, 7],
      ];
      for (const [slot] of witnesses) accepted.countWitness(slot);
      expect(() => accepted.countWitness(1)).to.throw(RangeError, /more than 5 valid witnesses/);
      for (const [slot, w] of witnesses) accepted.placeWitness(slot, w);
      expect(() => accepted.placeWitness(1, 6)).to.throw(RangeError, /slot 1 was given more witnesses/);
      expect(() => accepted.countWitness(0)).to.throw(Error, /witness lists are placing, not counting/);
      const duplicates: number[] = [];
      accepted.closeLists((w) => duplicates.push(w));
      expect(duplicates, "device 20's second witness of beacon A").to.deep.equal([7]);
      expect(accepted.witnessEntries).to.equal(4);
      expect(accepted.witnessesOf(0, [99])).to.deep.equal([2, 4, 5]);
      expect(accepted.witnessesOf(1, [])).to.deep.equal([3]);

      const refused: number[] = [];
      accepted.removeWitnessesOf(new Set([21]), (w) => refused.push(w));
      expect(refused, "in list order: by beacon slot").to.deep.equal([5, 3]);
      expect(accepted.witnessesOf(0, [])).to.deep.equal([2, 4]);
      expect(accepted.witnessesOf(1, [])).to.deep.equal([]);
      accepted.removeWitnessesOf(new Set(), () => expect.fail("nothing to refuse"));
      expect(accepted.witnessEntries, "refused witnesses keep their entries").to.equal(4);

      expect(accepted.selected(0)).to.equal(0);
      accepted.setSelected(0, 2);
      expect(accepted.selected(0)).to.equal(2);
      expect(() => accepted.setSelected(1, 65_536)).to.throw(RangeError, /at most 65,535/);

      // After selection the lists are freed; what the verdicts read still answers.
      accepted.dropWitnessLists();
      expect([accepted.find(2), accepted.find(3), accepted.find(6)]).to.deep.equal([0, 1, -1]);
      expect([accepted.row(0), accepted.row(1), accepted.selected(0), accepted.count]).to.deep.equal([
        0, 1, 2, 2,
      ]);
      const dropped = /witness lists were dropped after selection/;
      expect(() => accepted.witnessesOf(0, [])).to.throw(Error, dropped);
      expect(() => accepted.countWitness(0)).to.throw(Error, dropped);
      expect(() => accepted.placeWitness(0, 2)).to.throw(Error, dropped);
      expect(() => accepted.removeWitnessesOf(new Set([20]), () => {})).to.throw(Error, dropped);
    });

    it("refuses lists closed with a counted witness not placed, keeps one entry a device, and closes empty lists", () => {
      const A = hash(1, 1);
      const t = tableOf([A, A, A], [10, 20, 21]);
      const short = new AcceptedBeacons(t, 1, 2);
      short.add(0);
      short.countWitness(0);
      short.countWitness(0);
      short.placeWitness(0, 1);
      expect(() => short.closeLists(() => {})).to.throw(RangeError, /slot 0 was given fewer witnesses/);
      // one device's many witnesses of a beacon: its first stays, the rest are duplicates in order
      const many = tableOf([A, A, A, A, A, A], [10, 20, 20, 21, 20, 21]);
      const repeated = new AcceptedBeacons(many, 1, 5);
      repeated.add(0);
      for (let w = 1; w <= 5; w++) repeated.countWitness(0);
      for (let w = 1; w <= 5; w++) repeated.placeWitness(0, w);
      const told: number[] = [];
      repeated.closeLists((w) => told.push(w));
      expect(told).to.deep.equal([2, 4, 5]);
      expect(repeated.witnessesOf(0, [])).to.deep.equal([1, 3]);
      expect(repeated.witnessEntries).to.equal(2);
      const none = new AcceptedBeacons(t, 1, 0);
      none.add(0);
      none.closeLists(() => expect.fail("no duplicate"));
      expect(none.witnessesOf(0, [5])).to.deep.equal([]);
      expect(none.witnessEntries).to.equal(0);
    });
  });
});
