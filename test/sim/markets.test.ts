import { readFileSync } from "node:fs";

import { expect } from "chai";
import fc from "fast-check";

import {
  COMPUTE_RULES,
  honestFalseFaultLoss,
  MARKET_ASSUMPTIONS,
  minDeterringCheckProbability,
  simulateComputeProvider,
  simulateMarkets,
  simulateStorageProvider,
  STORAGE_RULES,
  USAGE_FEE,
} from "@hexmesh/sim/markets";
import { buildMarketsReport } from "@hexmesh/sim/markets-report";

/** A `uint… public constant NAME = value;` of a contract's source, as a number. */
function solidityConstant(file: string, name: string): number | undefined {
  const source = readFileSync(file, "utf8");
  const m = new RegExp(`constant ${name} = ([0-9_e]+)(?: (minutes|hours|days))?;`).exec(source);
  if (m === null) return undefined;
  const value = Number(m[1]!.replaceAll("_", ""));
  return m[2] === undefined ? value : value * { minutes: 60, hours: 3_600, days: 86_400 }[m[2] as "days"];
}

const STORAGE_SOL = "contracts/storage/StorageDeals.sol";
const COMPUTE_SOL = "contracts/compute/ComputeJobs.sol";
const seeds = fc.string({ minLength: 1, maxLength: 12 });

