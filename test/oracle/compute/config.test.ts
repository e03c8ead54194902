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
      benchmark: { sender: ADDR, classes: [4, 5, 6], deadlineSeconds: 1_800, publish: [] },
    });
    expect(validateConfig({ store }).compute).to.equal(undefined);
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
    ]) {
      expect(() => validateConfig({ store, compute }), JSON.stringify(compute)).to.throw(
        ConfigError,
        /compute/,
      );
    }
  });
});
