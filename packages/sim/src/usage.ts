/**
 * Paid usage under attack: a wash-trading router and a receipt forger, through the protocol's shared
 * reward stage (computePayout with the epoch's UsageRecorded records, the stage the oracle runs).
 *
 * The epoch: SIM_POOL MESH; `hotspots` honest hotspots doing availability work (weights drawn from
 * the seed) and carrying honest routers' packets (honestUsageUsd of credits consumed on them); the
 * wash trader's own hotspots do availability work like any honest one. The wash trader burns MESH
 * for credits at the epoch's start (creditPrice = min(latest, 24-hour average)) and its spender
 * consumes all of them on its own hotspots; usage is paid at the epoch's end at rewardPrice =
 * max(latest, 24-hour average) less the fee. What it gets back is the difference its usage makes
 * to its leaves (the same epoch computed without its usage). The receipt forger submits packet
 * receipts no router paid for: no credits are consumed, so there is no UsageRecorded log and the
 * reward stage has nothing to pay it for.
 *
 * Prices are hourly, USD per MESH with 18 decimals; the 24-hour average is the mean of the last 25
 * hourly prices (the contracts' time-weighted average, sampled hourly).
 */
import {
  ChainView,
  computePayout,
  DEFAULT_USAGE_PARAMS,
  keccak256,
  toHex,
  type ChainIndex,
  type DeviceRecord,
  type Hex,
  type UsageRecord,
  type WorkResult,
} from "@hexmesh/protocol";

import { SIM_POOL } from "./analysis.js";
import { Rng } from "./fleet.js";

const E18 = 10n ** 18n;
/** MESH wei × USD-per-MESH (18 decimals) / 10^30 = credits (micro-USD), as UsageCredits computes. */
const SCALE = 10n ** 30n;

export interface PricePath {
  readonly name: string;
  /** Hours 0..48, USD per MESH with 18 decimals; the epoch is hours 24..48. */
  readonly hourly: readonly bigint[];
}

export interface WashRun {
  readonly path: string;
  readonly burnedMesh: bigint;
  readonly creditPrice: bigint;
  readonly rewardPrice: bigint;
  readonly credits: bigint;
  /** MESH the wash trader's usage added to its leaves. */
  readonly returnedMesh: bigint;
  /** Whether the usage share ran short (pro rata). */
  readonly proRata: boolean;
  /** MESH the honest availability work lost to the wash trader's usage. */
  readonly availabilityLost: bigint;
}

export interface ForgerRun {
  readonly forgedPackets: number;
  /** Credits the forged receipts claim (24-byte packets at 1 credit each). */
  readonly claimedCredits: bigint;
  readonly usageReward: bigint;
}

export interface UsageSimulation {
  readonly seed: string;
  readonly pool: bigint;
  readonly hotspots: number;
  readonly honestUsageCredits: bigint;
  readonly feeBps: number;
  readonly shareBps: number;
  readonly paths: readonly PricePath[];
  readonly wash: readonly WashRun[];
  readonly forger: ForgerRun;
}

const usd = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

function pricePaths(seed: string): PricePath[] {
  const line = (name: string, daily: number) => ({
    name,
    hourly: Array.from({ length: 49 }, (_, h) => usd(0.05 * (1 + (daily * (h - 24)) / 24))),
  });
  const rng = new Rng(`usage-price:${seed}`);
  const walk: bigint[] = [];
  let p = 0.05;
  for (let h = 0; h <= 48; h++) {
    walk.push(usd(p));
    p *= Math.exp(0.02 * rng.normal());
  }
  return [
    line("flat $0.05", 0),
    line("+10% over the epoch", 0.1),
    line("-10% over the epoch", -0.1),
    { name: "random walk, 2% per hour", hourly: walk },
  ];
}

const average = (path: PricePath, hour: number): bigint => {
  const window = path.hourly.slice(Math.max(0, hour - 24), hour + 1);
  return window.reduce((a, b) => a + b, 0n) / BigInt(window.length);
};
const creditPriceAt = (path: PricePath, h: number) => {
  const a = average(path, h);
  return path.hourly[h]! < a ? path.hourly[h]! : a;
};
const rewardPriceAt = (path: PricePath, h: number) => {
  const a = average(path, h);
  return path.hourly[h]! > a ? path.hourly[h]! : a;
};

const address = (label: string): Hex => toHex(keccak256(new TextEncoder().encode(label)).subarray(12));

export interface UsageSimOptions {
  readonly seed: string;
  readonly hotspots?: number;
  /** Dollars of credits honest routers consume in the epoch. */
  readonly honestUsageUsd?: number;
  /** MESH amounts the wash trader burns (one run per amount and price path). */
  readonly burns?: readonly bigint[];
}

