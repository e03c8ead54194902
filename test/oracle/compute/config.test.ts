/** The `compute` configuration key: defaults, and refusals with the key's path. */
import { expect } from "chai";

import { ConfigError, validateConfig } from "@hexmesh/oracle";

const ADDR = `0x${"11".repeat(20)}`;
const store = { backend: "sqlite", path: "o.sqlite" } as const;
const minimal = {
  jobs: ADDR,
  distributor: ADDR,
  prover: ADDR,
  sources: ["http://127.0.0.1:8790"],
  cacheDir: "cache",
  benchmark: { sender: ADDR },
};

describe("service: the compute configuration key", function () {
  it("fills the compute defaults (rounds every minute, benchmarks of classes 4, 5, 6 with 30-minute deadlines)", () => {
    const cfg = validateConfig({ store, compute: minimal });
    expect(cfg.compute).to.deep.equal({
      ...minimal,
      fromBlock: 0,
      confirmations: 0,
      intervalMs: 60_000,
      unitsToleranceBps: 0,
      benchmark: { sender: ADDR, classes: [4, 5, 6], deadlineSeconds: 1_800, publish: [] },
    });
    expect(validateConfig({ store }).compute).to.equal(undefined);
  });

  it("fills the withheld-output detector's defaults when the key is present (3 failures an hour apart, 4 hours' grace)", () => {
    const cfg = validateConfig({
      store,
      compute: { ...minimal, withheld: { endpoints: { [ADDR]: "http://127.0.0.1:8791" } } },
    });
    expect(cfg.compute!.withheld).to.deep.equal({
      attempts: 3,
      spacingSeconds: 3_600,
      graceSeconds: 14_400,
      timeoutMs: 10_000,
      endpoints: { [ADDR]: "http://127.0.0.1:8791" },
    });
    expect(validateConfig({ store, compute: minimal }).compute!.withheld).to.equal(undefined);
  });

  it("refuses a compute key without its contracts, prover or sender, with bad values or unknown keys", () => {
    const noProver = Object.fromEntries(Object.entries(minimal).filter(([k]) => k !== "prover"));
    for (const compute of [
      noProver,
      { ...minimal, jobs: "0x12" },
      { ...minimal, benchmark: {} },
      { ...minimal, benchmark: { sender: ADDR, deadlineSeconds: 10 } },
      { ...minimal, benchmark: { sender: ADDR, classes: [] } },
      { ...minimal, sources: ["ftp://x"] },
      { ...minimal, intervalMs: 10 },
      { ...minimal, limits: { memoryPages: 3 } },
      { ...minimal, extra: 1 },
      { ...minimal, unitsToleranceBps: -1 },
      { ...minimal, unitsToleranceBps: 10_001 },
      { ...minimal, withheld: { attempts: 0 } },
      { ...minimal, withheld: { graceSeconds: 86_400 } },
      { ...minimal, withheld: { endpoints: { "0x12": "http://x" } } },
      { ...minimal, withheld: { endpoints: { [ADDR]: "ftp://x" } } },
      { ...minimal, withheld: { extra: 1 } },
      // 23 failures an hour apart cannot all be counted before anyone may finalize the job.
      { ...minimal, withheld: { attempts: 23, spacingSeconds: 3_600 } },
    ]) {
      expect(() => validateConfig({ store, compute }), JSON.stringify(compute)).to.throw(
        ConfigError,
        /compute/,
      );
    }
  });
});
