/**
 * Shared setup for the ComputeJobs tests and the gas bench: the storage system's MESH, price,
 * credits, registry, vault and controller (test/helpers/storage.ts), plus two compute device classes
 * (CPU, GPU) of registry subnetwork 1, two bonded compute providers with collateral deposited, and
 * ComputeJobs registered as the compute spender; the compute subnetwork's RewardsDistributor (3
 * oracles, k = 2) whose set signs fraud verdicts, a guardian who may veto penalties, and ComputeJobs
 * as the vault's slasher. No top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { expect } from "chai";
import { keccak256, Signature, toUtf8Bytes, Wallet } from "ethers";

import { computeJobsDomain, FraudReason, fraudVerdictDigest, type FraudVerdict } from "@hexmesh/protocol";

import type { ComputeJobs, RewardsDistributor } from "../../typechain-types/index.js";
import { MESH } from "./registryFixture.js";
import { BOND, deployStorage, UNLIMITED, type StorageSystem } from "./storage.js";

export const SUBNET_COMPUTE = "0x" + "44".repeat(32);
/** The registry's subnetwork number of compute device classes (coverage 0, storage 2). */
export const COMPUTE_CLASS_SUBNETWORK = 1;
export const CLASS_CPU = 7;
export const CLASS_GPU = 8;
/** $0.001 per CPU unit. */
export const CPU_PRICE = 1_000n;
export const HOUR = 3_600n;
export const Status = {
  None: 0n,
  Open: 1n,
  Accepted: 2n,
  Committed: 3n,
  Disputed: 4n,
  Finalized: 5n,
  Refunded: 6n,
};
export const Tier = { Standard: 0, Verified: 1 };
export const RefundReason = {
  Cancelled: 0n,
  Unclaimed: 1n,
  MissedDeadline: 2n,
  ProviderAtFault: 3n,
  DisputeUnresolved: 4n,
};
export const PenaltyStatus = { None: 0n, Scheduled: 1n, Executed: 2n, Vetoed: 3n };
export const RESULT_B = "0x" + "7b".repeat(32);
export const EVIDENCE = "0x" + "e1".repeat(32);
/** The compute oracles' keys (deterministic), ascending by address. */
export const ORACLES: Wallet[] = [0, 1, 2]
  .map((i) => new Wallet(keccak256(toUtf8Bytes(`hexmesh compute oracle ${i}`))))
  .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
export const ORACLE_THRESHOLD = 2n;
export const SPEC = "0x" + "5e".repeat(32);
export const RESULT = "0x" + "7a".repeat(32);

export interface ComputeSystem extends StorageSystem {
  jobs: ComputeJobs;
  customer: HardhatEthersSigner;
  providerA: HardhatEthersSigner;
  providerB: HardhatEthersSigner;
  verifier: HardhatEthersSigner;
  guardian: HardhatEthersSigner;
  prover: HardhatEthersSigner;
  oracleDistributor: RewardsDistributor;
  /** providerA's CPU device; providerB's CPU and GPU devices. */
  cpuA: bigint;
  cpuB: bigint;
  gpuB: bigint;
}

