import { expect } from "chai";
import { getAddress, Wallet, ZeroAddress } from "ethers";
import { network } from "hardhat";

import {
  compareSettlementEntries,
  dataTransferDomain,
  settlementDigest,
  settlementEntriesHash,
  toHex,
  type Hex,
  type SettlementEntry,
} from "@hexmesh/protocol";

import { MESH } from "../helpers/credits.js";
import { COVERAGE, oracleWallets } from "../helpers/rewards.js";
import {
  asUsages,
  deploySettlementSystem,
  entriesFor,
  fundRouters,
  providerAddresses,
  routerWallets,
  signSettlement,
} from "../helpers/settlement.js";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

/** 3 routers with 50,000 credits each (1 MESH at $0.05), unlimited allowance; 2 providers. */
async function funded() {
  const sys = await deploySettlementSystem(ethers);
  const routers = routerWallets(3);
  await fundRouters(ethers, sys, routers, MESH(1));
  const providers = providerAddresses(2);
  return { sys, routers, providers, signers: sys.oracles.slice(0, 3) };
}

type Fx = Awaited<ReturnType<typeof funded>>;

async function endEpoch(fx: Fx, epoch: bigint) {
  await time.increaseTo(fx.sys.genesisTime + (epoch + 1n) * fx.sys.epochLength);
}

