/**
 * Storage and compute providers under attack: each adversary's net earnings per unit of collateral
 * (storage) or bond (compute) against an honest provider's, with the contracts' rules as built
 * (docs/storage.md, docs/compute.md) and the shared usage rule (docs/credits.md).
 *
 * The rules are in STORAGE_RULES and COMPUTE_RULES, the one place the simulator reads them from
 * (test/sim/markets.test.ts checks them against the contracts' constants). Everything the contracts
 * do not fix (costs, job values, failure rates, availability pay) is an assumption, named in
 * MARKET_ASSUMPTIONS and printed in the report. Amounts are plain numbers: storage in units of one
 * data set's daily rate converted to MESH, compute in MESH. Runs are seeded (Rng) and deterministic.
 */
import { DEFAULT_USAGE_PARAMS } from "@hexmesh/protocol";

import { Rng } from "./fleet.js";

/** StorageDeals (contracts/storage/StorageDeals.sol) and the storage oracle's retrieval score. */
export const STORAGE_RULES = {
  /** COLLATERAL_PERIODS: the provider's collateral, in periods (days) of the data set's rate. */
  collateralPeriods: 90,
  /** FAULT_FEE_PERIODS: an undeclared miss after the free one, from the collateral. */
  faultFeePeriods: 2,
  /** MAX_CONSECUTIVE_FAULTS: faulty periods in a row that end the data set. */
  maxConsecutiveFaults: 14,
  /** HEALTHY_STREAK: proven periods in a row after which the free miss is available again. */
  healthyStreak: 30,
  /** LOCK_PERIODS: a termination for faults forfeits this many periods of rate to the client. */
  faultTerminationForfeitPeriods: 30,
  /** DEFAULT_CHALLENGES (K): leaves challenged per period. */
  challenges: 5,
  /** The storage oracle's retrieval score: EMA weight of the past (issue 19). */
  retrievalLambda: 0.95,
  /** Below this score the provider's usage reward is scaled by the score. */
  retrievalScaleBelow: 0.9,
  /** Below this score the provider takes no new data sets. */
  retrievalSuspendBelow: 0.6,
} as const;

/** ComputeJobs (contracts/compute/ComputeJobs.sol) with the fraud verdicts of issue 18. */
export const COMPUTE_RULES = {
  /** FORCED_CHECKS: a provider's first committed jobs are always re-executed. */
  forcedChecks: 10,
  /** DEFAULT_CHECK_BPS / 10,000: the probability a later job is re-executed. */
  checkProbability: 0.1,
  /** MIN_CHECK_BPS / 10,000: the lowest probability governance may set. */
  minCheckProbability: 0.01,
  /** PENALTY_MULTIPLE: a fraud penalty is max(this × job value, floor), capped at the bond. */
  penaltyMultiple: 10,
  /** DEFAULT_PENALTY_FLOOR, MESH. */
  penaltyFloor: 100,
  /** PROVER_SHARE_BPS / 10,000: the prover's part of a penalty (the rest is burned). */
  proverShare: 0.2,
  /** COLLATERAL_MULTIPLE: job collateral locked per job, in job values (unlocked at the end). */
  collateralMultiple: 2,
  /** The compute oracle quorum that signs FraudVerdicts: k of n. */
  oracles: 3,
  threshold: 2,
} as const;

/** The shared usage rule: a provider's usage reward is the value of the credits spent on its work less the fee. */
export const USAGE_FEE = DEFAULT_USAGE_PARAMS.feeBps / 10_000;

