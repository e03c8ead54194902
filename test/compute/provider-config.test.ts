/** The provider agent's configuration: defaults, paths relative to the file, and every refusal. */
import path from "node:path";

import { expect } from "chai";

import { DEFAULT_LIMITS, ProviderConfigError, validateProviderConfig } from "@hexmesh/compute";
import { TICKS_PER_UNIT, unitsInflated, unitsOfTicks, usedUnitsOf } from "@hexmesh/protocol";

const BASE = {
  key: "op.key",
  rpc: "http://127.0.0.1:8545",
  computeJobs: "0x" + "ab".repeat(20),
  devices: [{ id: "12", class: 7 }],
  state: "state.sqlite",
  blobs: { dir: "blobs" },
  sources: ["http://127.0.0.1:8790"],
};

const refusal = (raw: unknown) => {
  try {
    validateProviderConfig(raw, "config t.json", "/etc/hexmesh");
  } catch (e) {
    expect(e).to.be.instanceOf(ProviderConfigError);
    return (e as Error).message;
  }
  return expect.fail("accepted");
};

describe("compute: provider agent configuration", function () {
  it("fills defaults and resolves paths against the file's folder", function () {
    const c = validateProviderConfig(BASE, "config t.json", "/etc/hexmesh");
    expect(c.key).to.equal(path.resolve("/etc/hexmesh/op.key"));
    expect(c.state).to.equal(path.resolve("/etc/hexmesh/state.sqlite"));
    expect(c.blobs).to.deep.equal({
      dir: path.resolve("/etc/hexmesh/blobs"),
      host: "127.0.0.1",
      port: 8790,
      maxBytes: DEFAULT_LIMITS.outputBytes,
    });
    expect(c).to.include({ pollMs: 2000, commitMarginSec: 60, maxAttempts: 3, fromBlock: 0 });
    expect(c.autoAccept).to.deep.equal([]);
    expect(c.acceptDirected).to.equal(true);
    expect(validateProviderConfig({ ...BASE, acceptDirected: false }, "c", "/").acceptDirected).to.equal(
      false,
    );
    expect(c.publish).to.deep.equal([]);
    expect(c.limits).to.deep.equal(DEFAULT_LIMITS);
    const limited = validateProviderConfig({ ...BASE, limits: { memoryMib: 16, timeMs: 500 } }, "c", "/");
    expect(limited.limits).to.deep.equal({
      memoryBytes: 16 * 1024 * 1024,
      timeMs: 500,
      outputBytes: DEFAULT_LIMITS.outputBytes,
    });
  });

  it("refuses unknown keys, missing keys, bad addresses, device ids and URLs, and a device listed twice", function () {
    expect(refusal({ ...BASE, colour: "red" })).to.contain("unknown key colour");
    const { sources: _, ...noSources } = BASE;
    expect(refusal(noSources)).to.contain("must have required property 'sources'");
    expect(refusal({ ...BASE, computeJobs: "0x12" })).to.contain("computeJobs");
    expect(refusal({ ...BASE, devices: [{ id: "0", class: 7 }] })).to.contain("devices.0.id");
    expect(refusal({ ...BASE, devices: [{ id: (2n ** 256n).toString(), class: 7 }] })).to.contain(
      "not a uint256",
    );
    expect(refusal({ ...BASE, devices: [] })).to.contain("devices");
    expect(refusal({ ...BASE, devices: [BASE.devices[0], BASE.devices[0]] })).to.contain("listed twice");
    expect(refusal({ ...BASE, sources: ["ftp://x"] })).to.contain("sources.0");
    expect(refusal({ ...BASE, autoAccept: [{ class: 7, minPricePerUnit: 0, maxUnits: 5 }] })).to.contain(
      "autoAccept.0.minPricePerUnit",
    );
    expect(refusal({ ...BASE, maxAttempts: 0 })).to.contain("maxAttempts");
    expect(refusal({ ...BASE, acceptDirected: "yes" })).to.contain("acceptDirected");
  });

  it("bills units from the metered ticks: ceil(ticks / 10^7), at least 1 and at most the job's maxUnits", function () {
    expect(TICKS_PER_UNIT).to.equal(10_000_000n);
    expect(unitsOfTicks(0n)).to.equal(1n);
    expect(unitsOfTicks(10_000_000n)).to.equal(1n);
    expect(unitsOfTicks(10_000_001n)).to.equal(2n);
    expect(() => unitsOfTicks(-1n)).to.throw(RangeError);
    expect(usedUnitsOf(1n, 50)).to.equal(1);
    expect(usedUnitsOf(35_000_000n, 50)).to.equal(4);
    expect(usedUnitsOf(10n ** 12n, 50)).to.equal(50);
    // The wall-clock meter is gone: a config still naming it is refused, not silently ignored.
    expect(refusal({ ...BASE, unitMs: 50 })).to.contain("unitMs");
  });

  it("judges inflation above measured + ceil(measured × toleranceBps / 10,000)", function () {
    expect(unitsInflated(4n, 4n, 0)).to.equal(false);
    expect(unitsInflated(5n, 4n, 0)).to.equal(true);
    // 4 × 5% = 0.2, rounded up: one unit of slack.
    expect(unitsInflated(5n, 4n, 500)).to.equal(false);
    expect(unitsInflated(6n, 4n, 500)).to.equal(true);
    expect(unitsInflated(150n, 100n, 5_000)).to.equal(false);
    expect(unitsInflated(151n, 100n, 5_000)).to.equal(true);
    expect(() => unitsInflated(1n, 1n, -1)).to.throw(RangeError);
    expect(() => unitsInflated(1n, 1n, 0.5)).to.throw(RangeError);
  });
});
