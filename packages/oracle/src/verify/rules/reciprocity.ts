/**
 * Reciprocity (`nonreciprocal_signal`, CoverageParams.reciprocity), over the epoch after the witness
 * rules: path loss is the same both ways, so a device that hears others far better than they hear
 * it has better reception than its registered hardware allows; its witness reports are refused.
 */
import { CODE } from "../reasons.js";
import type { BeaconState, EpochState } from "../state.js";
import type { ReportRows } from "../table.js";

/**
 * Reciprocity over the witnesses accepted so far (see CoverageParams.reciprocity). Losses are
 * summed in canonical order and medians taken over sorted values, so the outcome does not depend
 * on input order. Refused witnesses leave their beacon's list before selection.
 */
export function reciprocityPass(
  s: EpochState,
  t: ReportRows,
  accepted: ReadonlyMap<number, BeaconState>,
  rule: { readonly minPairs: number; readonly maxMedianDb: number },
): void {
  const devices = s.chain.devices;
  // pair (lo, hi) -> [sum loss lo->hi, count, sum loss hi->lo, count]
  const pairs = new Map<number, [number, number, number, number]>();
  const span = devices.length + 1;
  const beacons = [...accepted.values()].sort((x, y) => x.index - y.index);
  const position = new Map<number, number>();
  for (const [k, i] of canonicalPositions(beacons, t)) position.set(i, k);
  beacons.sort((x, y) => position.get(x.index)! - position.get(y.index)!);
  for (const beacon of beacons) {
    const bd = t.deviceIndex(beacon.index);
    const eirp = t.power(beacon.index) / 10 + devices[bd]!.record.gain / 10;
    for (const w of beacon.witnesses) {
      const wd = t.deviceIndex(w);
      const loss = eirp + devices[wd]!.record.gain / 10 - t.power(w) / 10;
      const lo = Math.min(bd, wd);
      const key = lo * span + Math.max(bd, wd);
      let p = pairs.get(key);
      if (p === undefined) pairs.set(key, (p = [0, 0, 0, 0]));
      if (bd === lo) {
        p[0] += loss;
        p[1] += 1;
      } else {
        p[2] += loss;
        p[3] += 1;
      }
    }
  }
  // per device: (loss as transmitter) - (loss as receiver), one value per reciprocal pair
  const excess = new Map<number, number[]>();
  const add = (d: number, v: number) => {
    const list = excess.get(d);
    if (list === undefined) excess.set(d, [v]);
    else list.push(v);
  };
  for (const [key, p] of pairs) {
    if (p[1] === 0 || p[3] === 0) continue;
    const lo = Math.floor(key / span);
    const hi = key - lo * span;
    const loToHi = p[0] / p[1];
    const hiToLo = p[2] / p[3];
    add(lo, loToHi - hiToLo);
    add(hi, hiToLo - loToHi);
  }
  const flagged = new Set<number>();
  for (const [d, values] of excess) {
    if (values.length < rule.minPairs) continue;
    values.sort((x, y) => x - y);
    const m = values.length;
    const median = m % 2 === 1 ? values[(m - 1) / 2]! : (values[m / 2 - 1]! + values[m / 2]!) / 2;
    if (median > rule.maxMedianDb) flagged.add(d);
  }
  s.refuseWitnessesOf(t, accepted, flagged, CODE.nonreciprocal_signal);
}

/** (position in canonical order, report index) of the given beacons: by receive time, then id. */
function canonicalPositions(beacons: readonly BeaconState[], t: ReportRows): [number, number][] {
  const idx = beacons.map((b) => b.index);
  idx.sort((a, b) => t.receivedAt(a) - t.receivedAt(b) || t.compare32(a, b, "id"));
  return idx.map((i, k) => [k, i]);
}