/** What the contracts do not fix; the report prints every one. */
export const MARKET_ASSUMPTIONS = {
  storage: {
    /** Days simulated, and data sets per provider (all of the same size and rate). */
    days: 180,
    dataSets: 20,
    /** An honest provider's cost of keeping a data set, per day, in days of rate. */
    storageCost: 0.3,
    /** Cost of serving the oracle's daily probe, per data set and day, in days of rate. */
    serveCost: 0.02,
    /** Availability pay (the pool's rest, for capacity proven available) per proven day, in days of rate. */
    availabilityPay: 0.25,
    /** Honest: probability a period's proof misses its window (outage), and a probe fails falsely. */
    honestMissProbability: 0.003,
    honestProbeFailure: 0.01,
    /** The day the data dropper loses data. */
    dropDay: 30,
    /** The outsourcer's cold archive: storage cost per day and fetch cost per challenge or probe. */
    archiveCost: 0.05,
    fetchCost: 0.02,
  },
  compute: {
    /** Jobs offered to each provider over the horizon, and their value range (MESH, uniform). */
    jobs: 500,
    minJobValue: 1,
    maxJobValue: 10,
    /** An honest provider's cost of running a job, as a share of the job's value. */
    workCost: 0.5,
    /** A provider's bond: 10 devices × the vault's 100 MESH minimum stake per device. */
    bond: 1_000,
    devicesPerProvider: 10,
    /** Registry onboarding fee per compute device (burned), MESH. */
    onboardingFee: 40,
    /** Availability pay per device and day over the horizon (benchmarks answered at full speed). */
    availabilityPerDeviceDay: 0.5,
    days: 90,
  },
} as const;

// ------------------------------------------------------------------ storage

export type StorageBehaviour =
  | { readonly kind: "honest" }
  /** Loses `fraction` of every data set's leaves on dropDay. */
  | { readonly kind: "drop"; readonly fraction: number }
  /** Proves possession but refuses every retrieval probe. */
  | { readonly kind: "proofs-only" }
  /** Keeps nothing; fetches from a cold archive on demand: a proof misses the window with `lateProbability`,
   * a probe (answered in seconds or failed) always fails. */
  | { readonly kind: "outsource"; readonly lateProbability: number }
  /** Submits its proof after the window with `lateProbability`. */
  | { readonly kind: "late"; readonly lateProbability: number };

export interface StorageRun {
  readonly label: string;
  readonly behaviour: StorageBehaviour;
  /** Collateral posted (data sets × COLLATERAL_PERIODS), days of rate. */
  readonly collateral: number;
  readonly provenPeriods: number;
  readonly missedPeriods: number;
  readonly faultFees: number;
  readonly forfeits: number;
  readonly terminations: number;
  /** Usage reward after retrieval-score scaling, availability pay, costs; all in days of rate. */
  readonly usageReward: number;
  readonly availability: number;
  readonly costs: number;
  readonly net: number;
  readonly netPerCollateral: number;
  readonly finalScore: number;
  /** Days the provider spent suspended from new data sets. */
  readonly suspendedDays: number;
  /** What a provider that proves every period and passes every probe would have been paid (usage + availability). */
  readonly perfectPay: number;
}

interface DataSetState {
  consecutiveFaults: number;
  provenStreak: number;
  freeMissUsed: boolean;
  dropped: number;
}

