/**
 * Published result sets: everything an epoch's root and dataHash commit to (every owner's
 * cumulative amount with its leaf index, every device's units, scale and reward, the verdict
 * counts, the canonical encoding), served by GET /v1/epochs/:e/results and /encoding while the root
 * is still pending, so anyone can check it inside the challenge window.
 *
 * Nothing new is stored for this: the stored inputs go through the same epoch path as `close` and
 * the outcome must reproduce the stored root and dataHash byte for byte, or nothing is served.
 * Coverage: the chain index snapshot, reports and entropy (runStoredEpoch). Storage and compute: the
 * kind's chain index snapshot and its verifier's inputs from the kind's own index (WorkSource.run).
 */
import {
  ChainView,
  DEFAULT_USAGE_PARAMS,
  ENTROPY_VALIDITY_MS,
  type ChainIndex,
  type EpochResult,
} from "@hexmesh/protocol";

import type {
  OracleStore,
  StoreConfig,
  StoredChainIndex,
  StoredEpochResult,
  WorkKind,
} from "../store/types.js";
import {
  AUTO_WORKERS_FROM,
  runCoverageEpoch,
  type CoverageOptions,
  type CoverageWork,
} from "../verify/coverage.js";
import { DEFAULT_COVERAGE_PARAMS } from "../verify/params.js";
import { CLOSE_PAGE_ROWS, closeReadRange, epochOwnership, streamOwnedReports } from "./close.js";
import type { InputRange } from "./inputs.js";
import { readPreparedSlices, type SliceReaderOptions } from "./slice-reader.js";
import { WorkNotServedError, type WorkSource } from "./work.js";

/** Witnesses may arrive this long after the epoch's end (the verifier's outside_epoch slack). */
export const SLACK_MS = DEFAULT_COVERAGE_PARAMS.witnessWindowMs;

/**
 * The reports (Unix ms) and entropy (Unix s) an epoch of [startMs, endMs) reads: reports two witness
 * windows either side (close.ts: which of them the epoch owns depends on beacons up to there).
 */
export function inputRangeOf(startMs: number, endMs: number): InputRange {
  const reports = closeReadRange({ epoch: 0n, start: startMs, end: endMs }, SLACK_MS);
  return {
    from: reports.from,
    to: reports.to,
    entropyFrom: Math.floor((startMs - SLACK_MS - ENTROPY_VALIDITY_MS) / 1000),
    entropyTo: Math.ceil((endMs + SLACK_MS) / 1000),
  };
}

/**
 * The view of the epoch's stored chain index, or null when none is stored. The index's device
 * records are dropped once the view holds them in columns (chain/devices.ts): a close keeps the view,
 * never the plain index.
 */
export async function storedChainView(
  store: OracleStore,
  epoch: bigint,
): Promise<ChainView<StoredChainIndex> | null> {
  const index = await store.getChainIndex(epoch);
  return index === null ? null : new ChainView(index);
}

/**
 * `of` itself, or the view of it. A close of a large fleet is given the view by a caller that does not
 * hold the plain index (storedChainView): the index's records take ~500 bytes a device, the view's
 * columns ~200.
 */
export function viewOf<I extends ChainIndex>(of: I | ChainView<I>): ChainView<I> {
  return of instanceof ChainView ? of : new ChainView(of);
}

/**
 * One epoch from a chain view (or index: viewOf) and the stored reports it owns (close.ts) and entropy: the one epoch
 * path. The reports stream from the store page by page, never all in memory at once: read and put
 * through stage 1 on worker threads with their own store connections (slice-reader.ts) when stage 1
 * would run on threads anyway and the store can be opened again (not an in-memory SQLite), else read
 * by this thread. Both give byte-identical results.
 */
export async function runStoredEpoch(
  store: OracleStore,
  of: ChainIndex | ChainView,
  coverage: CoverageOptions = {},
  reader: SliceReaderOptions = {},
): Promise<{ readonly result: EpochResult<CoverageWork>; readonly reports: number }> {
  const chain = viewOf(of);
  const index = chain.index;
  const range = inputRangeOf(index.epochStart, index.epochEnd);
  const times = { epoch: index.epoch, start: index.epochStart, end: index.epochEnd };
  const ownership = await epochOwnership(store, times, SLACK_MS);
  const entropy = await store.entropyBetween(range.entropyFrom, range.entropyTo);
  const config = readsOnThreads(store, coverage, ownership.count);
  if (config === null) {
    const reports = await streamOwnedReports(store, times, SLACK_MS, CLOSE_PAGE_ROWS, ownership);
    return { result: await runCoverageEpoch(chain, { reports, entropy }, coverage), reports: reports.count };
  }
  // one view for the reading threads' keys and the epoch
  const epoch = {
    chain,
    times,
    witnessWindowMs: SLACK_MS,
    range: closeReadRange(times, SLACK_MS),
    ownership,
  };
  const prepared = { count: ownership.count, pages: readPreparedSlices(config, epoch, reader) };
  return { result: await runCoverageEpoch(chain, { prepared, entropy }, coverage), reports: ownership.count };
}