export async function deployCompute(ethers: HardhatEthers, helpers: NetworkHelpers): Promise<ComputeSystem> {
  const base = await deployStorage(ethers, helpers);
  const signers = await ethers.getSigners();
  const treasury = signers[2]!;
  const [providerA, providerB, verifier, guardian, prover] = [
    signers[7]!,
    signers[8]!,
    signers[9]!,
    signers[10]!,
    signers[11]!,
  ];
  const { admin, registry, token, vault, credits } = base;
  for (const [deviceClass, enabled] of [
    [CLASS_CPU, true],
    [CLASS_GPU, true],
  ] as const)
    await registry
      .connect(admin)
      .setDeviceClass(deviceClass, { enabled, subnetwork: COMPUTE_CLASS_SUBNETWORK, onboardingFee: 0 });
  const cpuA = await base.onboard(providerA.address, CLASS_CPU);
  const cpuB = await base.onboard(providerB.address, CLASS_CPU);
  const gpuB = await base.onboard(providerB.address, CLASS_GPU);
  const jobs = (await ethers.deployContract("ComputeJobs", [
    await credits.getAddress(),
    await registry.getAddress(),
    await vault.getAddress(),
    await base.controller.getAddress(),
    COMPUTE_CLASS_SUBNETWORK,
    admin.address,
  ])) as unknown as ComputeJobs;
  const jobsAddr = await jobs.getAddress();
  await credits.connect(admin).registerSpender(jobsAddr, SUBNET_COMPUTE);
  await jobs.connect(admin).setPrice(CLASS_CPU, CPU_PRICE);
  const oracleDistributor = (await ethers.deployContract("RewardsDistributor", [
    await token.getAddress(),
    SUBNET_COMPUTE,
    admin.address,
    guardian.address,
    ORACLES.map((o) => o.address),
    ORACLE_THRESHOLD,
    3_600n,
  ])) as unknown as RewardsDistributor;
  await jobs.connect(admin).setOracleDistributor(await oracleDistributor.getAddress());
  await jobs.connect(admin).grantRole(await jobs.GUARDIAN_ROLE(), guardian.address);
  await vault.connect(admin).grantRole(await vault.SLASHER_ROLE(), jobsAddr);
  // Each provider bonds its devices and deposits collateral; the customer (the storage client, who
  // holds $2,500 of credits) lets the market spend them.
  for (const [who, devices] of [
    [providerA, 1n],
    [providerB, 2n],
  ] as const) {
    await token.connect(treasury).transfer(who.address, MESH(100_000));
    await token.connect(who).approve(await vault.getAddress(), BOND * devices);
    await vault.connect(who).stake(BOND * devices);
    await token.connect(who).approve(jobsAddr, MESH(50_000));
    await jobs.connect(who).depositCollateral(MESH(10_000));
  }
  await credits.connect(base.client).approveSpender(jobsAddr, UNLIMITED);
  return {
    ...base,
    jobs,
    customer: base.client,
    providerA,
    providerB,
    verifier,
    guardian,
    prover,
    oracleDistributor,
    cpuA,
    cpuB,
    gpuB,
  };
}

/** A deadline `hours` from the latest block. */
export async function deadlineIn(fx: ComputeSystem, hours: bigint): Promise<bigint> {
  return BigInt((await fx.ethers.provider.getBlock("latest"))!.timestamp) + hours * HOUR;
}

/** Creates a CPU job of `maxUnits` for the customer; its id. */
export async function createJob(fx: ComputeSystem, maxUnits = 500n, hours = 2n): Promise<bigint> {
  await fx.jobs
    .connect(fx.customer)
    .createJob(SPEC, CLASS_CPU, maxUnits, await deadlineIn(fx, hours), Tier.Standard);
  return fx.jobs.jobCount();
}

/** Creates a job that providerA accepts and commits with `usedUnits`. */
export async function committedJob(fx: ComputeSystem, usedUnits = 300n, maxUnits = 500n): Promise<bigint> {
  const id = await createJob(fx, maxUnits);
  await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
  await fx.jobs.connect(fx.providerA).commitResult(id, RESULT, usedUnits);
  return id;
}

/** Creates a Verified CPU job that providerA then providerB accept; its id. */
export async function verifiedJob(fx: ComputeSystem, maxUnits = 500n, hours = 2n): Promise<bigint> {
  await fx.jobs
    .connect(fx.customer)
    .createJob(SPEC, CLASS_CPU, maxUnits, await deadlineIn(fx, hours), Tier.Verified);
  const id = await fx.jobs.jobCount();
  await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
  await fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB);
  return id;
}

/** A WrongResult verdict on `jobId` against `provider`, under the current oracle set, valid an hour. */
export async function verdictFor(fx: ComputeSystem, jobId: bigint, provider: string): Promise<FraudVerdict> {
  const latest = BigInt((await fx.ethers.provider.getBlock("latest"))!.timestamp);
  return {
    jobId,
    provider,
    reason: FraudReason.WrongResult,
    evidenceHash: EVIDENCE,
    prover: fx.prover.address,
    oracleSetVersion: await fx.oracleDistributor.oracleSetVersion(),
    deadline: latest + HOUR,
  };
}

/**
 * The verdict signed by `signers` (default: the first ORACLE_THRESHOLD oracles) with the protocol's
 * digest, packed in the given order (ascending for the defaults), as the compute oracle packs them.
 */
export async function signVerdict(
  fx: ComputeSystem,
  verdict: FraudVerdict,
  signers: readonly Wallet[] = ORACLES.slice(0, Number(ORACLE_THRESHOLD)),
): Promise<string> {
  const { chainId } = await fx.ethers.provider.getNetwork();
  const digest = fraudVerdictDigest(computeJobsDomain(chainId, await fx.jobs.getAddress()), verdict);
  return "0x" + signers.map((w) => Signature.from(w.signingKey.sign(digest)).serialized.slice(2)).join("");
}

