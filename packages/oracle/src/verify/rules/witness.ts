/**
 * Witness rules, stage 3 (after rules/report.ts), over the epoch's witnesses in canonical order once
 * the beacons are settled: unknown_beacon / invalid_beacon, then against its beacon self_witness,
 * same_owner, too_late / too_early, invalid_region, invalid_frequency, invalid_data_rate,
 * below_min_distance, max_distance_exceeded, bad_rssi, bad_snr, then duplicate (the same witness
 * device for the same beacon again, decided once the lists are built). A witness that passes is on
 * its beacon's list.
 */
import * as h3 from "h3-js";

import { haversineM, loraSnrFloorDb, maxRssiDbm } from "@hexmesh/protocol";

import type { AcceptedBeacons } from "../beacons.js";
import { RowIndex } from "../hashes.js";
import type { ClaimLog } from "../links.js";
import { CODE } from "../reasons.js";
import type { EpochState } from "../state.js";
import { KIND_BEACON, KIND_WITNESS, type ReportRows } from "../table.js";

/**
 * Below this great-circle distance the H3 grid distance is computed. Ring 8 at res 11 lies
 * ~340-410 m out; res-11 cells are at most ~1.5x the average size anywhere, so grid distance < 8
 * implies < ~460 m: beyond 1 km the rule cannot fail.
 */
const GRID_CHECK_BELOW_M = 1_000;

/**
 * Matches every witness that passed stage 2 to its accepted beacon and checks the pair. `claims`
 * (the one-way-link rule's log, or null when that rule is off) receives every signed claim to have
 * heard an accepted beacon of another device.
 */
export function witnessPass(
  s: EpochState,
  t: ReportRows,
  accepted: AcceptedBeacons,
  beacons: number,
  claims: ClaimLog | null,
): void {
  // The refused beacons by payload hash, only to tell invalid_beacon from unknown_beacon: a witness
  // whose payload no accepted beacon has cites a refused beacon or none. Refused beacons are few;
  // an index of every beacon took 16-32 bytes a beacon (~130 MB on a 40M-report day).
  const refusedBeacons = new RowIndex(t, "beacon", beacons - accepted.count, (row) => row);
  for (let i = 0; i < t.length; i++)
    if (t.kind(i) === KIND_BEACON && s.reason[i] !== 0) refusedBeacons.add(i);
  for (let i = 0; i < t.length; i++) {
    if (t.kind(i) !== KIND_WITNESS || s.reason[i] !== 0) continue;
    const slot = accepted.find(i);
    if (slot < 0) {
      s.reason[i] = refusedBeacons.find(i) >= 0 ? CODE.invalid_beacon : CODE.unknown_beacon;
      continue;
    }
    const b = accepted.row(slot);
    // Every signed claim to have heard an accepted beacon is evidence for the one-way test, even
    // if a later check refuses it (a slow backhaul still proves the link exists).
    if (claims !== null && t.deviceIndex(i) !== t.deviceIndex(b))
      claims.add(t.deviceIndex(i), t.deviceIndex(b), t.snr(i) - t.power(b));
    const r = checkPair(s, t, b, i);
    if (r !== 0) {
      s.reason[i] = r;
      continue;
    }
    accepted.countWitness(slot);
  }
  // The witnesses still valid go into their beacons' lists, found again by payload hash (a second
  // lookup each: cheaper in memory than keeping every witness's slot); then duplicates leave them.
  for (let i = 0; i < t.length; i++)
    if (t.kind(i) === KIND_WITNESS && s.reason[i] === 0) accepted.placeWitness(accepted.find(i), i);
  accepted.closeLists((w) => (s.reason[w] = CODE.duplicate));
}

