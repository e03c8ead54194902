/**
 * Reciprocity (`nonreciprocal_signal`, CoverageParams.reciprocity), over the epoch after the witness
 * rules: path loss is the same both ways, so a device that hears others far better than they hear
 * it has better reception than its registered hardware allows; its witness reports are refused.
 */
import type { AcceptedBeacons } from "../beacons.js";
import { CODE } from "../reasons.js";
import type { EpochState } from "../state.js";
import type { ReportRows } from "../table.js";

/**
 * Reciprocity over the witnesses accepted so far (see CoverageParams.reciprocity). Losses are
 * summed in canonical order (the beacons' slots, then each list's order) and medians taken over
 * sorted values, so the outcome does not depend on input order. Refused witnesses leave their
 * beacon's list before selection.
 *
 * Memory, 28 bytes a linked pair at most: the pairs of devices are found by sorting the accepted
 * witnesses' pair keys, at most PAIR_KEYS_PER_PASS at a time (linkedPairs), and held as each lower
 * device's higher devices (4 bytes a pair), found by a search among them. Each pair's loss sums and
 * counts both ways (24 bytes) become one difference (8); a device's values are gathered from its
 * pairs as the lower device and, through an index of the reciprocal pairs by higher device (4), as the
 * higher one, one device at a time. A hash map of pairs took 60-110 bytes a pair; pair keys with the
 * sums, counts and every device's values at once, 48.
 */
export function reciprocityPass(
  s: EpochState,
  t: ReportRows,
  accepted: AcceptedBeacons,
  rule: { readonly minPairs: number; readonly maxMedianDb: number },
): void {
  const devices = s.chain.devices;
  const { first, higher } = linkedPairs(t, accepted, devices.length + 1);
  const diffs = lossDifferences(s, t, accepted, first, higher);
  // the reciprocal pairs by higher device: pairs[byHigher[start[hi] .. start[hi + 1])]
  const start = new Uint32Array(devices.length + 1);
  for (let e = 0; e < higher.length; e++) if (!Number.isNaN(diffs[e]!)) start[higher[e]! + 1]! += 1;
  for (let d = 0; d < devices.length; d++) start[d + 1]! += start[d]!;
  const byHigher = new Uint32Array(start[devices.length]!);
  const filled = start.slice(0, devices.length);
  for (let lo = 0; lo < devices.length; lo++)
    for (let e = first[lo]!; e < first[lo + 1]!; e++)
      if (!Number.isNaN(diffs[e]!)) byHigher[filled[higher[e]!]!++] = e;
  // per device: (loss as transmitter) - (loss as receiver), one value per reciprocal pair
  let values = new Float64Array(64);
  const flagged = new Set<number>();
  for (let d = 0; d < devices.length; d++) {
    const most = first[d + 1]! - first[d]! + start[d + 1]! - start[d]!;
    if (most === 0 || most < rule.minPairs) continue;
    if (values.length < most) values = new Float64Array(Math.max(most, 2 * values.length));
    let m = 0;
    for (let e = first[d]!; e < first[d + 1]!; e++) if (!Number.isNaN(diffs[e]!)) values[m++] = diffs[e]!;
    for (let k = start[d]!; k < start[d + 1]!; k++) values[m++] = -diffs[byHigher[k]!]!;
    if (m === 0 || m < rule.minPairs) continue;
    const v = values.subarray(0, m).sort();
    const median = m % 2 === 1 ? v[(m - 1) / 2]! : (v[m / 2 - 1]! + v[m / 2]!) / 2;
    if (median > rule.maxMedianDb) flagged.add(d);
  }
  s.refuseWitnessesOf(flagged, CODE.nonreciprocal_signal);
}

/**
 * Each linked pair's mean loss lower -> higher minus higher -> lower (dB), NaN for a pair heard one
 * way only. The sums and counts both ways take 24 bytes a pair; each pair's difference is written over
 * its own sums in pair order (pair e's at index e, its sums at 2e and 2e + 1: never read again), then
 * copied out, so the copy is 8.
 */
