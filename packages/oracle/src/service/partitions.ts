/**
 * A close verified by several worker processes (on one machine or many) sharing one PostgreSQL
 * database, reduced into one result by one process:
 *
 * 1. The closing process (`close-epoch e --partitions N`, after its chain index is stored and its
 *    close has begun: close.ts) splits the epoch's read range of receive times into N slices and
 *    records them (store/partitions.ts).
 * 2. Workers (`hexmesh-oracle worker`, and the closing process itself unless told not to) claim a
 *    slice under a lease, read its reports from the store's (receive time, hash) index, keep those
 *    the epoch owns (close.ts: the boundary bands decide), run stage 1 (parse, digest, key,
 *    signature, payload: where the CPU goes) and store the partition's ReportTable records in the
 *    transaction that marks it done. A worker killed mid-partition has written nothing; its lease
 *    runs out and another worker claims the partition again.
 * 3. The closing process waits until every partition is done, checks that they hold exactly the
 *    reports the epoch owns, and runs stages 2-5, the payout and the commit over the records, read
 *    back partition by partition: slices in order and rows in (receive time, hash) order within
 *    each are the order the single-process close gives its table, so the verdicts, encoding,
 *    dataHash and root are byte-identical to it whatever the number of workers.
 */
import { hostname } from "node:os";
import { setTimeout as sleep, setImmediate as yieldToTimers } from "node:timers/promises";

import { ChainView, type ReceivedReport } from "@hexmesh/protocol";

import { StaleClaimError, type ClosePartitions, type PartitionClaim } from "../store/partitions.js";
import type { OracleStore, StoredChainIndex, StoredEpochResult, StoredReport } from "../store/types.js";
import { runCoverageEpoch, type CoverageOptions } from "../verify/coverage.js";
import { WorkerPoolPreparer } from "../verify/pool.js";
import { InlinePreparer, type ReportPreparer } from "../verify/prepare.js";
import { RECORD_BYTES } from "../verify/table.js";
import { epochToStore, storeEpoch, withProgress, type EpochToStore } from "./close-stored.js";
import {
  boundaryOwnership,
  closeReadRange,
  epochOwnership,
  partitionSlices,
  reportPages,
  type BoundaryOwnership,
} from "./close.js";
import type { Progress } from "./inputs.js";
import { inputRangeOf, SLACK_MS, viewOf } from "./results.js";

/** Default reports per partition when the close is not told how many partitions to make. */
export const REPORTS_PER_PARTITION = 16_384;
/** Default lease of a claim: a worker renews it every third of it while it verifies. */
export const DEFAULT_LEASE_MS = 30_000;
/** How often a worker with nothing to claim (or a waiting reducer) looks again. */
export const DEFAULT_POLL_MS = 1_000;
/** Reports handed to stage 1 at a time (between them, the lease renewal gets its turn). */
const STAGE1_CHUNK = 512;

/** Thrown when a partitioned close or a worker meets a store or epoch it cannot work on. */
export class PartitionedCloseError extends Error {
  override readonly name = "PartitionedCloseError";
}

/** The store's partitions, or a clear refusal on a backend without them (SQLite). */
export function partitionsOf(store: OracleStore): ClosePartitions {
  const queue = store.closePartitions();
  if (queue === null)
    throw new PartitionedCloseError(
      `verification workers need a PostgreSQL store (store.backend "postgres" or HEXMESH_STORE_URL); ` +
        `this store is ${store.backend}, which closes an epoch in one process`,
    );
  return queue;
}

/** A worker's identity in the partitions table (who claimed what). */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

export interface WorkerOptions {
  /** Only this epoch; the worker returns once all its partitions are done. Default: any epoch, until `signal`. */
  readonly epoch?: bigint;
  /** Worker threads for stage 1 (0: the calling thread; run one worker process per core). Default 0. */
  readonly threads?: number;
  readonly worker?: string;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  /** Stops a worker without `epoch` (between partitions; a partition in flight is finished first). */
  readonly signal?: AbortSignal;
  /** Told after each partition (and each refused completion). */
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
  /** Called once a claim is held, before its reports are read (tests kill a worker mid-partition). */
  readonly onClaim?: (claim: PartitionClaim) => void | Promise<void>;
}

export interface WorkerStats {
  readonly partitions: number;
  readonly reports: number;
  /** Completions refused because the claim had been lost (the partition was someone else's by then). */
  readonly stale: number;
}

/** What a worker keeps per epoch: its chain index's keys in a preparer, and the epoch's ownership. */
interface EpochContext {
  readonly devices: number;
  readonly preparer: ReportPreparer;
  readonly ownership: BoundaryOwnership;
  readonly range: { readonly from: number; readonly to: number };
}

