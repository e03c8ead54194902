import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { revertDataOf } from "@hexmesh/contracts";
import { challengeGlobalLeaf, periodChallenges, pieceRoot } from "@hexmesh/protocol";
import { pieceOfFile } from "@hexmesh/protocol/node";

import { createRegistryNetwork } from "../helpers/registryFixture.js";
import {
  addPieces,
  arm,
  buildProofs,
  DAY,
  deployStorage,
  expectBooksBalance,
  openDataSet,
  provePeriod,
  SUBNET_STORAGE,
  topUpCollateral,
  toWindow,
  WINDOW,
  type StorageSystem,
} from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { time, loadFixture, mine } = networkHelpers;

const Outcome = { Proven: 0n, Rescheduled: 1n, DeclaredFault: 2n, FreeMiss: 3n, Faulted: 4n };
const EndReason = { ByClient: 0n, ByProvider: 1n, Faults: 2n, Mutual: 3n };
const Status = { None: 0n, Proposed: 1n, Active: 2n, Terminated: 3n };
const HIGH_PRICE = 10n ** 12n; // micro-USD per TiB-month: makes small test pieces cost whole credits

async function fixture(): Promise<StorageSystem> {
  const fx = await deployStorage(ethers, networkHelpers);
  await fx.deals.connect(fx.admin).setPrice(HIGH_PRICE);
  return fx;
}

let current: StorageSystem | undefined;
/** Every test's system, checked after the test: collateral, owed MESH and locks add up. */
async function loadSystem(): Promise<StorageSystem> {
  current = await loadFixture(fixture);
  return current;
}

/** Two pieces of different sizes (a partial last leaf in each): 4 KiB + 100 B and 40 KiB. */
function files() {
  return [randomBytes(4096 + 100), randomBytes(40_960)];
}

const rateOf = (bytes: bigint, price = HIGH_PRICE) =>
  (bytes * price + 2n ** 40n * 30n - 1n) / (2n ** 40n * 30n);