describe("DataTransferSettlement", function () {
  describe("settle", function () {
    it("consumes each router's credits for its providers, records usage per provider, once per epoch", async function () {
      const fx = await loadFixture(funded);
      const { sys, routers, providers } = fx;
      const entries = entriesFor(routers.slice(0, 2), providers, 1_000n);
      await endEpoch(fx, 0n);
      const sigs = await signSettlement(sys, fx.signers, 0n, entries);
      const creditsAddr = await sys.credits.getAddress();
      const meshBefore = await sys.token.balanceOf(creditsAddr);
      const tx = sys.settlement.settle(0n, 1n, asUsages(entries), sigs);
      for (const e of entries) {
        await expect(tx)
          .to.emit(sys.credits, "UsageRecorded")
          .withArgs(COVERAGE, 0n, getAddress(e.provider), e.credits, getAddress(e.router));
      }
      await expect(tx)
        .to.emit(sys.settlement, "EpochSettled")
        .withArgs(0n, settlementEntriesHash(entries), 4n, 4_000n, 1n);
      for (const r of routers.slice(0, 2)) expect(await sys.credits.balanceOf(r.address)).to.equal(48_000n);
      expect(await sys.credits.balanceOf(routers[2]!.address)).to.equal(50_000n);
      expect(await sys.credits.totalConsumed()).to.equal(4_000n);
      expect(await sys.settlement.nextEpoch()).to.equal(1n);
      // The credits are gone for good; the spender moved no MESH.
      expect(await sys.token.balanceOf(creditsAddr)).to.equal(meshBefore);
      expect(await sys.token.balanceOf(await sys.settlement.getAddress())).to.equal(0n);
      await expect(sys.settlement.settle(0n, 1n, asUsages(entries), sigs))
        .to.be.revertedWithCustomError(sys.settlement, "SettlementEpochSettled")
        .withArgs(0n, 1n);
    });

    it("settles epochs in order with gaps; an earlier epoch after a later one is refused", async function () {
      const fx = await loadFixture(funded);
      const entries = entriesFor(fx.routers.slice(0, 1), fx.providers.slice(0, 1), 5n);
      await endEpoch(fx, 3n);
      await fx.sys.settlement.settle(
        2n,
        1n,
        asUsages(entries),
        await signSettlement(fx.sys, fx.signers, 2n, entries),
      );
      await expect(
        fx.sys.settlement.settle(
          1n,
          1n,
          asUsages(entries),
          await signSettlement(fx.sys, fx.signers, 1n, entries),
        ),
      )
        .to.be.revertedWithCustomError(fx.sys.settlement, "SettlementEpochSettled")
        .withArgs(1n, 3n);
      await fx.sys.settlement.settle(
        3n,
        1n,
        asUsages(entries),
        await signSettlement(fx.sys, fx.signers, 3n, entries),
      );
      expect(await fx.sys.settlement.nextEpoch()).to.equal(4n);
    });

    it("refuses an epoch that has not ended", async function () {
      const fx = await loadFixture(funded);
      const entries = entriesFor(fx.routers.slice(0, 1), fx.providers.slice(0, 1), 5n);
      const endsAt = fx.sys.genesisTime + fx.sys.epochLength;
      await time.setNextBlockTimestamp(endsAt - 1n);
      await expect(
        fx.sys.settlement.settle(
          0n,
          1n,
          asUsages(entries),
          await signSettlement(fx.sys, fx.signers, 0n, entries),
        ),
      )
        .to.be.revertedWithCustomError(fx.sys.settlement, "SettlementEpochNotEnded")
        .withArgs(0n, endsAt);
    });

    it("refuses no entries, unsorted or duplicate pairs, and zero routers or providers", async function () {
      const fx = await loadFixture(funded);
      const { sys, signers } = fx;
      await endEpoch(fx, 0n);
      const sorted = entriesFor(fx.routers.slice(0, 2), fx.providers, 5n);
      const attempt = async (entries: SettlementEntry[]) =>
        sys.settlement.settle(0n, 1n, asUsages(entries), await signSettlement(sys, signers, 0n, entries));
      await expect(attempt([])).to.be.revertedWithCustomError(sys.settlement, "SettlementNoEntries");
      await expect(attempt([sorted[1]!, sorted[0]!]))
        .to.be.revertedWithCustomError(sys.settlement, "SettlementEntriesNotSorted")
        .withArgs(1n);
      await expect(attempt([sorted[0]!, sorted[2]!, sorted[1]!]))
        .to.be.revertedWithCustomError(sys.settlement, "SettlementEntriesNotSorted")
        .withArgs(2n);
      await expect(attempt([sorted[0]!, sorted[0]!]))
        .to.be.revertedWithCustomError(sys.settlement, "SettlementEntriesNotSorted")
        .withArgs(1n);
      await expect(attempt([{ ...sorted[0]!, provider: ZeroAddress as Hex }]))
        .to.be.revertedWithCustomError(sys.settlement, "SettlementZeroEntry")
        .withArgs(0n);
      await expect(attempt([{ ...sorted[0]!, router: ZeroAddress as Hex }]))
        .to.be.revertedWithCustomError(sys.settlement, "SettlementZeroEntry")
        .withArgs(0n);
      await expect(attempt([{ ...sorted[0]!, credits: 0n }])).to.be.revertedWithCustomError(
        sys.credits,
        "CreditsZeroAmount",
      );
    });

    it("leaves unpaid a router over its balance or its allowance and settles the others", async function () {
      const fx = await loadFixture(funded);
      const { sys, signers, providers } = fx;
      await endEpoch(fx, 0n);
      const [r0, r1] = fx.routers;
      const limited = routerWallets(1, "limited router");
      await fundRouters(ethers, sys, limited, MESH(1), 700n);
      const entries = [
        ...entriesFor([r0!], providers, 25_001n), // 50,002 > its 50,000 over two providers
        ...entriesFor([r1!], providers.slice(0, 1), 1_000n),
        ...entriesFor(limited, providers.slice(0, 1), 701n), // over its 700 allowance
      ].sort(compareSettlementEntries);
      const limitedBalance = await sys.credits.balanceOf(limited[0]!.address);
      const tx = sys.settlement.settle(
        0n,
        1n,
        asUsages(entries),
        await signSettlement(sys, signers, 0n, entries),
      );
      await expect(tx)
        .to.emit(sys.credits, "UsageUnpaid")
        .withArgs(COVERAGE, 0n, r0!.address, 50_002n)
        .and.to.emit(sys.credits, "UsageUnpaid")
        .withArgs(COVERAGE, 0n, limited[0]!.address, 701n)
        .and.to.emit(sys.credits, "UsageRecorded")
        .withArgs(COVERAGE, 0n, getAddress(providers[0]!), 1_000n, r1!.address);
      expect(await sys.credits.totalConsumed()).to.equal(1_000n);
      expect(await sys.credits.balanceOf(r0!.address)).to.equal(50_000n);
      expect(await sys.credits.balanceOf(limited[0]!.address)).to.equal(limitedBalance);
      expect(await sys.credits.allowance(limited[0]!.address, await sys.settlement.getAddress())).to.equal(
        700n,
      );
      expect(await sys.settlement.nextEpoch()).to.equal(1n);
      // Within the allowance the next epoch settles and spends it.
      await endEpoch(fx, 1n);
      const within = entriesFor(limited, providers.slice(0, 1), 700n);
      await sys.settlement.settle(1n, 1n, asUsages(within), await signSettlement(sys, signers, 1n, within));
      expect(await sys.credits.allowance(limited[0]!.address, await sys.settlement.getAddress())).to.equal(
        0n,
      );
    });

    it("refuses a settlement once governance removed it as a spender", async function () {
      const fx = await loadFixture(funded);
      const { sys, signers } = fx;
      await endEpoch(fx, 0n);
      const settlementAddr = await sys.settlement.getAddress();
      await sys.credits.connect(sys.admin).removeSpender(settlementAddr);
      const entries = entriesFor(fx.routers.slice(0, 1), fx.providers.slice(0, 1), 5n);
      await expect(
        sys.settlement.settle(0n, 1n, asUsages(entries), await signSettlement(sys, signers, 0n, entries)),
      )
        .to.be.revertedWithCustomError(sys.credits, "CreditsUnknownSpender")
        .withArgs(settlementAddr);
    });
  });

  describe("oracle signatures (the coverage distributor's set)", function () {
    it("needs the threshold of distinct current oracles, ascending", async function () {
      const fx = await loadFixture(funded);
      const { sys } = fx;
      await endEpoch(fx, 0n);
      const entries = entriesFor(fx.routers.slice(0, 1), fx.providers.slice(0, 1), 5n);
      const usages = asUsages(entries);
      const two = await signSettlement(sys, sys.oracles.slice(0, 2), 0n, entries);
      await expect(sys.settlement.settle(0n, 1n, usages, two))
        .to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesTooFew")
        .withArgs(2n, 3n);
      const descending = await signSettlement(sys, [...sys.oracles.slice(0, 3)].reverse(), 0n, entries);
      await expect(sys.settlement.settle(0n, 1n, usages, descending)).to.be.revertedWithCustomError(
        sys.settlement,
        "OracleSignaturesNotAscending",
      );
      const repeated = await signSettlement(
        sys,
        [sys.oracles[0]!, sys.oracles[0]!, sys.oracles[1]!],
        0n,
        entries,
      );
      await expect(sys.settlement.settle(0n, 1n, usages, repeated))
        .to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesNotAscending")
        .withArgs(1n, sys.oracles[0]!.address);
      const outsider = new Wallet("0x" + "77".repeat(32));
      const withOutsider = await signSettlement(
        sys,
        [...sys.oracles.slice(0, 2), outsider].sort((a, b) =>
          BigInt(a.address) < BigInt(b.address) ? -1 : 1,
        ),
        0n,
        entries,
      );
      await expect(sys.settlement.settle(0n, 1n, usages, withOutsider))
        .to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesNotOracle")
        .withArgs(outsider.address);
      const good = await signSettlement(sys, fx.signers, 0n, entries);
      await expect(sys.settlement.settle(0n, 1n, usages, good + "00"))
        .to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesBadLength")
        .withArgs(196n);
      const zeroS = good.slice(0, 2 + 64) + "00".repeat(32) + "1c" + good.slice(2 + 130);
      await expect(sys.settlement.settle(0n, 1n, usages, zeroS))
        .to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesInvalid")
        .withArgs(0n);
      // Signed over other entries: recovers to strangers.
      const otherEntries = entriesFor(fx.routers.slice(0, 1), fx.providers.slice(0, 1), 6n);
      const forOther = await signSettlement(sys, fx.signers, 0n, otherEntries);
      await expect(sys.settlement.settle(0n, 1n, usages, forOther)).to.be.revert(ethers);
      // Signed for another settlement contract (domain binds the contract).
      const elsewhere = await signSettlement(sys, fx.signers, 0n, entries, 1n, "0x" + "12".repeat(20));
      await expect(sys.settlement.settle(0n, 1n, usages, elsewhere)).to.be.revert(ethers);
      await sys.settlement.settle(0n, 1n, usages, good);
    });

    it("refuses a settlement signed by an old oracle set", async function () {
      const fx = await loadFixture(funded);
      const { sys } = fx;
      await endEpoch(fx, 0n);
      const entries = entriesFor(fx.routers.slice(0, 1), fx.providers.slice(0, 1), 5n);
      const oldSigs = await signSettlement(sys, fx.signers, 0n, entries, 1n);
      const next = oracleWallets(3, "next oracle set").sort((a, b) =>
        BigInt(a.address) < BigInt(b.address) ? -1 : 1,
      );
      await sys.distributor.connect(sys.admin).setOracleSet(
        next.map((w) => w.address),
        2,
      );
      await expect(sys.settlement.settle(0n, 1n, asUsages(entries), oldSigs))
        .to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesStaleOracleSet")
        .withArgs(1n, 2n);
      // The old members signing for the new version are not oracles any more.
      const oldMembersNewVersion = await signSettlement(sys, fx.signers, 0n, entries, 2n);
      await expect(
        sys.settlement.settle(0n, 2n, asUsages(entries), oldMembersNewVersion),
      ).to.be.revertedWithCustomError(sys.settlement, "OracleSignaturesNotOracle");
      const newSigs = await signSettlement(sys, next.slice(0, 2), 0n, entries, 2n);
      await expect(sys.settlement.settle(0n, 2n, asUsages(entries), newSigs)).to.emit(
        sys.settlement,
        "EpochSettled",
      );
    });

    it("signs what the protocol package hashes (digest and entries hash)", async function () {
      const fx = await loadFixture(funded);
      const entries = entriesFor(fx.routers, fx.providers, 123n);
      const hash = settlementEntriesHash(entries);
      expect(await fx.sys.settlement.entriesHash(asUsages(entries))).to.equal(hash);
      const domain = dataTransferDomain(fx.sys.chainId, await fx.sys.settlement.getAddress());
      expect(await fx.sys.settlement.settlementDigest(7n, hash, 3n)).to.equal(
        toHex(settlementDigest(domain, { epoch: 7n, entriesHash: hash, oracleSetVersion: 3n })),
      );
    });
  });

  describe("price per packet", function () {
    it("is set by governance within bounds, from the next epoch on", async function () {
      const fx = await loadFixture(funded);
      const { sys } = fx;
      expect(await sys.settlement.creditsPerPacketAt(0n)).to.equal(1n);
      await expect(
        sys.settlement.connect(fx.sys.treasury).setCreditsPerPacket(2n),
      ).to.be.revertedWithCustomError(sys.settlement, "AccessControlUnauthorizedAccount");
      for (const bad of [0n, 10_001n]) {
        await expect(sys.settlement.connect(sys.admin).setCreditsPerPacket(bad))
          .to.be.revertedWithCustomError(sys.settlement, "SettlementPriceOutOfBounds")
          .withArgs(bad);
      }
      await time.increaseTo(sys.genesisTime + 2n * sys.epochLength + 10n); // epoch 2
      await expect(sys.settlement.connect(sys.admin).setCreditsPerPacket(10n))
        .to.emit(sys.settlement, "CreditsPerPacketChanged")
        .withArgs(3n, 1n, 10n);
      // A second change in the same epoch replaces the waiting one; epoch 2 keeps its price.
      await sys.settlement.connect(sys.admin).setCreditsPerPacket(10_000n);
      expect(await sys.settlement.creditsPerPacketAt(2n)).to.equal(1n);
      expect(await sys.settlement.creditsPerPacketAt(3n)).to.equal(10_000n);
      await time.increaseTo(sys.genesisTime + 5n * sys.epochLength); // epoch 5: the change is in force
      await sys.settlement.connect(sys.admin).setCreditsPerPacket(7n);
      expect(await sys.settlement.creditsPerPacketAt(5n)).to.equal(10_000n);
      expect(await sys.settlement.creditsPerPacketAt(6n)).to.equal(7n);
      expect(await sys.settlement.creditsPerPacketAt(2n)).to.equal(10_000n); // only the last change is kept
    });

    it("before genesis, a change applies from epoch 1", async function () {
      const sys = await deploySettlementSystem(ethers, { genesisOffset: 3_600n });
      await expect(sys.settlement.connect(sys.admin).setCreditsPerPacket(3n))
        .to.emit(sys.settlement, "CreditsPerPacketChanged")
        .withArgs(1n, 1n, 3n);
      expect(await sys.settlement.creditsPerPacketAt(0n)).to.equal(1n);
      expect(await sys.settlement.creditsPerPacketAt(1n)).to.equal(3n);
    });

    it("checks its constructor arguments and exposes its wiring", async function () {
      const fx = await loadFixture(funded);
      const { sys } = fx;
      const args: [string, string, string, string] = [
        await sys.credits.getAddress(),
        await sys.distributor.getAddress(),
        await sys.controller.getAddress(),
        sys.admin.address,
      ];
      const factory = await ethers.getContractFactory("DataTransferSettlement");
      for (let i = 0; i < 4; i++) {
        const bad: [string, string, string, string] = [...args];
        bad[i] = ZeroAddress;
        await expect(factory.deploy(...bad, 1n)).to.be.revertedWithCustomError(
          factory,
          "SettlementZeroAddress",
        );
      }
      await expect(factory.deploy(...args, 0n)).to.be.revertedWithCustomError(
        factory,
        "SettlementPriceOutOfBounds",
      );
      expect(await sys.settlement.credits()).to.equal(args[0]);
      expect(await sys.settlement.distributor()).to.equal(args[1]);
      expect(await sys.settlement.epochClock()).to.deep.equal([sys.genesisTime, sys.epochLength]);
    });
  });

  describe("UsageCredits.consumeBatch", function () {
    it("is for registered spenders only, refuses zero credits, spends one run per account", async function () {
      const fx = await loadFixture(funded);
      const { sys } = fx;
      const [outsider] = await ethers.getSigners();
      const usage = [{ account: fx.routers[0]!.address, provider: fx.providers[0]!, credits: 1n }];
      await expect(sys.credits.connect(outsider!).consumeBatch(0n, usage))
        .to.be.revertedWithCustomError(sys.credits, "CreditsUnknownSpender")
        .withArgs(outsider!.address);
      // A spender that is an EOA, to call it directly.
      await sys.credits.connect(sys.admin).registerSpender(outsider!.address, COVERAGE);
      const r = fx.routers[1]!.connect(ethers.provider);
      await outsider!.sendTransaction({ to: r.address, value: 10n ** 18n });
      await sys.credits.connect(r).approveSpender(outsider!.address, 30_000n);
      const batch = [
        { account: r.address, provider: fx.providers[0]!, credits: 10_000n },
        { account: r.address, provider: fx.providers[1]!, credits: 15_000n },
      ];
      await expect(
        sys.credits.connect(outsider!).consumeBatch(4n, [{ ...batch[0]!, credits: 0n }]),
      ).to.be.revertedWithCustomError(sys.credits, "CreditsZeroAmount");
      await expect(sys.credits.connect(outsider!).consumeBatch(4n, batch))
        .to.emit(sys.credits, "UsageRecorded")
        .withArgs(COVERAGE, 4n, getAddress(fx.providers[1]!), 15_000n, r.address);
      expect(await sys.credits.balanceOf(r.address)).to.equal(25_000n);
      expect(await sys.credits.allowance(r.address, outsider!.address)).to.equal(5_000n);
      expect(await sys.credits.totalConsumed()).to.equal(25_000n);
      // Over the allowance now: the run is skipped whole, nothing consumed or recorded, no revert.
      const skipped = await (await sys.credits.connect(outsider!).consumeBatch(4n, batch)).wait();
      const names = skipped!.logs.map((l) => sys.credits.interface.parseLog(l)?.name);
      expect(names).to.deep.equal(["UsageUnpaid"]);
      expect(await sys.credits.balanceOf(r.address)).to.equal(25_000n);
      expect(await sys.credits.allowance(r.address, outsider!.address)).to.equal(5_000n);
      expect(await sys.credits.totalConsumed()).to.equal(25_000n);
    });
  });
});
