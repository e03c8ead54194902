import { expect } from "chai";
import { id } from "ethers";
import fc from "fast-check";

import {
  auditEpochEncoding,
  ChainIndexError,
  ChainView,
  commitEpoch,
  computePayout,
  concatChunks,
  creditsValue,
  decodeEpochEncoding,
  DEFAULT_USAGE_PARAMS,
  ENCODING_VERSION,
  ENCODING_VERSION_USAGE,
  reconcileUsage,
  SUBNETWORK_COVERAGE,
  UsageError,
  usageRewards,
  type ChainIndex,
  type EpochUsage,
  type Hex,
  type UsageRecord,
} from "@hexmesh/protocol";

import { MESH, testWork, World } from "../../helpers/oracle.js";

/** $0.05 per MESH (18 decimals); credits are micro-USD, so 1 MESH buys 50,000 credits. */
const PRICE = 5n * 10n ** 16n;
const alice = "0x00000000000000000000000000000000000a11ce" as Hex;
const bob = "0x0000000000000000000000000000000000000b0b" as Hex;
const carol = "0x00000000000000000000000000000000000ca201" as Hex;
const router = "0x000000000000000000000000000000000000f00d" as Hex;

const record = (provider: Hex, credits: bigint, block: number, logIndex = 0): UsageRecord => ({
  provider,
  account: router,
  credits,
  block,
  logIndex,
});

const usageOf = (records: UsageRecord[], price = PRICE): EpochUsage => ({
  subnetwork: SUBNETWORK_COVERAGE,
  price,
  priceBlock: 100,
  records,
});

function setup() {
  const world = new World();
  world.addDevice("a1", { owner: alice }); // id 1
  world.addDevice("b1", { owner: bob, northM: 2000 }); // id 2
  world.pool = 1_000n * MESH;
  return world;
}

const work = testWork;
const bothWork = () =>
  work([
    { deviceId: 1n, weights: [1n, 1n], metrics: [] },
    { deviceId: 2n, weights: [1n, 3n], metrics: [] },
  ]);

const run = (index: ChainIndex, w = bothWork()) => {
  const chain = new ChainView(index);
  const payout = computePayout(chain, w);
  const commit = commitEpoch(chain, w, payout);
  return { chain, payout, commit, bytes: concatChunks(commit.encoding) };
};

