/**
 * The last steps of an epoch's close, after its chain index is stored and its close has begun: the
 * epoch computed from the stored reports (streamed: results.ts, close.ts), its summary, and its
 * result stored with one verdict per report, built and written in batches. An epoch's verdicts are
 * never all in memory as objects; its per-report state is the verifier's, spilled to a temp file
 * and read back in pages (verify/spill.ts, verify/state.ts).
 */
import type { EpochResult } from "@hexmesh/protocol";

import type { OracleStore, StoredChainIndex, StoredEpochResult, VerdictRow } from "../store/types.js";
import type { CoverageOptions, CoverageWork, Verdict } from "../verify/coverage.js";
import type { Progress } from "./inputs.js";
import { runStoredEpoch } from "./results.js";
import type { SliceReaderOptions } from "./slice-reader.js";
import { storedResultOf } from "./work.js";

/** Computes and stores the epoch of `index` (EpochService.close, after beginEpochClose). */
export async function closeStoredEpoch(
  store: OracleStore,
  index: StoredChainIndex,
  coverage: CoverageOptions = {},
  progress: Progress = () => {},
  reader: SliceReaderOptions = {},
): Promise<StoredEpochResult> {
  const { result, reports } = await runStoredEpoch(store, index, coverage, reader);
  progress("load", reports, reports);
  return storeComputedEpoch(store, index, result, progress);
}

/**
 * Stores an epoch computed from its chain index (here or by a partitioned close: partitions.ts):
 * its summary, counted from the per-report outcome, and one verdict row per report, written in
 * batches inside the result's one transaction.
 */
export async function storeComputedEpoch(
  store: OracleStore,
  index: StoredChainIndex,
  result: EpochResult<CoverageWork>,
  progress: Progress = () => {},
): Promise<StoredEpochResult> {
  // Counted from the per-report outcome; the verdicts are then built one at a time as they are
  // written: an epoch's verdict objects are never all in memory.
  const counts = result.work.countVerdicts();
  const reportCount = counts.reports;
  progress("verify", reportCount, reportCount);
  const out = storedResultOf(index, result, counts);
  try {
    await store.putEpochResult(out, verdictRows(index.epoch, result.work.iterateVerdicts()));
  } finally {
    result.work.release(); // the spill file's space, now rather than at the next garbage collection
  }
  progress("store", reportCount, reportCount);
  return out;
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
