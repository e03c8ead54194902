import { expect } from "chai";
import { AbiCoder, keccak256, ZeroAddress } from "ethers";

import { spotCheckDraw, spotCheckSelected } from "@hexmesh/protocol";

import {
  CLASS_CPU,
  CLASS_GPU,
  committedJob,
  COMPUTE_CLASS_SUBNETWORK,
  CPU_PRICE,
  createJob,
  deadlineIn,
  deployCompute,
  expectComputeBooks,
  HOUR,
  RefundReason,
  RESULT,
  SPEC,
  Status,
  SUBNET_COMPUTE,
  Tier,
  type ComputeSystem,
} from "../helpers/compute.js";
import { createRegistryNetwork, MESH } from "../helpers/registryFixture.js";
import { CLASS_STORAGE } from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { time, loadFixture, mine } = networkHelpers;

const DAY = 24n * HOUR;
const EVIDENCE = "0x" + "e1".repeat(32);

async function fixture(): Promise<ComputeSystem> {
  return deployCompute(ethers, networkHelpers);
}

let current: ComputeSystem | undefined;
/** Every test's system, checked after the test: credits locked, collateral locked and MESH held add up. */
async function loadSystem(): Promise<ComputeSystem> {
  current = await loadFixture(fixture);
  return current;
}

const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);

