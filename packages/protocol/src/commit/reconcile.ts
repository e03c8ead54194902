/**
 * Reconciliation of an epoch's usage rewards with the chain: the published result's usage section
 * (decode.ts) against the `UsageRecorded` logs and the reward price read from the chain by whoever
 * checks (the oracle before it signs, a watcher after a root is posted).
 *
 * Each provider's usage reward in the result must be what its logs give: the sum of its credits for
 * the epoch valued at the price less the fee, or its pro-rata share of the usage pool when the
 * usage share runs short (rewards/usage.ts), recomputed here from the chain's records alone. The
 * owners' leaves containing exactly those rewards is the audit's part (audit.ts: device amounts +
 * usage reward per owner).
 */
import type { UsageRecord } from "../chain/types.js";
import type { Hex } from "../hex.js";
import { usageRewards, type UsageParams } from "../rewards/usage.js";
import type { DecodedEpoch } from "./decode.js";

/** The parts of a result the reconciliation reads (a decoded encoding has them). */
export type PublishedUsage = Pick<DecodedEpoch, "epoch" | "pool" | "usage">;

/** What the checker read from the chain for the epoch's subnetwork. */
export interface ChainUsage {
  readonly subnetwork: Hex;
  /** rewardPrice() at the epoch's snapshot block (0 when the source had no fresh price). */
  readonly price: bigint;
  readonly records: readonly UsageRecord[];
}

const key = (r: UsageRecord) => `${r.block}:${r.logIndex}:${r.provider}:${r.account}:${r.credits}`;

/** Every disagreement between the published usage and the chain's (empty: reconciled). */
export function reconcileUsage(
  d: PublishedUsage,
  chain: ChainUsage,
  params: UsageParams,
  /** Per provider, the score (ppm) that scaled its usage reward below 0.9 (storage); absent: unscaled. */
  scores?: ReadonlyMap<Hex, number>,
): string[] {
  const out: string[] = [];
  const u = d.usage;
  if (u === null) {
    if (chain.records.length > 0)
      out.push(
        `the chain has ${chain.records.length} UsageRecorded logs for epoch ${d.epoch}, the result pays no usage`,
      );
    return out;
  }
  if (u.subnetwork !== chain.subnetwork)
    out.push(`the result's subnetwork is ${u.subnetwork}, the chain's ${chain.subnetwork}`);
  if (u.price !== chain.price)
    out.push(`the result values usage at price ${u.price}, the chain's rewardPrice is ${chain.price}`);
  if (u.params.shareBps !== params.shareBps || u.params.feeBps !== params.feeBps)
    out.push(
      `the result's usage share/fee ${u.params.shareBps}/${u.params.feeBps} bps, this oracle's ${params.shareBps}/${params.feeBps}`,
    );
  const onChain = new Set(chain.records.map(key));
  const published = new Set(u.records.map(key));
  for (const k of onChain)
    if (!published.has(k)) out.push(`UsageRecorded log ${k} is missing from the result`);
  for (const k of published) if (!onChain.has(k)) out.push(`usage record ${k} is not on chain`);

  const expected = usageRewards(d.pool, { ...chain, priceBlock: u.priceBlock }, params, scores);
  const got = new Map(u.providers.map((p) => [p.provider, p]));
  for (const want of expected.providers) {
    const p = got.get(want.provider);
    got.delete(want.provider);
    if (p === undefined) {
      out.push(`provider ${want.provider}: ${want.credits} credits on chain, no usage reward in the result`);
      continue;
    }
    if (p.credits !== want.credits)
      out.push(`provider ${want.provider}: ${p.credits} credits in the result, ${want.credits} on chain`);
    if (p.reward !== want.reward)
      out.push(
        `provider ${want.provider}: usage reward ${p.reward}, its logs give ${want.reward} ` +
          `(value less fee ${want.value}${expected.totalValue > expected.usagePool ? ", pro rata" : ""})`,
      );
  }
  for (const p of got.values()) out.push(`provider ${p.provider}: usage reward ${p.reward} without a log`);
  if (u.paid !== expected.paid) out.push(`usage paid ${u.paid}, the chain's logs give ${expected.paid}`);
  return out;
}