/** Submits a quorum-signed WrongResult verdict against `provider` (default: the job's provider). */
export async function convict(fx: ComputeSystem, jobId: bigint, provider?: string) {
  const who = provider ?? (await fx.jobs.job(jobId)).provider;
  const verdict = await verdictFor(fx, jobId, who);
  return fx.jobs.connect(fx.verifier).submitVerdict(verdict, await signVerdict(fx, verdict));
}

/**
 * The books: the credits the ledger holds locked for the customer equal the value of its live jobs;
 * each provider's locked collateral equals its live jobs' collateral; the MESH the contract holds
 * equals every provider's free + locked collateral. Walks every job (tests only).
 */
export async function expectComputeBooks(fx: ComputeSystem): Promise<void> {
  const live = [Status.Open, Status.Accepted, Status.Committed, Status.Disputed];
  const count = await fx.jobs.jobCount();
  let lockedCredits = 0n;
  let escrowed = 0n;
  const lockedCollateral = new Map<string, bigint>();
  const add = (who: string, amount: bigint) =>
    lockedCollateral.set(who, (lockedCollateral.get(who) ?? 0n) + amount);
  for (let id = 1n; id <= count; id++) {
    const pen = await fx.jobs.penalty(id);
    if (pen.status === PenaltyStatus.Scheduled) escrowed += pen.escrow;
    const j = await fx.jobs.job(id);
    if (!live.includes(j.status)) continue;
    const verified = j.tier === BigInt(Tier.Verified);
    lockedCredits += j.maxUnits * j.pricePerUnit * (verified ? 2n : 1n);
    if (j.provider !== ZERO_ADDRESS) add(j.provider, j.collateral);
    if (verified) {
      const second = await fx.jobs.secondProvider(id);
      if (second.provider !== ZERO_ADDRESS) add(second.provider, second.collateral);
    }
  }
  const jobsAddr = await fx.jobs.getAddress();
  expect(await fx.credits.locked(fx.customer.address, jobsAddr)).to.equal(lockedCredits);
  let held = escrowed;
  for (const who of [fx.providerA, fx.providerB]) {
    const p = await fx.jobs.providerAccount(who.address);
    expect(p.locked, `${who.address} locked`).to.equal(lockedCollateral.get(who.address) ?? 0n);
    held += p.free + p.locked;
  }
  expect(await fx.token.balanceOf(jobsAddr)).to.equal(held);
}

const ZERO_ADDRESS = "0x" + "00".repeat(20);

/** Gas of the main path (receipt gasUsed): the customer's second job, so its lock slot exists. */
export async function measureComputeGas(
  ethers: HardhatEthers,
  helpers: NetworkHelpers,
): Promise<Record<string, bigint>> {
  const fx = await deployCompute(ethers, helpers);
  const gas = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) =>
    (await (await tx).wait())!.gasUsed;
  await createJob(fx);
  const deadline = await deadlineIn(fx, 2n);
  const create = await gas(
    fx.jobs.connect(fx.customer).createJob(SPEC, CLASS_CPU, 500n, deadline, Tier.Standard),
  );
  const id = await fx.jobs.jobCount();
  const directed = await gas(fx.jobs.connect(fx.customer).createDirectedJob(SPEC, fx.cpuB, 500n, deadline));
  const acceptDirected = await gas(fx.jobs.connect(fx.providerB).acceptJob(id + 1n, fx.cpuB));
  const accept = await gas(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA));
  const commit = await gas(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 300n));
  await helpers.mine(1);
  const record = await gas(fx.jobs.connect(fx.verifier).recordSpotCheck(id));
  await helpers.time.increase(24n * HOUR);
  const finalize = await gas(fx.jobs.connect(fx.verifier).finalize(id));
  // A cheat: providerA's next job convicted by the quorum (2 of 3 signatures), the penalty executed
  // after the veto window (taken from the job's collateral, then the vault).
  const cheat = await committedJob(fx);
  const verdict = await gas(convict(fx, cheat));
  await helpers.time.increase(4n * 24n * HOUR);
  const execute = await gas(fx.jobs.connect(fx.verifier).executePenalty(cheat));
  return {
    "compute.createJob": create,
    "compute.acceptJob": accept,
    "compute.createDirectedJob": directed,
    "compute.acceptJob.directed": acceptDirected,
    "compute.commitResult": commit,
    "compute.recordSpotCheck": record,
    "compute.finalize": finalize,
    "compute.submitVerdict": verdict,
    "compute.executePenalty": execute,
  };
}

/** The budgets (receipt gas). */
export const COMPUTE_GAS_BUDGETS: Record<string, bigint> = {
  "compute.createJob": 130_000n,
  "compute.createDirectedJob": 170_000n,
  "compute.commitResult": 80_000n,
  "compute.finalize": 90_000n,
};
