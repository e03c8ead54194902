import { expect } from "chai";

import {
  ChainView,
  InlinePreparer,
  WorkerPoolPreparer,
  workerExecArgv,
  type Prepared,
} from "../../oracle/src/index.js";
import { EPOCH_START, makeBeacon, makeWitness, received, World } from "../helpers/oracle.js";

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

  it("gives the same results as the calling thread, in input order, with batch callbacks covering every report", async function () {
    const { chain, many } = fixture();
    const keys = chain.devices.map((d) => d.record.key);
    const pool = new WorkerPoolPreparer(chain.domain, keys, { threads: 2, batchSize: 7, window: 2 });
    try {
      await pool.ready();
      const seen = new Array<Prepared | undefined>(many.length);
      const out = await pool.prepare(many, (start, batch) => batch.forEach((p, i) => (seen[start + i] = p)));
      const inline = await new InlinePreparer(chain.domain, keys).prepare(many);
      expect(out).to.deep.equal(inline);
      expect(seen).to.deep.equal(inline);
      expect(out.map((p) => p.kind).slice(0, 3)).to.deep.equal(["beacon", "witness", "malformed"]);
      expect(await pool.prepare([])).to.deep.equal([]);
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

  it("passes module loader flags to workers and drops per-process V8 flags they refuse", function () {
    expect(
      workerExecArgv([
        "--require",
        "/x/preflight.cjs",
        "--import",
        "file:///x/loader.mjs",
        "--max-old-space-size=8192",
        "--experimental-strip-types",
        "--max-semi-space-size=64",
        "--conditions",
        "dev",
        "--enable-source-maps",
      ]),
    ).to.deep.equal([
      "--require",
      "/x/preflight.cjs",
      "--import",
      "file:///x/loader.mjs",
      "--experimental-strip-types",
      "--conditions",
      "dev",
      "--enable-source-maps",
    ]);
  });
});