export function simulateUsage(o: UsageSimOptions): UsageSimulation {
  const hotspots = o.hotspots ?? 1_000;
  const washHotspots = 10;
  const forgerHotspots = 50;
  const rng = new Rng(`usage:${o.seed}`);
  const devices: DeviceRecord[] = [];
  const weights: bigint[] = [];
  for (let i = 0; i < hotspots + washHotspots + forgerHotspots; i++) {
    const owner =
      i < hotspots
        ? address(`owner ${i}`)
        : i < hotspots + washHotspots
          ? address(`wash trader ${i % 2}`)
          : address(`receipt forger ${i % 5}`);
    devices.push({
      id: BigInt(i + 1),
      onboardOrder: BigInt(i + 1),
      owner,
      key: { type: "secp256k1", address: address(`hotspot key ${i}`) },
      status: "active",
      location: null,
      gain: 30,
      elevation: 10,
    });
    weights.push(BigInt(1 + rng.int(10)));
  }
  const owners = [...new Set(devices.map((d) => d.owner))];
  const work: WorkResult = {
    kind: "coverage",
    pools: [
      { name: "beacon", bps: 2_000 },
      { name: "witness", bps: 8_000 },
    ],
    metricNames: [],
    devices: devices.map((d, i) => ({
      deviceId: d.id,
      weights: [weights[i]!, weights[i]! * 3n],
      metrics: [],
    })),
    record: [],
  };
  // Honest routers: credits spread over the honest hotspots' owners.
  const honestUsageCredits = BigInt(Math.round((o.honestUsageUsd ?? 500) * 1e6));
  const honest: UsageRecord[] = [];
  let left = honestUsageCredits;
  for (let k = 0; left > 0n; k++) {
    const credits = left < 5_000_000n ? left : BigInt(1_000_000 + rng.int(4_000_000)); // $1-$5 per settlement
    honest.push({
      provider: devices[rng.int(hotspots)]!.owner,
      account: address(`router ${k % 20}`),
      credits,
      block: 100 + k,
      logIndex: 0,
    });
    left -= credits;
  }
  const washOwners = owners.filter((w) => w === address("wash trader 0") || w === address("wash trader 1"));
  const forgers = owners.filter((w) =>
    devices.some((d) => d.owner === w && d.id > BigInt(hotspots + washHotspots)),
  );
  const payoutWith = (records: UsageRecord[], price: bigint) => {
    const index: ChainIndex = {
      chainId: 31337n,
      registry: address("registry"),
      epoch: 1n,
      epochStart: 86_400_000,
      epochEnd: 2 * 86_400_000,
      pool: SIM_POOL,
      devices,
      bonds: owners.map((owner) => ({ owner, bondedDevices: forgerHotspots })),
      previousCumulative: [],
      usage: { subnetwork: address("coverage").padEnd(66, "0") as Hex, price, priceBlock: 200, records },
    };
    return computePayout(new ChainView(index), work, DEFAULT_USAGE_PARAMS);
  };
  const sumOf = (p: ReturnType<typeof payoutWith>, who: readonly Hex[]) =>
    p.owners.filter((x) => who.includes(x.owner)).reduce((s, x) => s + x.amount, 0n);
  const availabilityOf = (p: ReturnType<typeof payoutWith>) => p.poolAmounts.reduce((a, b) => a + b, 0n);

  const paths = pricePaths(o.seed);
  const burns = o.burns ?? [100n, 1_000n, 10_000n, 100_000n, 1_000_000n].map((m) => m * E18);
  const wash: WashRun[] = [];
  for (const path of paths) {
    const creditPrice = creditPriceAt(path, 24);
    const rewardPrice = rewardPriceAt(path, 48);
    const base = payoutWith(honest, rewardPrice);
    for (const burnedMesh of burns) {
      const credits = (burnedMesh * creditPrice) / SCALE;
      const records = [...honest];
      for (let j = 0; j < washHotspots; j++) {
        const share = credits / BigInt(washHotspots) + (j === 0 ? credits % BigInt(washHotspots) : 0n);
        records.push({
          provider: washOwners[j % washOwners.length]!,
          account: address("wash router"),
          credits: share,
          block: 1_000_000 + j,
          logIndex: 0,
        });
      }
      const p = payoutWith(records, rewardPrice);
      wash.push({
        path: path.name,
        burnedMesh,
        creditPrice,
        rewardPrice,
        credits,
        returnedMesh: sumOf(p, washOwners) - sumOf(base, washOwners),
        proRata: p.usage!.totalValue > p.usage!.usagePool,
        availabilityLost: availabilityOf(base) - availabilityOf(p),
      });
    }
  }

  // The forgers' receipts claim packets no router paid for: no credits consumed, no UsageRecorded
  // log, so the epoch's records are the honest ones and the stage pays the forgers no usage.
  const forgedPackets = 1_000_000;
  const withForgers = payoutWith(honest, rewardPriceAt(paths[0]!, 48));
  const forgerUsage = withForgers
    .usage!.providers.filter((x) => forgers.includes(x.provider))
    .reduce((s, x) => s + x.reward, 0n);
  return {
    seed: o.seed,
    pool: SIM_POOL,
    hotspots,
    honestUsageCredits,
    feeBps: DEFAULT_USAGE_PARAMS.feeBps,
    shareBps: DEFAULT_USAGE_PARAMS.shareBps,
    paths,
    wash,
    forger: { forgedPackets, claimedCredits: BigInt(forgedPackets), usageReward: forgerUsage },
  };
}
