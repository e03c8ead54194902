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
 * 3. It takes the reports this epoch owns (`ownedBy`) and verifies them, read from the store's
 *    (receive time, hash) index in keyset pages (`streamOwnedReports`): the raw texts of an epoch are
 *    never all in memory.
 *
 * Ownership: a beacon belongs to the epoch its receive time falls in. A witness belongs to the epoch
 * of the earliest beacon with its payload received within one witness window of it (the beacon it
 * reports, as the verifier will match it), and otherwise to the epoch its own receive time falls in.
 * Both neighbouring epochs compute the same answer from the same (frozen) rows, so no report is read
 * by two epochs nor by none.
 */
import { fromHex, keccak256, parseReport, toHex, type Hex } from "@hexmesh/protocol";

import type { PartitionSlice } from "../store/partitions.js";
import type { EpochClose, OracleStore, ReportCursor, StoredReport } from "../store/types.js";

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

/** Rows per keyset page of a streaming close (bounds the raw texts held at once). */
export const CLOSE_PAGE_ROWS = 4_096;

/** The stored reports the epoch owns, counted and then read in pages (streamOwnedReports). */
export interface OwnedReportStream {
  /** How many reports the pages yield in all. */
  readonly count: number;
  /** The owned reports in (receive time, hash) order, at most `pageRows` per page. */
  readonly pages: AsyncIterable<StoredReport[]>;
}

/** Step 3, all at once (read after beginEpochClose, they no longer change). Small epochs and tests. */
export async function ownedReports(
  store: OracleStore,
  times: EpochTimes,
  witnessWindowMs: number,
): Promise<StoredReport[]> {
  const out: StoredReport[] = [];
  for await (const page of (await streamOwnedReports(store, times, witnessWindowMs)).pages) out.push(...page);
  return out;
}

/**
 * Step 3 in bounded memory: the reports the epoch owns, in (receive time, hash) order, read from the
 * store's index in keyset pages of `pageRows`. Only the rows within two witness windows of a boundary
 * need more than their receive time to be assigned: those are read first (to count the owned ones and
 * to collect the beacons that decide them); every other row of the epoch is owned, and counted by the
 * store. What the stream yields equals ownedBy over the whole read range. `known`: the epoch's
 * ownership, when the caller has it already.
 */
export async function streamOwnedReports(
  store: OracleStore,
  times: EpochTimes,
  witnessWindowMs: number,
  pageRows = CLOSE_PAGE_ROWS,
  known?: EpochOwnership,
): Promise<OwnedReportStream> {
  const range = closeReadRange(times, witnessWindowMs);
  const ownership = known ?? (await epochOwnership(store, times, witnessWindowMs, pageRows));
  async function* pages(): AsyncGenerator<StoredReport[]> {
    for await (const page of reportPages(store, range.from, range.to, pageRows)) {
      const owned = page.filter(ownership.owns);
      if (owned.length > 0) yield owned;
    }
  }
  return { count: ownership.count, pages: pages() };
}

/** Which stored reports of its read range an epoch owns, and how many it owns in all. */
export interface EpochOwnership {
  readonly count: number;
  /** Whether the epoch owns r (r received in the epoch's read range). */
  readonly owns: (r: StoredReport) => boolean;
  /**
   * What `owns` decides from: the receive times of the beacons near a boundary, by keccak256 of
   * their payload (a worker thread rebuilds `owns` from them: ownsGiven).
   */
  readonly boundaryBeacons: ReadonlyMap<Hex, readonly number[]>;
}

/** `owns` of an EpochOwnership from its boundary beacons (for a worker thread of the close). */
export function ownsGiven(
  times: EpochTimes,
  witnessWindowMs: number,
  boundaryBeacons: ReadonlyMap<Hex, readonly number[]>,
): (r: StoredReport) => boolean {
  return (r) => owns(r, times, witnessWindowMs, boundaryBeacons);
}

/** Which stored reports of its read range an epoch owns, without how many (what a worker needs). */
export type BoundaryOwnership = Omit<EpochOwnership, "count">;

/** The bands [start - 2w, start + 2w) and [end - 2w, end + 2w), merged when they meet. */
function boundaryBands(times: EpochTimes, w: number): { from: number; to: number }[] {
  const range = closeReadRange(times, w);
  return times.start + 2 * w < times.end - 2 * w
    ? [
        { from: range.from, to: times.start + 2 * w },
        { from: times.end - 2 * w, to: range.to },
      ]
    : [{ from: range.from, to: range.to }];
}

/**
 * Ownership from the boundary bands only: their beacons decide the witnesses near a boundary; every
 * report between the bands is owned.
 */
