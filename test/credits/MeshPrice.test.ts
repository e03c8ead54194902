import { expect } from "chai";
import { keccak256, toUtf8Bytes, Wallet, ZeroAddress } from "ethers";
import { network } from "hardhat";

import { encodeType, MESH_PRICE_TYPES, quorumPriceDomain } from "@hexmesh/protocol";

import type { GovernedPrice, QuorumPrice } from "../../typechain-types/index.js";
import { signPriceReport, USD } from "../helpers/credits.js";
import { byAddress, oracleWallets } from "../helpers/rewards.js";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const HOUR = 3600n;
const DAY = 86_400n;

async function governed() {
  const [, admin, outsider] = await ethers.getSigners();
  const price = (await ethers.deployContract("GovernedPrice", [
    admin!.address,
    USD("1"),
  ])) as unknown as GovernedPrice;
  return { price, admin: admin!, outsider: outsider! };
}

async function quorum() {
  const [, admin, outsider] = await ethers.getSigners();
  const oracles = byAddress(oracleWallets(5, "hexmesh price oracle"));
  const price = (await ethers.deployContract("QuorumPrice", [
    admin!.address,
    oracles.map((o) => o.address),
    3,
  ])) as unknown as QuorumPrice;
  return { price, oracles, admin: admin!, outsider: outsider! };
}

/** Reference model: the step price's time-weighted mean from the hour boundary 24 h before `now`'s hour. */
function modelAverage(points: readonly [bigint, bigint][], now: bigint): bigint {
  const start0 = points[0]![0];
  const hour = now / HOUR;
  let from = hour >= 24n ? (hour - 24n) * HOUR : 0n;
  if (from < start0) from = start0;
  const last = points[points.length - 1]!;
  if (points.length === 1 || last[0] <= from) return last[1];
  let sum = 0n;
  for (let i = 0; i < points.length; i++) {
    const [t, p] = points[i]!;
    const end = i + 1 < points.length ? points[i + 1]![0] : now;
    const a = t > from ? t : from;
    if (end > a) sum += p * (end - a);
  }
  return sum / (now - from);
}

