/**
 * The last steps of an epoch's close, after its chain index is stored and its close has begun: the
 * epoch computed from the stored reports (streamed: results.ts, close.ts), its summary, and its
 * result stored with one verdict per report, built and written in batches. An epoch's verdicts are
 * never all in memory as objects; its per-report state is the verifier's, spilled to a temp file
 * and read back in pages (verify/spill.ts, verify/state.ts).
 */
import type { ChainIndexHead, ChainView, EpochResult } from "@hexmesh/protocol";

import type { OracleStore, StoredChainIndex, StoredEpochResult, VerdictRow } from "../store/types.js";
import type { CoverageOptions, CoverageWork, Verdict } from "../verify/coverage.js";
import type { Progress } from "./inputs.js";
import { runStoredEpoch, viewOf } from "./results.js";
import type { SliceReaderOptions } from "./slice-reader.js";
import { storedResultOf } from "./work.js";

/**
 * Computes and stores the epoch of its stored chain index, given as the index or its view
 * (EpochService.close, after beginEpochClose). A large fleet's close is given the view by a caller
 * that does not hold the plain index (results.ts viewOf, storedChainView).
 */
export async function closeStoredEpoch(
  store: OracleStore,
  of: StoredChainIndex | ChainView<StoredChainIndex>,
  coverage: CoverageOptions = {},
  progress: Progress = () => {},
  reader: SliceReaderOptions = {},
): Promise<StoredEpochResult> {
  return storeEpoch(store, await computeStoredEpoch(store, viewOf(of), coverage, progress, reader), progress);
}

/**
 * The computed epoch as storing it takes it. Not the computed result: its devices' work, payout and
 * encoding (~0.5 KB a device) are garbage while the verdicts are written, which at a large epoch
 * takes as long as the epoch-wide stages (docs/oracle-service.md).
 */
export interface EpochToStore {
  readonly stored: StoredEpochResult;
  /** The verdict rows, built one at a time as the store takes them. */
  readonly verdicts: Iterable<VerdictRow>;
  /** Frees the verifier's spilled records once they are written (CoverageWork.release). */
  readonly release: () => void;
}

/** Computes the epoch; what the caller holds afterwards is what storing it takes. */
async function computeStoredEpoch(
  store: OracleStore,
  chain: ChainView<StoredChainIndex>,
  coverage: CoverageOptions,
  progress: Progress,
  reader: SliceReaderOptions,
): Promise<EpochToStore> {
  const { result, reports } = await runStoredEpoch(store, chain, withProgress(coverage, progress), reader);
  progress("load", reports, reports);
  return epochToStore(chain.index, result, progress);
}

/**
 * An epoch computed from its chain index (here or by a partitioned close: partitions.ts), as stored:
 * its summary, counted from the per-report outcome, and its verdict rows. The verdicts are built one
 * at a time as they are written: an epoch's verdict objects are never all in memory.
 */
export function epochToStore(
  index: ChainIndexHead<StoredChainIndex>,
  result: EpochResult<CoverageWork>,
  progress: Progress = () => {},
): EpochToStore {
  const counts = result.work.countVerdicts();
  progress("verify", counts.reports, counts.reports);
  // Functions of the work, not methods: what is kept of it is what they read (CoverageWork).
  const { iterateVerdicts, release } = result.work;
  return {
    stored: storedResultOf(index, result, counts),
    verdicts: verdictRows(index.epoch, iterateVerdicts()),
    release,
  };
}

/** The coverage options, told the close's progress through the stages unless they name their own. */
export function withProgress(coverage: CoverageOptions | undefined, progress: Progress): CoverageOptions {
  return coverage?.progress !== undefined ? coverage : { ...coverage, progress };
}

/** Stores the result and its verdicts in the result's one transaction, written in batches. */
export async function storeEpoch(
  store: OracleStore,
  epoch: EpochToStore,
  progress: Progress = () => {},
): Promise<StoredEpochResult> {
  try {
    await store.putEpochResult(epoch.stored, epoch.verdicts);
  } finally {
    epoch.release(); // the spill file's space, now rather than at the next garbage collection
  }
  const reports = epoch.stored.summary.reports;
  progress("store", reports, reports);
  return epoch.stored;
}

/** The stored rows of an epoch's verdicts (canonical order), built as the store takes them. */
function* verdictRows(epoch: bigint, verdicts: Iterable<Verdict>): Generator<VerdictRow> {
  let seq = 0;
  for (const v of verdicts)
    yield {
      epoch,
      seq: seq++,
      id: v.id,
      device: v.device,
      kind: v.kind,
      receivedAt: v.receivedAt,
      reason: v.reason,
      detail: v.detail,
      selected: v.selected,
      units: v.units,
    };
}