/** The store's reader config when the close reads on threads (see runStoredEpoch), else null. */
function readsOnThreads(store: OracleStore, coverage: CoverageOptions, reports: number): StoreConfig | null {
  const preparer = coverage.preparer ?? "auto";
  const threads = preparer === "workers" || (preparer === "auto" && reports >= AUTO_WORKERS_FROM);
  return threads ? store.readerConfig() : null;
}

export interface PublishedResultSet {
  readonly work: WorkKind;
  readonly stored: StoredEpochResult;
  /** Coverage's result carries its verdict record; storage's and compute's their verifiers' records. */
  readonly result: EpochResult;
}

/** Thrown when the stored inputs no longer reproduce the stored result (never served). */
export class ResultSetError extends Error {
  override readonly name = "ResultSetError";
}

/** Thrown when the epoch's raw reports were pruned (retention.ts): its result set cannot be rebuilt. */
export class ResultSetPrunedError extends Error {
  override readonly name = "ResultSetPrunedError";
}

export class ResultSets {
  /** The most recent few result sets (a pending epoch is asked for by every watcher at once). */
  private readonly cache = new Map<string, Promise<PublishedResultSet | null>>();
  private readonly works: ReadonlyMap<WorkKind, WorkSource>;

  /**
   * `works`: the kinds besides coverage this oracle closes (config `works`), each rebuilt through its
   * own verifier; a kind not among them is refused (WorkNotServedError).
   */
  constructor(
    private readonly store: OracleStore,
    private readonly coverage: CoverageOptions = {},
    private readonly keep = 2,
    works: readonly WorkSource[] = [],
  ) {
    this.works = new Map(works.map((w) => [w.kind, w]));
  }

  /** The epoch's result set of `work`, or null when this oracle has not computed the epoch. */
  get(epoch: bigint, work: WorkKind = "coverage"): Promise<PublishedResultSet | null> {
    if (work !== "coverage" && !this.works.has(work))
      return Promise.reject(
        new WorkNotServedError(`this oracle does not serve ${work} epochs (config works.${work})`),
      );
    const key = `${work}:${epoch}`;
    let p = this.cache.get(key);
    if (p === undefined) {
      p = this.load(epoch, work);
      this.cache.set(key, p);
      // A failure or "not computed yet" is not kept: the next request tries again.
      void p.then(
        (v) => v === null && this.cache.delete(key),
        () => this.cache.delete(key),
      );
      while (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }

  private async load(epoch: bigint, work: WorkKind): Promise<PublishedResultSet | null> {
    const stored = await this.store.getEpochResult(epoch, work);
    if (stored === null) return null;
    const what = work === "coverage" ? "" : `${work} `;
    const result =
      work === "coverage" ? await this.coverageResult(epoch) : await this.workResult(epoch, work);
    const root = result.commit.epochRoot;
    if (root.root !== stored.root || root.dataHash !== stored.dataHash)
      throw new ResultSetError(
        `${what}epoch ${epoch}: the stored inputs give root ${root.root} and dataHash ${root.dataHash}, ` +
          `the stored result says ${stored.root} and ${stored.dataHash}: the store was changed after the epoch closed`,
      );
    return { work, stored, result };
  }

  private async coverageResult(epoch: bigint): Promise<EpochResult> {
    const chain = await storedChainView(this.store, epoch);
    if (chain === null) throw new ResultSetError(`epoch ${epoch} has a result but no stored chain index`);
    const range = inputRangeOf(chain.index.epochStart, chain.index.epochEnd);
    const pruned = await this.store.prunedOverlapping(range.from, range.to);
    if (pruned !== null)
      throw new ResultSetPrunedError(
        `epoch ${epoch}: the raw reports it was computed from were pruned (epoch ${pruned.epoch}'s, retention.keepEpochs); its root, summary and owners' amounts are still served`,
      );
    return (await runStoredEpoch(this.store, chain, this.coverage)).result;
  }

  /** A storage or compute epoch, from its stored chain index through the kind's verifier (as closed). */
  private async workResult(epoch: bigint, work: WorkKind): Promise<EpochResult> {
    const index = await this.store.getChainIndex(epoch, work);
    if (index === null)
      throw new ResultSetError(`${work} epoch ${epoch} has a result but no stored chain index`);
    return this.works.get(work)!.run(index, this.coverage.params?.usage ?? DEFAULT_USAGE_PARAMS);
  }
}