describe("StorageDeals", function () {
  afterEach(async function () {
    if (current && this.currentTest?.state === "passed")
      await expectBooksBalance(current, [current.client.address]);
    current = undefined;
  });

  describe("creating and accepting a data set", function () {
    it("the client proposes to the owner of a bonded storage device on the current terms; the provider accepts", async function () {
      const fx = await loadSystem();
      await expect(fx.deals.connect(fx.client).createDataSet(fx.storageDevice))
        .to.emit(fx.deals, "DataSetCreated")
        .withArgs(1n, fx.client.address, fx.provider.address, fx.storageDevice, HIGH_PRICE, 5n);
      expect((await fx.deals.dataSet(1n)).status).to.equal(Status.Proposed);
      await expect(fx.deals.connect(fx.outsider).acceptDataSet(1n))
        .to.be.revertedWithCustomError(fx.deals, "StorageNotProvider")
        .withArgs(1n, fx.outsider.address);
      await expect(fx.deals.connect(fx.provider).acceptDataSet(1n))
        .to.emit(fx.deals, "DataSetAccepted")
        .withArgs(1n, fx.provider.address);
      await expect(fx.deals.connect(fx.provider).acceptDataSet(1n))
        .to.be.revertedWithCustomError(fx.deals, "StorageWrongStatus")
        .withArgs(1n, Status.Active);
      await expect(fx.deals.connect(fx.provider).acceptDataSet(9n))
        .to.be.revertedWithCustomError(fx.deals, "StorageUnknownDataSet")
        .withArgs(9n);
    });

    it("refuses unknown, suspended and non-storage devices and unbonded providers", async function () {
      const fx = await loadSystem();
      await expect(fx.deals.connect(fx.client).createDataSet(123n))
        .to.be.revertedWithCustomError(fx.deals, "StorageDeviceNotActive")
        .withArgs(123n);
      await expect(fx.deals.connect(fx.client).createDataSet(fx.coverageDevice))
        .to.be.revertedWithCustomError(fx.deals, "StorageNotStorageDevice")
        .withArgs(fx.coverageDevice, 1n);
      await fx.vault.connect(fx.provider).requestUnstake(1n);
      const bond = await fx.vault.minStakePerDevice();
      await expect(fx.deals.connect(fx.client).createDataSet(fx.storageDevice))
        .to.be.revertedWithCustomError(fx.deals, "StorageProviderNotBonded")
        .withArgs(fx.provider.address, bond - 1n, bond);
    });

    it("the provider's device must still qualify when it accepts", async function () {
      const fx = await loadSystem();
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await fx.registry.connect(fx.admin).grantRole(await fx.registry.DENYLIST_ROLE(), fx.admin.address);
      await fx.registry.connect(fx.admin).suspend(fx.storageDevice, 3);
      await expect(fx.deals.connect(fx.provider).acceptDataSet(1n))
        .to.be.revertedWithCustomError(fx.deals, "StorageDeviceNotActive")
        .withArgs(fx.storageDevice);
    });
  });

  describe("pieces, rate, credits lock and collateral", function () {
    it("adds pieces with their first global leaves, rounds the rate up, locks 30 days and starts the clock", async function () {
      const fx = await loadSystem();
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await fx.deals.connect(fx.provider).acceptDataSet(1n);
      const [a, b] = files();
      const tx = addPieces(fx, 1n, [a!, b!]);
      await expect(tx)
        .to.emit(fx.deals, "PieceAdded")
        .withArgs(1n, 0n, pieceRoot(a!).root, a!.length, 0n)
        .and.to.emit(fx.deals, "PieceAdded")
        .withArgs(1n, 1n, pieceRoot(b!).root, b!.length, 132n);
      const bytes = BigInt(a!.length + b!.length);
      const rate = rateOf(bytes);
      const ds = await fx.deals.dataSet(1n);
      expect(ds.rate).to.equal(rate);
      expect(ds.locked).to.equal(rate * 30n);
      expect(await fx.credits.locked(fx.client.address, await fx.deals.getAddress())).to.equal(rate * 30n);
      expect(ds.totalLeaves).to.equal(132n + 1280n);
      // MESH at $0.05 for one period's rate, rounded up; 90 periods required.
      const perPeriod = (rate * 10n ** 30n + 5n * 10n ** 16n - 1n) / (5n * 10n ** 16n);
      expect(ds.collateralPerPeriod).to.equal(perPeriod);
      expect(await fx.deals.requiredCollateral(1n)).to.equal(perPeriod * 90n);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      expect(ds.periodEnd).to.equal(now + DAY);
      const piece = await fx.deals.piece(1n, 1n);
      expect([piece.size, piece.firstLeaf, piece.leafCount, piece.height]).to.deep.equal([
        BigInt(b!.length),
        132n,
        1280n,
        11n,
      ]);
      // More pieces: the lock is topped up to 30 days of the new rate; the clock keeps running.
      await addPieces(fx, 1n, [randomBytes(100_000)]);
      const after = await fx.deals.dataSet(1n);
      expect(after.locked).to.equal(rateOf(bytes + 100_000n) * 30n);
      expect(after.periodEnd).to.equal(ds.periodEnd);
    });

    it("refuses bad pieces, other callers and data sets not accepted", async function () {
      const fx = await loadSystem();
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      const good = { root: "0x" + "11".repeat(32), size: 64 };
      await expect(fx.deals.connect(fx.client).addPieces(1n, [good]))
        .to.be.revertedWithCustomError(fx.deals, "StorageWrongStatus")
        .withArgs(1n, Status.Proposed);
      await fx.deals.connect(fx.provider).acceptDataSet(1n);
      await expect(fx.deals.connect(fx.provider).addPieces(1n, [good]))
        .to.be.revertedWithCustomError(fx.deals, "StorageNotClient")
        .withArgs(1n, fx.provider.address);
      await expect(fx.deals.connect(fx.client).addPieces(1n, []))
        .to.be.revertedWithCustomError(fx.deals, "StorageBadPieceCount")
        .withArgs(0n);
      await expect(fx.deals.connect(fx.client).addPieces(1n, new Array(33).fill(good)))
        .to.be.revertedWithCustomError(fx.deals, "StorageBadPieceCount")
        .withArgs(33n);
      for (const bad of [
        { root: "0x" + "00".repeat(32), size: 64 },
        { root: good.root, size: 0 },
        { root: good.root, size: 2n ** 40n + 1n },
      ]) {
        await expect(fx.deals.connect(fx.client).addPieces(1n, [good, bad]))
          .to.be.revertedWithCustomError(fx.deals, "StorageInvalidPiece")
          .withArgs(bad.root, bad.size);
      }
    });

    it("refuses pieces whose 30-day lock the client cannot cover (over-locked credits)", async function () {
      const fx = await loadSystem();
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await fx.deals.connect(fx.provider).acceptDataSet(1n);
      // 1 TiB at $1,000,000 per TiB-month: far more than the client's $2,500 of credits.
      await expect(
        fx.deals.connect(fx.client).addPieces(1n, [{ root: "0x" + "11".repeat(32), size: 2n ** 40n }]),
      ).to.be.revertedWithCustomError(fx.credits, "CreditsInsufficientBalance");
      await fx.credits.connect(fx.client).approveSpender(await fx.deals.getAddress(), 10n);
      await expect(addPieces(fx, 1n, files())).to.be.revertedWithCustomError(
        fx.credits,
        "CreditsInsufficientAllowance",
      );
    });

    it("the client deposits more credits; the provider deposits and withdraws collateral above the requirement", async function () {
      const fx = await loadSystem();
      const id = await openDataSet(fx, files());
      const locked = (await fx.deals.dataSet(id)).locked;
      await expect(fx.deals.connect(fx.client).depositCredits(id, 500n))
        .to.emit(fx.deals, "CreditsDeposited")
        .withArgs(id, 500n, locked + 500n);
      await expect(
        fx.deals.connect(fx.client).depositCredits(id, 2n ** 128n + 1n),
      ).to.be.revertedWithCustomError(fx.deals, "SafeCastOverflowedUintDowncast");
      await expect(
        fx.deals.connect(fx.provider).depositCollateral(id, 2n ** 128n),
      ).to.be.revertedWithCustomError(fx.deals, "SafeCastOverflowedUintDowncast");
      await expect(fx.deals.connect(fx.client).depositCredits(id, 0n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageZeroAmount",
      );
      await expect(fx.deals.connect(fx.outsider).depositCredits(id, 1n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNotClient",
      );
      const required = await fx.deals.requiredCollateral(id);
      await expect(fx.deals.connect(fx.provider).depositCollateral(id, 1000n))
        .to.emit(fx.deals, "CollateralDeposited")
        .withArgs(id, 1000n, required + 1000n);
      await expect(fx.deals.connect(fx.provider).depositCollateral(id, 0n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageZeroAmount",
      );
      await expect(fx.deals.connect(fx.provider).withdrawCollateral(id, 1001n))
        .to.be.revertedWithCustomError(fx.deals, "StorageCollateralShort")
        .withArgs(id, required - 1n, required);
      await expect(fx.deals.connect(fx.provider).withdrawCollateral(id, required * 2n))
        .to.be.revertedWithCustomError(fx.deals, "StorageCollateralShort")
        .withArgs(id, 0n, required);
      await expect(fx.deals.connect(fx.provider).withdrawCollateral(id, 0n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageZeroAmount",
      );
      await expect(fx.deals.connect(fx.provider).withdrawCollateral(id, 1000n)).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.provider, fx.deals],
        [1000n, -1000n],
      );
      await expect(fx.deals.connect(fx.client).withdrawCollateral(id, 1n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNotProvider",
      );
    });
  });

  describe("proving possession", function () {
    it("pays a proven period to the provider through UsageRecorded, never before the first proof, and refills the lock", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      const { rate, locked } = await fx.deals.dataSet(id);
      expect(await fx.credits.totalConsumed()).to.equal(0n);
      await toWindow(fx, id);
      await expect(fx.deals.connect(fx.keeper).recordSeed(id)).to.emit(fx.deals, "ChallengeArmed");
      await mine(1);
      const proofs = await buildProofs(fx, id, data);
      const epoch = await fx.controller.currentEpoch();
      const tx = fx.deals.connect(fx.provider).provePossession(id, proofs);
      await expect(tx).to.emit(fx.deals, "PossessionProven").withArgs(id, 0n, rate);
      await expect(tx)
        .to.emit(fx.credits, "UsageRecorded")
        .withArgs(SUBNET_STORAGE, epoch, fx.provider.address, rate, fx.client.address);
      await expect(tx).to.emit(fx.deals, "LockRefilled").withArgs(id, rate, locked);
      await expect(tx).to.emit(fx.deals, "SeedRecorded");
      expect(await fx.credits.totalConsumed()).to.equal(rate);
      expect((await fx.deals.dataSet(id)).locked).to.equal(locked);
      // Replay in the same period.
      await expect(fx.deals.connect(fx.provider).provePossession(id, proofs))
        .to.be.revertedWithCustomError(fx.deals, "StorageAlreadyProven")
        .withArgs(id, 0n);
      // The next period settles as proven and is proven again with fresh challenges.
      await provePeriod(fx, id, data);
      const events = await fx.deals.queryFilter(fx.deals.filters.PeriodSettled(id));
      expect(events.map((e) => [e.args.period, e.args.outcome, e.args.fee])).to.deep.equal([
        [0n, Outcome.Proven, 0n],
      ]);
      expect(await fx.credits.totalConsumed()).to.equal(2n * rate);
    });

    it("refuses proofs before the window, after it, without a seed, from others and for unknown data sets", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      const { periodEnd } = await fx.deals.dataSet(id);
      await expect(fx.deals.connect(fx.provider).provePossession(id, []))
        .to.be.revertedWithCustomError(fx.deals, "StorageOutsideWindow")
        .withArgs(id, periodEnd - WINDOW, periodEnd);
      await expect(fx.deals.connect(fx.keeper).recordSeed(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageOutsideWindow")
        .withArgs(id, periodEnd - WINDOW, periodEnd);
      await toWindow(fx, id);
      await expect(fx.deals.connect(fx.provider).provePossession(id, []))
        .to.be.revertedWithCustomError(fx.deals, "StorageSeedNotRecorded")
        .withArgs(id, 0n);
      // Armed, but the proof would land in the challenge block itself: its hash does not exist yet.
      await fx.deals.connect(fx.keeper).recordSeed(id);
      await expect(fx.deals.connect(fx.provider).provePossession(id, []))
        .to.be.revertedWithCustomError(fx.deals, "StorageSeedNotRecorded")
        .withArgs(id, 0n);
      await mine(1);
      const proofs = await buildProofs(fx, id, data);
      await expect(fx.deals.connect(fx.outsider).provePossession(id, proofs))
        .to.be.revertedWithCustomError(fx.deals, "StorageNotProvider")
        .withArgs(id, fx.outsider.address);
      await expect(fx.deals.connect(fx.provider).provePossession(7n, proofs))
        .to.be.revertedWithCustomError(fx.deals, "StorageUnknownDataSet")
        .withArgs(7n);
      // Late: once the period has ended the proof belongs to nothing (the next window is a day away).
      await time.increaseTo(periodEnd);
      await expect(fx.deals.connect(fx.provider).provePossession(id, proofs))
        .to.be.revertedWithCustomError(fx.deals, "StorageOutsideWindow")
        .withArgs(id, periodEnd + DAY - WINDOW, periodEnd + DAY);
    });

    it("refuses wrong proofs: count, piece, leaf, path, and a provider short of collateral", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      await toWindow(fx, id);
      await arm(fx, id);
      const proofs = await buildProofs(fx, id, data);
      const prove = (p: typeof proofs) => fx.deals.connect(fx.provider).provePossession(id, p);
      await expect(prove(proofs.slice(1)))
        .to.be.revertedWithCustomError(fx.deals, "StorageWrongProofCount")
        .withArgs(4n, 5n);
      const wrongPiece = proofs.map((p, i) => (i === 2 ? { ...p, pieceIndex: 1 - p.pieceIndex } : p));
      await expect(prove(wrongPiece)).to.be.revertedWithCustomError(fx.deals, "StorageWrongPiece");
      const missingPiece = proofs.map((p, i) => (i === 0 ? { ...p, pieceIndex: 9 } : p));
      await expect(prove(missingPiece)).to.be.revertedWithCustomError(fx.deals, "StorageWrongPiece");
      const flip = (h: string) => h.slice(0, -1) + (h.endsWith("0") ? "1" : "0");
      await expect(prove(proofs.map((p, i) => (i === 3 ? { ...p, leaf: flip(p.leaf) } : p))))
        .to.be.revertedWithCustomError(fx.deals, "StorageInvalidProof")
        .withArgs(3n);
      await expect(prove(proofs.map((p, i) => (i === 4 ? { ...p, path: p.path.slice(1) } : p))))
        .to.be.revertedWithCustomError(fx.deals, "StorageInvalidProof")
        .withArgs(4n);
      await expect(
        prove(proofs.map((p, i) => (i === 1 ? { ...p, path: [flip(p.path[0]!), ...p.path.slice(1)] } : p))),
      )
        .to.be.revertedWithCustomError(fx.deals, "StorageInvalidProof")
        .withArgs(1n);
      // A provider who lost one piece cannot answer a challenge in it with the other piece's data.
      const lost = [data[0]!, randomBytes(data[1]!.length)];
      const forged = await buildProofs(fx, id, lost);
      if (forged.some((p) => p.pieceIndex === 1)) {
        await expect(prove(forged)).to.be.revertedWithCustomError(fx.deals, "StorageInvalidProof");
      }
      await addPieces(fx, id, [randomBytes(64)]); // raises the requirement above what is deposited
      const required = await fx.deals.requiredCollateral(id);
      const held = (await fx.deals.dataSet(id)).collateral;
      await expect(prove(proofs))
        .to.be.revertedWithCustomError(fx.deals, "StorageCollateralShort")
        .withArgs(id, held, required);
      // Pieces added after arming are not challenged this period: the same proofs still hold.
      await topUpCollateral(fx, id);
      await expect(prove(proofs)).to.emit(fx.deals, "PossessionProven");
    });

    it("refuses a stale proof (built for an earlier period's seed) and settles a period only once", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      await toWindow(fx, id);
      await arm(fx, id);
      const stale = await buildProofs(fx, id, data); // never submitted
      await toWindow(fx, id);
      await arm(fx, id); // period 1, a new seed
      const fresh = await buildProofs(fx, id, data);
      const changed = stale.findIndex(
        (p, i) => p.pieceIndex !== fresh[i]!.pieceIndex || p.leaf !== fresh[i]!.leaf,
      );
      expect(changed).to.not.equal(-1);
      let refused = "";
      try {
        await fx.deals.connect(fx.provider).provePossession(id, stale);
      } catch (e) {
        refused = fx.deals.interface.parseError(revertDataOf(e) ?? "0x")?.name ?? String(e);
      }
      expect(refused).to.be.oneOf(["StorageWrongPiece", "StorageInvalidProof"]);
      await expect(fx.deals.connect(fx.provider).provePossession(id, fresh)).to.emit(
        fx.deals,
        "PossessionProven",
      );
      await time.increase(WINDOW);
      await expect(fx.deals.settle(id))
        .to.emit(fx.deals, "PeriodSettled")
        .withArgs(id, 1n, Outcome.Proven, 0n);
      await expect(fx.deals.settle(id)).to.not.emit(fx.deals, "PeriodSettled");
    });

    it("records the seed in two steps, refuses early and repeated records, and reschedules a lost seed", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      await toWindow(fx, id);
      await fx.deals.connect(fx.keeper).recordSeed(id);
      const { challengeBlock } = await fx.deals.dataSet(id);
      await expect(fx.deals.connect(fx.keeper).recordSeed(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageSeedNotReady")
        .withArgs(id, challengeBlock);
      await mine(1);
      const hash = (await ethers.provider.getBlock(Number(challengeBlock)))!.hash;
      await expect(fx.deals.connect(fx.outsider).recordSeed(id))
        .to.emit(fx.deals, "SeedRecorded")
        .withArgs(id, 0n, hash);
      const { challengedLeaves } = await fx.deals.dataSet(id);
      for (let i = 0; i < 5; i++) {
        expect(await fx.deals.challengeLeaf(id, i)).to.equal(
          challengeGlobalLeaf(hash!, id, 0n, i, challengedLeaves),
        );
      }
      await expect(fx.deals.connect(fx.outsider).recordSeed(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageSeedAlreadyRecorded")
        .withArgs(id, 0n);
      // Next period: armed, but nobody reads the hash within 256 blocks.
      await time.increase(DAY);
      await arm(fx, id);
      await mine(300);
      await expect(fx.deals.connect(fx.keeper).recordSeed(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageSeedNotRecorded")
        .withArgs(id, 1n);
      await expect(fx.deals.connect(fx.provider).provePossession(id, []))
        .to.be.revertedWithCustomError(fx.deals, "StorageSeedNotRecorded")
        .withArgs(id, 1n);
      await expect(fx.deals.challengeLeaf(id, 0n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageSeedNotRecorded",
      );
      await time.increase(DAY);
      // Period 0 had a recorded seed and no proof: the free miss. Period 1's seed was lost: rescheduled.
      await fx.deals.settle(id);
      const events = await fx.deals.queryFilter(fx.deals.filters.PeriodSettled(id));
      expect(events.map((e) => [e.args.period, e.args.outcome])).to.deep.equal([
        [0n, Outcome.FreeMiss],
        [1n, Outcome.Rescheduled],
      ]);
      expect((await fx.deals.dataSet(id)).consecutiveFaults).to.equal(1n);
    });

    it("the challenge view matches the off-chain derivation", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      await toWindow(fx, id);
      await arm(fx, id);
      await mine(1); // a call runs in the latest block's context: it must be past the challenge block
      const armed = await fx.deals.challengeLeaf(id, 0n); // read from the armed block's hash
      await fx.deals.connect(fx.keeper).recordSeed(id);
      expect(await fx.deals.challengeLeaf(id, 0n)).to.equal(armed);
      const proofs = await buildProofs(fx, id, data);
      for (const [i, p] of proofs.entries()) {
        const piece = await fx.deals.piece(id, p.pieceIndex);
        const leaf = await fx.deals.challengeLeaf(id, i);
        expect(leaf >= piece.firstLeaf && leaf < piece.firstLeaf + piece.leafCount).to.equal(true);
      }
      // A proof against the recorded seed (the keeper's) is accepted without reading the block again.
      const tx = fx.deals.connect(fx.provider).provePossession(id, proofs);
      await expect(tx).to.emit(fx.deals, "PossessionProven");
      await expect(tx).to.not.emit(fx.deals, "SeedRecorded");
    });
  });

  describe("faults", function () {
    it("first undeclared miss free, then 2 periods of rate from collateral (half to the client, half burned); declared faults cost nothing", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      const { collateralPerPeriod, collateral } = await fx.deals.dataSet(id);
      // Period 0: armed, missed: free.
      await toWindow(fx, id);
      await arm(fx, id);
      // Period 1: declared before the window: nothing.
      await time.increase(WINDOW);
      await expect(fx.deals.connect(fx.provider).declareFault(id))
        .to.emit(fx.deals, "FaultDeclared")
        .withArgs(id, 1n);
      await expect(fx.deals.connect(fx.provider).declareFault(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageFaultDeclared")
        .withArgs(id, 1n);
      await toWindow(fx, id);
      await expect(fx.deals.connect(fx.provider).declareFault(id)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageOutsideWindow",
      );
      await arm(fx, id);
      await expect(fx.deals.connect(fx.provider).provePossession(id, await buildProofs(fx, id, data)))
        .to.be.revertedWithCustomError(fx.deals, "StorageFaultDeclared")
        .withArgs(id, 1n);
      // Period 2: armed, missed: the fee.
      await time.increase(WINDOW);
      await toWindow(fx, id);
      await arm(fx, id);
      await time.increase(WINDOW);
      const fee = collateralPerPeriod * 2n;
      await expect(fx.deals.connect(fx.client).withdrawMesh())
        .to.be.revertedWithCustomError(fx.deals, "StorageNothingOwed")
        .withArgs(fx.client.address);
      await expect(fx.deals.connect(fx.outsider).burnFees()).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNothingToBurn",
      );
      // Settling books the fee: half owed to the client, half to burn; nothing moves yet.
      const settle = fx.deals.connect(fx.outsider).settle(id);
      await expect(settle).to.changeTokenBalances(ethers, fx.token, [fx.client, fx.deals], [0n, 0n]);
      expect(await fx.deals.meshOwed(fx.client.address)).to.equal(fee / 2n);
      expect(await fx.deals.feesToBurn()).to.equal(fee - fee / 2n);
      await expect(fx.deals.connect(fx.client).withdrawMesh()).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.client, fx.deals],
        [fee / 2n, -(fee / 2n)],
      );
      expect(await fx.deals.meshOwed(fx.client.address)).to.equal(0n);
      const supply = await fx.token.totalSupply();
      await expect(fx.deals.connect(fx.outsider).burnFees())
        .to.emit(fx.deals, "FeesBurned")
        .withArgs(fx.outsider.address, fee - fee / 2n);
      expect(await fx.token.totalSupply()).to.equal(supply - (fee - fee / 2n));
      expect(await fx.deals.feesToBurn()).to.equal(0n);
      const events = await fx.deals.queryFilter(fx.deals.filters.PeriodSettled(id));
      expect(events.map((e) => [e.args.period, e.args.outcome, e.args.fee])).to.deep.equal([
        [0n, Outcome.FreeMiss, 0n],
        [1n, Outcome.DeclaredFault, 0n],
        [2n, Outcome.Faulted, fee],
      ]);
      const ds = await fx.deals.dataSet(id);
      expect(ds.collateral).to.equal(collateral - fee);
      expect(ds.consecutiveFaults).to.equal(3n);
      expect(await fx.credits.totalConsumed()).to.equal(0n); // nothing paid for faulty periods
      // A proof resets the fault count.
      await topUpCollateral(fx, id);
      await provePeriod(fx, id, data);
      await time.increase(WINDOW);
      await fx.deals.settle(id);
      expect((await fx.deals.dataSet(id)).consecutiveFaults).to.equal(0n);
      await expect(fx.deals.connect(fx.outsider).declareFault(id)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNotProvider",
      );
    });

    it("periods nobody armed are rescheduled in one step, unpaid and unpunished", async function () {
      const fx = await loadSystem();
      const id = await openDataSet(fx, files());
      const { periodEnd } = await fx.deals.dataSet(id);
      await time.increaseTo(periodEnd + 5n * DAY + 7n);
      await expect(fx.deals.settle(id))
        .to.emit(fx.deals, "PeriodSettled")
        .withArgs(id, 0n, Outcome.Rescheduled, 0n)
        .and.to.emit(fx.deals, "PeriodsRescheduled")
        .withArgs(id, 1n, 5n);
      const ds = await fx.deals.dataSet(id);
      expect([ds.period, ds.periodEnd, ds.consecutiveFaults]).to.deep.equal([6n, periodEnd + 6n * DAY, 0n]);
      await expect(fx.deals.settle(99n)).to.be.revertedWithCustomError(fx.deals, "StorageUnknownDataSet");
    });

    it("14 consecutive faulty periods terminate the data set: 30 periods of rate forfeited to the client", async function () {
      const fx = await loadSystem();
      const id = await openDataSet(fx, files());
      const { collateralPerPeriod, collateral, locked } = await fx.deals.dataSet(id);
      for (let p = 0; p < 13; p++) {
        await toWindow(fx, id);
        await arm(fx, id);
        await time.increase(WINDOW);
      }
      await toWindow(fx, id);
      await arm(fx, id);
      await time.increase(WINDOW);
      const fees = 12n * 2n * collateralPerPeriod; // 13 settled misses, the first free
      const lastFee = 2n * collateralPerPeriod;
      const forfeit = 30n * collateralPerPeriod;
      const returned = collateral - fees - lastFee - forfeit;
      // At the limit, nothing but settle goes on.
      await expect(fx.deals.connect(fx.keeper).recordSeed(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageFaultLimitReached")
        .withArgs(id);
      await expect(fx.deals.connect(fx.client).terminateByClient(id)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageFaultLimitReached",
      );
      const tx = fx.deals.connect(fx.keeper).settle(id);
      await expect(tx)
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(id, EndReason.Faults, 0n, forfeit, locked, returned);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.client, fx.provider],
        [forfeit, returned],
      );
      expect(await fx.deals.meshOwed(fx.client.address)).to.equal(13n * collateralPerPeriod); // 13 fees, halves
      expect(await fx.credits.locked(fx.client.address, await fx.deals.getAddress())).to.equal(0n);
      expect((await fx.deals.dataSet(id)).status).to.equal(Status.Terminated);
      await expect(fx.deals.connect(fx.provider).provePossession(id, []))
        .to.be.revertedWithCustomError(fx.deals, "StorageWrongStatus")
        .withArgs(id, Status.Terminated);
      await expect(fx.deals.connect(fx.client).terminateByClient(id)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageWrongStatus",
      );
    });
  });

  describe("ending a data set", function () {
    it("client termination pays the provider the locked 30 days and returns the collateral", async function () {
      const fx = await loadSystem();
      const id = await openDataSet(fx, files());
      await fx.deals.connect(fx.client).depositCredits(id, 77n);
      const { rate, locked, collateral } = await fx.deals.dataSet(id);
      await expect(fx.deals.connect(fx.provider).terminateByClient(id)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNotClient",
      );
      const tx = fx.deals.connect(fx.client).terminateByClient(id);
      await expect(tx)
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(id, EndReason.ByClient, rate * 30n, 0n, locked - rate * 30n, collateral);
      await expect(tx)
        .to.emit(fx.credits, "UsageRecorded")
        .withArgs(
          SUBNET_STORAGE,
          await fx.controller.currentEpoch(),
          fx.provider.address,
          rate * 30n,
          fx.client.address,
        );
      await expect(tx).to.changeTokenBalances(ethers, fx.token, [fx.provider], [collateral]);
    });

    it("provider termination forfeits 30 days of rate to the client, unless the client's lock fell short", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      const { collateralPerPeriod, collateral, locked } = await fx.deals.dataSet(id);
      const forfeit = 30n * collateralPerPeriod;
      const tx = fx.deals.connect(fx.provider).terminateByProvider(id);
      await expect(tx)
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(id, EndReason.ByProvider, 0n, forfeit, locked, collateral - forfeit);
      await expect(tx).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.client, fx.provider],
        [forfeit, collateral - forfeit],
      );
      await expect(fx.deals.connect(fx.client).terminateByProvider(id)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNotProvider",
      );

      // Second data set: the client withdraws its allowance, so a paid period cannot refill the lock.
      const id2 = await openDataSet(fx, data);
      await fx.credits.connect(fx.client).approveSpender(await fx.deals.getAddress(), 0n);
      const proven = await provePeriod(fx, id2, data);
      await expect(proven).to.not.emit(fx.deals, "LockRefilled");
      const ds = await fx.deals.dataSet(id2);
      expect(ds.locked).to.equal(29n * ds.rate);
      await expect(fx.deals.connect(fx.provider).terminateByProvider(id2))
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(id2, EndReason.ByProvider, 0n, 0n, ds.locked, ds.collateral);
    });

    it("both parties may agree to end at once: nothing paid, everything returned", async function () {
      const fx = await loadSystem();
      const id = await openDataSet(fx, files());
      const { locked, collateral } = await fx.deals.dataSet(id);
      await expect(fx.deals.connect(fx.outsider).agreeToEnd(id))
        .to.be.revertedWithCustomError(fx.deals, "StorageNotParty")
        .withArgs(id, fx.outsider.address);
      await expect(fx.deals.connect(fx.client).agreeToEnd(id))
        .to.emit(fx.deals, "EndAgreed")
        .withArgs(id, fx.client.address);
      expect((await fx.deals.dataSet(id)).status).to.equal(Status.Active);
      const tx = fx.deals.connect(fx.provider).agreeToEnd(id);
      await expect(tx)
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(id, EndReason.Mutual, 0n, 0n, locked, collateral);
      await expect(tx).to.changeTokenBalances(ethers, fx.token, [fx.provider], [collateral]);
      expect(await fx.credits.balanceOf(fx.client.address)).to.equal(
        await fx.credits.balanceOf(fx.client.address),
      );
      expect(await fx.credits.locked(fx.client.address, await fx.deals.getAddress())).to.equal(0n);
    });

    it("a proposal can be withdrawn by the client before any piece; calls on a data set that never started are refused", async function () {
      const fx = await loadSystem();
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await fx.deals.connect(fx.provider).acceptDataSet(1n);
      await expect(fx.deals.connect(fx.keeper).recordSeed(1n))
        .to.be.revertedWithCustomError(fx.deals, "StorageNotStarted")
        .withArgs(1n);
      await expect(fx.deals.connect(fx.provider).declareFault(1n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageNotStarted",
      );
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await expect(fx.deals.connect(fx.keeper).recordSeed(2n))
        .to.be.revertedWithCustomError(fx.deals, "StorageWrongStatus")
        .withArgs(2n, Status.Proposed);
      await expect(fx.deals.connect(fx.client).terminateByClient(2n))
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(2n, EndReason.ByClient, 0n, 0n, 0n, 0n);
      await expect(fx.deals.connect(fx.provider).acceptDataSet(2n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageWrongStatus",
      );
      await expect(fx.deals.connect(fx.provider).depositCollateral(2n, 1n)).to.be.revertedWithCustomError(
        fx.deals,
        "StorageWrongStatus",
      );
    });
  });

  describe("long runs", function () {
    it("a lock the client stops refilling pays 30 periods, then proofs pay nothing; 30 proven periods restore the free miss", async function () {
      const fx = await loadSystem();
      const data = files();
      const id = await openDataSet(fx, data);
      const { rate } = await fx.deals.dataSet(id);
      await fx.credits.connect(fx.client).approveSpender(await fx.deals.getAddress(), 0n);
      // Period 0: an armed miss uses the free miss.
      await toWindow(fx, id);
      await arm(fx, id);
      for (let p = 1; p <= 31; p++) {
        const tx = await provePeriod(fx, id, data);
        await expect(tx)
          .to.emit(fx.deals, "PossessionProven")
          .withArgs(id, BigInt(p), p <= 30 ? rate : 0n);
        if (p === 30) expect((await fx.deals.dataSet(id)).locked).to.equal(0n);
        if (p === 31) await expect(tx).to.not.emit(fx.credits, "UsageRecorded");
      }
      expect(await fx.credits.totalConsumed()).to.equal(30n * rate);
      let ds = await fx.deals.dataSet(id);
      expect([ds.freeMissUsed, ds.provenStreak]).to.deep.equal([false, 30n]); // 30 settled: restored
      await provePeriod(fx, id, data);
      ds = await fx.deals.dataSet(id);
      expect([ds.freeMissUsed, ds.provenStreak]).to.deep.equal([false, 30n]);
      // With nothing locked, the provider may leave without forfeit.
      await expect(fx.deals.connect(fx.provider).terminateByProvider(id))
        .to.emit(fx.deals, "DataSetTerminated")
        .withArgs(id, EndReason.ByProvider, 0n, 0n, 0n, ds.collateral);
    });

    it("pieces that do not raise the 30-day lock above what is deposited lock nothing more; settling a proposal does nothing", async function () {
      const fx = await loadSystem();
      const id = await openDataSet(fx, files());
      await fx.deals.connect(fx.client).depositCredits(id, 1_000_000n);
      const before = await fx.deals.dataSet(id);
      const tx = addPieces(fx, id, [randomBytes(1000)]);
      await expect(tx).to.not.emit(fx.credits, "CreditsLocked");
      const after = await fx.deals.dataSet(id);
      expect(after.locked).to.equal(before.locked);
      expect(after.rate > before.rate).to.equal(true);
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await expect(fx.deals.settle(id + 1n)).to.not.emit(fx.deals, "PeriodSettled");
    });
  });

  describe("a file on disk", function () {
    it("a client's file, rooted by streaming it, is proven with proofs the provider streams from its copy", async function () {
      const fx = await loadSystem();
      const dir = await mkdtemp(path.join(tmpdir(), "hexmesh-storage-"));
      try {
        const file = path.join(dir, "file.bin");
        await writeFile(file, randomBytes(3 * (1 << 20) + 999));
        const { piece } = await pieceOfFile(file);
        await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
        await fx.deals.connect(fx.provider).acceptDataSet(1n);
        await fx.deals.connect(fx.client).addPieces(1n, [{ root: piece.root, size: piece.size }]);
        await topUpCollateral(fx, 1n);
        await toWindow(fx, 1n);
        await arm(fx, 1n);
        const ds = await fx.deals.dataSet(1n);
        const seed = (await ethers.provider.getBlock(Number(ds.challengeBlock)))!.hash!;
        const challenges = periodChallenges(seed, 1n, ds.period, Number(ds.challengeCount), [piece.size]);
        const { proofs } = await pieceOfFile(
          file,
          challenges.map((c) => c.leafIndex),
        );
        await expect(
          fx.deals.connect(fx.provider).provePossession(
            1n,
            proofs.map((p) => ({ pieceIndex: 0, leaf: p.leaf, path: p.path })),
          ),
        )
          .to.emit(fx.deals, "PossessionProven")
          .withArgs(1n, 0n, ds.rate);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("governance", function () {
    it("sets the price and K of new data sets within bounds; only the admin", async function () {
      const fx = await loadSystem();
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await expect(fx.deals.connect(fx.outsider).setPrice(3_000_000n)).to.be.revertedWithCustomError(
        fx.deals,
        "AccessControlUnauthorizedAccount",
      );
      await expect(fx.deals.connect(fx.outsider).setChallengeCount(3n)).to.be.revertedWithCustomError(
        fx.deals,
        "AccessControlUnauthorizedAccount",
      );
      for (const bad of [9_999n, 10n ** 12n + 1n]) {
        await expect(fx.deals.connect(fx.admin).setPrice(bad))
          .to.be.revertedWithCustomError(fx.deals, "StoragePriceOutOfBounds")
          .withArgs(bad);
      }
      for (const bad of [0n, 17n]) {
        await expect(fx.deals.connect(fx.admin).setChallengeCount(bad))
          .to.be.revertedWithCustomError(fx.deals, "StorageChallengeCountOutOfBounds")
          .withArgs(bad);
      }
      await expect(fx.deals.connect(fx.admin).setPrice(3_000_000n))
        .to.emit(fx.deals, "PriceSet")
        .withArgs(3_000_000n);
      await expect(fx.deals.connect(fx.admin).setChallengeCount(3n))
        .to.emit(fx.deals, "ChallengeCountSet")
        .withArgs(3n);
      expect([await fx.deals.pricePerTiBMonth(), await fx.deals.challengeCount()]).to.deep.equal([
        3_000_000n,
        3n,
      ]);
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      const [old, fresh] = [await fx.deals.dataSet(1n), await fx.deals.dataSet(2n)];
      expect([old.pricePerTiBMonth, old.challengeCount]).to.deep.equal([HIGH_PRICE, 5n]);
      expect([fresh.pricePerTiBMonth, fresh.challengeCount]).to.deep.equal([3_000_000n, 3n]);
    });

    it("defaults: $2.50 per TiB-month (1 TiB for 30 periods costs exactly 2,500,000 credits), K = 5", async function () {
      const fx = await deployStorage(ethers, networkHelpers);
      expect([await fx.deals.pricePerTiBMonth(), await fx.deals.challengeCount()]).to.deep.equal([
        2_500_000n,
        5n,
      ]);
      await expect(
        ethers.deployContract("StorageDeals", [
          ethers.ZeroAddress,
          await fx.registry.getAddress(),
          await fx.vault.getAddress(),
          await fx.controller.getAddress(),
          2,
          fx.admin.address,
        ]),
      ).to.be.revertedWithCustomError(fx.deals, "StorageZeroAddress");
      await fx.deals.connect(fx.client).createDataSet(fx.storageDevice);
      await fx.deals.connect(fx.provider).acceptDataSet(1n);
      await fx.deals.connect(fx.client).addPieces(1n, [{ root: "0x" + "11".repeat(32), size: 2n ** 40n }]);
      const ds = await fx.deals.dataSet(1n);
      expect([ds.rate, ds.locked]).to.deep.equal([83_334n, 2_500_020n]); // 2,500,000 / 30, rounded up
    });
  });
});
