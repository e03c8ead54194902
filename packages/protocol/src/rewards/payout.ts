/**
 * From per-device weights to per-owner cumulative amounts, in integer arithmetic.
 *
 * 0. Usage (usage.ts): with UsageRecorded records for the epoch, each provider's usage reward is
 *    taken from the pool first (at most the usage share); the rest is the availability pool. No
 *    records: the availability pool is the whole pool and nothing below changes.
 * 1. Pools: the availability pool is split by the verifier's basis points; every pool but the last
 *    gets floor(pool x bps / 10,000), the last gets the rest (coverage: beacons 20%, witnesses 80%).
 * 2. Bond: an owner's bond covers `bondedDevices` devices (ChainIndex). The covered devices are the
 *    owner's *active* devices onboarded first (`onboardOrder`: deterministic, and an owner
 *    onboarding a device never takes rewards from one already covered; ids are key hashes and
 *    say nothing about age). Uncovered devices earn nothing and their
 *    weights leave the pool's total, so the pool goes to covered devices.
 * 3. Amount of a device in a pool: floor(poolAmount x weight / total weight of covered devices).
 *    A pool nobody earns from is not distributed.
 * 4. Per owner: sum of its devices' amounts plus its usage reward (one leaf: usage + availability);
 *    cumulative = previous cumulative + that sum.
 * Rounding dust (pool - distributed) stays in the distributor for the next epoch.
 */
import type { ChainView, DeviceEntry } from "../chain/view.js";
import { compareHex, type Hex } from "../hex.js";
import type { DeviceWork, WorkResult } from "../work.js";
import { enumerableGetters } from "./fields.js";
import { DEFAULT_USAGE_PARAMS, usageRewards, type UsageParams, type UsagePayout } from "./usage.js";

/** One device's payout. computePayout's rows read weights and metrics from the work: read fields by name. */
export interface DevicePayout {
  readonly deviceId: bigint;
  readonly owner: Hex;
  readonly bonded: boolean;
  readonly weights: readonly bigint[];
  readonly metrics: readonly bigint[];
  /** Sum over pools. */
  readonly amount: bigint;
}

export interface OwnerPayout {
  readonly owner: Hex;
  /** This epoch. */
  readonly amount: bigint;
  /** Lifetime total (the Merkle leaf). */
  readonly cumulative: bigint;
}

export interface Payout {
  /** Usage rewards of the epoch; null when it has no usage record (the payout is then availability only). */
  readonly usage: UsagePayout | null;
  /** Amount of each availability pool (of the pool less usage rewards), same order as WorkResult.pools. */
  readonly poolAmounts: readonly bigint[];
  /** Devices with work, sorted by id. */
  readonly devices: readonly DevicePayout[];
  /** Owners with a positive cumulative amount, sorted by address. */
  readonly owners: readonly OwnerPayout[];
  readonly distributed: bigint;
  readonly dust: bigint;
  readonly totalCumulative: bigint;
}

export class PayoutError extends Error {
  override readonly name = "PayoutError";
}

export function splitPool(pool: bigint, bps: readonly number[]): bigint[] {
  if (bps.length === 0) throw new PayoutError("no pools");
  if (bps.some((b) => !Number.isInteger(b) || b < 0) || bps.reduce((a, b) => a + b, 0) !== 10_000) {
    throw new PayoutError(`pool shares must be non-negative integers summing to 10000 bps: ${bps.join(",")}`);
  }
  const out = bps.slice(0, -1).map((b) => (pool * BigInt(b)) / 10_000n);
  out.push(pool - out.reduce((a, b) => a + b, 0n));
  return out;
}

/**
 * Which devices their owner's bond covers, by index in the view (`chain.devices`): 1 covered, 0 not.
 * One byte a device, where a set of ids took ~50.
 */
export function bondCoverage(chain: ChainView): Uint8Array {
  // An owner's one device is held as itself, not in a list: most owners have one, and at a million
  // owners the lists alone were ~200 MB.
  const byOwner = new Map<Hex, DeviceEntry | DeviceEntry[]>();
  for (const d of chain.devices) {
    const r = d.record;
    if (r.status !== "active" || chain.bondedDevices(r.owner) === 0) continue;
    const held = byOwner.get(r.owner);
    if (held === undefined) byOwner.set(r.owner, d);
    else if (Array.isArray(held)) held.push(d);
    else byOwner.set(r.owner, [held, d]);
  }
  const covered = new Uint8Array(chain.devices.length);
  for (const [owner, held] of byOwner) {
    if (!Array.isArray(held)) {
      covered[held.index] = 1; // bondedDevices(owner) >= 1
      continue;
    }
    // Onboard orders are unique (ChainView checks), so this order is total.
    held.sort((a, b) => (a.record.onboardOrder < b.record.onboardOrder ? -1 : 1));
    for (const d of held.slice(0, chain.bondedDevices(owner))) covered[d.index] = 1;
  }
  return covered;
}

/**
 * Step 3: each device's amount, the sum over pools of floor(poolAmount x weight / total weight of
 * bonded devices); unbonded devices earn nothing and leave the totals. Also what an auditor
 * recomputes from a published result set.
 */