describe("MESH/USD price sources", function () {
  describe("GovernedPrice", function () {
    it("starts at the deploy price, fresh, with a 30-day life", async function () {
      const { price } = await loadFixture(governed);
      const [p, at] = await price.latestPrice();
      expect(p).to.equal(USD("1"));
      expect(at).to.equal(BigInt(await time.latest()));
      expect(await price.maxAge()).to.equal(30n * DAY);
      expect(await price.isFresh()).to.equal(true);
      expect(await price.creditPrice()).to.equal(USD("1"));
      expect(await price.rewardPrice()).to.equal(USD("1"));
      expect(await price.averagePrice()).to.equal(USD("1"));
      expect(await price.nextUpdateAt()).to.equal(at + DAY);
    });

    it("changes at most once a day, within +-20%, only by governance", async function () {
      const { price, admin, outsider } = await loadFixture(governed);
      await expect(price.connect(outsider).setPrice(USD("1.1"))).to.be.revertedWithCustomError(
        price,
        "AccessControlUnauthorizedAccount",
      );
      const [, at] = await price.latestPrice();
      await expect(price.connect(admin).setPrice(USD("1.1")))
        .to.be.revertedWithCustomError(price, "GovernedPriceTooSoon")
        .withArgs(at + DAY);
      await time.increaseTo(at + DAY);
      await expect(price.connect(admin).setPrice(USD("1.2") + 1n))
        .to.be.revertedWithCustomError(price, "GovernedPriceChangeOutOfBounds")
        .withArgs(USD("1.2") + 1n, USD("0.8"), USD("1.2"));
      await expect(price.connect(admin).setPrice(USD("0.8") - 1n)).to.be.revertedWithCustomError(
        price,
        "GovernedPriceChangeOutOfBounds",
      );
      await expect(price.connect(admin).setPrice(0n))
        .to.be.revertedWithCustomError(price, "GovernedPriceInvalid")
        .withArgs(0n);
      await expect(price.connect(admin).setPrice(USD("1.2"))).to.emit(price, "PriceUpdated");
      await time.increase(DAY);
      await price.connect(admin).setPrice(USD("0.96")); // -20% of 1.2
      expect((await price.latestPrice())[0]).to.equal(USD("0.96"));
    });

    it("refuses bad constructor arguments", async function () {
      const { price, admin } = await loadFixture(governed);
      await expect(
        ethers.deployContract("GovernedPrice", [ZeroAddress, USD("1")]),
      ).to.be.revertedWithCustomError(price, "GovernedPriceZeroAddress");
      await expect(ethers.deployContract("GovernedPrice", [admin.address, 0n])).to.be.revertedWithCustomError(
        price,
        "GovernedPriceInvalid",
      );
      await expect(
        ethers.deployContract("GovernedPrice", [admin.address, 10n ** 30n + 1n]),
      ).to.be.revertedWithCustomError(price, "GovernedPriceInvalid");
    });

    it("expires after 30 days: conversions revert, isFresh turns false", async function () {
      const { price } = await loadFixture(governed);
      const [, at] = await price.latestPrice();
      await time.increaseTo(at + 30n * DAY);
      expect(await price.isFresh()).to.equal(true);
      await time.increase(1);
      expect(await price.isFresh()).to.equal(false);
      await expect(price.creditPrice())
        .to.be.revertedWithCustomError(price, "PriceStale")
        .withArgs(at, at + 30n * DAY);
      await expect(price.rewardPrice()).to.be.revertedWithCustomError(price, "PriceStale");
      // The views that never revert still answer.
      expect(await price.averagePrice()).to.equal(USD("1"));
    });

    it("credit price is the lower and reward price the higher of latest and the 24-hour average", async function () {
      const { price, admin } = await loadFixture(governed);
      const points: [bigint, bigint][] = [[(await price.latestPrice())[1], USD("1")]];
      for (const [wait, p] of [
        [DAY, "1.2"],
        [DAY + 5n * HOUR, "1.0"],
        [DAY + 17n * HOUR + 123n, "0.85"],
        [3n * DAY + 7n, "1.02"],
      ] as const) {
        await time.increase(wait);
        await price.connect(admin).setPrice(USD(p));
        points.push([BigInt(await time.latest()), USD(p)]);
        for (const probe of [1n, 3n * HOUR + 17n, 23n * HOUR, 25n * HOUR]) {
          await time.increase(probe);
          await ethers.provider.send("evm_mine", []);
          const now = BigInt(await time.latest());
          const avg = await price.averagePrice();
          expect(avg).to.equal(modelAverage(points, now), `after ${p}, +${probe}s`);
          const latest = points[points.length - 1]![1];
          expect(await price.creditPrice()).to.equal(latest < avg ? latest : avg);
          expect(await price.rewardPrice()).to.equal(latest > avg ? latest : avg);
        }
      }
    });
  });

  describe("QuorumPrice", function () {
    async function reports(
      fx: Awaited<ReturnType<typeof quorum>>,
      prices: bigint[],
      at?: bigint,
      signers?: Wallet[],
    ) {
      const ts = at ?? BigInt(await time.latest());
      const who = signers ?? fx.oracles.slice(0, prices.length);
      return Promise.all(who.map((o, i) => signPriceReport(o, fx.price, prices[i]!, ts - BigInt(i))));
    }

    it("takes the median of at least k signed reports from distinct current oracles", async function () {
      const fx = await loadFixture(quorum);
      expect(await fx.price.isFresh()).to.equal(false);
      await expect(fx.price.creditPrice())
        .to.be.revertedWithCustomError(fx.price, "PriceStale")
        .withArgs(0n, HOUR);
      const now = BigInt(await time.latest());
      const r = await reports(fx, [USD("0.05"), USD("0.07"), USD("0.06"), USD("9")], now);
      await expect(fx.price.connect(fx.outsider).submit(r))
        .to.emit(fx.price, "PriceUpdated")
        .withArgs(USD("0.06"), now - 3n); // lower middle of 0.05 0.06 0.07 9; oldest report's time
      expect(await fx.price.isFresh()).to.equal(true);
      expect(await fx.price.creditPrice()).to.equal(USD("0.06"));
      expect(await fx.price.maxAge()).to.equal(HOUR);
      expect(await fx.price.threshold()).to.equal(3n);
      expect(await fx.price.oracles()).to.deep.equal(fx.oracles.map((o) => o.address));
      expect(await fx.price.MESH_PRICE_TYPEHASH()).to.equal(
        keccak256(toUtf8Bytes(encodeType("MeshPrice", MESH_PRICE_TYPES.MeshPrice))),
      );
      expect(await fx.price.priceDigest(USD("1"), 5n)).to.equal(
        ethers.TypedDataEncoder.hash(
          { ...quorumPriceDomain(31337n, await fx.price.getAddress()) },
          MESH_PRICE_TYPES,
          { price: USD("1"), timestamp: 5n },
        ),
      );
    });

    it("observes the price at the oldest report, whatever the order of their timestamps", async function () {
      const fx = await loadFixture(quorum);
      const now = BigInt(await time.latest());
      const r = await Promise.all(
        [now - 5n, now - 9n, now - 9n, now - 2n].map((t, i) =>
          signPriceReport(fx.oracles[i]!, fx.price, USD("0.01") * BigInt(i + 1), t),
        ),
      );
      await expect(fx.price.submit(r))
        .to.emit(fx.price, "PriceUpdated")
        .withArgs(USD("0.02"), now - 9n);
    });

    it("refuses too few, unordered, duplicated, forged and non-member reports", async function () {
      const fx = await loadFixture(quorum);
      const r = await reports(fx, [USD("1"), USD("1"), USD("1")]);
      await expect(fx.price.submit(r.slice(0, 2)))
        .to.be.revertedWithCustomError(fx.price, "QuorumPriceTooFewReports")
        .withArgs(2n, 3n);
      await expect(fx.price.submit([r[1]!, r[0]!, r[2]!]))
        .to.be.revertedWithCustomError(fx.price, "QuorumPriceSignersNotAscending")
        .withArgs(1n, fx.oracles[0]!.address);
      await expect(fx.price.submit([r[0]!, r[0]!, r[2]!])).to.be.revertedWithCustomError(
        fx.price,
        "QuorumPriceSignersNotAscending",
      );
      // A price other than the one signed recovers some other address: not an oracle.
      const altered = { ...r[0]!, price: USD("2") };
      await expect(fx.price.submit([altered, r[1]!, r[2]!])).to.be.revertedWithCustomError(
        fx.price,
        "QuorumPriceNotOracle",
      );
      await expect(fx.price.submit([r[0]!, r[1]!, { ...r[2]!, signature: "0x1234" }]))
        .to.be.revertedWithCustomError(fx.price, "QuorumPriceInvalidSignature")
        .withArgs(2n);
      const stranger = new Wallet(Wallet.createRandom().privateKey);
      const all = byAddress([...fx.oracles.slice(0, 2), stranger]);
      const mixed = await reports(fx, [USD("1"), USD("1"), USD("1")], undefined, all);
      await expect(fx.price.submit(mixed))
        .to.be.revertedWithCustomError(fx.price, "QuorumPriceNotOracle")
        .withArgs(stranger.address);
    });

    it("refuses reports from an old oracle set once governance replaces it", async function () {
      const fx = await loadFixture(quorum);
      const r = await reports(fx, [USD("1"), USD("1"), USD("1")]);
      const fresh = byAddress(oracleWallets(3, "next price oracles"));
      await expect(
        fx.price.connect(fx.outsider).setOracleSet([fresh[0]!.address], 1),
      ).to.be.revertedWithCustomError(fx.price, "AccessControlUnauthorizedAccount");
      await expect(
        fx.price.connect(fx.admin).setOracleSet(
          fresh.map((o) => o.address),
          2,
        ),
      )
        .to.emit(fx.price, "OracleSetChanged")
        .withArgs(
          2n,
          fresh.map((o) => o.address),
          2n,
        );
      expect(await fx.price.oracleSetVersion()).to.equal(2n);
      await expect(fx.price.submit(r)).to.be.revertedWithCustomError(fx.price, "QuorumPriceNotOracle");
      await fx.price.submit(await reports(fx, [USD("2"), USD("3")], undefined, fresh.slice(0, 2)));
      expect((await fx.price.latestPrice())[0]).to.equal(USD("2"));
      for (const [set, k] of [
        [[], 1],
        [[fresh[0]!.address], 2],
        [[fresh[0]!.address], 0],
        [[fresh[0]!.address, fresh[0]!.address], 1],
        [[ZeroAddress], 1],
        [Array.from({ length: 33 }, () => Wallet.createRandom().address), 1],
      ] as const) {
        await expect(fx.price.connect(fx.admin).setOracleSet([...set], k)).to.be.revertedWithCustomError(
          fx.price,
          "QuorumPriceInvalidOracleSet",
        );
      }
    });

    it("refuses stale, future, replayed and out-of-range reports; a price older than an hour is stale", async function () {
      const fx = await loadFixture(quorum);
      const now = BigInt(await time.latest());
      await expect(fx.price.submit(await reports(fx, [USD("1"), USD("1"), USD("1")], now + 10n)))
        .to.be.revertedWithCustomError(fx.price, "QuorumPriceReportOutOfWindow")
        .withArgs(now + 10n);
      const old = await reports(fx, [USD("1"), USD("1"), USD("1")], now - HOUR + 1n);
      await expect(fx.price.submit(old)).to.be.revertedWithCustomError(
        fx.price,
        "QuorumPriceReportOutOfWindow",
      );
      await expect(fx.price.submit(await reports(fx, [USD("1"), 0n, USD("1")])))
        .to.be.revertedWithCustomError(fx.price, "QuorumPriceInvalid")
        .withArgs(0n);
      await expect(
        fx.price.submit(await reports(fx, [USD("1"), 10n ** 30n + 1n, USD("1")])),
      ).to.be.revertedWithCustomError(fx.price, "QuorumPriceInvalid");
      const good = await reports(fx, [USD("1"), USD("1"), USD("1")]);
      await fx.price.submit(good);
      await expect(fx.price.submit(good)).to.be.revertedWithCustomError(fx.price, "QuorumPriceNotNewer");
      const [, observedAt] = await fx.price.latestPrice();
      await time.increaseTo(observedAt + HOUR + 1n);
      expect(await fx.price.isFresh()).to.equal(false);
      await expect(fx.price.creditPrice())
        .to.be.revertedWithCustomError(fx.price, "PriceStale")
        .withArgs(observedAt, observedAt + HOUR);
    });

    it("refuses a zero admin and a bad initial set", async function () {
      const fx = await loadFixture(quorum);
      await expect(
        ethers.deployContract("QuorumPrice", [ZeroAddress, [fx.oracles[0]!.address], 1]),
      ).to.be.revertedWithCustomError(fx.price, "QuorumPriceZeroAddress");
      await expect(
        ethers.deployContract("QuorumPrice", [fx.admin.address, [fx.oracles[0]!.address], 2]),
      ).to.be.revertedWithCustomError(fx.price, "QuorumPriceInvalidOracleSet");
    });

    it("keeps a true 24-hour average over frequent updates and long gaps", async function () {
      const fx = await loadFixture(quorum);
      const points: [bigint, bigint][] = [];
      const seq = [5n, 6n, 4n, 7n, 5n, 9n, 3n, 6n, 5n, 8n];
      const gaps = [
        0n,
        10n * 60n,
        2n * HOUR + 5n,
        30n * 60n,
        26n * HOUR,
        50n * 60n,
        11n * HOUR,
        3n * 60n,
        40n * HOUR,
        59n * 60n,
      ];
      for (let i = 0; i < seq.length; i++) {
        await time.increase(gaps[i]! + 1n);
        const p = USD("0.01") * seq[i]!;
        const r = await reports(fx, [p, p, p]);
        await fx.price.submit(r);
        points.push([(await fx.price.latestPrice())[1], p]);
        await ethers.provider.send("evm_mine", []);
        const now = BigInt(await time.latest());
        expect(await fx.price.averagePrice()).to.equal(modelAverage(points, now), `step ${i}`);
      }
    });
  });
});