describe("sim / storage and compute adversaries", function () {
  this.timeout(120_000);
  const sim = simulateMarkets("hexmesh-sim-1");

  it("reads the contracts' rules from one place, equal to the contracts' constants", function () {
    const storage: [string, number][] = [
      ["COLLATERAL_PERIODS", STORAGE_RULES.collateralPeriods],
      ["FAULT_FEE_PERIODS", STORAGE_RULES.faultFeePeriods],
      ["MAX_CONSECUTIVE_FAULTS", STORAGE_RULES.maxConsecutiveFaults],
      ["HEALTHY_STREAK", STORAGE_RULES.healthyStreak],
      ["LOCK_PERIODS", STORAGE_RULES.faultTerminationForfeitPeriods],
      ["DEFAULT_CHALLENGES", STORAGE_RULES.challenges],
    ];
    for (const [name, value] of storage) expect(solidityConstant(STORAGE_SOL, name), name).to.equal(value);
    const compute: [string, number][] = [
      ["FORCED_CHECKS", COMPUTE_RULES.forcedChecks],
      ["DEFAULT_CHECK_BPS", COMPUTE_RULES.checkProbability * 10_000],
      ["MIN_CHECK_BPS", COMPUTE_RULES.minCheckProbability * 10_000],
      ["COLLATERAL_MULTIPLE", COMPUTE_RULES.collateralMultiple],
    ];
    for (const [name, value] of compute) expect(solidityConstant(COMPUTE_SOL, name), name).to.equal(value);
    // The fraud penalty's constants arrive with the fraud verdicts (issue 18); once declared they must match.
    const penalty: [string, number][] = [
      ["PENALTY_MULTIPLE", COMPUTE_RULES.penaltyMultiple],
      ["DEFAULT_PENALTY_FLOOR", COMPUTE_RULES.penaltyFloor * 1e18],
      ["PROVER_SHARE_BPS", COMPUTE_RULES.proverShare * 10_000],
    ];
    for (const [name, value] of penalty) {
      const declared = solidityConstant(COMPUTE_SOL, name);
      if (declared !== undefined) expect(declared, name).to.equal(value);
    }
    expect(USAGE_FEE).to.equal(0.05);
  });

  it("every storage adversary earns less than an honest provider per unit of collateral", function () {
    expect(sim.storage).to.have.length(8);
    for (const r of sim.storage) {
      expect(r.collateral).to.equal(sim.storageHonest.collateral);
      expect(r.netPerCollateral, r.label).to.be.lessThan(sim.storageHonest.netPerCollateral);
    }
  });

  it("applies the contracts' fault rules: free first miss, fees after it, termination after 14 faulty days", function () {
    const A = MARKET_ASSUMPTIONS.storage;
    const all = sim.storage.find((r) => r.label === "drops all of its data")!;
    // Every data set faults from the drop day on: 1 free miss + 13 fees, then ended with the forfeit.
    expect(all.terminations).to.equal(A.dataSets);
    expect(all.forfeits).to.equal(A.dataSets * STORAGE_RULES.faultTerminationForfeitPeriods);
    expect(all.faultFees).to.be.at.least(
      A.dataSets * (STORAGE_RULES.maxConsecutiveFaults - 1) * STORAGE_RULES.faultFeePeriods,
    );
    // Its probes fail too, so it is suspended and its data sets are not replaced.
    expect(all.suspendedDays).to.be.greaterThan(0);
    const refuses = sim.storage.find((r) => r.label === "proves, refuses retrieval")!;
    // It proves possession like an honest provider; only the probes catch it.
    expect(refuses.missedPeriods).to.be.lessThan(0.01 * A.days * A.dataSets);
    expect(refuses.finalScore).to.be.lessThan(STORAGE_RULES.retrievalSuspendBelow);
    expect(refuses.usageReward).to.be.lessThan(sim.storageHonest.usageReward / 2);
  });

  it("property: droppers, late answerers and outsourcers earn less than honest per unit of collateral", function () {
    fc.assert(
      fc.property(
        seeds,
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, dropped, late, outsourcedLate) => {
          const honest = simulateStorageProvider(seed, { kind: "honest" }, "honest").netPerCollateral;
          for (const b of [
            { kind: "drop", fraction: dropped },
            { kind: "late", lateProbability: late },
            { kind: "outsource", lateProbability: outsourcedLate },
            { kind: "proofs-only" },
          ] as const) {
            const r = simulateStorageProvider(seed, b, b.kind);
            if (!(r.netPerCollateral < honest)) return false;
          }
          return true;
        },
      ),
      { numRuns: 40, seed: 19 },
    );
  });

  it("property: an honest provider loses under 1% of its pay to false faults", function () {
    expect(honestFalseFaultLoss(sim.storageHonest)).to.be.lessThan(0.01);
    fc.assert(
      fc.property(seeds, (seed) => {
        const loss = honestFalseFaultLoss(simulateStorageProvider(seed, { kind: "honest" }, "honest"));
        return loss >= 0 && loss < 0.01;
      }),
      { numRuns: 100, seed: 19 },
    );
  });

  it("every compute adversary within the quorum assumption earns less than honest per unit of bond", function () {
    const honest = sim.computeHonest.netPerBond;
    const inside = sim.compute.filter((r) => !r.beyondQuorumAssumption);
    expect(inside).to.have.length(sim.compute.length - 1);
    for (const r of inside) expect(r.netPerBond, r.label).to.be.lessThan(honest);
    for (const r of inside.filter((x) => x.label.startsWith("lazy") || x.label.startsWith("partial"))) {
      expect(r.jobsCaught, r.label).to.be.greaterThan(0);
      expect(r.bondExhausted, r.label).to.equal(true);
      // Penalties never exceed the bond (the cap), and 20% of them go to the provers.
      expect(r.penalties).to.be.at.most(r.bond);
      expect(r.toProvers).to.equal(r.penalties * COMPUTE_RULES.proverShare);
    }
    // A quorum of colluders (2 of 3, with k = 2) is beyond the assumption: the report says so.
    const beyond = sim.compute.find((r) => r.beyondQuorumAssumption)!;
    expect(beyond.label).to.equal("lazy, 2 of 3 verifiers colluding");
    expect(beyond.jobsCaught).to.equal(0);
  });

  it("property: lazy and partial providers earn less than honest per unit of bond at any deterring check rate", function () {
    const minP = minDeterringCheckProbability();
    expect(minP).to.be.lessThan(COMPUTE_RULES.checkProbability);
    fc.assert(
      fc.property(
        seeds,
        fc.double({ min: 1.5 * minP, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: COMPUTE_RULES.oracles - COMPUTE_RULES.threshold }),
        (seed, checkProbability, fraction, cheatsFrom, colluders) => {
          const o = { checkProbability };
          const honest = simulateComputeProvider(seed, { kind: "honest" }, "honest", o).netPerBond;
          for (const b of [
            { kind: "lazy", cheatsFrom },
            { kind: "partial", fraction, cheatsFrom },
            { kind: "colluding", colluders },
          ] as const) {
            if (!(simulateComputeProvider(seed, b, b.kind, o).netPerBond < honest)) return false;
          }
          return true;
        },
      ),
      { numRuns: 60, seed: 18 },
    );
  });

  it("property: Sybil identities farming availability earn less than honest per unit of bond", function () {
    fc.assert(
      fc.property(seeds, fc.integer({ min: 1, max: 1_000 }), (seed, identities) => {
        const honest = simulateComputeProvider(seed, { kind: "honest" }, "honest").netPerBond;
        const sybil = simulateComputeProvider(seed, { kind: "sybil", identities }, "sybil");
        return sybil.jobsDone === 0 && sybil.netPerBond < honest;
      }),
      { numRuns: 30, seed: 18 },
    );
  });

  it("same seed, same report bytes; the committed docs/sim/markets.md is the current one", async function () {
    const a = await buildMarketsReport(sim);
    expect(await buildMarketsReport(simulateMarkets("hexmesh-sim-1"))).to.equal(a);
    expect(await buildMarketsReport(simulateMarkets("another seed"))).not.to.equal(a);
    expect(readFileSync("docs/sim/markets.md", "utf8")).to.equal(a);
    expect(a).to.match(/Every storage adversary earns less than the honest provider per unit of collateral/);
    expect(a).to.match(/Within the quorum assumption every compute adversary earns less/);
  });
});
