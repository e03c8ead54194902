import { DEFAULT_USAGE_PARAMS, type UsageParams } from "@hexmesh/protocol";

import type { OneWayRule } from "./links.js";

/**
 * Every numeric rule of coverage verification and rewards in one place (SPEC "Off-chain oracle").
 * All oracles of a subnetwork must run with the same values: they are part of the result.
 */
export interface CoverageParams {
  /** One beacon per device per window; windows are aligned to Unix time (Helium: 6 h). */
  readonly beaconIntervalMs: number;
  /** A witness must be received within this many ms of its beacon, either side (Helium: 4,000). */
  readonly witnessWindowMs: number;
  /** Max |witness frequency - beacon frequency| (Helium: 100 kHz). */
  readonly maxFrequencyOffsetHz: number;
  /** Minimum H3 grid distance at `minDistanceResolution` between beaconer and witness (Helium: 8 at res 11). */
  readonly minGridDistance: number;
  readonly minDistanceResolution: number;
  /** Maximum great-circle distance between beaconer and witness, metres (Helium: 100 km). */
  readonly maxDistanceM: number;
  /**
   * Tolerance on the free-space bound, tenths of dB: RSSI accuracy of SX130x-class concentrators
   * is about ±2 dB after calibration; 1 dB more for antenna gain spread. Positions are handled
   * separately (positionSlackM).
   */
  readonly rssiToleranceTenths: number;
  /**
   * Asserted positions are res-12 cell centres; a device can be up to ~12 m from its centre, so
   * the distance used in the free-space bound is reduced by twice that (the bound stays an upper
   * bound on any true signal).
   */
  readonly positionSlackM: number;
  /** Tolerance on both SNR bounds, tenths of dB. */
  readonly snrToleranceTenths: number;
  /** Receiver noise figure used for the thermal noise floor (SX1302 datasheet: ~6 dB). */
  readonly noiseFigureDb: number;
  /** At most this many valid witnesses per beacon are rewarded (Helium: 14). */
  readonly maxWitnessesPerBeacon: number;
  /** Share of the epoch pool for beacons, basis points (Helium PoC: 20%); witnesses get the rest. */
  readonly beaconPoolBps: number;
  /**
   * Refuse a witness of a beacon whose device has the same owner (`same_owner`). One wallet's
   * devices vouching for each other prove nothing; splitting devices over wallets gets around it,
   * so this stops only the careless ring (see docs/sim/report.md). Absent = false.
   */
  readonly refuseSameOwnerWitness?: boolean;
  /**
   * Reciprocity (`nonreciprocal_signal`): path loss is the same both ways (Lorentz reciprocity), so
   * for two devices that witnessed each other in the epoch, the loss A->B computed from B's report
   * (txPower_A + gain_A + gain_B - signal) matches the loss B->A within measurement and fading.
   * A device whose median excess (loss it causes as a transmitter minus loss it sees as a receiver)
   * over at least `minPairs` such pairs is above `maxMedianDb` receives better than its registered
   * hardware allows (hidden amplifier or antenna): its witness reports are refused. Absent = off.
   */
  readonly reciprocity?: { readonly minPairs: number; readonly maxMedianDb: number } | null;
  /**
   * One-way links (`one_way_links`, verify/links.ts): a device whose claimed links go unconfirmed
   * by the other end (which was listening, and should have heard the device's own beacons at the
   * margin the claim implies) more often than fading explains is relaying or inventing witness
   * reports: all its witness reports of the epoch are refused. Absent = off.
   */
  readonly oneWayLinks?: OneWayRule | null;
  /**
   * The usage-linked reward rule (@hexmesh/protocol rewards/usage.ts): the share of the pool paid
   * usage may take (8,000 bps) and the protocol fee kept from each provider's usage value (500 bps).
   * Absent = DEFAULT_USAGE_PARAMS.
   */
  readonly usage?: UsageParams;
}

export const DEFAULT_COVERAGE_PARAMS: CoverageParams = {
  beaconIntervalMs: 6 * 60 * 60 * 1000,
  witnessWindowMs: 4_000,
  maxFrequencyOffsetHz: 100_000,
  minGridDistance: 8,
  minDistanceResolution: 11,
  maxDistanceM: 100_000,
  rssiToleranceTenths: 30,
  positionSlackM: 25,
  snrToleranceTenths: 10,
  noiseFigureDb: 6,
  maxWitnessesPerBeacon: 14,
  beaconPoolBps: 2_000,
  refuseSameOwnerWitness: true,
  reciprocity: { minPairs: 3, maxMedianDb: 10 },
  oneWayLinks: { linkSigmaDb: 3, packetSigmaDb: 3, z: 4, minExcess: 3 },
  usage: DEFAULT_USAGE_PARAMS,
};
