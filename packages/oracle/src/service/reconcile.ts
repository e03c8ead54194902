/**
 * The oracle's check of an epoch's usage rewards before it signs (EpochService.sign): the stored
 * result's usage rewards against the `UsageRecorded` logs and the reward price read again from the
 * chain, recomputed from those raw logs alone (@hexmesh/protocol commit/reconcile.ts), and each
 * provider's leaf holding at least its usage reward. Any disagreement refuses the signature.
 */
import {
  reconcileUsage,
  type Hex,
  type PublishedUsage,
  type UsageParams,
  type UsagePayout,
} from "@hexmesh/protocol";

import { headOf, rewardPriceAt, usageRecords, type UsageSource } from "../chain/indexer.js";
import type { StoredChainIndex, StoredEpochResult, UsageSummary } from "../store/types.js";
import type { RetryOptions } from "../util/retry.js";

export class UsageReconciliationError extends Error {
  override readonly name = "UsageReconciliationError";
  constructor(
    readonly epoch: bigint,
    readonly findings: readonly string[],
  ) {
    super(
      `refusing to sign epoch ${epoch}: its usage rewards do not reconcile with the chain's UsageRecorded logs:\n  - ${findings.join("\n  - ")}`,
    );
  }
}

/** What a result stores of its usage rewards (decimal strings). */
export function usageSummaryOf(usage: UsagePayout | null, price: bigint): UsageSummary | undefined {
  if (usage === null) return undefined;
  return {
    shareBps: usage.params.shareBps,
    feeBps: usage.params.feeBps,
    price: price.toString(),
    usagePool: usage.usagePool.toString(),
    totalValue: usage.totalValue.toString(),
    paid: usage.paid.toString(),
    providers: usage.providers.map((p) => ({
      provider: p.provider,
      credits: p.credits.toString(),
      value: p.value.toString(),
      reward: p.reward.toString(),
    })),
  };
}

/** The stored result's usage as the reconciliation reads it (records from the stored chain index). */
export function publishedUsage(stored: StoredEpochResult, index: StoredChainIndex): PublishedUsage {
  const s = stored.summary.usage;
  const u = index.usage;
  if (s === undefined || u === undefined) return { epoch: stored.epoch, pool: index.pool, usage: null };
  return {
    epoch: stored.epoch,
    pool: index.pool,
    usage: {
      ...u,
      price: BigInt(s.price),
      params: { shareBps: s.shareBps, feeBps: s.feeBps },
      usagePool: BigInt(s.usagePool),
      totalValue: BigInt(s.totalValue),
      paid: BigInt(s.paid),
      providers: s.providers.map((p) => ({
        provider: p.provider,
        credits: BigInt(p.credits),
        value: BigInt(p.value),
        reward: BigInt(p.reward),
      })),
    },
  };
}

export interface ReconcileOptions {
  readonly fromBlock: number;
  readonly params: UsageParams;
  /** The usage scores the verifier applied (storage: retrieval scores below 0.9 scale a provider). */
  readonly scores?: ReadonlyMap<Hex, number>;
  readonly retry?: RetryOptions;
}

/** Every disagreement of the stored epoch's usage rewards with the chain (empty: reconciled). */
export async function reconcileStoredUsage(
  source: UsageSource,
  stored: StoredEpochResult,
  index: StoredChainIndex,
  options: ReconcileOptions,
): Promise<string[]> {
  const provider = source.credits.runner?.provider;
  if (!provider) throw new Error("credits binding has no provider");
  const head = await headOf(provider);
  const records = await usageRecords(source, stored.epoch, {
    fromBlock: options.fromBlock,
    toBlock: head,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
  });
  const published = publishedUsage(stored, index);
  const price =
    records.length === 0 && published.usage === null
      ? 0n
      : await rewardPriceAt(source.credits, index.snapshotBlock, options.retry);
  const findings = reconcileUsage(
    published,
    { subnetwork: source.subnetwork, price, records },
    options.params,
    options.scores,
  );
  // The leaf is one cumulative amount per owner: this epoch's amount must hold the usage reward.
  const amountOf = new Map<Hex, bigint>(stored.owners.map((o) => [o.owner, o.amount]));
  for (const p of published.usage?.providers ?? []) {
    const amount = amountOf.get(p.provider) ?? 0n;
    if (amount < p.reward)
      findings.push(
        `provider ${p.provider}: its leaf gains ${amount} this epoch, less than its usage reward ${p.reward}`,
      );
  }
  return findings;
}
