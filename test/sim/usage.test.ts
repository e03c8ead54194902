import { expect } from "chai";

import { simulateUsage } from "@hexmesh/sim/usage";
import { buildUsageReport } from "@hexmesh/sim/usage-report";

const MESH = 10n ** 18n;

describe("sim / paid usage: wash trading and forged receipts", function () {
  this.timeout(60_000);
  const sim = simulateUsage({ seed: "usage-test", hotspots: 200, honestUsageUsd: 100 });

  it("a wash trader gets back less MESH than it burns on every price path and size", function () {
    expect(sim.wash).to.have.length(4 * 5);
    for (const w of sim.wash)
      expect(w.returnedMesh < w.burnedMesh, `${w.path} ${w.burnedMesh}`).to.equal(true);
  });

  it("at a steady price it loses at least the fee; past the usage share it is paid pro rata", function () {
    const flat = sim.wash.filter((w) => w.path === "flat $0.05");
    for (const w of flat) {
      expect(w.returnedMesh * 10_000n <= w.burnedMesh * BigInt(10_000 - sim.feeBps)).to.equal(true);
      // What its usage takes comes out of the availability work, never more than it burned less the fee.
      expect(w.availabilityLost * 10_000n <= w.burnedMesh * BigInt(10_000 - sim.feeBps)).to.equal(true);
    }
    const big = flat.find((w) => w.burnedMesh === 1_000_000n * MESH)!;
    expect(big.proRata).to.equal(true);
    expect(big.returnedMesh * 10n < big.burnedMesh).to.equal(true);
    expect(flat.find((w) => w.burnedMesh === 100n * MESH)!.proRata).to.equal(false);
  });

  it("a receipt forger earns no usage reward", function () {
    expect(sim.forger.claimedCredits > 0n).to.equal(true);
    expect(sim.forger.usageReward).to.equal(0n);
  });

  it("same seed, same report bytes", async function () {
    const again = simulateUsage({ seed: "usage-test", hotspots: 200, honestUsageUsd: 100 });
    const a = await buildUsageReport(sim);
    expect(await buildUsageReport(again)).to.equal(a);
    expect(a).to.match(/Every run returns less than it burns/);
  });
});
