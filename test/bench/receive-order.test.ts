/**
 * bench/receive-order.ts: the generator's external sort. Whatever the parts and the bucket bounds,
 * the merged stream is every report once, in (receive time, hash) order, and a bucket's temp file is
 * freed once it is merged.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import fc from "fast-check";

import type { ReportInput } from "@hexmesh/oracle";

import { receiveOrder, ReceiveOrderRuns } from "../../bench/receive-order.js";

const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as `0x${string}`;

describe("bench / receive-order runs", function () {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-runs-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("merges parts cut at any bucket bounds into one receive-ordered stream (property)", () => {
    const report = fc
      .record({ at: fc.integer({ min: 0, max: 100 }), id: fc.nat(), beacon: fc.boolean(), pad: fc.nat(40) })
      .map(
        ({ at, id, beacon, pad }): ReportInput => ({
          receivedAt: at,
          hash: hex(id),
          kind: beacon ? "beacon" : "witness",
          device: `0xdev${id % 7}`.padEnd(6 + pad, "é") as `0x${string}`,
          raw: `{"n":${id},"é":"${"x".repeat(pad)}"}`,
        }),
      );
    fc.assert(
      fc.property(
        fc.array(fc.array(report, { maxLength: 30 }), { maxLength: 8 }),
        fc
          .uniqueArray(fc.integer({ min: -5, max: 105 }), { maxLength: 6 })
          .map((b) => b.sort((x, y) => x - y)),
        fc.integer({ min: 1, max: 17 }),
        (parts, bounds, batch) => {
          const runs = new ReceiveOrderRuns(path.join(dir, "day.runs"), bounds);
          try {
            for (const part of parts) runs.add(part.map((r) => ({ ...r })));
            const all = parts.flat();
            expect(runs.reports).to.equal(all.length);
            const merged: ReportInput[] = [];
            for (const b of runs.merged(batch)) {
              expect(b.length).to.be.within(1, batch);
              merged.push(...b);
            }
            expect(merged).to.deep.equal([...all].sort(receiveOrder));
            expect(runs.bytes).to.equal(0);
          } finally {
            runs.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses bounds that do not ascend, and a second merge", () => {
    expect(() => new ReceiveOrderRuns(path.join(dir, "bad.runs"), [5, 5])).to.throw(/ascend/);
    const runs = new ReceiveOrderRuns(path.join(dir, "once.runs"), [10]);
    runs.add([{ receivedAt: 3, hash: hex(1), kind: "beacon", device: "0xd" as `0x${string}`, raw: "{}" }]);
    expect([...runs.merged(10)].flat()).to.have.length(1);
    expect(() => [...runs.merged(10)]).to.throw(/merged already/);
    runs.close();
  });
});
