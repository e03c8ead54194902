/**
 * Beacon rules. Stage 2 (each beacon alone, after rules/report.ts): bad_entropy / entropy_expired,
 * invalid_packet, invalid_region, invalid_frequency, invalid_data_rate, invalid_tx_power. Stage 3
 * (over the epoch's beacons in canonical order): duplicate, irregular_interval.
 */
import { AcceptedBeacons } from "../beacons.js";
import { NumberSet } from "../hashes.js";
import { CODE } from "../reasons.js";
import type { EpochState } from "../state.js";
import { KIND_BEACON, type ReportRows, type ReportTable } from "../table.js";

/** Stateless checks of beacon i, whose report and device passed checkReport: a reason code or 0. */
export function checkBeacon(s: EpochState, t: ReportTable, i: number): number {
  const e = s.entropy.checkBytes(t.bytes, t.at(i, "remoteEntropy"), t.receivedAt(i));
  if (!e.ok) return CODE[e.reason];
  if (!t.payloadOk(i)) return CODE.invalid_packet;
  const d = t.deviceIndex(i);
  const region = s.region(d);
  if (region === undefined) return CODE.invalid_region;
  const channel = t.channel(i);
  if (region.channelFrequency[channel] !== t.frequency(i)) return CODE.invalid_frequency;
  if (!region.channelDataRates[channel]!.includes(t.dataRate(i))) return CODE.invalid_data_rate;
  const txPower = t.power(i);
  if (
    txPower > region.maxConductedTenths ||
    txPower + s.chain.devices[d]!.record.gain > region.maxEirpTenths
  ) {
    return CODE.invalid_tx_power;
  }
  return 0;
}

/**
 * Duplicate and interval rules over beacons in canonical order (rows of `t` are in that order): a
 * payload already accepted is a `duplicate`; a device's second beacon in one window (windows of
 * `beaconIntervalMs` aligned to Unix time) is an `irregular_interval`. Marks the accepted beacons
 * selected and returns them, with room for `witnesses` valid witnesses (`beacons`: how many beacons
 * passed stage 2, at most all accepted).
 */
export function beaconPass(
  s: EpochState,
  t: ReportRows,
  beacons: number,
  witnesses: number,
): AcceptedBeacons {
  const accepted = new AcceptedBeacons(t, beacons, witnesses);
  const windows = new NumberSet(beacons);
  const interval = s.params.beaconIntervalMs;
  for (let i = 0; i < t.length; i++) {
    if (t.kind(i) !== KIND_BEACON || s.reason[i] !== 0) continue;
    if (accepted.find(i) >= 0) {
      s.reason[i] = CODE.duplicate;
      continue;
    }
    // device index x 2^20 + window number (mod 2^20, i.e. ~700 years of 6-hour windows): exact
    const window = t.deviceIndex(i) * 0x10_0000 + (Math.floor(t.receivedAt(i) / interval) % 0x10_0000);
    if (!windows.add(window)) {
      s.reason[i] = CODE.irregular_interval;
      continue;
    }
    accepted.add(i);
    s.selected[i] = 1;
  }
  s.accepted = accepted;
  return accepted;
}