/**
 * Claims and verifies partitions until there is nothing left: of `epoch` (returns when all of its
 * partitions are done, waiting for those claimed by others, which may die), or of any epoch until
 * `signal` aborts.
 */
export async function runPartitionWorker(
  store: OracleStore,
  options: WorkerOptions = {},
): Promise<WorkerStats> {
  const queue = partitionsOf(store);
  const worker = options.worker ?? workerId();
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const log = options.log ?? (() => {});
  if (options.epoch !== undefined && (await queue.slices(options.epoch)).length === 0)
    throw new PartitionedCloseError(
      `epoch ${options.epoch} is not being closed in partitions on this store ` +
        `(\`close-epoch ${options.epoch} --partitions N\` opens them): nothing to work on`,
    );
  const contexts = new Map<bigint, EpochContext>();
  async function contextOf(epoch: bigint): Promise<EpochContext> {
    let ctx = contexts.get(epoch);
    if (ctx !== undefined) return ctx;
    // Claims come oldest epoch first: a long-running worker keeps only the epoch it is on.
    for (const [e, old] of contexts) {
      contexts.delete(e);
      await old.preparer.close();
    }
    const t0 = performance.now();
    ctx = await epochContext(store, epoch, options.threads ?? 0);
    contexts.set(epoch, ctx);
    log("epoch context ready", {
      epoch: epoch.toString(),
      devices: ctx.devices,
      ms: Math.round(performance.now() - t0),
    });
    return ctx;
  }
  let partitions = 0;
  let reports = 0;
  let stale = 0;
  try {
    // Built before the first claim: for a large fleet building it can take longer than a lease (1.44M
    // devices: 20-60 s), and a claim held meanwhile would run out and its work be dropped.
    if (options.epoch !== undefined) await contextOf(options.epoch);
    for (;;) {
      if (options.signal?.aborted) break;
      const claim = await queue.claim(worker, leaseMs, options.epoch);
      if (claim === null) {
        if (options.epoch !== undefined) {
          const c = await queue.counts(options.epoch);
          if (c.done === c.partitions) break;
        }
        await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
        continue;
      }
      await options.onClaim?.(claim);
      try {
        let ctx = contexts.get(claim.epoch);
        if (ctx === undefined) {
          // A worker on any epoch learns the epoch from its claim: the claim is checked again once
          // the context is built (StaleClaimError: another worker took it meanwhile; nothing is lost).
          ctx = await contextOf(claim.epoch);
          await queue.renew(claim, leaseMs);
        }
        const t0 = performance.now();
        const { count, records } = await verifyPartition(store, queue, claim, ctx, leaseMs);
        await queue.complete(claim, count, records);
        partitions++;
        reports += count;
        log("partition verified", {
          epoch: claim.epoch.toString(),
          part: claim.part,
          reports: count,
          attempts: claim.attempts,
          ms: Math.round(performance.now() - t0),
        });
      } catch (e) {
        if (!(e instanceof StaleClaimError)) throw e;
        stale++;
        log(e.message, { epoch: claim.epoch.toString(), part: claim.part });
      }
    }
  } finally {
    for (const ctx of contexts.values()) await ctx.preparer.close();
  }
  return { partitions, reports, stale };
}

async function epochContext(store: OracleStore, epoch: bigint, threads: number): Promise<EpochContext> {
  const index = await store.getChainIndex(epoch);
  if (index === null)
    throw new PartitionedCloseError(`epoch ${epoch} has partitions but no stored chain index on this store`);
  // Device index = position in the chain view's devices: what the reducer's stages 2-5 read. The
  // reducer built and so checked the view of this index before it opened the partitions; a worker
  // takes only its keys in the view's order.
  const keys = ChainView.keysOf(index);
  const domain = ChainView.domainOf(index);
  const preparer =
    threads > 0 ? new WorkerPoolPreparer(domain, keys, { threads }) : new InlinePreparer(domain, keys);
  const times = { epoch, start: index.epochStart, end: index.epochEnd };
  return {
    devices: keys.length,
    preparer,
    // Which reports the epoch owns, not how many: the reducer counts them once.
    ownership: await boundaryOwnership(store, times, SLACK_MS),
    range: closeReadRange(times, SLACK_MS),
  };
}