/** One storage provider's `days` with its data sets, period by period, as StorageDeals settles them. */
export function simulateStorageProvider(
  seed: string,
  behaviour: StorageBehaviour,
  label: string,
): StorageRun {
  const R = STORAGE_RULES;
  const A = MARKET_ASSUMPTIONS.storage;
  const rng = new Rng(`storage:${seed}:${label}`);
  const sets: DataSetState[] = Array.from({ length: A.dataSets }, () => fresh());
  let score = 1;
  let proven = 0;
  let missed = 0;
  let fees = 0;
  let forfeits = 0;
  let terminations = 0;
  let usage = 0;
  let availability = 0;
  let costs = 0;
  let suspendedDays = 0;
  let perfectPay = 0;
  const dailyPay = 1 - USAGE_FEE;
  for (let day = 0; day < A.days; day++) {
    if (score < R.retrievalSuspendBelow) suspendedDays++;
    for (let i = 0; i < sets.length; i++) {
      const ds = sets[i]!;
      if (ds.consecutiveFaults < 0) {
        // Terminated: replaced by a new data set unless the provider is suspended from new deals.
        if (score >= R.retrievalSuspendBelow) sets[i] = fresh();
        continue;
      }
      if (behaviour.kind === "drop" && day === A.dropDay) ds.dropped = behaviour.fraction;
      perfectPay += dailyPay + A.availabilityPay;
      // ---- the period's proof
      let provedOnTime: boolean;
      switch (behaviour.kind) {
        case "honest":
        case "proofs-only":
          provedOnTime = rng.next() >= A.honestMissProbability;
          break;
        case "drop": {
          // Each of the K challenged leaves must be held (leaves drawn uniformly across the data set).
          let held = true;
          for (let k = 0; k < R.challenges; k++) if (rng.next() < ds.dropped) held = false;
          provedOnTime = held && rng.next() >= A.honestMissProbability;
          break;
        }
        case "outsource":
        case "late":
          provedOnTime = rng.next() >= behaviour.lateProbability;
          break;
      }
      if (provedOnTime) {
        proven++;
        ds.consecutiveFaults = 0;
        if (ds.provenStreak < R.healthyStreak) ds.provenStreak++;
        if (ds.provenStreak === R.healthyStreak) ds.freeMissUsed = false;
        usage += dailyPay * (score < R.retrievalScaleBelow ? score : 1);
        availability += A.availabilityPay;
      } else {
        missed++;
        ds.consecutiveFaults++;
        ds.provenStreak = 0;
        if (!ds.freeMissUsed) ds.freeMissUsed = true;
        else fees += R.faultFeePeriods;
        if (ds.consecutiveFaults >= R.maxConsecutiveFaults) {
          forfeits += R.faultTerminationForfeitPeriods;
          terminations++;
          ds.consecutiveFaults = -1;
        }
      }
      // ---- costs of the day
      if (behaviour.kind === "outsource") costs += A.archiveCost + 2 * A.fetchCost;
      else {
        costs += A.storageCost * (1 - ds.dropped);
        if (behaviour.kind !== "proofs-only") costs += A.serveCost;
      }
      // ---- the oracle's probe of one random range of the data set
      let probePassed: boolean;
      switch (behaviour.kind) {
        case "honest":
        case "late":
          probePassed = rng.next() >= A.honestProbeFailure;
          break;
        case "drop":
          probePassed = rng.next() >= ds.dropped && rng.next() >= A.honestProbeFailure;
          break;
        case "proofs-only":
        case "outsource":
          probePassed = false;
          break;
      }
      score = R.retrievalLambda * score + (1 - R.retrievalLambda) * (probePassed ? 1 : 0);
    }
  }
  const collateral = A.dataSets * R.collateralPeriods;
  const net = usage + availability - costs - fees - forfeits;
  return {
    label,
    behaviour,
    collateral,
    provenPeriods: proven,
    missedPeriods: missed,
    faultFees: fees,
    forfeits,
    terminations,
    usageReward: usage,
    availability,
    costs,
    net,
    netPerCollateral: net / collateral,
    finalScore: score,
    suspendedDays,
    perfectPay,
  };

  function fresh(): DataSetState {
    return { consecutiveFaults: 0, provenStreak: 0, freeMissUsed: false, dropped: 0 };
  }
}

/**
 * An honest provider's loss to false faults: what its missed periods, fault fees and score scaling
 * cost it, as a share of what a perfect provider is paid (usage reward and availability).
 */
export function honestFalseFaultLoss(run: StorageRun): number {
  const paid = run.usageReward + run.availability;
  return (run.perfectPay - paid + run.faultFees + run.forfeits) / run.perfectPay;
}

