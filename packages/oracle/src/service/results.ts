/**
 * Published result sets: everything an epoch's root and dataHash commit to (every owner's
 * cumulative amount with its leaf index, every device's units, scale and reward, the verdict
 * counts, the canonical encoding), served by GET /v1/epochs/:e/results and /encoding while the root
 * is still pending, so anyone can check it inside the challenge window.
 *
 * Nothing new is stored for this: the stored inputs (chain index snapshot, reports, entropy) go
 * through the same epoch path as `close` (runStoredEpoch), and the outcome must reproduce the
 * stored root and dataHash byte for byte, or nothing is served.
 */
import { ChainView, ENTROPY_VALIDITY_MS, type ChainIndex, type EpochResult } from "@hexmesh/protocol";

import type { OracleStore, StoreConfig, StoredChainIndex, StoredEpochResult } from "../store/types.js";
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
  readonly stored: StoredEpochResult;
  readonly result: EpochResult<CoverageWork>;
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
  private readonly cache = new Map<bigint, Promise<PublishedResultSet | null>>();

  constructor(
    private readonly store: OracleStore,
    private readonly coverage: CoverageOptions = {},
    private readonly keep = 2,
  ) {}

  /** The epoch's result set, or null when this oracle has not computed the epoch. */
  get(epoch: bigint): Promise<PublishedResultSet | null> {
    let p = this.cache.get(epoch);
    if (p === undefined) {
      p = this.load(epoch);
      this.cache.set(epoch, p);
      // A failure or "not computed yet" is not kept: the next request tries again.
      void p.then(
        (v) => v === null && this.cache.delete(epoch),
        () => this.cache.delete(epoch),
      );
      while (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }

  private async load(epoch: bigint): Promise<PublishedResultSet | null> {
    const stored = await this.store.getEpochResult(epoch);
    if (stored === null) return null;
    const chain = await storedChainView(this.store, epoch);
    if (chain === null) throw new ResultSetError(`epoch ${epoch} has a result but no stored chain index`);
    const range = inputRangeOf(chain.index.epochStart, chain.index.epochEnd);
    const pruned = await this.store.prunedOverlapping(range.from, range.to);
    if (pruned !== null)
      throw new ResultSetPrunedError(
        `epoch ${epoch}: the raw reports it was computed from were pruned (epoch ${pruned.epoch}'s, retention.keepEpochs); its root, summary and owners' amounts are still served`,
      );
    const { result } = await runStoredEpoch(this.store, chain, this.coverage);
    const root = result.commit.epochRoot;
    if (root.root !== stored.root || root.dataHash !== stored.dataHash)
      throw new ResultSetError(
        `epoch ${epoch}: the stored inputs give root ${root.root} and dataHash ${root.dataHash}, ` +
          `the stored result says ${stored.root} and ${stored.dataHash}: the store was changed after the epoch closed`,
      );
    return { stored, result };
  }
}