function lossDifferences(
  s: EpochState,
  t: ReportRows,
  accepted: AcceptedBeacons,
  first: Uint32Array,
  higher: Uint32Array,
): Float64Array {
  const devices = s.chain.devices;
  // pair e: sums[2e] loss lo->hi, sums[2e+1] hi->lo, and their counts
  const sums = new Float64Array(2 * higher.length);
  let counts: Uint32Array | null = new Uint32Array(2 * higher.length);
  const witnesses: number[] = [];
  for (let slot = 0; slot < accepted.count; slot++) {
    const b = accepted.row(slot);
    const bd = t.deviceIndex(b);
    const eirp = t.power(b) / 10 + devices[bd]!.record.gain / 10;
    for (const w of accepted.witnessesOf(slot, witnesses)) {
      const wd = t.deviceIndex(w);
      const loss = eirp + devices[wd]!.record.gain / 10 - t.power(w) / 10;
      const lo = Math.min(bd, wd);
      const e = pairOf(higher, first[lo]!, first[lo + 1]!, Math.max(bd, wd));
      const k = bd === lo ? 2 * e : 2 * e + 1;
      sums[k]! += loss;
      counts[k]! += 1;
    }
  }
  for (let e = 0; e < higher.length; e++) {
    const up = counts[2 * e]!;
    const down = counts[2 * e + 1]!;
    sums[e] = up > 0 && down > 0 ? sums[2 * e]! / up - sums[2 * e + 1]! / down : NaN;
  }
  counts = null;
  return sums.slice(0, higher.length);
}

/** At most this many witnesses' pair keys are sorted at once (64 MiB): see linkedPairs. */
export const PAIR_KEYS_PER_PASS = 8_388_608;

/**
 * The distinct pairs of devices (device indexes, lower and higher) of the accepted witnesses and
 * their beacons: lower device lo's higher devices are higher[first[lo] .. first[lo + 1]), ascending.
 * Found by sorting pair keys (lo * span + hi) a range of lower devices at a time, each range with at
 * most `keysPerPass` witnesses (a device with more is a range of its own): a key per witness of the
 * epoch at once was 8 bytes a witness (~270 MB on a 40M-report day), for the sort only.
 */
export function linkedPairs(
  t: ReportRows,
  accepted: AcceptedBeacons,
  span: number,
  keysPerPass = PAIR_KEYS_PER_PASS,
): { readonly first: Uint32Array; readonly higher: Uint32Array } {
  const deviceCount = span - 1;
  const witnesses: number[] = [];
  /** Calls `each(lo, hi)` for every accepted witness, in canonical order. */
  const forEachPair = (each: (lo: number, hi: number) => void) => {
    for (let slot = 0; slot < accepted.count; slot++) {
      const bd = t.deviceIndex(accepted.row(slot));
      for (const w of accepted.witnessesOf(slot, witnesses)) {
        const wd = t.deviceIndex(w);
        each(Math.min(bd, wd), Math.max(bd, wd));
      }
    }
  };
  const first = new Uint32Array(deviceCount + 1);
  forEachPair((lo) => first[lo + 1]!++); // witnesses per lower device, until the ranges are sorted
  const parts: Uint32Array[] = [];
  let total = 0;
  for (let from = 0; from < deviceCount; ) {
    let to = from;
    let n = 0;
    while (to < deviceCount && (to === from || n + first[to + 1]! <= keysPerPass)) n += first[++to]!;
    if (n > 0) {
      const keys = new Float64Array(n);
      let k = 0;
      forEachPair((lo, hi) => {
        if (lo >= from && lo < to) keys[k++] = lo * span + hi;
      });
      keys.sort();
      const part = new Uint32Array(n);
      let distinct = 0;
      for (let d = from; d < to; d++) first[d + 1] = 0;
      for (let i = 0; i < n; i++) {
        if (i > 0 && keys[i] === keys[i - 1]) continue;
        const lo = Math.floor(keys[i]! / span);
        part[distinct++] = keys[i]! - lo * span;
        first[lo + 1]!++;
      }
      parts.push(part.slice(0, distinct));
      total += distinct;
    }
    from = to;
  }
  for (let d = 0; d < deviceCount; d++) first[d + 1]! += first[d]!;
  const higher = new Uint32Array(total);
  let at = 0;
  for (const part of parts) {
    higher.set(part, at);
    at += part.length;
  }
  return { first, higher };
}

/** The index of `hi` in higher[from .. to) (ascending; it is there: every witness's pair was added). */
function pairOf(higher: Uint32Array, from: number, to: number, hi: number): number {
  let lo = from;
  let end = to;
  while (lo < end) {
    const mid = (lo + end) >>> 1;
    if (higher[mid]! < hi) lo = mid + 1;
    else end = mid;
  }
  return lo;
}