export async function boundaryOwnership(
  store: OracleStore,
  times: EpochTimes,
  witnessWindowMs: number,
  pageRows = CLOSE_PAGE_ROWS,
): Promise<BoundaryOwnership> {
  const beacons = new Map<Hex, number[]>();
  for (const band of boundaryBands(times, witnessWindowMs))
    for await (const page of reportPages(store, band.from, band.to, pageRows))
      collectBoundaryBeacons(page, times, witnessWindowMs, beacons);
  return { owns: ownsGiven(times, witnessWindowMs, beacons), boundaryBeacons: beacons };
}

/** The same, and how many reports the epoch owns: those of the bands it owns, and the store's count between them. */
export async function epochOwnership(
  store: OracleStore,
  times: EpochTimes,
  witnessWindowMs: number,
  pageRows = CLOSE_PAGE_ROWS,
): Promise<EpochOwnership> {
  const known = await boundaryOwnership(store, times, witnessWindowMs, pageRows);
  const bands = boundaryBands(times, witnessWindowMs);
  let count = 0;
  for (const band of bands)
    for await (const page of reportPages(store, band.from, band.to, pageRows))
      for (const r of page) if (known.owns(r)) count++;
  if (bands.length === 2) count += await store.countReports(bands[0]!.to, bands[1]!.from);
  return { ...known, count };
}

/** The reports received in [fromMs, toMs) in (receive time, hash) order, one keyset page at a time. */
export async function* reportPages(
  store: OracleStore,
  fromMs: number,
  toMs: number,
  limit: number,
): AsyncGenerator<StoredReport[]> {
  let after: ReportCursor | undefined;
  for (;;) {
    const page = await store.reportsReceivedBetween(fromMs, toMs, { ...(after ? { after } : {}), limit });
    if (page.length > 0) yield page;
    if (page.length < limit) return;
    const last = page[page.length - 1]!;
    after = { receivedAt: last.receivedAt, hash: last.hash };
  }
}

/**
 * `n` slices of equal length covering [from, to) (the last takes the remainder): the partitions of a
 * partitioned close (partitions.ts), the slices of the reading threads (slice-reader.ts).
 */
export function partitionSlices(from: number, to: number, n: number): PartitionSlice[] {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`partitions must be a positive integer, not ${n}`);
  const width = Math.max(1, Math.ceil((to - from) / n));
  const out: PartitionSlice[] = [];
  for (let f = from; f < to && out.length < n; f += width)
    out.push({ fromMs: f, toMs: Math.min(to, f + width) });
  out[out.length - 1] = { fromMs: out[out.length - 1]!.fromMs, toMs: to };
  return out;
}

const epochSide = (t: number, times: EpochTimes): -1 | 0 | 1 =>
  t < times.start ? -1 : t >= times.end ? 1 : 0;

const nearBoundary = (t: number, times: EpochTimes, w: number) =>
  Math.abs(t - times.start) < 2 * w || Math.abs(t - times.end) < 2 * w;

/** Adds the beacons of `rows` near a boundary, by keccak256(payload): what a witness near a boundary reports hearing. */
function collectBoundaryBeacons(
  rows: readonly StoredReport[],
  times: EpochTimes,
  w: number,
  beacons: Map<Hex, number[]>,
): void {
  for (const r of rows) {
    if (r.kind !== "beacon" || !nearBoundary(r.receivedAt, times, w)) continue;
    const p = parseReport(r.raw);
    if (!p.ok || p.report.type !== "beacon") continue;
    const key = toHex(keccak256(fromHex(p.report.payload)));
    const list = beacons.get(key);
    if (list === undefined) beacons.set(key, [r.receivedAt]);
    else list.push(r.receivedAt);
  }
}

/** Whether the epoch `times` owns report r, given every beacon near a boundary of its read range. */
function owns(
  r: StoredReport,
  times: EpochTimes,
  w: number,
  beacons: ReadonlyMap<Hex, readonly number[]>,
): boolean {
  let side = epochSide(r.receivedAt, times);
  if (r.kind === "witness" && nearBoundary(r.receivedAt, times, w)) {
    const p = parseReport(r.raw);
    if (p.ok && p.report.type === "witness") {
      let earliest = Number.POSITIVE_INFINITY;
      for (const t of beacons.get(p.report.beaconPayloadHash) ?? [])
        if (Math.abs(t - r.receivedAt) <= w && t < earliest) earliest = t;
      if (earliest !== Number.POSITIVE_INFINITY) side = epochSide(earliest, times);
    }
  }
  return side === 0;
}

/**
 * The reports of `rows` (received in the close's read range, ordered by receive time) that belong
 * to the epoch `times` (rules above). Only rows within two witness windows of a boundary are parsed.
 */
export function ownedBy(
  rows: readonly StoredReport[],
  times: EpochTimes,
  witnessWindowMs: number,
): StoredReport[] {
  const beacons = new Map<Hex, number[]>();
  collectBoundaryBeacons(rows, times, witnessWindowMs, beacons);
  return rows.filter((r) => owns(r, times, witnessWindowMs, beacons));
}
