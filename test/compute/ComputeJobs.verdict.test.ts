import { expect } from "chai";
import { Wallet, ZeroAddress } from "ethers";

import { FRAUD_VERDICT_TYPES, FraudReason } from "@hexmesh/protocol";

import {
  committedJob,
  COMPUTE_CLASS_SUBNETWORK,
  convict,
  CPU_PRICE,
  createJob,
  deployCompute,
  EVIDENCE,
  expectComputeBooks,
  HOUR,
  ORACLES,
  PenaltyStatus,
  RefundReason,
  signVerdict,
  Status,
  verdictFor,
  type ComputeSystem,
} from "../helpers/compute.js";
import { createRegistryNetwork, MESH } from "../helpers/registryFixture.js";

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

describe("ComputeJobs: fraud verdicts, the veto window and penalties", function () {
  afterEach(async function () {
    if (current && this.currentTest?.state === "passed") await expectComputeBooks(current);
    current = undefined;
  });

  describe("governance", function () {
    it("sets the oracle distributor and the penalty floor (admin only, within bounds)", async function () {
      const fx = await loadSystem();
      const distributor = await fx.oracleDistributor.getAddress();
      expect(await fx.jobs.oracleDistributor()).to.equal(distributor);
      expect(await fx.jobs.penaltyFloor()).to.equal(MESH(100));
      await expect(
        fx.jobs.connect(fx.outsider).setOracleDistributor(distributor),
      ).to.be.revertedWithCustomError(fx.jobs, "AccessControlUnauthorizedAccount");
      await expect(fx.jobs.connect(fx.admin).setOracleDistributor(ZeroAddress)).to.be.revertedWithCustomError(
        fx.jobs,
        "ComputeZeroAddress",
      );
      await expect(fx.jobs.connect(fx.admin).setOracleDistributor(distributor))
        .to.emit(fx.jobs, "OracleDistributorSet")
        .withArgs(distributor);
      await expect(fx.jobs.connect(fx.outsider).setPenaltyFloor(MESH(5))).to.be.revertedWithCustomError(
        fx.jobs,
        "AccessControlUnauthorizedAccount",
      );
      for (const bad of [MESH(1) - 1n, MESH(1_000_000) + 1n])
        await expect(fx.jobs.connect(fx.admin).setPenaltyFloor(bad))
          .to.be.revertedWithCustomError(fx.jobs, "ComputePenaltyFloorOutOfBounds")
          .withArgs(bad);
      await expect(fx.jobs.connect(fx.admin).setPenaltyFloor(MESH(1)))
        .to.emit(fx.jobs, "PenaltyFloorSet")
        .withArgs(MESH(1));
      // max(10 × value at the credit price, floor): $0.50 at $0.05 per MESH is 100 MESH.
      expect(await fx.jobs.penaltyFor(VALUE)).to.equal(MESH(100));
      expect(await fx.jobs.penaltyFor(VALUE / 10n)).to.equal(MESH(10));
      await fx.jobs.connect(fx.admin).setPenaltyFloor(MESH(30));
      expect(await fx.jobs.penaltyFor(VALUE / 10n)).to.equal(MESH(30));
    });

    it("refuses verdicts until an oracle distributor is set", async function () {
      const fx = await loadSystem();
      const bare = (await ethers.deployContract("ComputeJobs", [
        await fx.credits.getAddress(),
        await fx.registry.getAddress(),
        await fx.vault.getAddress(),
        await fx.controller.getAddress(),
        COMPUTE_CLASS_SUBNETWORK,
        fx.admin.address,
      ])) as unknown as typeof fx.jobs;
      const bareAddr = await bare.getAddress();
      expect(await bare.oracleDistributor()).to.equal(ZeroAddress);
      await fx.credits.connect(fx.admin).registerSpender(bareAddr, "0x" + "55".repeat(32));
      await fx.credits.connect(fx.customer).approveSpender(bareAddr, 2n ** 128n - 1n);
      await bare.connect(fx.admin).setPrice(7, CPU_PRICE);
      await fx.token.connect(fx.providerA).approve(bareAddr, MESH(100));
      await bare.connect(fx.providerA).depositCollateral(MESH(100));
      const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + DAY;
      await bare.connect(fx.customer).createJob("0x" + "5e".repeat(32), 7, 500n, deadline, 0);
      await bare.connect(fx.providerA).acceptJob(1n, fx.cpuA);
      await bare.connect(fx.providerA).commitResult(1n, "0x" + "7a".repeat(32), 5n);
      const verdict = await verdictFor(fx, 1n, fx.providerA.address);
      await expect(bare.submitVerdict(verdict, "0x")).to.be.revertedWithCustomError(
        bare,
        "ComputeNoOracleSet",
      );
      // Settle it so the customer's credits leave no lock behind in the books' ledger check.
      await bare.connect(fx.customer).acceptResult(1n);
    });
  });

  describe("submitVerdict", function () {
    it("refunds the customer in full, escrows the job collateral and schedules the penalty 4 days ahead", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      const collateral = (await fx.jobs.job(id)).collateral;
      const balance = await fx.credits.balanceOf(fx.customer.address);
      const verdict = await verdictFor(fx, id, fx.providerA.address);
      const tx = fx.jobs.connect(fx.outsider).submitVerdict(verdict, await signVerdict(fx, verdict));
      await expect(tx)
        .to.emit(fx.jobs, "VerdictSubmitted")
        .withArgs(id, fx.providerA.address, FraudReason.WrongResult, EVIDENCE, fx.prover.address, 1n)
        .and.to.emit(fx.jobs, "JobRefunded")
        .withArgs(id, RefundReason.ProviderAtFault, VALUE)
        .and.not.to.emit(fx.jobs, "StrikeRecorded");
      const at = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await expect(tx)
        .to.emit(fx.jobs, "PenaltyScheduled")
        .withArgs(id, fx.providerA.address, MESH(100), collateral, at + 4n * DAY);
      expect(await fx.credits.balanceOf(fx.customer.address)).to.equal(balance + VALUE);
      expect((await fx.jobs.job(id)).status).to.equal(Status.Refunded);
      const account = await fx.jobs.providerAccount(fx.providerA.address);
      expect([account.free, account.locked]).to.deep.equal([MESH(10_000) - collateral, 0n]);
      const pen = await fx.jobs.penalty(id);
      expect([
        pen.provider,
        pen.amount,
        pen.prover,
        pen.escrow,
        pen.executableAt,
        pen.status,
        pen.reason,
      ]).to.deep.equal([
        fx.providerA.address,
        MESH(100),
        fx.prover.address,
        collateral,
        at + 4n * DAY,
        PenaltyStatus.Scheduled,
        BigInt(FraudReason.WrongResult),
      ]);
    });

    it("convicts a disputed job too, even after its acceptance window (until it is finalized)", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      await fx.jobs.connect(fx.customer).dispute(id, EVIDENCE);
      await time.increase(3n * DAY);
      await expect(convict(fx, id)).to.emit(fx.jobs, "PenaltyScheduled");
      const late = await committedJob(fx);
      await time.increase(DAY);
      await expect(convict(fx, late)).to.emit(fx.jobs, "PenaltyScheduled");
    });

    it("refuses a verdict on a job that is not committed or disputed, or already finalized", async function () {
      const fx = await loadSystem();
      const open = await createJob(fx);
      await expect(convict(fx, open, fx.providerA.address))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(open, Status.Open);
      await fx.jobs.connect(fx.providerA).acceptJob(open, fx.cpuA);
      await expect(convict(fx, open))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(open, Status.Accepted);
      const paid = await committedJob(fx);
      await fx.jobs.connect(fx.customer).acceptResult(paid);
      await expect(convict(fx, paid))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeWrongStatus")
        .withArgs(paid, Status.Finalized);
      await expect(convict(fx, 99n, fx.providerA.address))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeUnknownJob")
        .withArgs(99n);
    });

    it("refuses a replayed verdict and a second verdict on the job", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      const verdict = await verdictFor(fx, id, fx.providerA.address);
      const signatures = await signVerdict(fx, verdict);
      await fx.jobs.submitVerdict(verdict, signatures);
      await expect(fx.jobs.connect(fx.outsider).submitVerdict(verdict, signatures))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeVerdictExists")
        .withArgs(id);
      const other = { ...verdict, reason: FraudReason.UnitsInflated };
      await expect(fx.jobs.submitVerdict(other, await signVerdict(fx, other)))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeVerdictExists")
        .withArgs(id);
    });

    it("refuses malformed verdicts: reason, evidence, prover, deadline, a provider not the job's", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      const base = await verdictFor(fx, id, fx.providerA.address);
      // Signed raw through ethers: the protocol's hasher refuses these shapes before signing.
      const { chainId } = await ethers.provider.getNetwork();
      const domain = {
        name: "Hexmesh ComputeJobs",
        version: "1",
        chainId,
        verifyingContract: await fx.jobs.getAddress(),
      };
      const submit = async (change: Partial<typeof base>) => {
        const v = { ...base, ...change };
        const digest = ethers.TypedDataEncoder.hash(domain, FRAUD_VERDICT_TYPES, v);
        const sigs =
          "0x" +
          ORACLES.slice(0, 2)
            .map((w) => w.signingKey.sign(digest).serialized.slice(2))
            .join("");
        return fx.jobs.submitVerdict(v, sigs);
      };
      for (const reason of [0, 4])
        await expect(submit({ reason: reason as FraudReason }))
          .to.be.revertedWithCustomError(fx.jobs, "ComputeVerdictReasonInvalid")
          .withArgs(reason);
      await expect(submit({ evidenceHash: "0x" + "00".repeat(32) })).to.be.revertedWithCustomError(
        fx.jobs,
        "ComputeZeroHash",
      );
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await expect(submit({ deadline: now }))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeVerdictExpired")
        .withArgs(now);
      await expect(submit({ provider: fx.providerB.address }))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeVerdictNotJobProvider")
        .withArgs(id, fx.providerB.address);
      await expect(submit({ prover: ZeroAddress })).to.be.revertedWithCustomError(
        fx.jobs,
        "ComputeVerdictProverZero",
      );
    });

    it("refuses forged, short, unsorted, malformed signatures and a verdict from an old oracle set", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      const verdict = await verdictFor(fx, id, fx.providerA.address);
      const [o0, o1, o2] = ORACLES as [Wallet, Wallet, Wallet];
      const forger = new Wallet("0x" + "42".repeat(32));
      const forged = await signVerdict(
        fx,
        verdict,
        [forger, o1].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1)),
      );
      await expect(fx.jobs.submitVerdict(verdict, forged))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesNotOracle")
        .withArgs(forger.address);
      await expect(fx.jobs.submitVerdict(verdict, await signVerdict(fx, verdict, [o0])))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesTooFew")
        .withArgs(1n, 2n);
      await expect(fx.jobs.submitVerdict(verdict, await signVerdict(fx, verdict, [o1, o0])))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesNotAscending")
        .withArgs(1n, o0.address);
      await expect(fx.jobs.submitVerdict(verdict, await signVerdict(fx, verdict, [o0, o0])))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesNotAscending")
        .withArgs(1n, o0.address);
      const good = await signVerdict(fx, verdict);
      await expect(fx.jobs.submitVerdict(verdict, good + "00"))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesBadLength")
        .withArgs(131n);
      const garbage = "0x" + "00".repeat(130);
      await expect(fx.jobs.submitVerdict(verdict, garbage))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesInvalid")
        .withArgs(0n);
      // Signatures over one verdict do not carry another: the altered verdict recovers strangers.
      const altered = { ...verdict, evidenceHash: "0x" + "e2".repeat(32) };
      await expect(fx.jobs.submitVerdict(altered, good)).to.be.revertedWithCustomError(
        fx.jobs,
        "OracleSignaturesNotOracle",
      );
      // A new oracle set kills the old set's verdicts, even signed by members of both.
      await fx.oracleDistributor.connect(fx.admin).setOracleSet([o0.address, o1.address, o2.address], 2n);
      await expect(fx.jobs.submitVerdict(verdict, good))
        .to.be.revertedWithCustomError(fx.jobs, "OracleSignaturesStaleOracleSet")
        .withArgs(1n, 2n);
      const renewed = { ...verdict, oracleSetVersion: 2n };
      await expect(fx.jobs.submitVerdict(renewed, await signVerdict(fx, renewed))).to.emit(
        fx.jobs,
        "PenaltyScheduled",
      );
    });
  });

  describe("executePenalty and vetoPenalty", function () {
    it("after 4 days: collateral first, then the vault up to its per-event cap; 20% to the prover, the rest burned; a strike", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      await convict(fx, id);
      const pen = await fx.jobs.penalty(id);
      await time.increaseTo(pen.executableAt - 2n); // the next block is one second before it
      await expect(fx.jobs.executePenalty(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputePenaltyNotDue")
        .withArgs(id, pen.executableAt);
      await time.increaseTo(pen.executableAt - 1n); // the next block is due
      const treasury = await fx.vault.treasury();
      const [supply, treasuryBefore, proverBefore, stake] = await Promise.all([
        fx.token.totalSupply(),
        fx.token.balanceOf(treasury),
        fx.token.balanceOf(fx.prover.address),
        fx.vault.activeStakeOf(fx.providerA.address),
      ]);
      // The penalty (100 MESH) is above the escrow (20 MESH) plus the vault's cap (10% of a 100 MESH stake).
      const fromVault = (stake * (await fx.vault.maxSlashBps())) / 10_000n;
      const taken = pen.escrow + fromVault;
      expect(taken < pen.amount).to.equal(true);
      const toProver = (taken * 2_000n) / 10_000n;
      await expect(fx.jobs.connect(fx.outsider).executePenalty(id))
        .to.emit(fx.jobs, "PenaltyExecuted")
        .withArgs(id, fx.providerA.address, pen.escrow, fromVault, toProver, pen.escrow - toProver, 0n)
        .and.to.emit(fx.jobs, "StrikeRecorded")
        .withArgs(fx.providerA.address, id, 0n)
        .and.to.emit(fx.vault, "Slashed");
      expect(await fx.token.balanceOf(fx.prover.address)).to.equal(proverBefore + toProver);
      expect(await fx.token.balanceOf(treasury)).to.equal(treasuryBefore + fromVault);
      expect(await fx.token.totalSupply()).to.equal(supply - (pen.escrow - toProver));
      expect(await fx.vault.activeStakeOf(fx.providerA.address)).to.equal(stake - fromVault);
      expect((await fx.jobs.penalty(id)).status).to.equal(PenaltyStatus.Executed);
      await expect(fx.jobs.executePenalty(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNoPenalty")
        .withArgs(id);
      await expect(fx.jobs.connect(fx.guardian).vetoPenalty(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNoPenalty")
        .withArgs(id);
    });

    it("takes nothing from a vault with nothing slashable, and stops while the vault is paused", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      await convict(fx, id);
      await time.increase(4n * DAY);
      await fx.vault.connect(fx.admin).grantRole(await fx.vault.GUARDIAN_ROLE(), fx.admin.address);
      await fx.vault.connect(fx.admin).pause();
      await expect(fx.jobs.executePenalty(id)).to.be.revertedWithCustomError(fx.vault, "EnforcedPause");
      await fx.vault.connect(fx.admin).unpause();
      await fx.vault.connect(fx.admin).setMaxSlashBps(0n);
      const pen = await fx.jobs.penalty(id);
      const toProver = (pen.escrow * 2_000n) / 10_000n;
      await expect(fx.jobs.executePenalty(id))
        .to.emit(fx.jobs, "PenaltyExecuted")
        .withArgs(id, fx.providerA.address, pen.escrow, 0n, toProver, pen.escrow - toProver, 0n)
        .and.not.to.emit(fx.vault, "Slashed");
    });

    it("returns escrow beyond a penalty that MESH's rise made smaller than the collateral", async function () {
      const fx = await loadSystem();
      await fx.jobs.connect(fx.admin).setPenaltyFloor(MESH(1));
      const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 20n * DAY;
      await fx.jobs.connect(fx.customer).createJob("0x" + "5e".repeat(32), 7, 500n, deadline, 0);
      const id = await fx.jobs.jobCount();
      await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
      // Ten 20% steps a day apart: MESH ×6.2, so 10× the value is worth less MESH than 2× was.
      let price = (await fx.price.latestPrice())[0];
      for (let i = 0; i < 11; i++) {
        await time.increase(DAY);
        price = (price * 12n) / 10n;
        await fx.price.connect(fx.admin).setPrice(price);
      }
      await fx.jobs.connect(fx.providerA).commitResult(id, "0x" + "7a".repeat(32), 10n);
      await convict(fx, id);
      const pen = await fx.jobs.penalty(id);
      expect(pen.amount < pen.escrow).to.equal(true);
      await time.increase(4n * DAY);
      const free = (await fx.jobs.providerAccount(fx.providerA.address)).free;
      const toProver = (pen.amount * 2_000n) / 10_000n;
      await expect(fx.jobs.executePenalty(id))
        .to.emit(fx.jobs, "PenaltyExecuted")
        .withArgs(
          id,
          fx.providerA.address,
          pen.amount,
          0n,
          toProver,
          pen.amount - toProver,
          pen.escrow - pen.amount,
        )
        .and.not.to.emit(fx.vault, "Slashed");
      expect((await fx.jobs.providerAccount(fx.providerA.address)).free).to.equal(
        free + pen.escrow - pen.amount,
      );
    });

    it("the guardian alone vetoes, before the penalty is due: the escrow goes back, no strike", async function () {
      const fx = await loadSystem();
      const id = await committedJob(fx);
      await convict(fx, id);
      const pen = await fx.jobs.penalty(id);
      await expect(fx.jobs.connect(fx.outsider).vetoPenalty(id)).to.be.revertedWithCustomError(
        fx.jobs,
        "AccessControlUnauthorizedAccount",
      );
      const free = (await fx.jobs.providerAccount(fx.providerA.address)).free;
      await expect(fx.jobs.connect(fx.guardian).vetoPenalty(id))
        .to.emit(fx.jobs, "PenaltyVetoed")
        .withArgs(id, fx.guardian.address)
        .and.not.to.emit(fx.jobs, "StrikeRecorded");
      expect((await fx.jobs.providerAccount(fx.providerA.address)).free).to.equal(free + pen.escrow);
      expect((await fx.jobs.penalty(id)).status).to.equal(PenaltyStatus.Vetoed);
      await time.increaseTo(pen.executableAt);
      await expect(fx.jobs.executePenalty(id))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNoPenalty")
        .withArgs(id);
      // Once due, the veto window is closed.
      const late = await committedJob(fx);
      await convict(fx, late);
      const due = (await fx.jobs.penalty(late)).executableAt;
      await time.increaseTo(due);
      await expect(fx.jobs.connect(fx.guardian).vetoPenalty(late))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeVetoWindowClosed")
        .withArgs(late, due);
      await expect(fx.jobs.connect(fx.guardian).vetoPenalty(999n))
        .to.be.revertedWithCustomError(fx.jobs, "ComputeNoPenalty")
        .withArgs(999n);
    });
  });
});