export function deviceAmounts(
  poolAmounts: readonly bigint[],
  devices: readonly { readonly weights: readonly bigint[]; readonly bonded: boolean }[],
): bigint[] {
  // Each device's weights read once a pass: a work's weights may be made on each read.
  const totals = poolAmounts.map(() => 0n);
  for (const d of devices) {
    if (!d.bonded) continue;
    const w = d.weights;
    for (let i = 0; i < totals.length; i++) totals[i]! += w[i] ?? 0n;
  }
  return devices.map((d) => {
    if (!d.bonded) return 0n;
    const w = d.weights;
    let amount = 0n;
    for (let i = 0; i < poolAmounts.length; i++) {
      const total = totals[i]!;
      if (total > 0n) amount += (poolAmounts[i]! * w[i]!) / total;
    }
    return amount;
  });
}

/**
 * A device's payout as computePayout makes it: its weights and metrics read from its work when asked
 * for (a coverage work makes them from its sums, not held per device). The fields are enumerable
 * and the work private, as on a plain object; a spread copies own fields only, so read them by name.
 */
class PaidDevice implements DevicePayout {
  amount = 0n;
  readonly #work: DeviceWork;

  constructor(
    readonly deviceId: bigint,
    readonly owner: Hex,
    readonly bonded: boolean,
    work: DeviceWork,
  ) {
    this.#work = work;
  }

  get weights(): readonly bigint[] {
    return this.#work.weights;
  }

  get metrics(): readonly bigint[] {
    return this.#work.metrics;
  }
}
enumerableGetters(PaidDevice, ["weights", "metrics"]);

export function computePayout(
  chain: ChainView,
  work: WorkResult,
  usageParams: UsageParams = DEFAULT_USAGE_PARAMS,
): Payout {
  const usage =
    chain.usageRecords.length === 0
      ? null
      : usageRewards(
          chain.index.pool,
          { ...chain.index.usage!, records: chain.usageRecords },
          usageParams,
          work.usageScores,
        );
  const poolAmounts = splitPool(
    chain.index.pool - (usage?.paid ?? 0n),
    work.pools.map((p) => p.bps),
  );
  const covered = bondCoverage(chain);

  const devices = [...work.devices].sort((a, b) =>
    a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
  );
  // Made once, their amounts set below: no second object per device for deviceAmounts.
  const devicePayouts = devices.map((d, k): PaidDevice => {
    const entry = chain.deviceById(d.deviceId);
    if (entry === undefined) throw new PayoutError(`work for unknown device ${d.deviceId}`);
    // Sorted by id: a device given twice is given in a row.
    if (k > 0 && devices[k - 1]!.deviceId === d.deviceId)
      throw new PayoutError(`work for device ${d.deviceId} twice`);
    const weights = d.weights;
    if (weights.length !== work.pools.length || weights.some((w) => w < 0n)) {
      throw new PayoutError(`device ${d.deviceId}: bad weights`);
    }
    return new PaidDevice(d.deviceId, entry.record.owner, covered[entry.index] === 1, d);
  });

  const amounts = deviceAmounts(poolAmounts, devicePayouts);
  // An owner's first amount is held as the same bigint, not a sum with 0n (a new one, 24 bytes: at
  // 1.44M owners, most with one device, ~33 MB each for the map and the cumulative amounts).
  const ownerAmounts = new Map<Hex, bigint>();
  const credit = (owner: Hex, amount: bigint) => {
    const had = ownerAmounts.get(owner);
    ownerAmounts.set(owner, had === undefined ? amount : had + amount);
  };
  devicePayouts.forEach((p, k) => {
    const amount = amounts[k]!;
    p.amount = amount;
    if (amount > 0n) credit(p.owner, amount);
  });

  for (const p of usage?.providers ?? []) {
    if (p.reward > 0n) credit(p.provider, p.reward);
  }
  const ownerPayouts: OwnerPayout[] = [];
  let distributed = 0n;
  let totalCumulative = 0n;
  for (const owner of sortedUnion(chain.previousOwners(), [...ownerAmounts.keys()].sort(compareHex))) {
    const amount = ownerAmounts.get(owner) ?? 0n;
    const previous = chain.previousCumulative(owner);
    const cumulative = previous === 0n ? amount : previous + amount;
    distributed += amount;
    totalCumulative += cumulative;
    if (cumulative > 0n) ownerPayouts.push({ owner, amount, cumulative });
  }
  const dust = chain.index.pool - distributed;
  if (dust < 0n) throw new PayoutError("distributed more than the pool"); // cannot happen: floors
  return {
    usage,
    poolAmounts,
    devices: devicePayouts,
    owners: ownerPayouts,
    distributed,
    dust,
    totalCumulative,
  };
}

/** The addresses of two ascending lists, ascending, each once (no set of a million owners). */
function sortedUnion(a: readonly Hex[], b: readonly Hex[]): Hex[] {
  const out: Hex[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = i === a.length ? 1 : j === b.length ? -1 : compareHex(a[i]!, b[j]!);
    const next = c <= 0 ? a[i]! : b[j]!;
    if (c <= 0) i++;
    if (c >= 0) j++;
    if (out.length === 0 || out[out.length - 1] !== next) out.push(next);
  }
  return out;
}
