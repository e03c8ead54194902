import { execFile } from "node:child_process";
import { promisify } from "node:util";

import { expect } from "chai";

import {
  InlinePreparer,
  KIND_BEACON,
  KIND_MALFORMED,
  KIND_WITNESS,
  RECORD_BYTES,
  WorkerPoolPreparer,
} from "@hexmesh/oracle";
import { ChainView, toHex } from "@hexmesh/protocol";

import { EPOCH_START, makeBeacon, makeWitness, received, World } from "../../helpers/oracle.js";

const run = promisify(execFile);

describe("oracle / worker pool (stage 1 on threads)", function () {
  this.timeout(120_000);

  function fixture() {
    const w = new World();
    const a = w.addDevice("a");
    const b = w.addDevice("b", { kind: "p256", northM: 1_500 });
    const e = w.publishEntropy(EPOCH_START);
    const beacon = makeBeacon(a, e);
    const reports = [
      received(beacon, EPOCH_START + 1),
      received(makeWitness(b, a, beacon), EPOCH_START + 2),
      { raw: "not a report", receivedAt: EPOCH_START + 3 },
    ];
    // enough copies for several batches and a full window
    const many = Array.from({ length: 40 }, (_, i) =>
      reports.map((r) => ({ ...r, receivedAt: r.receivedAt + 10 * i })),
    ).flat();
    return { chain: new ChainView(w.chain()), many };
  }

  it("writes the same table as the calling thread, row i = report i, with batch callbacks covering every row", async function () {
    const { chain, many } = fixture();
    const keys = chain.devices.map((d) => d.record.key);
    const pool = new WorkerPoolPreparer(chain.domain, keys, { threads: 2, batchSize: 7, window: 2 });
    try {
      await pool.ready();
      const covered = new Array<number>(many.length).fill(0);
      const out = await pool.prepare(many, (_table, start, end) => {
        for (let i = start; i < end; i++) covered[i]!++;
      });
      const inline = await new InlinePreparer(chain.domain, keys).prepare(many);
      expect(out.buffer).to.be.instanceOf(SharedArrayBuffer);
      expect(out.bytes.length).to.equal(many.length * RECORD_BYTES);
      expect(toHex(out.bytes)).to.equal(toHex(inline.bytes));
      expect(covered.every((c) => c === 1)).to.equal(true);
      expect([0, 1, 2].map((i) => out.kind(i))).to.deep.equal([KIND_BEACON, KIND_WITNESS, KIND_MALFORMED]);
      expect(out.deviceIndex(0)).to.equal(0);
      expect(out.deviceIndex(1)).to.equal(1);
      expect(out.deviceIndex(2)).to.equal(-1);
      expect((await pool.prepare([])).length).to.equal(0);
      // the pool serves several epochs
      const again = await pool.prepare(many.slice(0, 5));
      expect(toHex(again.bytes)).to.equal(toHex(inline.bytes.subarray(0, 5 * RECORD_BYTES)));
    } finally {
      await pool.close();
    }
  });

  it("a throwing batch listener rejects prepare()", async function () {
    const { chain, many } = fixture();
    const pool = new WorkerPoolPreparer(
      chain.domain,
      chain.devices.map((d) => d.record.key),
      { threads: 1, batchSize: 5 },
    );
    try {
      let error: unknown;
      try {
        await pool.prepare(many, () => {
          throw new Error("listener failed");
        });
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.match(/listener failed/);
    } finally {
      await pool.close();
    }
  });

  it("starts its compiled workers under a parent with per-process V8 flags and no loader", async function () {
    // Workers refuse per-process flags such as --max-old-space-size; the pool passes none on.
    const script = [
      'import { WorkerPoolPreparer } from "@hexmesh/oracle";',
      'const pool = new WorkerPoolPreparer({ chainId: 1n, verifyingContract: "0x" + "11".repeat(20) }, [], { threads: 2 });',
      "await pool.ready();",
      "await pool.close();",
      'console.log("ready");',
    ].join("\n");
    const { stdout } = await run(process.execPath, [
      "--max-old-space-size=512",
      "--input-type=module",
      "-e",
      script,
    ]);
    expect(stdout.trim()).to.equal("ready");
  });
});
