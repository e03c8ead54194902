/** The `storage` configuration key: defaults, and refusals with the key's path. */
import { expect } from "chai";

import { ConfigError, validateConfig } from "@hexmesh/oracle";

const ADDR = `0x${"11".repeat(20)}`;
const store = { backend: "sqlite", path: "o.sqlite" } as const;

describe("service: the storage configuration key", function () {
  it("fills the storage defaults (rounds every minute, 10 s probe timeout, no confirmations)", () => {
    const cfg = validateConfig({ store, storage: { deals: ADDR, suspensions: ADDR, distributor: ADDR } });
    expect(cfg.storage).to.deep.equal({
      deals: ADDR,
      suspensions: ADDR,
      distributor: ADDR,
      fromBlock: 0,
      confirmations: 0,
      intervalMs: 60_000,
      probeTimeoutMs: 10_000,
    });
    expect(validateConfig({ store }).storage).to.equal(undefined);
  });

  it("refuses a storage key without its contracts, with a bad address or out-of-range timings", () => {
    for (const storage of [
      { deals: ADDR, suspensions: ADDR },
      { deals: "0x12", suspensions: ADDR, distributor: ADDR },
      { deals: ADDR, suspensions: ADDR, distributor: ADDR, intervalMs: 10 },
      { deals: ADDR, suspensions: ADDR, distributor: ADDR, probeTimeoutMs: 0 },
      { deals: ADDR, suspensions: ADDR, distributor: ADDR, extra: 1 },
    ]) {
      expect(() => validateConfig({ store, storage })).to.throw(ConfigError, /storage/);
    }
  });
});