export const STORAGE_ADVERSARIES: readonly { label: string; behaviour: StorageBehaviour }[] = [
  { label: "drops 1% of its data", behaviour: { kind: "drop", fraction: 0.01 } },
  { label: "drops 10% of its data", behaviour: { kind: "drop", fraction: 0.1 } },
  { label: "drops all of its data", behaviour: { kind: "drop", fraction: 1 } },
  { label: "proves, refuses retrieval", behaviour: { kind: "proofs-only" } },
  { label: "outsources on demand, always on time", behaviour: { kind: "outsource", lateProbability: 0 } },
  { label: "outsources on demand, 20% late", behaviour: { kind: "outsource", lateProbability: 0.2 } },
  { label: "answers late 10% of days", behaviour: { kind: "late", lateProbability: 0.1 } },
  { label: "answers late 50% of days", behaviour: { kind: "late", lateProbability: 0.5 } },
];

// ------------------------------------------------------------------ compute

export type ComputeBehaviour =
  | { readonly kind: "honest" }
  /** Commits a random hash without running the job (from job `cheatsFrom` on; honest before). */
  | { readonly kind: "lazy"; readonly cheatsFrom?: number }
  /** Runs `fraction` of the work and commits the (wrong) result (from job `cheatsFrom` on). */
  | { readonly kind: "partial"; readonly fraction: number; readonly cheatsFrom?: number }
  /** Lazy, with `colluders` of the n oracles refusing to sign verdicts against it. */
  | { readonly kind: "colluding"; readonly colluders: number }
  /** One machine registered as `identities` devices that take no jobs and answer every benchmark. */
  | { readonly kind: "sybil"; readonly identities: number };

export interface ComputeRun {
  readonly label: string;
  readonly behaviour: ComputeBehaviour;
  readonly bond: number;
  readonly jobsDone: number;
  readonly jobsChecked: number;
  readonly jobsCaught: number;
  readonly usageReward: number;
  readonly availability: number;
  readonly costs: number;
  readonly penalties: number;
  /** Of the penalties, what went to provers (the rest was burned). */
  readonly toProvers: number;
  readonly net: number;
  readonly netPerBond: number;
  /** Whether the bond ran out (the provider can take no more jobs). */
  readonly bondExhausted: boolean;
  /** The verdict quorum cannot be formed without colluders: beyond the protocol's k-of-n assumption. */
  readonly beyondQuorumAssumption: boolean;
}

export interface ComputeOptions {
  readonly checkProbability?: number;
}

/** One compute provider's jobs, in order, with ComputeJobs' spot checks and the fraud penalty rule. */
export function simulateComputeProvider(
  seed: string,
  behaviour: ComputeBehaviour,
  label: string,
  options: ComputeOptions = {},
): ComputeRun {
  const R = COMPUTE_RULES;
  const A = MARKET_ASSUMPTIONS.compute;
  const p = options.checkProbability ?? R.checkProbability;
  // The same seed draws the same job values for every behaviour: runs differ only by behaviour.
  const jobs = new Rng(`compute-jobs:${seed}`);
  const checks = new Rng(`compute-checks:${seed}:${label}`);
  const devices = behaviour.kind === "sybil" ? behaviour.identities : A.devicesPerProvider;
  const bond = behaviour.kind === "sybil" ? (A.bond / A.devicesPerProvider) * devices : A.bond;
  let bondLeft = bond;
  let done = 0;
  let checked = 0;
  let caught = 0;
  let usage = 0;
  let costs = devices * A.onboardingFee;
  let penalties = 0;
  const cheater = behaviour.kind === "lazy" || behaviour.kind === "partial" || behaviour.kind === "colluding";
  const cheatsFrom =
    behaviour.kind === "lazy" || behaviour.kind === "partial" ? (behaviour.cheatsFrom ?? 0) : 0;
  const verdictsPossible = behaviour.kind !== "colluding" || R.oracles - behaviour.colluders >= R.threshold;
  if (behaviour.kind !== "sybil") {
    for (let j = 0; j < A.jobs && bondLeft > 0; j++) {
      const value = jobs.range(A.minJobValue, A.maxJobValue);
      const selected = done < R.forcedChecks || checks.next() < p;
      const wrong = cheater && j >= cheatsFrom;
      done++;
      if (!wrong) costs += A.workCost * value;
      else if (behaviour.kind === "partial") costs += A.workCost * value * behaviour.fraction;
      if (selected) checked++;
      if (wrong && selected && verdictsPossible) {
        // FraudVerdict: the customer is refunded, the penalty leaves the bond through the vault's slasher.
        caught++;
        const penalty = Math.min(Math.max(R.penaltyMultiple * value, R.penaltyFloor), bondLeft);
        bondLeft -= penalty;
        penalties += penalty;
        continue;
      }
      usage += value * (1 - USAGE_FEE);
    }
  }
  const availability = devices * A.availabilityPerDeviceDay * A.days;
  const net = usage + availability - costs - penalties;
  return {
    label,
    behaviour,
    bond,
    jobsDone: done,
    jobsChecked: checked,
    jobsCaught: caught,
    usageReward: usage,
    availability,
    costs,
    penalties,
    toProvers: penalties * R.proverShare,
    net,
    netPerBond: net / bond,
    bondExhausted: bondLeft <= 0,
    beyondQuorumAssumption: !verdictsPossible,
  };
}