describe("ComputeJobs", function () {
  afterEach(async function () {
    if (current && this.currentTest?.state === "passed") await expectComputeBooks(current);
    current = undefined;
  });

  describe("deployment and governance", function () {
    it("refuses zero addresses; starts at a 10% spot-check probability", async function () {
      const fx = await loadSystem();
      const args = [
        await fx.credits.getAddress(),
        await fx.registry.getAddress(),
        await fx.vault.getAddress(),
        await fx.controller.getAddress(),
        COMPUTE_CLASS_SUBNETWORK,
        fx.admin.address,
      ];
      for (const i of [0, 1, 2, 3, 5]) {
        const bad = [...args];
        bad[i] = ZeroAddress;
        await expect(ethers.deployContract("ComputeJobs", bad)).to.be.revertedWithCustomError(
          fx.jobs,
          "ComputeZeroAddress",
        );
      }
      expect(await fx.jobs.checkProbability()).to.equal(1_000n);
      expect(await fx.jobs.priceOf(CLASS_CPU)).to.equal(CPU_PRICE);
      expect(await fx.jobs.priceOf(CLASS_GPU)).to.equal(0n);
    });

    it("prices only compute classes, within bounds, by the admin; sets the check probability within bounds", async function () {
      const fx = await loadSystem();
      await expect(fx.jobs.connect(fx.outsider).setPrice(CLASS_GPU, 5_000n)).to.be.revertedWithCustomError(
        fx.jobs,
        "AccessControlUnauthorizedAccount",
      );
      await expect(fx.jobs.connect(fx.admin).setPrice(CLASS_STORAGE, 5_000n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotComputeClass")
        .withArgs(CLASS_STORAGE);
      for (const bad of [0n, 10n ** 9n + 1n])
        await expect(fx.jobs.connect(fx.admin).setPrice(CLASS_GPU, bad))
          .to.be.revertedWithCustomError(fx.jobs, "ComputePriceOutOfBounds")
          .withArgs(bad);
      await expect(fx.jobs.connect(fx.admin).setPrice(CLASS_GPU, 10n ** 9n))
        .to.emit(fx.jobs, "PriceSet")
        .withArgs(CLASS_GPU, 10n ** 9n);
      await expect(fx.jobs.connect(fx.outsider).setCheckProbability(5_000n)).to.be.revertedWithCustomError(
        fx.jobs,
        "AccessControlUnauthorizedAccount",
      );
      for (const bad of [99n, 10_001n])
        await expect(fx.jobs.connect(fx.admin).setCheckProbability(bad))
          .to.be.revertedWithCustomError(fx.jobs, "ComputeCheckProbabilityOutOfBounds")
          .withArgs(bad);
      await expect(fx.jobs.connect(fx.admin).setCheckProbability(100n))
        .to.emit(fx.jobs, "CheckProbabilitySet")
        .withArgs(100n);
    });
  });

  describe("creating and cancelling", function () {
    it("locks maxUnits × price of the customer's credits and records the job", async function () {
      const fx = await loadSystem();
      const deadline = await deadlineIn(fx, 2n);
      const balance = await fx.credits.balanceOf(fx.customer.address);
      await expect(fx.jobs.connect(fx.customer).createJob(SPEC, CLASS_CPU, 500n, deadline, Tier.Standard))
        .to.emit(fx.jobs, "JobCreated")
        .withArgs(1n, fx.customer.address, SPEC, CLASS_CPU, 500n, CPU_PRICE, deadline, Tier.Standard)
        .and.to.emit(fx.credits, "CreditsLocked")
        .withArgs(fx.customer.address, await fx.jobs.getAddress(), 500n * CPU_PRICE);
      expect(await fx.credits.balanceOf(fx.customer.address)).to.equal(balance - 500n * CPU_PRICE);
      const j = await fx.jobs.job(1n);
      expect([j.customer, j.status, j.specHash, j.maxUnits, j.pricePerUnit, j.deadline]).to.deep.equal([
        fx.customer.address,
        Status.Open,
        SPEC,
        500n,
        CPU_PRICE,
        deadline,
      ]);
      expect(await fx.jobs.jobCount()).to.equal(1n);
    });

    it("refuses a zero spec, unpriced classes, units and deadlines out of range", async function () {
      const fx = await loadSystem();
      const ok = await deadlineIn(fx, 2n);
      const create = (spec: string, cls: number, units: bigint, deadline: bigint, tier = Tier.Standard) =>
        fx.jobs.connect(fx.customer).createJob(spec, cls, units, deadline, tier);
      await expect(create("0x" + "00".repeat(32), CLASS_CPU, 5n, ok)).to.be.revertedWithCustomError(
        fx.jobs,
        "ComputeZeroHash",
      );
      await expect(create(SPEC, CLASS_GPU, 5n, ok))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeClassNotPriced")
        .withArgs(CLASS_GPU);
      for (const units of [0n, 10n ** 9n + 1n])
        await expect(create(SPEC, CLASS_CPU, units, ok))
          .to.be.revertedWithCustomError(fx.jobs, "ComputeUnitsOutOfRange")
          .withArgs(units, 10n ** 9n);
      // The call's block time pinned: a deadline one second past the 30 days is out of range however
      // long the runner takes between reading the clock and calling.
      for (const late of [0n, 30n * DAY + 1n]) {
        const at = (await now()) + 10n;
        await time.setNextBlockTimestamp(at);
        await expect(create(SPEC, CLASS_CPU, 5n, at + late))
          .to.be.revertedWithCustomError(fx.jobs, "ComputeDeadlineOutOfRange")
          .withArgs(at + late);
      }
      // Credits the customer does not have, or has not let this market spend, are refused by the ledger.
      await expect(create(SPEC, CLASS_CPU, 10n ** 9n, ok)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsInsufficientBalance",
      );
      await fx.credits.connect(fx.customer).approveSpender(await fx.jobs.getAddress(), 10n);
      await expect(create(SPEC, CLASS_CPU, 5n, ok)).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsInsufficientAllowance",
      );
    });

    it("the customer cancels an open job and gets its credits back; nobody else can, and not twice", async function () {
      const fx = await loadSystem();
      const id = await createJob(fx);
      const balance = await fx.credits.balanceOf(fx.customer.address);
      await expect(fx.jobs.connect(fx.outsider).cancelJob(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotCustomer")
        .withArgs(id, fx.outsider.address);
      await expect(fx.jobs.connect(fx.customer).cancelJob(id))
        .to.emit(fx.jobs, "JobRefunded")
        .withArgs(id, RefundReason.Cancelled, 500n * CPU_PRICE);
      expect(await fx.credits.balanceOf(fx.customer.address)).to.equal(balance + 500n * CPU_PRICE);
      await expect(fx.jobs.connect(fx.customer).cancelJob(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Refunded);
      await expect(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Refunded);
      await expect(fx.jobs.connect(fx.customer).cancelJob(99n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeUnknownJob")
        .withArgs(99n);
    });
  });

  describe("providers: collateral and accepting", function () {
    it("deposits and withdraws free collateral; locked collateral stays", async function () {
      const fx = await loadSystem();
      await expect(fx.jobs.connect(fx.providerA).depositCollateral(0n)).to.be.revertedWithCustomError(
        fx.jobs,
        "ComputeZeroAmount",
      );
      await expect(fx.jobs.connect(fx.providerA).withdrawCollateral(0n)).to.be.revertedWithCustomError(
        fx.jobs,
        "ComputeZeroAmount",
      );
      await expect(fx.jobs.connect(fx.providerA).depositCollateral(MESH(5)))
        .to.emit(fx.jobs, "CollateralDeposited")
        .withArgs(fx.providerA.address, MESH(5), MESH(10_005));
      const id = await createJob(fx);
      await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
      const collateral = (await fx.jobs.job(id)).collateral;
      const free = MESH(10_005) - collateral;
      await expect(fx.jobs.connect(fx.providerA).withdrawCollateral(free + 1n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeCollateralShort")
        .withArgs(fx.providerA.address, free, free + 1n);
      const before = await fx.token.balanceOf(fx.providerA.address);
      await expect(fx.jobs.connect(fx.providerA).withdrawCollateral(free))
        .to.emit(fx.jobs, "CollateralWithdrawn")
        .withArgs(fx.providerA.address, free, 0n);
      expect(await fx.token.balanceOf(fx.providerA.address)).to.equal(before + free);
      expect((await fx.jobs.providerAccount(fx.providerA.address)).locked).to.equal(collateral);
    });

    it("accepting locks 2× the job's value in MESH at the credit price from the provider's free collateral", async function () {
      const fx = await loadSystem();
      const id = await createJob(fx);
      const value = 500n * CPU_PRICE;
      // $0.05 per MESH: 2 × $0.50 = 20 MESH.
      const collateral = await fx.jobs.collateralFor(value);
      expect(collateral).to.equal(MESH(20));
      await expect(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA))
        .to.emit(fx.jobs, "JobAccepted")
        .withArgs(id, fx.providerA.address, fx.cpuA, collateral);
      const j = await fx.jobs.job(id);
      expect([j.status, j.provider, j.deviceId, j.collateral]).to.deep.equal([
        Status.Accepted,
        fx.providerA.address,
        fx.cpuA,
        collateral,
      ]);
      const p = await fx.jobs.providerAccount(fx.providerA.address);
      expect([p.free, p.locked]).to.deep.equal([MESH(10_000) - collateral, collateral]);
      await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Accepted);
    });

    it("refuses devices that are not active, not compute, of another class, not the caller's, or unbonded", async function () {
      const fx = await loadSystem();
      const id = await createJob(fx);
      await expect(fx.jobs.connect(fx.providerA).acceptJob(id, 12345n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeDeviceNotActive")
        .withArgs(12345n);
      await expect(fx.jobs.connect(fx.provider).acceptJob(id, fx.storageDevice))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongDeviceClass")
        .withArgs(fx.storageDevice, CLASS_STORAGE);
      await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.gpuB))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongDeviceClass")
        .withArgs(fx.gpuB, CLASS_GPU);
      await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuA))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotDeviceOwner")
        .withArgs(fx.cpuA, fx.providerB.address);
      const bond = await fx.vault.minStakePerDevice();
      await fx.vault.connect(fx.providerB).requestUnstake(1n);
      await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeProviderNotBonded")
        .withArgs(fx.providerB.address, 2n * bond - 1n, 2n * bond);
      await fx.registry.connect(fx.admin).grantRole(await fx.registry.DENYLIST_ROLE(), fx.admin.address);
      await fx.registry.connect(fx.admin).suspend(fx.cpuA, 3);
      await expect(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeDeviceNotActive")
        .withArgs(fx.cpuA);
    });

    it("refuses a provider whose free collateral is short, and a job past its deadline", async function () {
      const fx = await loadSystem();
      const id = await createJob(fx);
      await fx.jobs.connect(fx.providerA).withdrawCollateral(MESH(10_000) - MESH(20) + 1n);
      await expect(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeCollateralShort")
        .withArgs(fx.providerA.address, MESH(20) - 1n, MESH(20));
      const deadline = (await fx.jobs.job(id)).deadline;
      await time.increaseTo(deadline + 1n);
      await expect(fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeDeadlinePassed")
        .withArgs(id, deadline);
    });
  });

  describe("committing and spot checks", function () {
    it("the provider commits before the deadline; the next block is the check block; first 10 jobs forced", async function () {
      const fx = await loadSystem();
      const id = await createJob(fx);
      await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
      await expect(fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 1n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotProvider")
        .withArgs(id, fx.providerB.address);
      await expect(
        fx.jobs.connect(fx.providerA).commitResult(id, "0x" + "00".repeat(32), 1n),
      ).to.be.revertedWithCustomError(fx.jobs, "ComputeZeroHash");
      await expect(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 501n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeUnitsOutOfRange")
        .withArgs(501n, 500n);
      const tx = fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 300n);
      const block = BigInt((await ethers.provider.getBlockNumber()) + 1);
      await expect(tx)
        .to.emit(fx.jobs, "ResultCommitted")
        .withArgs(id, RESULT, 300n, block + 1n, true);
      const j = await fx.jobs.job(id);
      expect([j.status, j.resultHash, j.usedUnits, j.checkBlock, j.forcedCheck]).to.deep.equal([
        Status.Committed,
        RESULT,
        300n,
        block + 1n,
        true,
      ]);
      expect(j.committedAt).to.equal(await now());
      await expect(fx.jobs.connect(fx.providerA).commitResult(id, RESULT, 300n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Committed);
      // Open jobs have no provider to commit; late commits are refused.
      const open = await createJob(fx);
      await expect(fx.jobs.connect(fx.providerA).commitResult(open, RESULT, 1n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotProvider")
        .withArgs(open, fx.providerA.address);
      await fx.jobs.connect(fx.providerA).acceptJob(open, fx.cpuA);
      const deadline = (await fx.jobs.job(open)).deadline;
      await time.increaseTo(deadline + 1n);
      await expect(fx.jobs.connect(fx.providerA).commitResult(open, RESULT, 1n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeDeadlinePassed")
        .withArgs(open, deadline);
    });

    it("a provider's first 10 commits are always checked; later ones by the check block's hash and the probability", async function () {
      const fx = await loadSystem();
      const forced: boolean[] = [];
      const ids: bigint[] = [];
      for (let i = 0; i < 12; i++) {
        const id = await committedJob(fx, 1n);
        ids.push(id);
        forced.push((await fx.jobs.job(id)).forcedCheck);
      }
      expect(forced).to.deep.equal([...new Array(10).fill(true), false, false]);
      expect((await fx.jobs.providerAccount(fx.providerA.address)).committedJobs).to.equal(12n);
      // Job 12's check block is not mined yet in the block after its commit... now it is.
      const last = ids[11]!;
      await mine(1);
      const checkBlock = (await fx.jobs.job(last)).checkBlock;
      const seed = (await ethers.provider.getBlock(Number(checkBlock)))!.hash!;
      // The oracle's derivation (@hexmesh/protocol) against the ABI encoding the contract hashes.
      const draw = spotCheckDraw(seed, last);
      expect(BigInt(draw)).to.equal(
        BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [seed, last]))) % 10_000n,
      );
      const selected = spotCheckSelected(seed, last, 1_000, false);
      expect(selected).to.equal(draw < 1_000);
      await expect(fx.jobs.connect(fx.outsider).recordSpotCheck(last))
        .to.emit(fx.jobs, "SpotCheckRecorded")
        .withArgs(last, selected, seed);
      expect((await fx.jobs.job(last)).checkSelected).to.equal(selected);
      await expect(fx.jobs.recordSpotCheck(last))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeCheckRecorded")
        .withArgs(last);
      // At 100% every job is selected; a forced job is selected whatever its draw.
      await fx.jobs.connect(fx.admin).setCheckProbability(10_000n);
      await expect(fx.jobs.recordSpotCheck(ids[10]!)).to.emit(fx.jobs, "SpotCheckRecorded");
      expect((await fx.jobs.job(ids[10]!)).checkSelected).to.equal(true);
      await fx.jobs.connect(fx.admin).setCheckProbability(100n);
      await fx.jobs.recordSpotCheck(ids[0]!);
      expect((await fx.jobs.job(ids[0]!)).checkSelected).to.equal(true);
    });

    it("the check waits for its block; a hash out of reach selects the job; only committed or disputed jobs", async function () {
      const fx = await loadSystem();
      for (let i = 0; i < 10; i++) await committedJob(fx, 1n); // past the forced checks
      await fx.jobs.connect(fx.admin).setCheckProbability(100n);
      const open = await createJob(fx);
      await expect(fx.jobs.recordSpotCheck(open))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(open, Status.Open);
      await fx.jobs.connect(fx.providerA).acceptJob(open, fx.cpuA);
      await fx.jobs.connect(fx.providerA).commitResult(open, RESULT, 1n);
      const j = await fx.jobs.job(open);
      // The next transaction is mined in the check block itself, whose hash it cannot read yet.
      await expect(fx.jobs.connect(fx.outsider).recordSpotCheck(open))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeCheckNotReady")
        .withArgs(open, j.checkBlock);
      await mine(300);
      await expect(fx.jobs.recordSpotCheck(open))
        .to.emit(fx.jobs, "SpotCheckRecorded")
        .withArgs(open, true, "0x" + "00".repeat(32));
      expect(j.forcedCheck).to.equal(false);
    });
  });

  describe("the acceptance window and payment", function () {
    it("after 24 hours anyone finalizes: used units consumed for the provider (UsageRecorded), the rest released, collateral unlocked", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx, 300n);
      const j = await fx.jobs.job(id);
      const windowEnd = j.committedAt + DAY;
      await expect(fx.jobs.connect(fx.outsider).finalize(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWindowOpen")
        .withArgs(id, windowEnd);
      await time.increaseTo(windowEnd);
      const balance = await fx.credits.balanceOf(fx.customer.address);
      const consumedBefore = await fx.credits.totalConsumed();
      const epoch = await fx.controller.currentEpoch();
      await expect(fx.jobs.connect(fx.outsider).finalize(id))
        .to.emit(fx.jobs, "JobFinalized")
        .withArgs(id, fx.providerA.address, 300n * CPU_PRICE, 200n * CPU_PRICE)
        .and.to.emit(fx.credits, "UsageRecorded")
        .withArgs(SUBNET_COMPUTE, epoch, fx.providerA.address, 300n * CPU_PRICE, fx.customer.address);
      // locked + consumed + refunded = deposited, for this job.
      expect(await fx.credits.balanceOf(fx.customer.address)).to.equal(balance + 200n * CPU_PRICE);
      expect((await fx.credits.totalConsumed()) - consumedBefore).to.equal(300n * CPU_PRICE);
      const p = await fx.jobs.providerAccount(fx.providerA.address);
      expect([p.free, p.locked]).to.deep.equal([MESH(10_000), 0n]);
      await expect(fx.jobs.finalize(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Finalized);
      await expect(fx.jobs.connect(fx.customer).dispute(id, EVIDENCE))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Finalized);
    });

    it("the customer accepts early and pays at once; all units used leaves nothing to release, none used consumes nothing", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx, 500n);
      await expect(fx.jobs.connect(fx.outsider).acceptResult(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotCustomer")
        .withArgs(id, fx.outsider.address);
      await expect(fx.jobs.connect(fx.customer).acceptResult(id))
        .to.emit(fx.jobs, "JobFinalized")
        .withArgs(id, fx.providerA.address, 500n * CPU_PRICE, 0n)
        .and.not.to.emit(fx.credits, "CreditsReleased");
      await expect(fx.jobs.connect(fx.customer).acceptResult(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(id, Status.Finalized);
      const idle = await committedJob(fx, 0n);
      await expect(fx.jobs.connect(fx.customer).acceptResult(idle))
        .to.emit(fx.jobs, "JobFinalized")
        .withArgs(idle, fx.providerA.address, 0n, 500n * CPU_PRICE)
        .and.not.to.emit(fx.credits, "UsageRecorded");
      const open = await createJob(fx);
      await expect(fx.jobs.finalize(open))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(open, Status.Open);
    });
  });

  describe("disputes", function () {
    it("only the customer disputes, with evidence, inside the window", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      await expect(fx.jobs.connect(fx.providerA).dispute(id, EVIDENCE))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNotCustomer")
        .withArgs(id, fx.providerA.address);
      await expect(
        fx.jobs.connect(fx.customer).dispute(id, "0x" + "00".repeat(32)),
      ).to.be.revertedWithCustomError(fx.jobs, "ComputeZeroHash");
      const windowEnd = (await fx.jobs.job(id)).committedAt + DAY;
      await time.increaseTo(windowEnd);
      await expect(fx.jobs.connect(fx.customer).dispute(id, EVIDENCE))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWindowClosed")
        .withArgs(id, windowEnd);
      const second = await committedJob(fx);
      await expect(fx.jobs.connect(fx.customer).dispute(second, EVIDENCE))
        .to.emit(fx.jobs, "JobDisputed")
        .withArgs(second, EVIDENCE);
      expect((await fx.jobs.job(second)).status).to.equal(Status.Disputed);
      await expect(fx.jobs.connect(fx.customer).acceptResult(second))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(second, Status.Disputed);
      // A disputed job's spot check can still be recorded (the verifier re-executes it either way).
      await expect(fx.jobs.recordSpotCheck(second)).to.emit(fx.jobs, "SpotCheckRecorded");
    });

    it("a dispute no verdict reached within 7 days after the window is paid to the provider, with no strike", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx, 120n);
      await fx.jobs.connect(fx.customer).dispute(id, EVIDENCE);
      const resolutionEnd = (await fx.jobs.job(id)).committedAt + DAY + 7n * DAY;
      await time.increaseTo(resolutionEnd - 2n); // the next block is one second before the end
      await expect(fx.jobs.finalize(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWindowOpen")
        .withArgs(id, resolutionEnd);
      await time.increaseTo(resolutionEnd);
      await expect(fx.jobs.finalize(id))
        .to.emit(fx.jobs, "JobFinalized")
        .withArgs(id, fx.providerA.address, 120n * CPU_PRICE, 380n * CPU_PRICE)
        .and.to.emit(fx.credits, "UsageRecorded")
        .and.not.to.emit(fx.jobs, "StrikeRecorded");
      expect((await fx.jobs.providerAccount(fx.providerA.address)).locked).to.equal(0n);
    });
  });

  describe("deadlines, strikes and suspension", function () {
    it("an unclaimed job expires without a strike; an accepted one that missed its deadline strikes the provider", async function () {
      const fx = await loadSystem();
      const unclaimed = await createJob(fx);
      const missed = await createJob(fx);
      await fx.jobs.connect(fx.providerA).acceptJob(missed, fx.cpuA);
      const deadline = (await fx.jobs.job(missed)).deadline;
      await expect(fx.jobs.expire(missed))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeDeadlineNotPassed")
        .withArgs(missed, deadline);
      await time.increaseTo(deadline + 1n);
      await expect(fx.jobs.connect(fx.outsider).expire(unclaimed))
        .to.emit(fx.jobs, "JobRefunded")
        .withArgs(unclaimed, RefundReason.Unclaimed, 500n * CPU_PRICE)
        .and.not.to.emit(fx.jobs, "StrikeRecorded");
      await expect(fx.jobs.connect(fx.outsider).expire(missed))
        .to.emit(fx.jobs, "JobRefunded")
        .withArgs(missed, RefundReason.MissedDeadline, 500n * CPU_PRICE)
        .and.to.emit(fx.jobs, "StrikeRecorded")
        .withArgs(fx.providerA.address, missed, 0n);
      // Nothing is slashed: the collateral is free again.
      expect((await fx.jobs.providerAccount(fx.providerA.address)).free).to.equal(MESH(10_000));
      await expect(fx.jobs.expire(missed))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(missed, Status.Refunded);
      const committed = await committedJob(fx);
      await time.increase(3n * HOUR);
      await expect(fx.jobs.expire(committed))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(committed, Status.Committed);
    });

    /** providerA accepts a job and lets it miss its 2-hour deadline. */
    async function missOne(fx: ComputeSystem) {
      const id = await createJob(fx, 10n);
      await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
      await time.increase(2n * HOUR + 1n);
      return fx.jobs.expire(id);
    }

    it("three strikes within 7 days suspend the provider from new jobs for 7 days", async function () {
      const fx = await loadSystem();
      await missOne(fx);
      await time.increase(2n * DAY);
      await missOne(fx);
      await time.increase(2n * DAY);
      const third = missOne(fx);
      await expect(third).to.emit(fx.jobs, "StrikeRecorded");
      const until = (await fx.jobs.providerAccount(fx.providerA.address)).suspendedUntil;
      expect(until).to.equal((await now()) + 7n * DAY);
      const id = await createJob(fx, 10n, 24n * 9n);
      await expect(fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeProviderSuspended")
        .withArgs(fx.providerA.address, until);
      // Another provider takes new jobs meanwhile; the suspended one again after 7 days.
      const other = await createJob(fx, 10n);
      await fx.jobs.connect(fx.providerB).acceptJob(other, fx.cpuB);
      await time.increaseTo(until);
      await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
    });

    it("three strikes spread over more than 7 days do not suspend", async function () {
      const fx = await loadSystem();
      await missOne(fx);
      await time.increase(4n * DAY);
      await missOne(fx);
      await time.increase(4n * DAY);
      await expect(missOne(fx)).to.emit(fx.jobs, "StrikeRecorded").withArgs(fx.providerA.address, 3n, 0n);
      expect((await fx.jobs.providerAccount(fx.providerA.address)).suspendedUntil).to.equal(0n);
      // ...but the fourth, within 7 days of the second and third, does.
      await expect(missOne(fx)).to.emit(fx.jobs, "StrikeRecorded");
      expect((await fx.jobs.providerAccount(fx.providerA.address)).suspendedUntil).to.be.greaterThan(0n);
    });
  });
});
