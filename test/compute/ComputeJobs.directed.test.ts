import { expect } from "chai";

import {
  CLASS_CPU,
  CLASS_GPU,
  CPU_PRICE,
  deadlineIn,
  deployCompute,
  expectComputeBooks,
  RefundReason,
  RESULT,
  SPEC,
  Status,
  Tier,
  type ComputeSystem,
} from "../helpers/compute.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";
import { CLASS_STORAGE } from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { loadFixture, time } = networkHelpers;

async function fixture(): Promise<ComputeSystem> {
  return deployCompute(ethers, networkHelpers);
}

/** A job directed to `deviceId` by the customer; its id. */
async function directed(fx: ComputeSystem, deviceId: bigint, maxUnits = 10n): Promise<bigint> {
  await fx.jobs.connect(fx.customer).createDirectedJob(SPEC, deviceId, maxUnits, await deadlineIn(fx, 1n));
  return fx.jobs.jobCount();
}

describe("ComputeJobs directed jobs", function () {
  let fx: ComputeSystem;
  beforeEach(async () => {
    fx = await loadFixture(fixture);
  });
  afterEach(async function () {
    if (this.currentTest?.state === "passed") await expectComputeBooks(fx);
  });

  it("creates a Standard job of the device's class, locks its value, emits JobCreated then JobDirected", async function () {
    const deadline = await deadlineIn(fx, 1n);
    const tx = fx.jobs.connect(fx.customer).createDirectedJob(SPEC, fx.cpuA, 10n, deadline);
    await expect(tx)
      .to.emit(fx.jobs, "JobCreated")
      .withArgs(1n, fx.customer.address, SPEC, CLASS_CPU, 10n, CPU_PRICE, deadline, Tier.Standard)
      .and.to.emit(fx.jobs, "JobDirected")
      .withArgs(1n, fx.cpuA);
    const j = await fx.jobs.job(1n);
    expect(j.status).to.equal(Status.Open);
    expect(j.deviceClass).to.equal(BigInt(CLASS_CPU));
    expect(j.deviceId).to.equal(fx.cpuA);
    expect(j.provider).to.equal("0x" + "00".repeat(20));
    expect(await fx.credits.locked(fx.customer.address, await fx.jobs.getAddress())).to.equal(
      10n * CPU_PRICE,
    );
  });

  it("only the directed device's owner, with that device, may accept; then it runs as any job", async function () {
    const id = await directed(fx, fx.cpuA);
    // Another provider's device of the same class: refused.
    await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeJobDirected")
      .withArgs(id, fx.cpuA);
    // The directed device, by someone else: refused as not the device's owner.
    await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuA))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeNotDeviceOwner")
      .withArgs(fx.cpuA, fx.providerB.address);
    await expect(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA))
      .to.emit(fx.jobs, "JobAccepted")
      .withArgs(id, fx.providerA.address, fx.cpuA, await fx.jobs.collateralFor(10n * CPU_PRICE));
    await fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 3n);
    await expect(fx.jobs.connect(fx.customer).acceptResult(id))
      .to.emit(fx.jobs, "JobFinalized")
      .withArgs(id, fx.providerA.address, 3n * CPU_PRICE, 7n * CPU_PRICE);
  });

  it("a directed job no one accepts expires unclaimed (no strike); the customer may cancel it", async function () {
    const id = await directed(fx, fx.cpuB);
    const cancelled = await directed(fx, fx.cpuB);
    await expect(fx.jobs.connect(fx.customer).cancelJob(cancelled))
      .to.emit(fx.jobs, "JobRefunded")
      .withArgs(cancelled, RefundReason.Cancelled, 10n * CPU_PRICE);
    await time.increase(2n * 3600n);
    await expect(fx.jobs.connect(fx.verifier).expire(id))
      .to.emit(fx.jobs, "JobRefunded")
      .withArgs(id, RefundReason.Unclaimed, 10n * CPU_PRICE)
      .and.not.to.emit(fx.jobs, "StrikeRecorded");
  });

  it("undirected jobs are unaffected: any device of the class accepts; a Verified job's second provider too", async function () {
    await fx.jobs
      .connect(fx.customer)
      .createJob(SPEC, CLASS_CPU, 10n, await deadlineIn(fx, 1n), Tier.Verified);
    const id = await fx.jobs.jobCount();
    await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
    await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB)).to.emit(fx.jobs, "JobAccepted");
    expect((await fx.jobs.job(id)).status).to.equal(Status.Accepted);
  });

  it("refuses a device that is unknown, zero, not active, or not of a compute class", async function () {
    const deadline = await deadlineIn(fx, 1n);
    const c = fx.jobs.connect(fx.customer);
    await expect(c.createDirectedJob(SPEC, 0n, 10n, deadline))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeDeviceNotActive")
      .withArgs(0n);
    await expect(c.createDirectedJob(SPEC, 12345n, 10n, deadline))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeDeviceNotActive")
      .withArgs(12345n);
    const storageDevice = await fx.onboard(fx.providerA.address, CLASS_STORAGE);
    await expect(c.createDirectedJob(SPEC, storageDevice, 10n, deadline))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongDeviceClass")
      .withArgs(storageDevice, CLASS_STORAGE);
    // A retired device is not active.
    await fx.registry.connect(fx.providerB).retire(fx.gpuB);
    await expect(c.createDirectedJob(SPEC, fx.gpuB, 10n, deadline))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeDeviceNotActive")
      .withArgs(fx.gpuB);
  });

  it("refuses what createJob refuses: zero spec, unpriced class, units and deadline out of range", async function () {
    const deadline = await deadlineIn(fx, 1n);
    const c = fx.jobs.connect(fx.customer);
    await expect(
      c.createDirectedJob("0x" + "00".repeat(32), fx.cpuA, 10n, deadline),
    ).to.be.revertedWithCustomError(fx.jobs, "ComputeZeroHash");
    // The GPU class has no price in the fixture.
    await expect(c.createDirectedJob(SPEC, fx.gpuB, 10n, deadline))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeClassNotPriced")
      .withArgs(CLASS_GPU);
    await expect(c.createDirectedJob(SPEC, fx.cpuA, 0n, deadline)).to.be.revertedWithCustomError(
      fx.jobs,
      "ComputeUnitsOutOfRange",
    );
    const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await expect(c.createDirectedJob(SPEC, fx.cpuA, 10n, latest))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeDeadlineOutOfRange")
      .withArgs(latest);
  });
});
