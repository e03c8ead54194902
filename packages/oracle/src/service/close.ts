/**
 * Closing an epoch over the store, so that every acknowledged report ends up with exactly one verdict
 * in exactly one epoch's result:
 *
 * 1. The close refuses to begin before `cutoff + graceMs` on the oracle's clock, where
 *    cutoff = epoch end + 2 x witness window (a witness may arrive up to one window after its
 *    beacon, and which epoch a witness belongs to is decided by beacons up to one more window away).
 * 2. It records the close in the store (`beginClose`): from then on no report received before the
 *    cutoff is stored (ingest answers 409), and every batch the store committed before is visible.
 *    So the range the close reads can no longer change under it, and a re-run reads the same range.
 * 3. It takes the reports this epoch owns (`ownedBy`) and verifies them.
 *
 * Ownership: a beacon belongs to the epoch its receive time falls in. A witness belongs to the epoch
 * of the earliest beacon with its payload received within one witness window of it (the beacon it
 * reports, as the verifier will match it), and otherwise to the epoch its own receive time falls in.
 * Both neighbouring epochs compute the same answer from the same (frozen) rows, so no report is read
 * by two epochs nor by none.
 */
import { fromHex, keccak256, parseReport, toHex, type Hex } from "@hexmesh/protocol";

import type { EpochClose, OracleStore, StoredReport } from "../store/types.js";

export interface EpochTimes {
  readonly epoch: bigint;
  /** Unix ms, inclusive. */
  readonly start: number;
  /** Unix ms, exclusive. */
  readonly end: number;
}

/** Thrown when an epoch cannot be closed yet (its reports may still be arriving). */
export class EpochNotOverError extends Error {
  override readonly name = "EpochNotOverError";
}

/** Reports received before this are frozen once the epoch's close begins. */
export function closeCutoff(times: EpochTimes, witnessWindowMs: number): number {
  return times.end + 2 * witnessWindowMs;
}

/** The range of receive times a close reads (its own reports and the beacons that decide ownership). */
export function closeReadRange(times: EpochTimes, witnessWindowMs: number): { from: number; to: number } {
  return { from: times.start - 2 * witnessWindowMs, to: closeCutoff(times, witnessWindowMs) };
}

/**
 * Steps 1 and 2: refuses before `cutoff + graceMs` (on `now`) and records the close. From then on
 * the close's read range (`ownedReports`) cannot change. Idempotent.
 */
export async function beginEpochClose(
  store: OracleStore,
  times: EpochTimes,
  options: { readonly now: number; readonly graceMs: number; readonly witnessWindowMs: number },
): Promise<EpochClose> {
  const w = options.witnessWindowMs;
  const cutoff = closeCutoff(times, w);
  const earliest = cutoff + options.graceMs;
  if (options.now < earliest) {
    throw new EpochNotOverError(
      `epoch ${times.epoch} cannot be closed before ${new Date(earliest).toISOString()} (its end ${new Date(times.end).toISOString()} + ${2 * w} ms of witness windows + ${options.graceMs} ms of grace); the oracle's clock reads ${new Date(options.now).toISOString()}`,
    );
  }
  return store.beginClose({ epoch: times.epoch, cutoff, startedAt: options.now });
}

/** Step 3: the stored reports the epoch owns (read after beginEpochClose, they no longer change). */
export async function ownedReports(
  store: OracleStore,
  times: EpochTimes,
  witnessWindowMs: number,
): Promise<StoredReport[]> {
  const range = closeReadRange(times, witnessWindowMs);
  return ownedBy(await store.reportsReceivedBetween(range.from, range.to), times, witnessWindowMs);
}

const epochSide = (t: number, times: EpochTimes): -1 | 0 | 1 =>
  t < times.start ? -1 : t >= times.end ? 1 : 0;

/**
 * The reports of `rows` (received in the close's read range, ordered by receive time) that belong
 * to the epoch `times` (rules above). Only rows within two witness windows of a boundary are parsed.
 */
export function ownedBy(
  rows: readonly StoredReport[],
  times: EpochTimes,
  witnessWindowMs: number,
): StoredReport[] {
  const w = witnessWindowMs;
  const nearBoundary = (t: number) => Math.abs(t - times.start) < 2 * w || Math.abs(t - times.end) < 2 * w;
  // Beacons near a boundary, by keccak256(payload): what a witness near a boundary reports hearing.
  const beacons = new Map<Hex, number[]>();
  for (const r of rows) {
    if (r.kind !== "beacon" || !nearBoundary(r.receivedAt)) continue;
    const p = parseReport(r.raw);
    if (!p.ok || p.report.type !== "beacon") continue;
    const key = toHex(keccak256(fromHex(p.report.payload)));
    const list = beacons.get(key);
    if (list === undefined) beacons.set(key, [r.receivedAt]);
    else list.push(r.receivedAt);
  }
  const out: StoredReport[] = [];
  for (const r of rows) {
    let side = epochSide(r.receivedAt, times);
    if (r.kind === "witness" && nearBoundary(r.receivedAt)) {
      const p = parseReport(r.raw);
      if (p.ok && p.report.type === "witness") {
        let earliest = Number.POSITIVE_INFINITY;
        for (const t of beacons.get(p.report.beaconPayloadHash) ?? [])
          if (Math.abs(t - r.receivedAt) <= w && t < earliest) earliest = t;
        if (earliest !== Number.POSITIVE_INFINITY) side = epochSide(earliest, times);
      }
    }
    if (side === 0) out.push(r);
  }
  return out;
}
