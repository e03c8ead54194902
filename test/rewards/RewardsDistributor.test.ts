import { expect } from "chai";
import {
  concat,
  getBytes,
  hexlify,
  keccak256,
  Signature,
  toBeHex,
  toUtf8Bytes,
  TypedDataEncoder,
  Wallet,
  type Wallet as WalletT,
} from "ethers";
import { network } from "hardhat";

import type { ERC1271WalletMock, RewardsDistributor } from "../../typechain-types/index.js";
import {
  buildTree,
  byAddress,
  CLAIM_TYPES,
  COMPUTE,
  COVERAGE,
  DEFAULT_ADMIN_ROLE,
  deployRewardsSystem,
  distributorDomain,
  EPOCH_ROOT_TYPES,
  FUNDER_ROLE,
  GUARDIAN_ROLE,
  MESH,
  oracleWallets,
  packedSignatures,
  proofOf,
  signClaim,
  signEpochRoot,
  totalOf,
  type ClaimValue,
  type Entry,
  type EpochRootValue,
  type RewardsSystem,
} from "../helpers/rewards.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const DATA_HASH = keccak256(toUtf8Bytes("epoch results"));

/** System with epochs 0..2 distributed: 3 x 600,000 MESH funded to the coverage distributor. */
async function funded() {
  const sys = await deployRewardsSystem(ethers, { oracles: 5, threshold: 3 });
  await time.increase(sys.epochLength * 3n);
  await sys.controller.distribute(3);
  const signers = await ethers.getSigners();
  const [alice, bob, carol, relayer, outsider] = signers.slice(4, 9);
  return { ...sys, alice: alice!, bob: bob!, carol: carol!, relayer: relayer!, outsider: outsider! };
}

type Fx = Awaited<ReturnType<typeof funded>>;

async function rootValue(
  fx: RewardsSystem,
  epoch: bigint,
  entries: Entry[],
  extra: Partial<EpochRootValue> = {},
) {
  const tree = buildTree(entries);
  const value: EpochRootValue = {
    epoch,
    root: tree.root,
    totalCumulative: totalOf(entries),
    dataHash: DATA_HASH,
    oracleSetVersion: await fx.distributor.oracleSetVersion(),
    ...extra,
  };
  return { tree, value };
}

async function post(
  fx: RewardsSystem,
  epoch: bigint,
  entries: Entry[],
  signers: WalletT[] = fx.oracles.slice(0, 3),
) {
  const { tree, value } = await rootValue(fx, epoch, entries);
  const sigs = await packedSignatures(signers, await distributorDomain(fx.distributor), value);
  const tx = await fx.distributor.postRoot(value, sigs);
  return { tree, value, tx };
}

/** Posts `entries` for `epoch` and waits out the challenge window. */
async function postLive(fx: RewardsSystem, epoch: bigint, entries: Entry[]) {
  const res = await post(fx, epoch, entries);
  await time.increase(fx.challengeWindow);
  return res;
}

async function deadlineIn(seconds: bigint) {
  return BigInt(await time.latest()) + seconds;
}