/**
 * The lowest check probability at which a lazy provider expects less than an honest one on a job
 * of any value: it saves workCost × v and risks max(10 v, floor) ≥ 10 v plus the job's pay, so
 * p ≥ workCost / (1 − fee + penaltyMultiple) suffices.
 */
export function minDeterringCheckProbability(workCost: number = MARKET_ASSUMPTIONS.compute.workCost): number {
  return workCost / (1 - USAGE_FEE + COMPUTE_RULES.penaltyMultiple);
}

export const COMPUTE_ADVERSARIES: readonly { label: string; behaviour: ComputeBehaviour }[] = [
  { label: "lazy: random hashes", behaviour: { kind: "lazy" } },
  {
    label: "lazy after 10 honest jobs (past the forced checks)",
    behaviour: { kind: "lazy", cheatsFrom: COMPUTE_RULES.forcedChecks },
  },
  { label: "partial work (50%)", behaviour: { kind: "partial", fraction: 0.5 } },
  { label: "partial work (90%)", behaviour: { kind: "partial", fraction: 0.9 } },
  {
    label: "partial work (90%) after 10 honest jobs",
    behaviour: { kind: "partial", fraction: 0.9, cheatsFrom: COMPUTE_RULES.forcedChecks },
  },
  { label: "lazy, 1 of 3 verifiers colluding", behaviour: { kind: "colluding", colluders: 1 } },
  { label: "lazy, 2 of 3 verifiers colluding", behaviour: { kind: "colluding", colluders: 2 } },
  { label: "Sybil: 10 identities, no jobs", behaviour: { kind: "sybil", identities: 10 } },
  { label: "Sybil: 100 identities, no jobs", behaviour: { kind: "sybil", identities: 100 } },
];

// ------------------------------------------------------------------ both

export interface MarketsSimulation {
  readonly seed: string;
  readonly storageHonest: StorageRun;
  readonly storage: readonly StorageRun[];
  readonly computeHonest: ComputeRun;
  readonly compute: readonly ComputeRun[];
}

export function simulateMarkets(seed: string): MarketsSimulation {
  return {
    seed,
    storageHonest: simulateStorageProvider(seed, { kind: "honest" }, "honest"),
    storage: STORAGE_ADVERSARIES.map((a) => simulateStorageProvider(seed, a.behaviour, a.label)),
    computeHonest: simulateComputeProvider(seed, { kind: "honest" }, "honest"),
    compute: COMPUTE_ADVERSARIES.map((a) => simulateComputeProvider(seed, a.behaviour, a.label)),
  };
}