/** Stage 1 over the partition's owned reports, renewing the lease as it goes. */
async function verifyPartition(
  store: OracleStore,
  queue: ClosePartitions,
  claim: PartitionClaim,
  ctx: EpochContext,
  leaseMs: number,
): Promise<{ count: number; records: Uint8Array }> {
  let lost: unknown = null;
  let renewing = Promise.resolve();
  const timer = setInterval(() => {
    renewing = queue.renew(claim, leaseMs).catch((e: unknown) => {
      lost ??= e;
    });
  }, leaseMs / 3);
  try {
    const from = Math.max(claim.fromMs, ctx.range.from);
    const to = Math.min(claim.toMs, ctx.range.to);
    const owned: StoredReport[] = [];
    if (from < to)
      for await (const page of reportPages(store, from, to, 4_096))
        owned.push(...page.filter(ctx.ownership.owns));
    async function* chunks(): AsyncGenerator<readonly ReceivedReport[]> {
      for (let i = 0; i < owned.length; i += STAGE1_CHUNK) {
        if (lost !== null) throw lost;
        yield owned.slice(i, i + STAGE1_CHUNK);
        await yieldToTimers();
      }
    }
    const table = await ctx.preparer.prepareStream({ count: owned.length, pages: chunks() });
    await renewing;
    if (lost !== null) throw lost;
    return { count: owned.length, records: table.bytes };
  } finally {
    clearInterval(timer);
  }
}

export interface PartitionedCloseOptions {
  /** How many partitions (time slices) the epoch is split into; default one per REPORTS_PER_PARTITION reports. */
  readonly partitions?: number;
  /** Whether this process verifies partitions too (default true); false: it only waits and reduces. */
  readonly verify?: boolean;
  /** Stage-1 threads of this process when it verifies (default 0: the calling thread). */
  readonly threads?: number;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  readonly coverage?: CoverageOptions;
  readonly progress?: Progress;
  readonly log?: WorkerOptions["log"];
}

/**
 * Steps 1 and 3 (and 2 with `verify`): the epoch of its stored chain index, given as the index or its
 * view (its close begun; a large fleet's as the view: results.ts viewOf), verified in partitions and
 * stored. Returns the stored result.
 */
export async function closePartitionedEpoch(
  store: OracleStore,
  of: StoredChainIndex | ChainView<StoredChainIndex>,
  options: PartitionedCloseOptions = {},
): Promise<StoredEpochResult> {
  const chain = viewOf(of);
  const index = chain.index;
  const queue = partitionsOf(store);
  const progress = options.progress ?? (() => {});
  const epoch = index.epoch;
  const times = { epoch, start: index.epochStart, end: index.epochEnd };
  const { count } = await epochOwnership(store, times, SLACK_MS);
  const range = closeReadRange(times, SLACK_MS);
  const wanted = options.partitions ?? Math.max(1, Math.ceil(count / REPORTS_PER_PARTITION));
  const partitions = await queue.open(epoch, partitionSlices(range.from, range.to, wanted));
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  if (options.verify !== false)
    await runPartitionWorker(store, {
      epoch,
      threads: options.threads ?? 0,
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      pollMs,
      ...(options.log !== undefined ? { log: options.log } : {}),
    });
  for (;;) {
    const c = await queue.counts(epoch);
    progress("partitions", c.done, partitions);
    if (c.done === c.partitions) {
      if (c.reports !== count)
        throw new PartitionedCloseError(
          `epoch ${epoch}: the partitions hold ${c.reports} reports, the epoch owns ${count} ` +
            `(the partitions were opened over other reports or another read range)`,
        );
      break;
    }
    await sleep(pollMs);
  }
  const stored = await storeEpoch(
    store,
    await reduce(store, chain, count, options.coverage, progress),
    progress,
  );
  await queue.release(epoch);
  return stored;
}

/**
 * Step 3's reduction: stages 2-5, the payout and the commit over the partitions' records, read back
 * one partition at a time. Returns what storing the epoch takes (close-stored.ts epochToStore).
 */
async function reduce(
  store: OracleStore,
  chain: ChainView<StoredChainIndex>,
  count: number,
  coverage: CoverageOptions | undefined,
  progress: Progress,
): Promise<EpochToStore> {
  const queue = partitionsOf(store);
  const { epoch, epochStart, epochEnd } = chain.index;
  const inputs = inputRangeOf(epochStart, epochEnd);
  const entropy = await store.entropyBetween(inputs.entropyFrom, inputs.entropyTo);
  async function* pages(): AsyncGenerator<Uint8Array> {
    for await (const p of queue.records(epoch)) {
      if (p.records.length !== p.reports * RECORD_BYTES)
        throw new PartitionedCloseError(
          `partition ${p.part} of epoch ${epoch} holds ${p.records.length} bytes for ${p.reports} reports`,
        );
      yield p.records;
    }
  }
  const result = await runCoverageEpoch(
    chain,
    { prepared: { count, pages: pages() }, entropy },
    withProgress(coverage, progress),
  );
  progress("reduce", count, count);
  return epochToStore(chain.index, result, progress);
}