describe("RewardsDistributor", function () {
  describe("deployment", function () {
    it("records token, subnetwork, roles, oracle set v1 and the challenge window", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const d = fx.distributor;
      expect(await d.token()).to.equal(await fx.token.getAddress());
      expect(await d.subnetwork()).to.equal(COVERAGE);
      expect(await d.hasRole(DEFAULT_ADMIN_ROLE, fx.admin.address)).to.equal(true);
      expect(await d.hasRole(GUARDIAN_ROLE, fx.guardian.address)).to.equal(true);
      expect(await d.hasRole(FUNDER_ROLE, await fx.controller.getAddress())).to.equal(true);
      expect(await d.hasRole(DEFAULT_ADMIN_ROLE, fx.guardian.address)).to.equal(false);
      expect(await d.oracleSetVersion()).to.equal(1n);
      expect(await d.threshold()).to.equal(3n);
      expect(await d.oracles()).to.deep.equal(fx.oracles.map((o) => o.address));
      for (const o of fx.oracles) expect(await d.isOracle(o.address)).to.equal(true);
      expect(await d.isOracle(fx.alice.address)).to.equal(false);
      expect(await d.challengeWindow()).to.equal(6n * 3600n);
      expect(await d.DEFAULT_CHALLENGE_WINDOW()).to.equal(6n * 3600n);
      expect(await d.liveRoot()).to.deep.equal([0n, ethers.ZeroHash, 0n]);
      expect(await d.pendingRoot()).to.deep.equal([0n, ethers.ZeroHash, 0n, 0n]);
      expect(await d.paused()).to.equal(false);
    });

    it("rejects zero arguments, bad oracle sets and out-of-bounds windows", async function () {
      const [admin, guardian] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("RewardsDistributor");
      const token = Wallet.createRandom().address;
      const os = oracleWallets(3).map((o) => o.address);
      const good = [token, COVERAGE, admin!.address, guardian!.address, os, 2, 6 * 3600] as const;
      const variants: [number, unknown][] = [
        [0, ethers.ZeroAddress],
        [1, ethers.ZeroHash],
        [2, ethers.ZeroAddress],
        [3, ethers.ZeroAddress],
      ];
      for (const [i, v] of variants) {
        const args: unknown[] = [...good];
        args[i] = v;
        await expect(
          factory.deploy(...(args as Parameters<typeof factory.deploy>)),
        ).to.be.revertedWithCustomError(factory, "DistributorZeroArgument");
      }
      const badSets: [string[], number][] = [
        [[], 0],
        [os, 0],
        [os, 4],
        [[os[0]!, os[1]!, os[0]!], 2],
        [[os[0]!, ethers.ZeroAddress], 1],
        [oracleWallets(33).map((o) => o.address), 3],
      ];
      for (const [set, k] of badSets) {
        await expect(
          factory.deploy(token, COVERAGE, admin!.address, guardian!.address, set, k, 6 * 3600),
        ).to.be.revertedWithCustomError(factory, "DistributorInvalidOracleSet");
      }
      for (const w of [3599, 7 * 86400 + 1]) {
        await expect(factory.deploy(token, COVERAGE, admin!.address, guardian!.address, os, 2, w))
          .to.be.revertedWithCustomError(factory, "DistributorChallengeWindowOutOfBounds")
          .withArgs(w);
      }
      const max = await factory.deploy(
        token,
        COVERAGE,
        admin!.address,
        guardian!.address,
        oracleWallets(32).map((o) => o.address),
        32,
        3600,
      );
      expect(await max.threshold()).to.equal(32n);
    });
  });

  describe("fundEpoch", function () {
    async function withFunder() {
      const fx = await deployRewardsSystem(ethers, {});
      const [, , , , funder, other] = await ethers.getSigners();
      await fx.distributor.connect(fx.admin).grantRole(FUNDER_ROLE, funder!.address);
      return { ...fx, funder: funder!, other: other! };
    }

    it("records strictly increasing epochs (gaps allowed) and the running total", async function () {
      const { distributor, funder } = await networkHelpers.loadFixture(withFunder);
      expect(await distributor.funding()).to.deep.equal([0n, 0n, 0n, false]);
      await expect(distributor.connect(funder).fundEpoch(5, 100n))
        .to.emit(distributor, "EpochFunded")
        .withArgs(5n, 100n, 100n);
      await expect(distributor.connect(funder).fundEpoch(6, 0n))
        .to.emit(distributor, "EpochFunded")
        .withArgs(6n, 0n, 100n);
      await distributor.connect(funder).fundEpoch(9, 50n);
      expect(await distributor.funding()).to.deep.equal([150n, 5n, 9n, true]);
    });

    it("refuses a repeated or earlier epoch, and the last uint64 epoch", async function () {
      const { distributor, funder } = await networkHelpers.loadFixture(withFunder);
      await distributor.connect(funder).fundEpoch(5, 1n);
      await expect(distributor.connect(funder).fundEpoch(5, 1n))
        .to.be.revertedWithCustomError(distributor, "DistributorFundingOutOfOrder")
        .withArgs(5n, 6n);
      await expect(distributor.connect(funder).fundEpoch(4, 1n))
        .to.be.revertedWithCustomError(distributor, "DistributorFundingOutOfOrder")
        .withArgs(4n, 6n);
      await expect(distributor.connect(funder).fundEpoch(2n ** 64n - 1n, 1n)).to.be.revertedWithCustomError(
        distributor,
        "DistributorFundingOutOfOrder",
      );
    });

    it("refuses totals beyond uint128 and any caller without FUNDER_ROLE", async function () {
      const { distributor, funder, other, guardian } = await networkHelpers.loadFixture(withFunder);
      await expect(distributor.connect(funder).fundEpoch(1, 2n ** 128n)).to.be.revertedWithCustomError(
        distributor,
        "SafeCastOverflowedUintDowncast",
      );
      for (const who of [other, guardian]) {
        await expect(distributor.connect(who).fundEpoch(1, 1n))
          .to.be.revertedWithCustomError(distributor, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, FUNDER_ROLE);
      }
    });
  });

  describe("postRoot", function () {
    it("accepts k signatures of ascending oracles and makes the root pending for the window", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const entries: Entry[] = [
        [fx.alice.address, MESH(10)],
        [fx.bob.address, MESH(20)],
      ];
      const { tree, value } = await rootValue(fx, 0n, entries);
      const sigs = await packedSignatures(
        fx.oracles.slice(1, 4),
        await distributorDomain(fx.distributor),
        value,
      );
      const tx = fx.distributor.connect(fx.outsider).postRoot(value, sigs);
      // From the mined block: a slow run (coverage) can see the wall clock move a second between blocks.
      const receipt = await (await tx).wait();
      const readyAt = BigInt((await receipt!.getBlock()).timestamp) + fx.challengeWindow;
      await expect(tx)
        .to.emit(fx.distributor, "RootPosted")
        .withArgs(0n, tree.root, MESH(30), DATA_HASH, 1n, readyAt);
      expect(await fx.distributor.pendingRoot()).to.deep.equal([0n, tree.root, MESH(30), readyAt]);
      expect(await fx.distributor.liveRoot()).to.deep.equal([0n, ethers.ZeroHash, 0n]);
      await time.increaseTo(readyAt - 1n);
      expect((await fx.distributor.pendingRoot())[1]).to.equal(tree.root);
      await time.increaseTo(readyAt);
      // Lazily live: the views already count it.
      expect(await fx.distributor.liveRoot()).to.deep.equal([0n, tree.root, MESH(30)]);
      expect(await fx.distributor.pendingRoot()).to.deep.equal([0n, ethers.ZeroHash, 0n, 0n]);
    });

    it("accepts more than k signatures (all 5 of 5)", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], fx.oracles).then((r) => r.tx)).to.emit(
        fx.distributor,
        "RootPosted",
      );
    });

    it("promotes a matured pending root before posting the next epoch", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const first = await postLive(fx, 0n, [[fx.alice.address, MESH(1)]]);
      const { tx, value } = await post(fx, 1n, [[fx.alice.address, MESH(2)]]);
      await expect(tx)
        .to.emit(fx.distributor, "RootFinalized")
        .withArgs(0n, first.value.root, MESH(1))
        .and.to.emit(fx.distributor, "RootPosted");
      expect(await fx.distributor.liveRoot()).to.deep.equal([0n, first.value.root, MESH(1)]);
      expect((await fx.distributor.pendingRoot())[1]).to.equal(value.root);
    });

    it("allows skipping epochs, since leaves are cumulative", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await postLive(fx, 0n, [[fx.alice.address, MESH(1)]]);
      await expect(post(fx, 2n, [[fx.alice.address, MESH(3)]]).then((r) => r.tx)).to.emit(
        fx.distributor,
        "RootPosted",
      );
    });

    it("refuses a post while a root is pending in its window", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { value } = await post(fx, 0n, [[fx.alice.address, 1n]]);
      const readyAt = (await fx.distributor.pendingRoot())[3];
      void value;
      await expect(post(fx, 1n, [[fx.alice.address, 2n]]))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorRootPending")
        .withArgs(0n, readyAt);
    });

    it("refuses an epoch that is not after the live epoch (wrong epoch)", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await postLive(fx, 1n, [[fx.alice.address, 1n]]);
      await fx.distributor.finalize();
      for (const epoch of [1n, 0n]) {
        await expect(post(fx, epoch, [[fx.alice.address, 2n]]))
          .to.be.revertedWithCustomError(fx.distributor, "DistributorEpochNotAfterLive")
          .withArgs(epoch, 1n);
      }
    });

    it("refuses an unfunded epoch: nothing funded, beyond the last or before the first funded epoch", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await expect(post(fx, 3n, [[fx.alice.address, 1n]]))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorEpochNotFunded")
        .withArgs(3n);
      const fresh = await deployRewardsSystem(ethers, {});
      const [, , , , alice] = await ethers.getSigners();
      await expect(post(fresh, 0n, [[alice!.address, 0n]]))
        .to.be.revertedWithCustomError(fresh.distributor, "DistributorEpochNotFunded")
        .withArgs(0n);
      // A pool added later starts at a later epoch: its earlier epochs are not funded.
      const [, , , , funder] = await ethers.getSigners();
      await fresh.distributor.connect(fresh.admin).grantRole(FUNDER_ROLE, funder!.address);
      await fresh.distributor.connect(funder!).fundEpoch(7, MESH(1));
      await expect(post(fresh, 6n, [[alice!.address, 1n]]))
        .to.be.revertedWithCustomError(fresh.distributor, "DistributorEpochNotFunded")
        .withArgs(6n);
    });

    it("refuses a zero root", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { value } = await rootValue(fx, 0n, [[fx.alice.address, 1n]], { root: ethers.ZeroHash });
      const sigs = await packedSignatures(
        fx.oracles.slice(0, 3),
        await distributorDomain(fx.distributor),
        value,
      );
      await expect(fx.distributor.postRoot(value, sigs)).to.be.revertedWithCustomError(
        fx.distributor,
        "DistributorZeroRoot",
      );
    });

    it("refuses a total below the live total (decreasing) and above everything funded", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await postLive(fx, 0n, [[fx.alice.address, MESH(100)]]);
      await expect(post(fx, 1n, [[fx.alice.address, MESH(99)]]))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorTotalDecreased")
        .withArgs(MESH(99), MESH(100));
      const [totalFunded] = await fx.distributor.funding();
      expect(totalFunded).to.equal(MESH(1_800_000));
      await expect(post(fx, 1n, [[fx.alice.address, totalFunded + 1n]]))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorTotalExceedsFunded")
        .withArgs(totalFunded + 1n, totalFunded);
      // Exactly everything funded is fine, and an equal total is not a decrease.
      await expect(post(fx, 1n, [[fx.alice.address, totalFunded]]).then((r) => r.tx)).to.emit(
        fx.distributor,
        "RootPosted",
      );
    });

    it("refuses signatures for an old oracle set, even from oracles still in the new set", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const domain = await distributorDomain(fx.distributor);
      const { value } = await rootValue(fx, 0n, [[fx.alice.address, 1n]]);
      const oldSigs = await packedSignatures(fx.oracles.slice(0, 3), domain, value);
      // Same members, new version.
      await fx.distributor.connect(fx.admin).setOracleSet(
        fx.oracles.map((o) => o.address),
        3,
      );
      await expect(fx.distributor.postRoot(value, oldSigs))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorStaleOracleSet")
        .withArgs(1n, 2n);
      // Relabelling the old signatures with the new version does not help: the digest changed.
      const relabelled = { ...value, oracleSetVersion: 2n };
      await expect(fx.distributor.postRoot(relabelled, oldSigs)).to.be.revertedWithCustomError(
        fx.distributor,
        "DistributorNotOracle",
      );
      // Fresh signatures for version 2 work.
      await expect(
        fx.distributor.postRoot(
          relabelled,
          await packedSignatures(fx.oracles.slice(0, 3), domain, relabelled),
        ),
      ).to.emit(fx.distributor, "RootPosted");
    });

    it("refuses a signer removed from the set, and one never in it", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const removed = fx.oracles[0]!;
      await fx.distributor.connect(fx.admin).setOracleSet(
        fx.oracles.slice(1).map((o) => o.address),
        3,
      );
      expect(await fx.distributor.isOracle(removed.address)).to.equal(false);
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], fx.oracles.slice(0, 3)))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorNotOracle")
        .withArgs(removed.address);
      const stranger = new Wallet(keccak256(toUtf8Bytes("not an oracle")));
      const signers = byAddress([stranger, ...fx.oracles.slice(1, 3)]);
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], signers))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorNotOracle")
        .withArgs(stranger.address);
    });

    it("refuses too few signatures and a length that is not a multiple of 65", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], fx.oracles.slice(0, 2)))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorTooFewSignatures")
        .withArgs(2n, 3n);
      const { value } = await rootValue(fx, 0n, [[fx.alice.address, 1n]]);
      await expect(fx.distributor.postRoot(value, "0x"))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorTooFewSignatures")
        .withArgs(0n, 3n);
      const sigs = await packedSignatures(
        fx.oracles.slice(0, 3),
        await distributorDomain(fx.distributor),
        value,
      );
      await expect(fx.distributor.postRoot(value, sigs + "00"))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorBadSignaturesLength")
        .withArgs(196n);
    });

    it("refuses duplicate and unsorted signers", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const [o0, o1, o2] = fx.oracles;
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], [o0!, o1!, o1!]))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorSignersNotAscending")
        .withArgs(2n, o1!.address);
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], [o1!, o0!, o2!]))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorSignersNotAscending")
        .withArgs(1n, o0!.address);
    });

    it("refuses malformed signatures: high s and a bad v", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const domain = await distributorDomain(fx.distributor);
      const { value } = await rootValue(fx, 0n, [[fx.alice.address, 1n]]);
      const sigs = await Promise.all(fx.oracles.slice(0, 3).map((o) => signEpochRoot(o, domain, value)));
      const sig = Signature.from(sigs[1]!);
      // The malleable twin (n - s, flipped v) recovers the same key; ECDSA must refuse it.
      const highS = concat([sig.r, toBeHex(SECP256K1_N - BigInt(sig.s), 32), sig.v === 27 ? "0x1c" : "0x1b"]);
      await expect(fx.distributor.postRoot(value, concat([sigs[0]!, highS, sigs[2]!])))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidSignature")
        .withArgs(1n);
      const badV = concat([sig.r, sig.s, "0x1d"]);
      await expect(fx.distributor.postRoot(value, concat([sigs[0]!, badV, sigs[2]!])))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidSignature")
        .withArgs(1n);
    });

    it("refuses signatures made for another chain or another deployment", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { value } = await rootValue(fx, 0n, [[fx.alice.address, 1n]]);
      const otherChain = await distributorDomain(fx.distributor, { chainId: 1n });
      await expect(
        fx.distributor.postRoot(value, await packedSignatures(fx.oracles.slice(0, 3), otherChain, value)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorNotOracle");
      // A second distributor (another subnetwork) with the same oracles.
      const other = await ethers.deployContract("RewardsDistributor", [
        await fx.token.getAddress(),
        COMPUTE,
        fx.admin.address,
        fx.guardian.address,
        fx.oracles.map((o) => o.address),
        3,
        6 * 3600,
      ]);
      const otherDomain = await distributorDomain(fx.distributor, {
        verifyingContract: await other.getAddress(),
      });
      await expect(
        fx.distributor.postRoot(value, await packedSignatures(fx.oracles.slice(0, 3), otherDomain, value)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorNotOracle");
    });

    it("refuses a post while paused", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await fx.distributor.connect(fx.guardian).pause();
      await expect(post(fx, 0n, [[fx.alice.address, 1n]])).to.be.revertedWithCustomError(
        fx.distributor,
        "EnforcedPause",
      );
    });

    it("exposes the digests the oracles and owners sign", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const domain = await distributorDomain(fx.distributor);
      const { value } = await rootValue(fx, 2n, [[fx.alice.address, 5n]]);
      expect(await fx.distributor.epochRootDigest(value)).to.equal(
        TypedDataEncoder.hash(domain, EPOCH_ROOT_TYPES, value),
      );
      const claim: ClaimValue = {
        owner: fx.alice.address,
        cumulative: 5n,
        relayer: fx.relayer.address,
        fee: 1n,
        nonce: 0n,
        deadline: 123n,
      };
      expect(await fx.distributor.claimDigest(claim)).to.equal(
        TypedDataEncoder.hash(domain, CLAIM_TYPES, claim),
      );
    });
  });

  describe("veto and finalize", function () {
    it("lets the guardian veto a pending root during the window; the epoch can then be posted again", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const bad = await post(fx, 0n, [[fx.alice.address, MESH(1000)]]);
      await time.increase(fx.challengeWindow - 10n);
      await expect(fx.distributor.connect(fx.guardian).veto(0))
        .to.emit(fx.distributor, "RootVetoed")
        .withArgs(0n, bad.value.root, fx.guardian.address);
      expect(await fx.distributor.isVetoed(0, bad.value.root)).to.equal(true);
      expect(await fx.distributor.pendingRoot()).to.deep.equal([0n, ethers.ZeroHash, 0n, 0n]);
      await time.increase(fx.challengeWindow);
      expect(await fx.distributor.liveRoot()).to.deep.equal([0n, ethers.ZeroHash, 0n]);
      await expect(fx.distributor.finalize()).to.be.revertedWithCustomError(
        fx.distributor,
        "DistributorNothingToFinalize",
      );
      // The same signed root cannot come back ...
      const sigs = await packedSignatures(
        fx.oracles.slice(0, 3),
        await distributorDomain(fx.distributor),
        bad.value,
      );
      await expect(fx.distributor.postRoot(bad.value, sigs))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorRootVetoed")
        .withArgs(0n, bad.value.root);
      // ... but a corrected root for the same epoch can.
      const good = await post(fx, 0n, [[fx.alice.address, MESH(1)]]);
      await expect(good.tx).to.emit(fx.distributor, "RootPosted");
    });

    it("refuses a veto after the window (the root is live), for another epoch, with nothing pending, or by others", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await expect(fx.distributor.connect(fx.guardian).veto(0))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorNoPendingRoot")
        .withArgs(0n);
      await post(fx, 0n, [[fx.alice.address, 1n]]);
      await expect(fx.distributor.connect(fx.guardian).veto(1))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorNoPendingRoot")
        .withArgs(1n);
      await expect(fx.distributor.connect(fx.admin).veto(0))
        .to.be.revertedWithCustomError(fx.distributor, "AccessControlUnauthorizedAccount")
        .withArgs(fx.admin.address, GUARDIAN_ROLE);
      const readyAt = (await fx.distributor.pendingRoot())[3];
      await time.increaseTo(readyAt);
      await expect(fx.distributor.connect(fx.guardian).veto(0))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorChallengeWindowClosed")
        .withArgs(0n, readyAt);
    });

    it("lets the guardian veto while paused", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await post(fx, 0n, [[fx.alice.address, 1n]]);
      await fx.distributor.connect(fx.guardian).pause();
      await expect(fx.distributor.connect(fx.guardian).veto(0)).to.emit(fx.distributor, "RootVetoed");
    });

    it("finalize: anyone promotes a matured root once; not before the window ends", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { value } = await post(fx, 0n, [[fx.alice.address, MESH(1)]]);
      await expect(fx.distributor.connect(fx.outsider).finalize()).to.be.revertedWithCustomError(
        fx.distributor,
        "DistributorNothingToFinalize",
      );
      await time.increase(fx.challengeWindow);
      await expect(fx.distributor.connect(fx.outsider).finalize())
        .to.emit(fx.distributor, "RootFinalized")
        .withArgs(0n, value.root, MESH(1));
      expect(await fx.distributor.liveRoot()).to.deep.equal([0n, value.root, MESH(1)]);
      await expect(fx.distributor.finalize()).to.be.revertedWithCustomError(
        fx.distributor,
        "DistributorNothingToFinalize",
      );
    });

    it("a pending root survives an oracle set change (it was valid when posted)", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { value } = await post(fx, 0n, [[fx.alice.address, MESH(1)]]);
      await fx.distributor.connect(fx.admin).setOracleSet([fx.alice.address], 1);
      await time.increase(fx.challengeWindow);
      await expect(fx.distributor.finalize())
        .to.emit(fx.distributor, "RootFinalized")
        .withArgs(0n, value.root, MESH(1));
    });
  });

  describe("claim", function () {
    async function liveTree() {
      const fx = await funded();
      const entries: Entry[] = [
        [fx.alice.address, MESH(10)],
        [fx.bob.address, MESH(20)],
        [fx.carol.address, MESH(30)],
      ];
      const { tree } = await postLive(fx, 0n, entries);
      await fx.distributor.finalize();
      return { ...fx, tree, entries };
    }

    it("pays the owner its cumulative amount; anyone may submit; funds go to the owner", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      const before = await fx.token.balanceOf(await fx.distributor.getAddress());
      await expect(
        fx.distributor
          .connect(fx.outsider)
          .claim(fx.alice.address, MESH(10), proofOf(fx.tree, fx.alice.address)),
      )
        .to.emit(fx.distributor, "Claimed")
        .withArgs(fx.alice.address, MESH(10))
        .and.to.emit(fx.token, "Transfer")
        .withArgs(await fx.distributor.getAddress(), fx.alice.address, MESH(10));
      expect(await fx.token.balanceOf(fx.alice.address)).to.equal(MESH(10));
      expect(await fx.token.balanceOf(fx.outsider.address)).to.equal(0n);
      expect(await fx.token.balanceOf(await fx.distributor.getAddress())).to.equal(before - MESH(10));
      expect(await fx.distributor.claimed(fx.alice.address)).to.equal(MESH(10));
    });

    it("pays only the difference under a later root, however many epochs passed", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      await fx.distributor.claim(fx.alice.address, MESH(10), proofOf(fx.tree, fx.alice.address));
      const later = await postLive(fx, 2n, [
        [fx.alice.address, MESH(25)],
        [fx.bob.address, MESH(20)],
        [fx.carol.address, MESH(30)],
      ]);
      await expect(fx.distributor.claim(fx.alice.address, MESH(25), proofOf(later.tree, fx.alice.address)))
        .to.emit(fx.distributor, "Claimed")
        .withArgs(fx.alice.address, MESH(25))
        .and.to.emit(fx.token, "Transfer")
        .withArgs(await fx.distributor.getAddress(), fx.alice.address, MESH(15));
      expect(await fx.token.balanceOf(fx.alice.address)).to.equal(MESH(25));
    });

    it("pays every owner of a 100-owner tree (proofs 6 and 7 deep) exactly its leaf", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const owners = Array.from(
        { length: 100 },
        (_, i) => new Wallet(keccak256(toUtf8Bytes(`owner ${i}`))).address,
      );
      const entries: Entry[] = owners.map((o, i) => [o, MESH(1) + BigInt(i)]);
      const { tree } = await postLive(fx, 0n, entries);
      const depths = new Set<number>();
      for (const [i, [owner, cumulative]] of tree.entries()) {
        const proof = tree.getProof(i);
        depths.add(proof.length);
        await fx.distributor.connect(fx.outsider).claim(owner, cumulative, proof);
        expect(await fx.token.balanceOf(owner)).to.equal(cumulative);
      }
      expect([...depths].sort()).to.deep.equal([6, 7]);
    });

    it("refuses a double claim", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      const proof = proofOf(fx.tree, fx.bob.address);
      await fx.distributor.claim(fx.bob.address, MESH(20), proof);
      await expect(fx.distributor.claim(fx.bob.address, MESH(20), proof))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorNothingToClaim")
        .withArgs(fx.bob.address, MESH(20), MESH(20));
    });

    it("refuses a proof for another owner or another amount", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      const aliceProof = proofOf(fx.tree, fx.alice.address);
      await expect(fx.distributor.claim(fx.bob.address, MESH(10), aliceProof))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidProof")
        .withArgs(fx.bob.address, MESH(10));
      await expect(fx.distributor.claim(fx.alice.address, MESH(11), aliceProof))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidProof")
        .withArgs(fx.alice.address, MESH(11));
      await expect(fx.distributor.claim(fx.alice.address, MESH(10), []))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidProof")
        .withArgs(fx.alice.address, MESH(10));
    });

    it("refuses claims before any root is live, and against a root still in its window", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { tree } = await post(fx, 0n, [
        [fx.alice.address, MESH(1)],
        [fx.bob.address, MESH(2)],
      ]);
      await expect(
        fx.distributor.claim(fx.alice.address, MESH(1), proofOf(tree, fx.alice.address)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorNoLiveRoot");
    });

    it("promotes a matured pending root lazily when a claim proves against it", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const { tree, value } = await postLive(fx, 0n, [
        [fx.alice.address, MESH(1)],
        [fx.bob.address, MESH(2)],
      ]);
      await expect(fx.distributor.claim(fx.bob.address, MESH(2), proofOf(tree, fx.bob.address)))
        .to.emit(fx.distributor, "RootFinalized")
        .withArgs(0n, value.root, MESH(3))
        .and.to.emit(fx.distributor, "Claimed");
      await expect(fx.distributor.finalize()).to.be.revertedWithCustomError(
        fx.distributor,
        "DistributorNothingToFinalize",
      );
    });

    it("keeps paying under the live root while a newer root waits, and not after it replaced it", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      const newer = await post(fx, 1n, [
        [fx.alice.address, MESH(50)],
        [fx.bob.address, MESH(20)],
        [fx.bob.address.replace(/.$/, "0"), MESH(1)],
      ]);
      await fx.distributor.claim(fx.alice.address, MESH(10), proofOf(fx.tree, fx.alice.address));
      await expect(
        fx.distributor.claim(fx.alice.address, MESH(50), proofOf(newer.tree, fx.alice.address)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidProof");
      await time.increase(fx.challengeWindow);
      await fx.distributor.claim(fx.alice.address, MESH(50), proofOf(newer.tree, fx.alice.address));
      await expect(
        fx.distributor.claim(fx.carol.address, MESH(30), proofOf(fx.tree, fx.carol.address)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidProof");
      expect(await fx.token.balanceOf(fx.alice.address)).to.equal(MESH(50));
    });

    it("refuses a leaf above uint192 (a broken tree) without paying", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const huge = 2n ** 192n;
      // The posted total is what the oracles sign, not a sum the contract can check.
      const tree = buildTree([
        [fx.alice.address, huge],
        [fx.bob.address, 1n],
      ]);
      const value = {
        epoch: 0n,
        root: tree.root,
        totalCumulative: 1n,
        dataHash: DATA_HASH,
        oracleSetVersion: 1n,
      };
      await fx.distributor.postRoot(
        value,
        await packedSignatures(fx.oracles.slice(0, 3), await distributorDomain(fx.distributor), value),
      );
      await time.increase(fx.challengeWindow);
      await expect(fx.distributor.claim(fx.alice.address, huge, proofOf(tree, fx.alice.address)))
        .to.be.revertedWithCustomError(fx.distributor, "SafeCastOverflowedUintDowncast")
        .withArgs(192n, huge);
    });

    it("stops while paused (guardian) and resumes on unpause (guardian or admin)", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      await expect(fx.distributor.connect(fx.guardian).pause())
        .to.emit(fx.distributor, "Paused")
        .withArgs(fx.guardian.address);
      const proof = proofOf(fx.tree, fx.alice.address);
      await expect(fx.distributor.claim(fx.alice.address, MESH(10), proof)).to.be.revertedWithCustomError(
        fx.distributor,
        "EnforcedPause",
      );
      // The live root is still visible while paused.
      expect((await fx.distributor.liveRoot())[1]).to.equal(fx.tree.root);
      await fx.distributor.connect(fx.guardian).unpause();
      await fx.distributor.claim(fx.alice.address, MESH(10), proof);
      await fx.distributor.connect(fx.guardian).pause();
      await expect(fx.distributor.connect(fx.admin).unpause())
        .to.emit(fx.distributor, "Unpaused")
        .withArgs(fx.admin.address);
      await fx.distributor.claim(fx.bob.address, MESH(20), proofOf(fx.tree, fx.bob.address));
    });

    it("a root that matures while paused is live after unpause", async function () {
      const fx = await networkHelpers.loadFixture(liveTree);
      const newer = await post(fx, 1n, [
        [fx.alice.address, MESH(40)],
        [fx.bob.address, MESH(20)],
        [fx.carol.address, MESH(30)],
      ]);
      await fx.distributor.connect(fx.guardian).pause();
      await time.increase(fx.challengeWindow);
      await expect(fx.distributor.finalize()).to.emit(fx.distributor, "RootFinalized");
      await expect(
        fx.distributor.claim(fx.alice.address, MESH(40), proofOf(newer.tree, fx.alice.address)),
      ).to.be.revertedWithCustomError(fx.distributor, "EnforcedPause");
      await fx.distributor.connect(fx.guardian).unpause();
      await fx.distributor.claim(fx.alice.address, MESH(40), proofOf(newer.tree, fx.alice.address));
      expect(await fx.token.balanceOf(fx.alice.address)).to.equal(MESH(40));
    });
  });

  describe("claimWithSig", function () {
    async function gasless() {
      const fx = await funded();
      const owner = new Wallet(keccak256(toUtf8Bytes("gasless owner")), ethers.provider);
      const wallet = (await ethers.deployContract("ERC1271WalletMock", [
        fx.carol.address,
      ])) as unknown as ERC1271WalletMock;
      const entries: Entry[] = [
        [owner.address, MESH(10)],
        [await wallet.getAddress(), MESH(7)],
        [fx.bob.address, MESH(3)],
      ];
      const { tree } = await postLive(fx, 0n, entries);
      const domain = await distributorDomain(fx.distributor);
      return { ...fx, owner, wallet, tree, domain };
    }

    async function request(fx: Fx & { owner: WalletT }, over: Partial<ClaimValue> = {}): Promise<ClaimValue> {
      return {
        owner: fx.owner.address,
        cumulative: MESH(10),
        relayer: fx.relayer.address,
        fee: MESH(1),
        nonce: await fx.distributor.nonces(over.owner ?? fx.owner.address),
        deadline: await deadlineIn(3600n),
        ...over,
      };
    }

    it("pays the owner minus the fee, the fee to the relayer, and uses the nonce", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx);
      const sig = await signClaim(fx.owner, fx.domain, req);
      await expect(
        fx.distributor.connect(fx.relayer).claimWithSig(req, proofOf(fx.tree, fx.owner.address), sig),
      )
        .to.emit(fx.distributor, "Claimed")
        .withArgs(fx.owner.address, MESH(10))
        .and.to.emit(fx.distributor, "ClaimRelayed")
        .withArgs(fx.owner.address, fx.relayer.address, MESH(1), 0n);
      expect(await fx.token.balanceOf(fx.owner.address)).to.equal(MESH(9));
      expect(await fx.token.balanceOf(fx.relayer.address)).to.equal(MESH(1));
      expect(await fx.distributor.nonces(fx.owner.address)).to.equal(1n);
      expect(await fx.distributor.claimed(fx.owner.address)).to.equal(MESH(10));
    });

    it("with a zero relayer anyone submits and the submitter gets the fee; zero fee pays everything to the owner", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx, { relayer: ethers.ZeroAddress, fee: MESH(2) });
      await fx.distributor
        .connect(fx.outsider)
        .claimWithSig(req, proofOf(fx.tree, fx.owner.address), await signClaim(fx.owner, fx.domain, req));
      expect(await fx.token.balanceOf(fx.outsider.address)).to.equal(MESH(2));
      expect(await fx.token.balanceOf(fx.owner.address)).to.equal(MESH(8));
      const fx2 = await networkHelpers.loadFixture(gasless);
      const free = await request(fx2, { fee: 0n });
      await fx2.distributor
        .connect(fx2.relayer)
        .claimWithSig(
          free,
          proofOf(fx2.tree, fx2.owner.address),
          await signClaim(fx2.owner, fx2.domain, free),
        );
      expect(await fx2.token.balanceOf(fx2.owner.address)).to.equal(MESH(10));
      expect(await fx2.token.balanceOf(fx2.relayer.address)).to.equal(0n);
    });

    it("refuses a replayed signature (the nonce moved) and a wrong nonce", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx);
      const sig = await signClaim(fx.owner, fx.domain, req);
      const proof = proofOf(fx.tree, fx.owner.address);
      await fx.distributor.connect(fx.relayer).claimWithSig(req, proof, sig);
      await expect(fx.distributor.connect(fx.relayer).claimWithSig(req, proof, sig))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidNonce")
        .withArgs(fx.owner.address, 0n, 1n);
      const fx2 = await networkHelpers.loadFixture(gasless);
      const ahead = await request(fx2, { nonce: 5n });
      await expect(
        fx2.distributor
          .connect(fx2.relayer)
          .claimWithSig(
            ahead,
            proofOf(fx2.tree, fx2.owner.address),
            await signClaim(fx2.owner, fx2.domain, ahead),
          ),
      )
        .to.be.revertedWithCustomError(fx2.distributor, "DistributorInvalidNonce")
        .withArgs(fx2.owner.address, 5n, 0n);
    });

    it("refuses an expired claim", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx, { deadline: await deadlineIn(60n) });
      const sig = await signClaim(fx.owner, fx.domain, req);
      await time.increase(61);
      await expect(
        fx.distributor.connect(fx.relayer).claimWithSig(req, proofOf(fx.tree, fx.owner.address), sig),
      )
        .to.be.revertedWithCustomError(fx.distributor, "DistributorClaimExpired")
        .withArgs(req.deadline);
    });

    it("refuses another relayer than the one signed for", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx);
      const sig = await signClaim(fx.owner, fx.domain, req);
      await expect(
        fx.distributor.connect(fx.outsider).claimWithSig(req, proofOf(fx.tree, fx.owner.address), sig),
      )
        .to.be.revertedWithCustomError(fx.distributor, "DistributorWrongRelayer")
        .withArgs(fx.relayer.address, fx.outsider.address);
    });

    it("refuses a signature by someone else, or for another chain or deployment, or for other terms", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx);
      const proof = proofOf(fx.tree, fx.owner.address);
      const bad = [
        await signClaim(fx.alice, fx.domain, req),
        await signClaim(fx.owner, await distributorDomain(fx.distributor, { chainId: 10n }), req),
        await signClaim(
          fx.owner,
          await distributorDomain(fx.distributor, { verifyingContract: fx.bob.address }),
          req,
        ),
        await signClaim(fx.owner, fx.domain, { ...req, fee: 0n }),
        "0x1234",
      ];
      for (const sig of bad) {
        await expect(fx.distributor.connect(fx.relayer).claimWithSig(req, proof, sig))
          .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidClaimSignature")
          .withArgs(fx.owner.address);
      }
    });

    it("refuses a fee above the amount claimed", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx, { fee: MESH(10) + 1n });
      await expect(
        fx.distributor
          .connect(fx.relayer)
          .claimWithSig(req, proofOf(fx.tree, fx.owner.address), await signClaim(fx.owner, fx.domain, req)),
      )
        .to.be.revertedWithCustomError(fx.distributor, "DistributorFeeExceedsClaim")
        .withArgs(MESH(10) + 1n, MESH(10));
    });

    it("accepts a fee of the whole amount: the relayer gets it all, the owner nothing, the claim is spent", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx, { fee: MESH(10) });
      await expect(
        fx.distributor
          .connect(fx.relayer)
          .claimWithSig(req, proofOf(fx.tree, fx.owner.address), await signClaim(fx.owner, fx.domain, req)),
      )
        .to.emit(fx.distributor, "ClaimRelayed")
        .withArgs(fx.owner.address, fx.relayer.address, MESH(10), 0n);
      expect(await fx.token.balanceOf(fx.relayer.address)).to.equal(MESH(10));
      expect(await fx.token.balanceOf(fx.owner.address)).to.equal(0n);
      expect(await fx.distributor.claimed(fx.owner.address)).to.equal(MESH(10));
    });

    it("refuses a valid signature with a proof for another amount, and a claim with nothing left", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const req = await request(fx, { cumulative: MESH(11) });
      await expect(
        fx.distributor
          .connect(fx.relayer)
          .claimWithSig(req, proofOf(fx.tree, fx.owner.address), await signClaim(fx.owner, fx.domain, req)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidProof");
      await fx.distributor.claim(fx.owner.address, MESH(10), proofOf(fx.tree, fx.owner.address));
      const after = await request(fx);
      await expect(
        fx.distributor
          .connect(fx.relayer)
          .claimWithSig(
            after,
            proofOf(fx.tree, fx.owner.address),
            await signClaim(fx.owner, fx.domain, after),
          ),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorNothingToClaim");
    });

    it("accepts an ERC-1271 smart wallet's approval and refuses a wallet that says no", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      const walletAddress = await fx.wallet.getAddress();
      const req = await request(fx, { owner: walletAddress, cumulative: MESH(7), fee: MESH(1) });
      const sig = await signClaim(fx.carol, fx.domain, req); // the wallet's signer key
      const proof = proofOf(fx.tree, walletAddress);
      await fx.wallet.setRefuseAll(true);
      await expect(fx.distributor.connect(fx.relayer).claimWithSig(req, proof, sig))
        .to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidClaimSignature")
        .withArgs(walletAddress);
      await fx.wallet.setRefuseAll(false);
      // A key that is not the wallet's signer is refused too.
      await expect(
        fx.distributor
          .connect(fx.relayer)
          .claimWithSig(req, proof, await signClaim(fx.alice, fx.domain, req)),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidClaimSignature");
      await fx.distributor.connect(fx.relayer).claimWithSig(req, proof, sig);
      expect(await fx.token.balanceOf(walletAddress)).to.equal(MESH(6));
      expect(await fx.token.balanceOf(fx.relayer.address)).to.equal(MESH(1));
    });

    it("stops while paused", async function () {
      const fx = await networkHelpers.loadFixture(gasless);
      await fx.distributor.connect(fx.guardian).pause();
      const req = await request(fx);
      await expect(
        fx.distributor
          .connect(fx.relayer)
          .claimWithSig(req, proofOf(fx.tree, fx.owner.address), await signClaim(fx.owner, fx.domain, req)),
      ).to.be.revertedWithCustomError(fx.distributor, "EnforcedPause");
    });
  });

  describe("governance", function () {
    it("setOracleSet: admin only, bumps the version, replaces members and emits", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const next = byAddress(oracleWallets(4, "next set"));
      await expect(fx.distributor.connect(fx.guardian).setOracleSet([fx.alice.address], 1))
        .to.be.revertedWithCustomError(fx.distributor, "AccessControlUnauthorizedAccount")
        .withArgs(fx.guardian.address, DEFAULT_ADMIN_ROLE);
      await expect(
        fx.distributor.connect(fx.admin).setOracleSet(
          next.map((o) => o.address),
          3,
        ),
      )
        .to.emit(fx.distributor, "OracleSetChanged")
        .withArgs(
          2n,
          next.map((o) => o.address),
          3n,
        );
      expect(await fx.distributor.oracleSetVersion()).to.equal(2n);
      expect(await fx.distributor.oracles()).to.deep.equal(next.map((o) => o.address));
      expect(await fx.distributor.isOracle(fx.oracles[0]!.address)).to.equal(false);
      expect(await fx.distributor.isOracle(next[0]!.address)).to.equal(true);
      await expect(post(fx, 0n, [[fx.alice.address, 1n]], next.slice(0, 3)).then((r) => r.tx)).to.emit(
        fx.distributor,
        "RootPosted",
      );
      await expect(
        fx.distributor.connect(fx.admin).setOracleSet([fx.alice.address, fx.alice.address], 1),
      ).to.be.revertedWithCustomError(fx.distributor, "DistributorInvalidOracleSet");
    });

    it("setChallengeWindow: admin only, bounded, applies to roots posted afterwards", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      await expect(
        fx.distributor.connect(fx.guardian).setChallengeWindow(7200),
      ).to.be.revertedWithCustomError(fx.distributor, "AccessControlUnauthorizedAccount");
      for (const w of [3599n, 7n * 86400n + 1n]) {
        await expect(fx.distributor.connect(fx.admin).setChallengeWindow(w))
          .to.be.revertedWithCustomError(fx.distributor, "DistributorChallengeWindowOutOfBounds")
          .withArgs(w);
      }
      await post(fx, 0n, [[fx.alice.address, 1n]]);
      const firstReady = (await fx.distributor.pendingRoot())[3];
      await expect(fx.distributor.connect(fx.admin).setChallengeWindow(3600))
        .to.emit(fx.distributor, "ChallengeWindowChanged")
        .withArgs(3600n);
      expect((await fx.distributor.pendingRoot())[3]).to.equal(firstReady);
      await time.increaseTo(firstReady);
      await post(fx, 1n, [[fx.alice.address, 2n]]);
      expect((await fx.distributor.pendingRoot())[3]).to.equal(BigInt(await time.latest()) + 3600n);
    });

    it("pause is the guardian's alone; unpause is guardian's or admin's; neither can move funds", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      for (const who of [fx.admin, fx.outsider]) {
        await expect(fx.distributor.connect(who).pause())
          .to.be.revertedWithCustomError(fx.distributor, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, GUARDIAN_ROLE);
      }
      await fx.distributor.connect(fx.guardian).pause();
      await expect(fx.distributor.connect(fx.outsider).unpause())
        .to.be.revertedWithCustomError(fx.distributor, "AccessControlUnauthorizedAccount")
        .withArgs(fx.outsider.address, GUARDIAN_ROLE);
      await expect(fx.distributor.connect(fx.guardian).pause()).to.be.revertedWithCustomError(
        fx.distributor,
        "EnforcedPause",
      );
      await fx.distributor.connect(fx.guardian).unpause();
      await expect(fx.distributor.connect(fx.admin).unpause()).to.be.revertedWithCustomError(
        fx.distributor,
        "ExpectedPause",
      );
      // No function moves the distributor's tokens except a proven claim to its owner.
      const fns: string[] = [];
      fx.distributor.interface.forEachFunction((f) => fns.push(f.name));
      expect(fns.filter((n) => /withdraw|sweep|rescue|transfer|recover/i.test(n))).to.deep.equal([]);
    });
  });

  describe("signature packing", function () {
    it("packs r, s, v exactly as the contract slices them", async function () {
      const fx = await networkHelpers.loadFixture(funded);
      const domain = await distributorDomain(fx.distributor);
      const { value } = await rootValue(fx, 0n, [[fx.alice.address, 1n]]);
      const packed = await packedSignatures(fx.oracles.slice(0, 3), domain, value);
      expect(getBytes(packed).length).to.equal(195);
      const second = hexlify(getBytes(packed).slice(65, 130));
      expect(second).to.equal(await signEpochRoot(fx.oracles[1]!, domain, value));
    });
  });
});
