/**
 * Reciprocity (`nonreciprocal_signal`, CoverageParams.reciprocity), over the epoch after the witness
 * rules: path loss is the same both ways, so a device that hears others far better than they hear
 * it has better reception than its registered hardware allows; its witness reports are refused.
 */
import type { AcceptedBeacons } from "../beacons.js";
import { NumberMap } from "../hashes.js";
import { CODE } from "../reasons.js";
import type { EpochState } from "../state.js";
import type { ReportRows } from "../table.js";

/**
 * Reciprocity over the witnesses accepted so far (see CoverageParams.reciprocity). Losses are
 * summed in canonical order (the beacons' slots, then each list's order) and medians taken over
 * sorted values, so the outcome does not depend on input order. Refused witnesses leave their
 * beacon's list before selection. Memory: 40 bytes a linked pair of devices, 8 per value.
 */
export function reciprocityPass(
  s: EpochState,
  t: ReportRows,
  accepted: AcceptedBeacons,
  rule: { readonly minPairs: number; readonly maxMedianDb: number },
): void {
  const devices = s.chain.devices;
  // pair (lo, hi) -> entry e: sums[2e] loss lo->hi, sums[2e+1] hi->lo, and their counts
  const pairs = new NumberMap();
  let sums = new Float64Array(2048);
  let counts = new Uint32Array(2048);
  const span = devices.length + 1;
  const witnesses: number[] = [];
  for (let slot = 0; slot < accepted.count; slot++) {
    const b = accepted.row(slot);
    const bd = t.deviceIndex(b);
    const eirp = t.power(b) / 10 + devices[bd]!.record.gain / 10;
    for (const w of accepted.witnessesOf(slot, witnesses)) {
      const wd = t.deviceIndex(w);
      const loss = eirp + devices[wd]!.record.gain / 10 - t.power(w) / 10;
      const lo = Math.min(bd, wd);
      const e = pairs.entryOf(lo * span + Math.max(bd, wd));
      if (2 * e === sums.length) {
        const moreSums = new Float64Array(sums.length * 2);
        moreSums.set(sums);
        sums = moreSums;
        const moreCounts = new Uint32Array(counts.length * 2);
        moreCounts.set(counts);
        counts = moreCounts;
      }
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
    const key = pairs.keyOf(e);
    const lo = Math.floor(key / span);
    start[lo + 1]! += 1;
    start[key - lo * span + 1]! += 1;
  }
  for (let d = 0; d < devices.length; d++) start[d + 1]! += start[d]!;
  const values = new Float64Array(start[devices.length]!);
  const filled = start.slice(0, devices.length);
  for (let e = 0; e < pairs.length; e++) {
    if (!reciprocal(e)) continue;
    const key = pairs.keyOf(e);
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
