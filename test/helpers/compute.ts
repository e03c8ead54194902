/**
 * Shared setup for the ComputeJobs tests and the gas bench: the storage system's MESH, price,
 * credits, registry, vault and controller (test/helpers/storage.ts), plus two compute device classes
 * (CPU, GPU) of registry subnetwork 1, two bonded compute providers with collateral deposited, and
 * ComputeJobs registered as the compute spender. No top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { expect } from "chai";

import type { ComputeJobs } from "../../typechain-types/index.js";
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
export const SPEC = "0x" + "5e".repeat(32);
export const RESULT = "0x" + "7a".repeat(32);

export interface ComputeSystem extends StorageSystem {
  jobs: ComputeJobs;
  customer: HardhatEthersSigner;
  providerA: HardhatEthersSigner;
  providerB: HardhatEthersSigner;
  verifier: HardhatEthersSigner;
  /** providerA's CPU device; providerB's CPU and GPU devices. */
  cpuA: bigint;
  cpuB: bigint;
  gpuB: bigint;
}

export async function deployCompute(ethers: HardhatEthers, helpers: NetworkHelpers): Promise<ComputeSystem> {
  const base = await deployStorage(ethers, helpers);
  const signers = await ethers.getSigners();
  const treasury = signers[2]!;
  const [providerA, providerB, verifier] = [signers[7]!, signers[8]!, signers[9]!];
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
  await jobs.connect(admin).grantRole(await jobs.VERIFIER_ROLE(), verifier.address);
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
  return { ...base, jobs, customer: base.client, providerA, providerB, verifier, cpuA, cpuB, gpuB };
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

/**
 * The books: the credits the ledger holds locked for the customer equal the value of its live jobs;
 * each provider's locked collateral equals its live jobs' collateral; the MESH the contract holds
 * equals every provider's free + locked collateral. Walks every job (tests only).
 */
export async function expectComputeBooks(fx: ComputeSystem): Promise<void> {
  const live = [Status.Open, Status.Accepted, Status.Committed, Status.Disputed];
  const count = await fx.jobs.jobCount();
  let lockedCredits = 0n;
  const lockedCollateral = new Map<string, bigint>();
  for (let id = 1n; id <= count; id++) {
    const j = await fx.jobs.job(id);
    if (!live.includes(j.status)) continue;
    lockedCredits += j.maxUnits * j.pricePerUnit;
    if (j.status !== Status.Open)
      lockedCollateral.set(j.provider, (lockedCollateral.get(j.provider) ?? 0n) + j.collateral);
  }
  const jobsAddr = await fx.jobs.getAddress();
  expect(await fx.credits.locked(fx.customer.address, jobsAddr)).to.equal(lockedCredits);
  let held = 0n;
  for (const who of [fx.providerA, fx.providerB]) {
    const p = await fx.jobs.providerAccount(who.address);
    expect(p.locked, `${who.address} locked`).to.equal(lockedCollateral.get(who.address) ?? 0n);
    held += p.free + p.locked;
  }
  expect(await fx.token.balanceOf(jobsAddr)).to.equal(held);
}

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
  const accept = await gas(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA));
  const commit = await gas(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 300n));
  await helpers.mine(1);
  const record = await gas(fx.jobs.connect(fx.verifier).recordSpotCheck(id));
  await helpers.time.increase(24n * HOUR);
  const finalize = await gas(fx.jobs.connect(fx.verifier).finalize(id));
  return {
    "compute.createJob": create,
    "compute.acceptJob": accept,
    "compute.commitResult": commit,
    "compute.recordSpotCheck": record,
    "compute.finalize": finalize,
  };
}

/** The budgets (receipt gas). */
export const COMPUTE_GAS_BUDGETS: Record<string, bigint> = {
  "compute.createJob": 130_000n,
  "compute.commitResult": 80_000n,
  "compute.finalize": 90_000n,
};