describe("protocol / usage-linked rewards", function () {
  it("the coverage subnetwork id is keccak256 of its name, as the emissions controller and spenders use it", function () {
    expect(SUBNETWORK_COVERAGE).to.equal(id("hexmesh.subnetwork.coverage"));
  });

  it("values credits at the reward price less the fee, one floor: floor(c × (10^4 − fee) × 10^30 / (p × 10^4))", function () {
    // 50,000 credits ($0.05) at $0.05 per MESH = 1 MESH; less 5% = 0.95 MESH.
    expect(creditsValue(50_000n, PRICE, 500)).to.equal((95n * MESH) / 100n);
    // 1 credit at $0.05: 20 × 10^12 wei × 0.95 = 19 × 10^12.
    expect(creditsValue(1n, PRICE, 500)).to.equal(19n * 10n ** 12n);
    // Rounds down: 1 credit at $3 per MESH = 333,333,333,333.33 wei × 0.95 -> 316,666,666,666.
    expect(creditsValue(1n, 3n * 10n ** 18n, 500)).to.equal(316_666_666_666n);
    expect(creditsValue(50_000n, 0n, 500)).to.equal(0n);
    expect(creditsValue(0n, PRICE, 500)).to.equal(0n);
  });

  it("no usage record: the payout and the encoding are those without usage, byte for byte (version 1)", function () {
    const world = setup();
    const without = run(world.chain());
    const empty = run(world.chain({ usage: usageOf([]) }));
    expect(without.payout.usage).to.equal(null);
    expect(empty.payout).to.deep.equal(without.payout);
    expect(empty.commit.epochRoot).to.deep.equal(without.commit.epochRoot);
    expect(empty.bytes).to.deep.equal(without.bytes);
    expect(without.bytes[8]).to.equal(ENCODING_VERSION);
    expect(decodeEpochEncoding(without.bytes).usage).to.equal(null);
  });

  it("pays each provider its credits' value less the fee, the rest pays availability; one leaf per owner", function () {
    const world = setup();
    // bob carried 100,000 credits in two records, carol (no device) 50,000: 1.9 + 0.95 MESH.
    const records = [record(bob, 60_000n, 10, 1), record(carol, 50_000n, 10, 0), record(bob, 40_000n, 12)];
    const { payout, commit, bytes } = run(world.chain({ usage: usageOf(records) }));
    const u = payout.usage!;
    expect(u.usagePool).to.equal(800n * MESH);
    expect(u.providers).to.deep.equal([
      { provider: bob, credits: 100_000n, value: (190n * MESH) / 100n, reward: (190n * MESH) / 100n },
      { provider: carol, credits: 50_000n, value: (95n * MESH) / 100n, reward: (95n * MESH) / 100n },
    ]);
    const paid = (285n * MESH) / 100n;
    expect(u.paid).to.equal(paid);
    // availability: 1,000 − 2.85 MESH split 20/80 exactly as the pool would be without usage
    const availability = 1_000n * MESH - paid;
    expect(payout.poolAmounts).to.deep.equal([
      (availability * 2_000n) / 10_000n,
      availability - (availability * 2_000n) / 10_000n,
    ]);
    const bobDevice = payout.devices.find((d) => d.deviceId === 2n)!.amount;
    expect(payout.owners.find((o) => o.owner === bob)!.amount).to.equal(bobDevice + u.providers[0]!.reward);
    expect(payout.owners.find((o) => o.owner === carol)!.amount).to.equal(u.providers[1]!.reward);
    expect(payout.distributed + payout.dust).to.equal(1_000n * MESH);
    // version 2, decodes back, audits clean against its own root
    expect(bytes[8]).to.equal(ENCODING_VERSION_USAGE);
    const d = decodeEpochEncoding(bytes);
    expect(d.usage!.records.map((r) => [r.block, r.logIndex])).to.deep.equal([
      [10, 0],
      [10, 1],
      [12, 0],
    ]);
    expect(d.usage!.providers).to.deep.equal(u.providers);
    expect(d.usage!.price).to.equal(PRICE);
    expect(auditEpochEncoding(bytes, { posted: commit.epochRoot }).findings).to.deep.equal([]);
  });

  it("pro rata when the usage share runs short; never more than the value less the fee", function () {
    const world = setup();
    world.pool = 10n * MESH; // usage pool 8 MESH
    // $0.50 and $0.15 of credits at $0.05 per MESH: values 9.5 and 2.85 MESH, Σ 12.35 > 8
    const records = [record(alice, 500_000n, 1), record(bob, 150_000n, 2)];
    const { payout } = run(world.chain({ usage: usageOf(records) }));
    const u = payout.usage!;
    expect(u.totalValue).to.equal((1235n * MESH) / 100n);
    expect(u.providers.map((p) => p.reward)).to.deep.equal([
      (8n * MESH * u.providers[0]!.value) / u.totalValue,
      (8n * MESH * u.providers[1]!.value) / u.totalValue,
    ]);
    expect(u.paid <= u.usagePool).to.equal(true);
    for (const p of u.providers) expect(p.reward <= p.value).to.equal(true);
    // availability gets the 20% plus the usage pool's floor remainder
    expect(payout.poolAmounts.reduce((a, b) => a + b, 0n)).to.equal(10n * MESH - u.paid);
  });

  it("without a fresh price (0) usage earns nothing and availability gets the whole pool", function () {
    const world = setup();
    const base = run(world.chain());
    const { payout } = run(world.chain({ usage: usageOf([record(bob, 50_000n, 1)], 0n) }));
    expect(payout.usage!.paid).to.equal(0n);
    expect(payout.poolAmounts).to.deep.equal(base.payout.poolAmounts);
    expect(payout.owners).to.deep.equal(base.payout.owners);
  });

  it("refuses bad parameters and malformed usage records", function () {
    expect(() => usageRewards(1n, usageOf([]), { shareBps: 10_001, feeBps: 500 })).to.throw(UsageError);
    expect(() => usageRewards(1n, usageOf([]), { shareBps: 8_000, feeBps: -1 })).to.throw(UsageError);
    const world = setup();
    const bad =
      (records: UsageRecord[], over: Partial<EpochUsage> = {}) =>
      () =>
        new ChainView(world.chain({ usage: { ...usageOf(records), ...over } }));
    expect(bad([record(bob, 1n, 1), record(carol, 1n, 1)])).to.throw(ChainIndexError, /twice/);
    expect(bad([record(bob, 0n, 1)])).to.throw(ChainIndexError, /bad usage record/);
    expect(bad([{ ...record(bob, 1n, 1), provider: "0x1234" as Hex }])).to.throw(ChainIndexError);
    expect(bad([record(bob, 1n, -1)])).to.throw(ChainIndexError, /position/);
    expect(bad([], { subnetwork: "0x11" as Hex })).to.throw(ChainIndexError, /subnetwork/);
    expect(bad([], { price: -1n })).to.throw(ChainIndexError, /price/);
  });

  it("the audit catches a tampered usage reward and a leaf that does not hold it", function () {
    const world = setup();
    const { payout, chain } = run(world.chain({ usage: usageOf([record(carol, 50_000n, 3)]) }));
    const w = bothWork();
    const inflate = (reward: bigint, leaf: bigint) => {
      const forged = {
        ...payout,
        usage: {
          ...payout.usage!,
          paid: reward,
          providers: [{ ...payout.usage!.providers[0]!, reward }],
        },
        owners: payout.owners.map((o) => (o.owner === carol ? { ...o, amount: leaf, cumulative: leaf } : o)),
      };
      const c = commitEpoch(chain, w, forged);
      return auditEpochEncoding(concatChunks(c.encoding), { posted: c.epochRoot }).findings.map(
        (f) => f.code,
      );
    };
    const value = payout.usage!.providers[0]!.value;
    expect(inflate(value * 2n, value * 2n)).to.include("usage_mismatch");
    expect(inflate(value, value + 1n)).to.include("owner_amount_mismatch");
  });

  describe("reconciliation with the chain's logs", function () {
    const world = setup();
    const records = [record(bob, 100_000n, 5, 2), record(carol, 50_000n, 6)];
    const { bytes } = run(world.chain({ usage: usageOf(records) }));
    const published = decodeEpochEncoding(bytes);
    const chainUsage = { subnetwork: SUBNETWORK_COVERAGE, price: PRICE, records };

    it("agrees when the result pays exactly what the logs give", function () {
      expect(reconcileUsage(published, chainUsage, DEFAULT_USAGE_PARAMS)).to.deep.equal([]);
    });

    it("names a missing log, a log not on chain, another price, other parameters", function () {
      const late = record(carol, 10_000n, 9);
      expect(
        reconcileUsage(
          published,
          { ...chainUsage, records: [...records, late] },
          DEFAULT_USAGE_PARAMS,
        ).join(),
      ).to.match(/9:0:.* is missing from the result.*usage reward .* its logs give/);
      expect(
        reconcileUsage(published, { ...chainUsage, records: [records[0]!] }, DEFAULT_USAGE_PARAMS).join(),
      ).to.match(/is not on chain.*without a log/);
      expect(
        reconcileUsage(published, { ...chainUsage, price: PRICE * 2n }, DEFAULT_USAGE_PARAMS).join(),
      ).to.match(/rewardPrice is/);
      expect(reconcileUsage(published, chainUsage, { shareBps: 8_000, feeBps: 0 }).join()).to.match(
        /share\/fee/,
      );
    });

    it("a result without usage does not reconcile with logs on chain", function () {
      const plain = decodeEpochEncoding(run(world.chain()).bytes);
      expect(reconcileUsage(plain, chainUsage, DEFAULT_USAGE_PARAMS).join()).to.match(/pays no usage/);
      expect(reconcileUsage(plain, { ...chainUsage, records: [] }, DEFAULT_USAGE_PARAMS)).to.deep.equal([]);
    });
  });

  describe("self-dealing is bounded", function () {
    // A router burns MESH for credits at creditPrice = min(latest, average) and consumes them on
    // its own hotspots; usage pays them at rewardPrice = max(latest, average) less the fee.
    const priceArb = fc.bigInt({ min: 10n ** 12n, max: 10n ** 24n }); // $0.000001 .. $1,000,000 per MESH
    it("gets back at most (1 − fee) of the MESH it burned, at any prices and pool", function () {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: 10n ** 27n }),
          priceArb,
          priceArb,
          fc.bigInt({ min: 0n, max: 10n ** 30n }),
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: 0, max: 10_000 }),
          (burned, latest, average, pool, feeBps, shareBps) => {
            const creditPrice = latest < average ? latest : average;
            const rewardPrice = latest < average ? average : latest;
            const credits = (burned * creditPrice) / 10n ** 30n; // UsageCredits.burnForCredits
            const u = usageRewards(pool, usageOf([record(alice, credits, 1)], rewardPrice), {
              shareBps,
              feeBps,
            });
            const back = u.paid;
            // back ≤ burned × (1 − fee), to the wei
            return back * 10_000n <= burned * BigInt(10_000 - feeBps) && back <= u.usagePool;
          },
        ),
        { numRuns: 2_000 },
      );
    });

    it("in dollars across a price change: returns at most (1 − fee) of the dollars burned", function () {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: 10n ** 27n }),
          priceArb,
          priceArb,
          (burned, buyPrice, payPrice) => {
            const credits = (burned * buyPrice) / 10n ** 30n;
            const back = usageRewards(
              10n ** 40n,
              usageOf([record(alice, credits, 1)], payPrice),
              DEFAULT_USAGE_PARAMS,
            ).paid;
            // USD value (18 decimals × wei) of what came back at the pay price vs what was burned at the buy price
            return back * payPrice * 10_000n <= burned * buyPrice * 9_500n;
          },
        ),
        { numRuns: 2_000 },
      );
    });
  });
});
