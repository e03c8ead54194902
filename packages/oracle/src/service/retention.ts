/**
 * Retention: raw reports are kept `keepEpochs` epochs after an epoch's root is live, then deleted
 * by `prune`. What an epoch's result says stays: the stored result (root, dataHash, summary with
 * the verdict counts, owners and cumulative amounts: the claim proofs), its verdicts (a device's
 * results), the chain index snapshot and the entropy. What needs the raw reports can no longer be
 * served for a pruned epoch: its inputs (/v1/inputs/reports, so `pull`) and its recomputed result
 * set (/v1/epochs/:e/results and /encoding); both answer 410 `pruned`.
 *
 * Which receive times an epoch's prune deletes: a close reads [start - 2w, end + 2w) (close.ts: the
 * beacons near a boundary decide which epoch a witness belongs to), so the strip around a boundary
 * is read by both neighbours and is deleted only once both are pruned. The deleted ranges of
 * consecutive pruned epochs meet exactly; a time no closed epoch reads is never deleted.
 */
import type { OracleStore, PrunedEpoch } from "../store/types.js";
import { closeReadRange } from "./close.js";

/** Reports deleted per transaction: a prune never holds the store's write lock for long. */
export const PRUNE_BATCH = 10_000;

export interface PruneOptions {
  /** Epochs a root stays live before its raw reports go (0: as soon as it is live). */
  readonly keepEpochs: number;
  /** The chain's live root (null: none yet, so nothing is pruned). */
  readonly live: { readonly epoch: bigint; readonly root: string } | null;
  readonly witnessWindowMs: number;
  /** Only these epochs (each must be eligible); absent: every eligible epoch. */
  readonly epochs?: readonly bigint[];
  readonly dryRun?: boolean;
  readonly batch?: number;
  readonly now?: () => number;
  readonly progress?: (epoch: bigint, deleted: number) => void;
}

export interface PruneReport {
  readonly liveEpoch: bigint | null;
  readonly keepEpochs: number;
  readonly dryRun: boolean;
  /** Pruned (or, in a dry run, to be pruned), oldest first: `reports` deleted (or that would be). */
  readonly pruned: readonly PrunedEpoch[];
}

/** An epoch named to `prune` that may not be pruned (yet): the message says why. */
export class PruneRefusedError extends Error {
  override readonly name = "PruneRefusedError";
}

/** Why `epoch` may not be pruned now, or its times (from its chain index) when it may. */
async function eligibility(
  store: OracleStore,
  epoch: bigint,
  o: PruneOptions,
): Promise<{ readonly reason: string } | { readonly start: number; readonly end: number }> {
  const [result, index] = await Promise.all([store.getEpochResult(epoch), store.getChainIndex(epoch)]);
  if (result === null || index === null)
    return { reason: `epoch ${epoch} has not been closed by this oracle` };
  if (o.live === null) return { reason: `epoch ${epoch}: no root is live yet` };
  if (epoch > o.live.epoch)
    return { reason: `epoch ${epoch}: its root is not live (the live root is epoch ${o.live.epoch})` };
  if (epoch === o.live.epoch && o.live.root.toLowerCase() !== result.root.toLowerCase())
    return {
      reason: `epoch ${epoch}: the live root ${o.live.root} is not this oracle's ${result.root} (its reports are the evidence)`,
    };
  if (epoch + BigInt(o.keepEpochs) > o.live.epoch)
    return {
      reason: `epoch ${epoch} is within retention.keepEpochs (${o.keepEpochs}) of the live epoch ${o.live.epoch}`,
    };
  if (index.epochEnd - index.epochStart < 4 * o.witnessWindowMs)
    return { reason: `epoch ${epoch} is shorter than four witness windows: its neighbours' reads overlap` };
  return { start: index.epochStart, end: index.epochEnd };
}

/**
 * Deletes the raw reports of every eligible epoch (or of `epochs`, refusing any that is not
 * eligible with PruneRefusedError before deleting anything), oldest first, in transactions of at
 * most `batch` reports. Idempotent: an epoch already pruned is skipped; a prune cut short is
 * finished by the next run (the range is recomputed the same way, and recorded last).
 */
export async function pruneEpochs(store: OracleStore, o: PruneOptions): Promise<PruneReport> {
  const w = o.witnessWindowMs;
  const done = new Map((await store.prunedEpochs()).map((p) => [p.epoch, p]));
  const named = o.epochs !== undefined;
  const candidates = named
    ? [...new Set(o.epochs)].sort((a, b) => (a < b ? -1 : 1))
    : (await store.listEpochs(Number.MAX_SAFE_INTEGER)).map((e) => e.epoch).reverse();
  const plan: { epoch: bigint; start: number; end: number }[] = [];
  for (const epoch of candidates) {
    if (done.has(epoch)) continue;
    const r = await eligibility(store, epoch, o);
    if ("reason" in r) {
      if (named) throw new PruneRefusedError(r.reason);
      continue;
    }
    plan.push({ epoch, start: r.start, end: r.end });
  }
  const planned = new Set(plan.map((p) => p.epoch));
  const out: PrunedEpoch[] = [];
  for (const p of plan) {
    // A boundary strip is read by both neighbours: it goes with the second of them to be pruned
    // (the plan runs oldest first, so an earlier neighbour in it is pruned before this one).
    const read = closeReadRange({ epoch: p.epoch, start: p.start, end: p.end }, w);
    const fromMs = done.has(p.epoch - 1n) || planned.has(p.epoch - 1n) ? read.from : p.start + 2 * w;
    const toMs = done.has(p.epoch + 1n) ? read.to : p.end - 2 * w;
    let reports = 0;
    if (o.dryRun) reports = await store.countReports(fromMs, toMs);
    else {
      const batch = o.batch ?? PRUNE_BATCH;
      for (;;) {
        const n = await store.deleteReportsBetween(fromMs, toMs, batch);
        reports += n;
        o.progress?.(p.epoch, reports);
        if (n < batch) break;
      }
    }
    const record: PrunedEpoch = {
      epoch: p.epoch,
      fromMs,
      toMs,
      reports,
      prunedAt: (o.now ?? Date.now)(),
    };
    if (!o.dryRun) {
      await store.recordPrune(record);
      done.set(p.epoch, record);
    }
    out.push(record);
  }
  return {
    liveEpoch: o.live?.epoch ?? null,
    keepEpochs: o.keepEpochs,
    dryRun: o.dryRun ?? false,
    pruned: out,
  };
}
