/**
 * Usage-linked rewards: one rule for every subnetwork (coverage data transfer, compute, storage).
 *
 * Inputs: the epoch's pool, every `UsageRecorded(subnetwork, epoch, provider, credits, account)` log
 * of the subnetwork for the epoch (EpochUsage.records) and the price source's `rewardPrice()` read at
 * the epoch's snapshot block (USD per MESH, 18 decimals: the higher of the latest price and its
 * 24-hour average, so the fewest MESH per dollar).
 *
 *   usagePool      = floor(pool × shareBps / 10,000)                       (default 8,000 bps)
 *   credits(p)     = Σ credits of p's records                               (micro-USD)
 *   value(p)       = floor(credits(p) × (10,000 − feeBps) × 10^30 / (price × 10,000))   (MESH wei)
 *                    the dollar value of the credits less the fee (default 500 bps), one floor
 *   reward(p)      = value(p)                                  when Σ value ≤ usagePool
 *                  = floor(usagePool × value(p) / Σ value)     otherwise (pro rata, floors)
 *   paid           = Σ reward(p) ≤ min(usagePool, Σ value)
 *   availability   = pool − paid: split between the verifier's pools exactly as without usage
 *
 * So a provider never gets more than its credits' value less the fee, and with no usage record the
 * availability work gets the whole pool: the payout is the one without usage, to the wei. The
 * floors' remainders stay in the availability pool (the usage part) or in the dust (its own floors).
 * With no fresh price at the snapshot block (price 0: the source reverted PriceStale or never had
 * one) usage earns nothing that epoch and the whole pool pays availability work.
 */
import type { EpochUsage, UsageRecord } from "../chain/types.js";
import { compareHex, type Hex } from "../hex.js";
import { scaleUsageReward, SCORE_ONE } from "../storage/retrieval.js";

export interface UsageParams {
  /** Share of the epoch pool that usage may take, basis points (default 8,000). */
  readonly shareBps: number;
  /** Protocol fee kept from each provider's usage value, basis points (default 500). */
  readonly feeBps: number;
}

export const DEFAULT_USAGE_PARAMS: UsageParams = { shareBps: 8_000, feeBps: 500 };

/** 10^30 = 10^18 (wei per MESH) × 10^18 (price decimals) / 10^6 (credits per USD). */
export const CREDIT_PRICE_SCALE = 10n ** 30n;

export interface ProviderUsage {
  readonly provider: Hex;
  /** Credits consumed on its work in the epoch (sum of its records). */
  readonly credits: bigint;
  /** Their value in MESH wei at the reward price, less the fee: the most it may be paid. */
  readonly value: bigint;
  /** What it is paid: `value`, or its pro-rata share of the usage pool when that runs short. */
  readonly reward: bigint;
}

export interface UsagePayout {
  readonly params: UsageParams;
  /** floor(pool × shareBps / 10,000). */
  readonly usagePool: bigint;
  /** Σ value. */
  readonly totalValue: bigint;
  /** Σ reward: taken from the pool before the availability pools are split. */
  readonly paid: bigint;
  /** One per provider with records, by ascending address. */
  readonly providers: readonly ProviderUsage[];
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function checkUsageParams(p: UsageParams): void {
  for (const [name, v] of [
    ["shareBps", p.shareBps],
    ["feeBps", p.feeBps],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 10_000)
      throw new UsageError(`usage ${name} must be an integer in [0, 10000] bps: ${v}`);
  }
}

/** MESH wei paid for `credits` at `price` (USD per MESH, 18 decimals) less `feeBps`; 0 without a price. */
export function creditsValue(credits: bigint, price: bigint, feeBps: number): bigint {
  if (price <= 0n || credits <= 0n) return 0n;
  return (credits * BigInt(10_000 - feeBps) * CREDIT_PRICE_SCALE) / (price * 10_000n);
}

/** Credits per provider, by ascending address (providers without credits left out). */
export function creditsByProvider(records: readonly UsageRecord[]): { provider: Hex; credits: bigint }[] {
  const sums = new Map<Hex, bigint>();
  for (const r of records) sums.set(r.provider, (sums.get(r.provider) ?? 0n) + r.credits);
  return [...sums.entries()]
    .filter(([, c]) => c > 0n)
    .sort(([a], [b]) => compareHex(a, b))
    .map(([provider, credits]) => ({ provider, credits }));
}

/**
 * The rule (file comment). Also what an auditor recomputes from a published result set.
 *
 * `scores` (storage: the retrieval score per provider address, parts per million) scale a provider's
 * value before the pool is shared: below 900,000 (0.9) value(p) becomes floor(value(p) × score /
 * 1,000,000); what the scaling removes stays with the availability work. Absent (coverage, compute):
 * nothing changes.
 */
export function usageRewards(
  pool: bigint,
  usage: EpochUsage,
  params: UsageParams,
  scores?: ReadonlyMap<Hex, number>,
): UsagePayout {
  checkUsageParams(params);
  if (pool < 0n) throw new UsageError("negative pool");
  const usagePool = (pool * BigInt(params.shareBps)) / 10_000n;
  const valued = creditsByProvider(usage.records).map((p) => ({
    ...p,
    value: scaleByScore(creditsValue(p.credits, usage.price, params.feeBps), scores?.get(p.provider)),
  }));
  const totalValue = valued.reduce((s, p) => s + p.value, 0n);
  const short = totalValue > usagePool;
  const providers: ProviderUsage[] = valued.map((p) => ({
    ...p,
    reward: short ? (usagePool * p.value) / totalValue : p.value,
  }));
  const paid = providers.reduce((s, p) => s + p.reward, 0n);
  return { params, usagePool, totalValue, paid, providers };
}

function scaleByScore(value: bigint, score: number | undefined): bigint {
  if (score === undefined) return value;
  if (!Number.isInteger(score) || score < 0 || score > SCORE_ONE)
    throw new UsageError(`bad usage score ${score}`);
  return scaleUsageReward(value, score);
}
