import { expect } from "chai";
import fc from "fast-check";

import { ReportTable } from "@hexmesh/oracle";
import { AcceptedBeacons } from "@hexmesh/oracle/verify/beacons";
import { linkedPairs, PAIR_KEYS_PER_PASS } from "@hexmesh/oracle/verify/rules/reciprocity";
import { KIND_BEACON, KIND_WITNESS } from "@hexmesh/oracle/verify/table";

/** Beacons (device index each) and each one's witnesses (device indexes), as stage 3 leaves them. */
function acceptedOf(beacons: readonly { device: number; witnesses: readonly number[] }[]) {
  const witnessCount = beacons.reduce((n, b) => n + b.witnesses.length, 0);
  const t = new ReportTable(beacons.length + witnessCount);
  let row = 0;
  beacons.forEach((b, k) => {
    t.setHeader(row, KIND_BEACON, 0, false, 0, b.device, 1_000 + row);
    const payload = new Uint8Array(32);
    new DataView(payload.buffer).setUint32(0, k + 1); // distinct payload hashes
    t.bytes.set(payload, t.at(row, "beacon"));
    row++;
  });
  const accepted = new AcceptedBeacons(t, beacons.length, witnessCount);
  beacons.forEach((_, k) => accepted.add(k));
  const placed: [number, number][] = [];
  beacons.forEach((b, slot) =>
    b.witnesses.forEach((d) => {
      t.setHeader(row, KIND_WITNESS, 0, false, 0, d, 1_000 + row);
      accepted.countWitness(slot);
      placed.push([slot, row++]);
    }),
  );
  for (const [slot, w] of placed) accepted.placeWitness(slot, w);
  accepted.closeLists(() => {}); // a device twice on a list: once in the pairs either way
  return { t, accepted };
}

/** The pairs linkedPairs found as keys lo * span + hi, in its order, checking its index by lower device. */
function pairKeys(t: ReportTable, accepted: AcceptedBeacons, span: number, keysPerPass?: number): number[] {
  const { first, higher } = linkedPairs(t, accepted, span, keysPerPass);
  expect(first).to.have.length(span);
  expect(first[span - 1]).to.equal(higher.length);
  const keys: number[] = [];
  for (let lo = 0; lo < span - 1; lo++) {
    expect(first[lo + 1]).to.be.at.least(first[lo]!);
    for (let e = first[lo]!; e < first[lo + 1]!; e++) keys.push(lo * span + higher[e]!);
  }
  return keys;
}

describe("oracle / reciprocity's linked pairs", function () {
  it("a range of lower devices at a time gives the epoch's distinct pairs, sorted, for any pass size (property)", function () {
    const devices = 12;
    const span = devices + 1;
    const device = fc.integer({ min: 0, max: devices - 1 });
    fc.assert(
      fc.property(
        fc.array(fc.record({ device, witnesses: fc.array(device, { maxLength: 8 }) }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 12 }),
        (beacons, keysPerPass) => {
          const { t, accepted } = acceptedOf(beacons);
          const expected = [
            ...new Set(
              beacons.flatMap((b) =>
                b.witnesses.map((w) => Math.min(b.device, w) * span + Math.max(b.device, w)),
              ),
            ),
          ].sort((x, y) => x - y);
          expect(pairKeys(t, accepted, span, keysPerPass)).to.deep.equal(expected);
          expect(pairKeys(t, accepted, span), "one pass").to.deep.equal(expected);
        },
      ),
      { numRuns: 200 },
    );
    expect(PAIR_KEYS_PER_PASS).to.equal(8_388_608);
  });

  it("leaves out the witnesses an epoch-wide rule took off the lists", function () {
    // beacons of devices 0 and 1; device 2 hears both, device 3 hears device 0 and is refused
    const { t, accepted } = acceptedOf([
      { device: 0, witnesses: [2, 3] },
      { device: 1, witnesses: [2, 0] },
    ]);
    const span = 5;
    expect(pairKeys(t, accepted, span, 1)).to.deep.equal([
      0 * span + 1,
      0 * span + 2,
      0 * span + 3,
      1 * span + 2,
    ]);
    accepted.removeWitnessesOf(new Set([3]), () => {});
    expect(pairKeys(t, accepted, span, 1)).to.deep.equal([0 * span + 1, 0 * span + 2, 1 * span + 2]);
  });
});
