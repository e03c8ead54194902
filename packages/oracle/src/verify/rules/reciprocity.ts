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
 * Memory: the linked pairs of devices are found by sorting the accepted witnesses' pair keys, at
 * most PAIR_KEYS_PER_PASS at a time (linkedPairs), then held sorted, 32 bytes a pair with its sums
 * and counts, and found by a search within the lower device's pairs. A hash map of pairs took 60-110
 * bytes a pair, and more while it grew.
 */
export function reciprocityPass(
  s: EpochState,
  t: ReportRows,
  accepted: AcceptedBeacons,
  rule: { readonly minPairs: number; readonly maxMedianDb: number },
): void {
  const devices = s.chain.devices;
  const span = devices.length + 1;
  const pairs = linkedPairs(t, accepted, span);
  // pairs of each lower device: pairs[first[lo] .. first[lo + 1]) (sorted by (lo, hi))
  const first = new Uint32Array(devices.length + 1);
  for (let e = 0; e < pairs.length; e++) first[Math.floor(pairs[e]! / span) + 1]! += 1;
  for (let d = 0; d < devices.length; d++) first[d + 1]! += first[d]!;
  // pair e: sums[2e] loss lo->hi, sums[2e+1] hi->lo, and their counts
  const sums = new Float64Array(2 * pairs.length);
  const counts = new Uint32Array(2 * pairs.length);
  const witnesses: number[] = [];
  for (let slot = 0; slot < accepted.count; slot++) {
    const b = accepted.row(slot);
    const bd = t.deviceIndex(b);
    const eirp = t.power(b) / 10 + devices[bd]!.record.gain / 10;
    for (const w of accepted.witnessesOf(slot, witnesses)) {
      const wd = t.deviceIndex(w);
      const loss = eirp + devices[wd]!.record.gain / 10 - t.power(w) / 10;
      const lo = Math.min(bd, wd);
      const e = pairOf(pairs, first[lo]!, first[lo + 1]!, lo * span + Math.max(bd, wd));
      const k = bd === lo ? 2 * e : 2 * e + 1;
      sums[k]! += loss;
      counts[k]! += 1;
    }
  }
  // per device: (loss as transmitter) - (loss as receiver), one value per reciprocal pair, grouped
  // by device (counted, then placed)
  const reciprocal = (e: number) => counts[2 * e]! > 0 && counts[2 * e + 1]! > 0;
  const start = new Uint32Array(devices.length + 1);
  for (let e = 0; e < pairs.length; e++) {
    if (!reciprocal(e)) continue;
    const key = pairs[e]!;
    const lo = Math.floor(key / span);
    start[lo + 1]! += 1;
    start[key - lo * span + 1]! += 1;
  }
  for (let d = 0; d < devices.length; d++) start[d + 1]! += start[d]!;
  const values = new Float64Array(start[devices.length]!);
  const filled = start.slice(0, devices.length);
  for (let e = 0; e < pairs.length; e++) {
    if (!reciprocal(e)) continue;
    const key = pairs[e]!;
    const lo = Math.floor(key / span);
    const hi = key - lo * span;
    const loToHi = sums[2 * e]! / counts[2 * e]!;
    const hiToLo = sums[2 * e + 1]! / counts[2 * e + 1]!;
    values[filled[lo]!++] = loToHi - hiToLo;
    values[filled[hi]!++] = hiToLo - loToHi;
  }
  const flagged = new Set<number>();
  for (let d = 0; d < devices.length; d++) {
    const m = start[d + 1]! - start[d]!;
    if (m === 0 || m < rule.minPairs) continue;
    const v = values.subarray(start[d]!, start[d + 1]!).sort();
    const median = m % 2 === 1 ? v[(m - 1) / 2]! : (v[m / 2 - 1]! + v[m / 2]!) / 2;
    if (median > rule.maxMedianDb) flagged.add(d);
  }
  s.refuseWitnessesOf(flagged, CODE.nonreciprocal_signal);
}

/** At most this many witnesses' pair keys are sorted at once (64 MiB): see linkedPairs. */
export const PAIR_KEYS_PER_PASS = 8_388_608;

/**
 * The distinct pair keys (lo * span + hi, device indexes) of the accepted witnesses and their
 * beacons, sorted. Collected a range of lower devices at a time, each range with at most
 * `keysPerPass` witnesses (a device with more is a range of its own): a key per witness of the
 * epoch at once was 8 bytes a witness (~270 MB on a 40M-report day), for the sort only. A range's
 * keys all sort below the next range's, so the ranges' distinct keys in order are the whole sorted
 * list.
 */
export function linkedPairs(
  t: ReportRows,
  accepted: AcceptedBeacons,
  span: number,
  keysPerPass = PAIR_KEYS_PER_PASS,
): Float64Array {
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
  const perLower = new Uint32Array(deviceCount);
  forEachPair((lo) => perLower[lo]!++);
  const parts: Float64Array[] = [];
  let total = 0;
  for (let from = 0; from < deviceCount; ) {
    let to = from;
    let n = 0;
    while (to < deviceCount && (to === from || n + perLower[to]! <= keysPerPass)) n += perLower[to++]!;
    if (n > 0) {
      const keys = new Float64Array(n);
      let k = 0;
      forEachPair((lo, hi) => {
        if (lo >= from && lo < to) keys[k++] = lo * span + hi;
      });
      keys.sort();
      let distinct = 0;
      for (let i = 0; i < n; i++) if (i === 0 || keys[i] !== keys[i - 1]) keys[distinct++] = keys[i]!;
      parts.push(keys.slice(0, distinct));
      total += distinct;
    }
    from = to;
  }
  const pairs = new Float64Array(total);
  let at = 0;
  for (const part of parts) {
    pairs.set(part, at);
    at += part.length;
  }
  return pairs;
}

/** The index of `key` in pairs[from .. to) (sorted; it is there: every witness's pair was added). */
function pairOf(pairs: Float64Array, from: number, to: number, key: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pairs[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