/** Checks witness w against its accepted beacon b: a reason code or 0. */
function checkPair(s: EpochState, t: ReportRows, b: number, w: number): number {
  const params = s.params;
  const bd = t.deviceIndex(b);
  const wd = t.deviceIndex(w);
  if (bd === wd) return CODE.self_witness;
  const devices = s.chain.devices;
  if (params.refuseSameOwnerWitness === true && devices[bd]!.record.owner === devices[wd]!.record.owner) {
    return CODE.same_owner;
  }
  // timing: the oracle's receive times
  const dt = t.receivedAt(w) - t.receivedAt(b);
  if (dt > params.witnessWindowMs) return CODE.too_late;
  if (dt < -params.witnessWindowMs) return CODE.too_early;
  // region, frequency and data rate: those of the beacon
  const region = s.region(bd);
  const witnessRegion = s.region(wd);
  if (witnessRegion === undefined || witnessRegion !== region) return CODE.invalid_region;
  const frequency = t.frequency(b);
  if (Math.abs(t.frequency(w) - frequency) > params.maxFrequencyOffsetHz) return CODE.invalid_frequency;
  const dataRate = t.dataRate(b);
  if (t.dataRate(w) !== dataRate) return CODE.invalid_data_rate;
  // distance between the asserted locations; signal at most what free space allows
  const n = pairNumbers(s, t, b, w);
  if (n.gridDistance !== null && n.gridDistance < params.minGridDistance) return CODE.below_min_distance;
  if (n.distanceM > params.maxDistanceM) return CODE.max_distance_exceeded;
  if (n.signalDbm > n.boundDbm + n.toleranceDb) return CODE.bad_rssi;
  // SNR between the demodulation floor and what the signal allows
  const signal = n.signalDbm;
  const rate = region.dataRates.get(dataRate)!;
  const snr = t.snr(w) / 10;
  const tolerance = params.snrToleranceTenths / 10;
  if (snr < loraSnrFloorDb(rate.spreadingFactor) - tolerance) return CODE.bad_snr;
  if (snr > signal - s.noiseFloor(rate.bandwidthHz) + tolerance) return CODE.bad_snr;
  return 0;
}

/** The numbers behind a witness's distance and signal checks (what its verdict's detail publishes). */
export interface PairNumbers {
  /** Great-circle distance between the asserted res-12 cell centres, m. */
  readonly distanceM: number;
  /** H3 grid distance at `minDistanceResolution`, computed only below 1 km (null above: the rule cannot fail). */
  readonly gridDistance: number | null;
  /** Distance used in the free-space bound: distanceM - positionSlackM (at least 1 m). */
  readonly pathM: number;
  /** Free-space bound: txPower + gain_tx - FSPL(pathM, f) + gain_rx, dBm. */
  readonly boundDbm: number;
  /** rssiToleranceTenths / 10, dB. */
  readonly toleranceDb: number;
  readonly signalDbm: number;
}

export function pairNumbers(s: EpochState, t: ReportRows, b: number, w: number): PairNumbers {
  const params = s.params;
  const devices = s.chain.devices;
  const bd = t.deviceIndex(b);
  const wd = t.deviceIndex(w);
  const distanceM = haversineM(s.lat(bd), s.lng(bd), s.lat(wd), s.lng(wd));
  const pathM = Math.max(distanceM - params.positionSlackM, 1);
  return {
    distanceM,
    gridDistance: distanceM < GRID_CHECK_BELOW_M ? gridDistance(s.gridCell(bd), s.gridCell(wd)) : null,
    pathM,
    boundDbm: maxRssiDbm(
      t.power(b) / 10,
      devices[bd]!.record.gain / 10,
      pathM,
      t.frequency(b),
      devices[wd]!.record.gain / 10,
    ),
    toleranceDb: params.rssiToleranceTenths / 10,
    signalDbm: t.power(w) / 10,
  };
}

/** A witness verdict's detail: the numbers of pairNumbers, the rule's bounds and the margins. */
export function describePair(s: EpochState, t: ReportRows, b: number, w: number): string {
  const p = s.params;
  const n = pairNumbers(s, t, b, w);
  const f1 = (x: number) => x.toFixed(1);
  const grid =
    n.gridDistance === null
      ? `grid distance not computed (>= ${GRID_CHECK_BELOW_M} m)`
      : `grid distance ${Number.isFinite(n.gridDistance) ? n.gridDistance : "unrelated"} at res ${p.minDistanceResolution} (minimum ${p.minGridDistance}, margin ${Number.isFinite(n.gridDistance) ? n.gridDistance - p.minGridDistance : "n/a"})`;
  const limit = n.boundDbm + n.toleranceDb;
  return (
    `distance ${f1(n.distanceM)} m (maximum ${p.maxDistanceM} m); ${grid}; ` +
    `free-space bound ${f1(n.boundDbm)} dBm at ${f1(n.pathM)} m (distance - ${p.positionSlackM} m position slack) ` +
    `+ ${f1(n.toleranceDb)} dB tolerance = ${f1(limit)} dBm; signal ${f1(n.signalDbm)} dBm, margin ${f1(limit - n.signalDbm)} dB`
  );
}

/** H3 grid distance; cells h3 cannot relate (across a pentagon, very far) count as far apart. */
function gridDistance(a: h3.SplitLong, b: h3.SplitLong): number {
  try {
    return h3.gridDistance(a, b);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
