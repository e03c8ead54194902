import { expect } from "chai";

import {
  CLASS_CPU,
  convict,
  CPU_PRICE,
  deadlineIn,
  deployCompute,
  EVIDENCE,
  expectComputeBooks,
  HOUR,
  RefundReason,
  RESULT,
  RESULT_B,
  SPEC,
  Status,
  Tier,
  verifiedJob,
  type ComputeSystem,
} from "../helpers/compute.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { time, loadFixture } = networkHelpers;

const DAY = 24n * HOUR;
const VALUE = 500n * CPU_PRICE;

async function fixture(): Promise<ComputeSystem> {
  return deployCompute(ethers, networkHelpers);
}

let current: ComputeSystem | undefined;
async function loadSystem(): Promise<ComputeSystem> {
  current = await loadFixture(fixture);
  return current;
}

describe("ComputeJobs: the Verified tier (two providers, results compared at commit)", function () {
  afterEach(async function () {
    if (current && this.currentTest?.state === "passed") await expectComputeBooks(current);
    current = undefined;
  });

  it("locks twice the value; stays Open after the first provider; refuses the same provider twice", async function () {
    const fx = await loadSystem();
    const deadline = await deadlineIn(fx, 2n);
    await expect(fx.jobs.connect(fx.customer).createJob(SPEC, CLASS_CPU, 500n, deadline, Tier.Verified))
      .to.emit(fx.jobs, "JobCreated")
      .withArgs(1n, fx.customer.address, SPEC, CLASS_CPU, 500n, CPU_PRICE, deadline, Tier.Verified)
      .and.to.emit(fx.credits, "CreditsLocked")
      .withArgs(fx.customer.address, await fx.jobs.getAddress(), 2n * VALUE);
    await expect(fx.jobs.connect(fx.providerA).acceptJob(1n, fx.cpuA)).to.emit(fx.jobs, "JobAccepted");
    expect((await fx.jobs.job(1n)).status).to.equal(Status.Open);
    await expect(fx.jobs.connect(fx.providerA).acceptJob(1n, fx.cpuA))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeSameProvider")
      .withArgs(1n, fx.providerA.address);
    const collateral = await fx.jobs.collateralFor(VALUE);
    await expect(fx.jobs.connect(fx.providerB).acceptJob(1n, fx.cpuB))
      .to.emit(fx.jobs, "JobAccepted")
      .withArgs(1n, fx.providerB.address, fx.cpuB, collateral);
    expect((await fx.jobs.job(1n)).status).to.equal(Status.Accepted);
    const second = await fx.jobs.secondProvider(1n);
    expect([second.provider, second.collateral, second.deviceId, second.committed]).to.deep.equal([
      fx.providerB.address,
      collateral,
      fx.cpuB,
      false,
    ]);
    await expect(fx.jobs.connect(fx.providerB).acceptJob(1n, fx.gpuB))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
      .withArgs(1n, Status.Accepted);
  });

  it("cancelling or expiring an Open job with one provider unlocks it, strikes nobody, refunds twice the value", async function () {
    const fx = await loadSystem();
    for (const how of ["cancel", "expire"]) {
      await fx.jobs
        .connect(fx.customer)
        .createJob(SPEC, CLASS_CPU, 500n, await deadlineIn(fx, 2n), Tier.Verified);
      const id = await fx.jobs.jobCount();
      await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
      if (how === "cancel") {
        await expect(fx.jobs.connect(fx.customer).cancelJob(id))
          .to.emit(fx.jobs, "JobRefunded")
          .withArgs(id, RefundReason.Cancelled, 2n * VALUE);
      } else {
        await time.increase(3n * HOUR);
        await expect(fx.jobs.expire(id))
          .to.emit(fx.jobs, "JobRefunded")
          .withArgs(id, RefundReason.Unclaimed, 2n * VALUE)
          .and.not.to.emit(fx.jobs, "StrikeRecorded");
      }
      expect((await fx.jobs.providerAccount(fx.providerA.address)).locked).to.equal(0n);
    }
  });

  it("equal results: the job enters its window at the second commit; each provider is paid for its own units", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await expect(fx.jobs.connect(fx.outsider).commitResult(id, RESULT, 1n))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeNotProvider")
      .withArgs(id, fx.outsider.address);
    await expect(fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 300n))
      .to.emit(fx.jobs, "ResultCommitted")
      .and.not.to.emit(fx.jobs, "VerifiedResultsCompared");
    expect((await fx.jobs.job(id)).status).to.equal(Status.Accepted);
    await expect(fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 300n))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeAlreadyCommitted")
      .withArgs(id, fx.providerB.address);
    await expect(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 200n))
      .to.emit(fx.jobs, "VerifiedResultsCompared")
      .withArgs(id, true);
    expect((await fx.jobs.job(id)).status).to.equal(Status.Committed);
    await expect(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 200n))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
      .withArgs(id, Status.Committed);
    await time.increase(DAY);
    const balance = await fx.credits.balanceOf(fx.customer.address);
    await expect(fx.jobs.finalize(id))
      .to.emit(fx.jobs, "JobFinalized")
      .withArgs(id, fx.providerA.address, 200n * CPU_PRICE, 0n)
      .and.to.emit(fx.jobs, "JobFinalized")
      .withArgs(id, fx.providerB.address, 300n * CPU_PRICE, 2n * VALUE - 500n * CPU_PRICE)
      .and.to.emit(fx.credits, "UsageRecorded");
    expect(await fx.credits.balanceOf(fx.customer.address)).to.equal(balance + 2n * VALUE - 500n * CPU_PRICE);
    for (const who of [fx.providerA, fx.providerB])
      expect((await fx.jobs.providerAccount(who.address)).locked).to.equal(0n);
  });

  it("the first provider can also commit first; a commit after the deadline is refused", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 10n);
    await expect(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 10n))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeAlreadyCommitted")
      .withArgs(id, fx.providerA.address);
    await time.increase(3n * HOUR);
    const deadline = (await fx.jobs.job(id)).deadline;
    await expect(fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 10n))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeDeadlinePassed")
      .withArgs(id, deadline);
    // Only the provider that did not commit is struck; both are unlocked; the customer gets all back.
    await expect(fx.jobs.expire(id))
      .to.emit(fx.jobs, "JobRefunded")
      .withArgs(id, RefundReason.MissedDeadline, 2n * VALUE)
      .and.to.emit(fx.jobs, "StrikeRecorded")
      .withArgs(fx.providerB.address, id, 0n);
    expect((await fx.jobs.providerAccount(fx.providerA.address)).strikes).to.deep.equal([0n, 0n, 0n]);
  });

  it("the second provider committing alone: at expiry only the first is struck, both unlocked, all refunded", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 10n);
    await time.increase(3n * HOUR);
    const tx = await fx.jobs.expire(id);
    await expect(tx)
      .to.emit(fx.jobs, "JobRefunded")
      .withArgs(id, RefundReason.MissedDeadline, 2n * VALUE)
      .and.to.emit(fx.jobs, "StrikeRecorded")
      .withArgs(fx.providerA.address, id, 0n);
    const strikes = (await tx.wait())!.logs
      .map((l) => fx.jobs.interface.parseLog(l))
      .filter((l) => l?.name === "StrikeRecorded")
      .map((l) => l!.args[0] as string);
    expect(strikes).to.deep.equal([fx.providerA.address]);
    expect((await fx.jobs.providerAccount(fx.providerB.address)).strikes).to.deep.equal([0n, 0n, 0n]);
    for (const who of [fx.providerA, fx.providerB])
      expect((await fx.jobs.providerAccount(who.address)).locked).to.equal(0n);
  });

  it("neither committing strikes both", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await time.increase(3n * HOUR);
    const receipt = await (await fx.jobs.expire(id)).wait();
    const strikes = receipt!.logs
      .map((l) => fx.jobs.interface.parseLog(l))
      .filter((l) => l?.name === "StrikeRecorded")
      .map((l) => l!.args[0] as string);
    expect(strikes).to.deep.equal([fx.providerA.address, fx.providerB.address]);
  });

  it("different results: Disputed; the quorum convicts the cheat, the honest one is unlocked unpaid, the customer refunded", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 200n);
    await expect(fx.jobs.connect(fx.providerB).commitResult(id, RESULT_B, 200n))
      .to.emit(fx.jobs, "VerifiedResultsCompared")
      .withArgs(id, false);
    expect((await fx.jobs.job(id)).status).to.equal(Status.Disputed);
    await expect(convict(fx, id, fx.outsider.address))
      .to.be.revertedWithCustomError(fx.jobs, "ComputeVerdictNotJobProvider")
      .withArgs(id, fx.outsider.address);
    const escrow = (await fx.jobs.secondProvider(id)).collateral;
    await expect(convict(fx, id, fx.providerB.address))
      .to.emit(fx.jobs, "PenaltyScheduled")
      .and.to.emit(fx.jobs, "JobRefunded")
      .withArgs(id, RefundReason.ProviderAtFault, 2n * VALUE);
    expect((await fx.jobs.penalty(id)).escrow).to.equal(escrow);
    expect((await fx.jobs.providerAccount(fx.providerA.address)).locked).to.equal(0n);
    expect((await fx.jobs.providerAccount(fx.providerB.address)).locked).to.equal(0n);
    await time.increase(4n * DAY);
    await expect(fx.jobs.executePenalty(id))
      .to.emit(fx.jobs, "StrikeRecorded")
      .withArgs(fx.providerB.address, id, 0n);
  });

  it("a verdict may name the first provider too (the second is unlocked)", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await fx.jobs.connect(fx.providerA).commitResult(id, RESULT_B, 200n);
    await fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 200n);
    await expect(convict(fx, id, fx.providerA.address)).to.emit(fx.jobs, "PenaltyScheduled");
    expect((await fx.jobs.providerAccount(fx.providerB.address)).locked).to.equal(0n);
  });

  it("different results and no verdict in time: refunded, both unlocked, nobody paid or struck", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 200n);
    await fx.jobs.connect(fx.providerB).commitResult(id, RESULT_B, 200n);
    const end = (await fx.jobs.job(id)).committedAt + DAY + 7n * DAY;
    await time.increaseTo(end);
    await expect(fx.jobs.finalize(id))
      .to.emit(fx.jobs, "JobRefunded")
      .withArgs(id, RefundReason.DisputeUnresolved, 2n * VALUE)
      .and.not.to.emit(fx.jobs, "StrikeRecorded")
      .and.not.to.emit(fx.jobs, "JobFinalized");
  });

  it("equal results the customer disputes, with no verdict in time: both paid", async function () {
    const fx = await loadSystem();
    const id = await verifiedJob(fx);
    await fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 100n);
    await fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 0n);
    await fx.jobs.connect(fx.customer).dispute(id, EVIDENCE);
    await time.increase(8n * DAY);
    await expect(fx.jobs.finalize(id))
      .to.emit(fx.jobs, "JobFinalized")
      .withArgs(id, fx.providerB.address, 0n, 2n * VALUE - 100n * CPU_PRICE);
  });
});
