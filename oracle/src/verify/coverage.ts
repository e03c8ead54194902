/**
 * The coverage verifier: signed reports of one epoch -> a verdict per report -> reward units per
 * device (HIP-15 x hex density), in two pools (beacons 20%, witnesses 80%).
 *
 * Order of work, and why the result does not depend on input order:
 *   1. stage 1, per report (prepare.ts, on worker threads): parse, digest, key, signature, payload;
 *   2. stateless checks per report against the chain index and the entropy log;
 *   3. every report sorted canonically by (receive time, id, stage-2 reason); the stateful rules
 *      (duplicate, one beacon per device per window, witness-to-beacon matching, duplicate witness)
 *      run in that order, beacons first;
 *   4. up to 14 valid witnesses per beacon are selected by rank keccak256(remoteEntropy ‖ beaconer ‖
 *      witness): reproducible by anyone, not steerable by the beaconer (remote entropy is the
 *      oracle's) nor by arrival order;
 *   5. HIP-15 units per beacon, scaled by the beaconer's hex density, summed per device.
 *
 * Check order for a beacon: outside_epoch, gateway_not_found, bad_signature, denied, not_active,
 * not_asserted, bad_entropy / entropy_expired, invalid_packet, invalid_region, invalid_frequency,
 * invalid_data_rate, invalid_tx_power, then duplicate, irregular_interval.
 * For a witness: outside_epoch, gateway_not_found, bad_signature, denied, not_active, not_asserted,
 * unknown_beacon, invalid_beacon, self_witness, too_late / too_early, invalid_region,
 * invalid_frequency, invalid_data_rate, below_min_distance, max_distance_exceeded, bad_rssi,
 * bad_snr, then duplicate. The first failing check is the recorded reason.
 */
import * as h3 from "h3-js";

import type { ReceivedReport } from "../chain/types.js";
import type { ChainView, DeviceEntry } from "../chain/view.js";
import { ByteWriter } from "../commit/encoding.js";
import { keccak256Into } from "../crypto/keccak.js";
import { EntropyLog, type EntropyEntry } from "../entropy/entropy.js";
import { toWad } from "../rewards/fixed.js";
import { buildDensity, type DensityMap } from "../rewards/density.js";
import { hip15Table } from "../rewards/hip15.js";
import { PARSE_ERROR_CODES } from "../reports/wire.js";
import { compareHex, toHex, writeHex, ZERO_ADDRESS, ZERO_BYTES32, type Hex } from "../util/hex.js";
import { DEFAULT_COVERAGE_PARAMS, type CoverageParams } from "./params.js";
import { haversineM, loraSnrFloorDb, maxRssiDbm, noiseFloorDbm } from "./physics.js";
import {
  InlinePreparer,
  type Prepared,
  type PreparedBeacon,
  type PreparedWitness,
  type ReportPreparer,
} from "./prepare.js";
import { WorkerPoolPreparer } from "./pool.js";
import { reasonCode, type Reason } from "./reasons.js";
import { coarseRegionResolver, type RegionPlan, type RegionResolver } from "./regions.js";
import type { DeviceWork, Verifier, WorkResult } from "./verifier.js";

export interface CoverageInputs {
  readonly reports: readonly ReceivedReport[];
  readonly entropy: readonly EntropyEntry[];
}

export interface CoverageOptions {
  readonly params?: CoverageParams;
  readonly regions?: RegionResolver;
  /**
   * Stage-1 runner for an epoch. Default: worker threads, one per core ("workers"); "inline" runs
   * on the calling thread; a function supplies a custom preparer (closed after use).
   */
  readonly preparer?: "workers" | "inline" | ((chain: ChainView) => ReportPreparer);
}

export interface Verdict {
  /** EIP-712 digest of the report; for malformed text, keccak256 of the text. */
  readonly id: Hex;
  readonly receivedAt: number;
  readonly kind: "malformed" | "beacon" | "witness";
  /** Key id the report names (null if malformed). */
  readonly device: Hex | null;
  /** null = valid. */
  readonly reason: Reason | null;
  /** Malformed only: the parser's code (reports/wire.ts). */
  readonly detail: string | null;
  /** Beacon: keccak256(payload); witness: the payload hash it cites. */
  readonly beacon: Hex | null;
  /** Beacon: valid; witness: among the (at most 14) rewarded witnesses of its beacon. */
  readonly selected: boolean;
  /** HIP-15 units earned by this report, 18 decimals (before density scaling). */
  readonly units: bigint;
}

export interface CoverageWork extends WorkResult {
  /**
   * One per report, in canonical order. Built on first access (the canonical record in `record`
   * is the stored form; this is the readable view of it).
   */
  readonly verdicts: readonly Verdict[];
}

export const COVERAGE_METRICS = ["beaconUnits", "witnessUnits", "scale"] as const;

interface Geo {
  readonly lat: number;
  readonly lng: number;
  /** Parent cell at the min-distance resolution. */
  readonly gridCell: string;
  readonly region: RegionPlan | undefined;
}

interface Row {
  readonly p: Prepared;
  readonly device: DeviceEntry | undefined;
  reason: Reason | null;
  selected: boolean;
  units: bigint;
}

interface BeaconRow extends Row {
  readonly p: PreparedBeacon;
  /** Accepted beacons' valid witnesses (before selection). */
  readonly witnesses: WitnessRow[];
  /** Key ids of those witnesses (duplicate rule). */
  readonly witnessKeys: Set<Hex>;
}

interface WitnessRow extends Row {
  readonly p: PreparedWitness;
  beacon: BeaconRow | null;
  /** First 48 bits of the selection hash (exact in a double); ties fall back to the full hash. */
  rank: number;
}

/**
 * Below this great-circle distance the H3 grid distance is computed. Ring 8 at res 11 lies
 * ~340-410 m out; res-11 cells are at most ~1.5x the average size anywhere, so grid distance < 8
 * implies < ~460 m: beyond 1 km the rule cannot fail.
 */
const GRID_CHECK_BELOW_M = 1_000;

export class CoverageVerifier implements Verifier<CoverageInputs, CoverageWork> {
  readonly kind = "coverage";
  readonly params: CoverageParams;
  private readonly regions: RegionResolver;
  private readonly preparerOption: CoverageOptions["preparer"];

  constructor(options: CoverageOptions = {}) {
    this.params = options.params ?? DEFAULT_COVERAGE_PARAMS;
    this.regions = options.regions ?? coarseRegionResolver;
    this.preparerOption = options.preparer ?? "workers";
  }

  async verify(chain: ChainView, inputs: CoverageInputs): Promise<CoverageWork> {
    for (const r of inputs.reports) {
      // Receive times come from our own store: a bad one is a bug upstream, not a bad report.
      if (!Number.isSafeInteger(r.receivedAt) || r.receivedAt < 0)
        throw new TypeError(`bad receive time ${r.receivedAt}`);
    }
    const entropy = new EntropyLog(inputs.entropy);
    const epoch = new EpochVerification(chain, entropy, this.params, this.regions);
    // Stage 2 runs on this thread as batches come back from stage 1, overlapping the workers.
    const rows: Row[] = new Array(inputs.reports.length);
    const preparer = this.makePreparer(chain);
    try {
      await preparer.prepare(inputs.reports, (start, prepared) => {
        for (let i = 0; i < prepared.length; i++) rows[start + i] = epoch.statelessCheck(prepared[i]!);
      });
    } finally {
      await preparer.close();
    }
    return epoch.run(rows);
  }

  private makePreparer(chain: ChainView): ReportPreparer {
    const keys = chain.devices.map((d) => d.record.key);
    const opt = this.preparerOption;
    if (opt === "inline") return new InlinePreparer(chain.domain, keys);
    if (opt === "workers" || opt === undefined) return new WorkerPoolPreparer(chain.domain, keys);
    return opt(chain);
  }
}

/** Stages 2-5 for one epoch (single use). */
class EpochVerification {
  private readonly geoCache = new Map<DeviceEntry, Geo>();
  private readonly noiseFloors = new Map<number, number>();
  private readonly rankBuf = new Uint8Array(72);
  private readonly rankOut = new Uint8Array(32);
  private readonly chain: ChainView;
  private readonly entropy: EntropyLog;
  private readonly params: CoverageParams;
  private readonly regions: RegionResolver;

  constructor(chain: ChainView, entropy: EntropyLog, params: CoverageParams, regions: RegionResolver) {
    this.chain = chain;
    this.entropy = entropy;
    this.params = params;
    this.regions = regions;
  }

  /** Stages 3-5 over the rows of stage 2 (one per report). */
  run(rows: Row[]): CoverageWork {
    // 3. canonical order, then the stateful rules
    rows.sort(compareRows);
    const beaconsByPayload = this.beaconPass(rows);
    this.witnessPass(rows, beaconsByPayload);
    // 4-5. selection, units, weights
    const devices = this.reward(beaconsByPayload);
    let verdicts: Verdict[] | null = null;
    return {
      kind: "coverage",
      pools: [
        { name: "beacon", bps: this.params.beaconPoolBps },
        { name: "witness", bps: 10_000 - this.params.beaconPoolBps },
      ],
      metricNames: COVERAGE_METRICS,
      devices,
      record: encodeVerdicts(rows),
      get verdicts() {
        verdicts ??= rows.map(toVerdict);
        return verdicts;
      },
    };
  }

  // ------------------------------------------------------------------------------------------
  // stage 2

  statelessCheck(p: Prepared): Row {
    if (p.kind === "malformed")
      return { p, device: undefined, reason: "malformed", selected: false, units: 0n };
    if (p.kind === "beacon") {
      const device = this.chain.device(p.device);
      const row: BeaconRow = {
        p,
        device,
        reason: this.checkBeacon(p, device),
        selected: false,
        units: 0n,
        witnesses: [],
        witnessKeys: new Set(),
      };
      return row;
    }
    const device = this.chain.device(p.device);
    const row: WitnessRow = {
      p,
      device,
      reason: this.checkWitnessAlone(p, device),
      selected: false,
      units: 0n,
      beacon: null,
      rank: 0,
    };
    return row;
  }

  private checkDevice(p: PreparedBeacon | PreparedWitness, device: DeviceEntry | undefined): Reason | null {
    if (device === undefined || p.auth === "unknown_device") return "gateway_not_found";
    if (p.auth !== "ok") return "bad_signature";
    if (device.record.status === "suspended") return "denied";
    if (device.record.status !== "active") return "not_active";
    if (device.cell === null) return "not_asserted";
    return null;
  }

  private checkBeacon(p: PreparedBeacon, device: DeviceEntry | undefined): Reason | null {
    const { epochStart, epochEnd } = this.chain.index;
    if (p.receivedAt < epochStart || p.receivedAt >= epochEnd) return "outside_epoch";
    const deviceReason = this.checkDevice(p, device);
    if (deviceReason !== null || device === undefined) return deviceReason;
    const b = p;
    const e = this.entropy.check(b.remoteEntropy, p.receivedAt);
    if (!e.ok) return e.reason;
    if (!p.payloadOk) return "invalid_packet";
    const region = this.geo(device).region;
    if (region === undefined) return "invalid_region";
    if (region.channelFrequency[b.channel] !== b.frequency) return "invalid_frequency";
    if (!region.channelDataRates[b.channel]!.includes(b.dataRate)) return "invalid_data_rate";
    if (b.txPower > region.maxConductedTenths || b.txPower + device.record.gain > region.maxEirpTenths) {
      return "invalid_tx_power";
    }
    return null;
  }

  private checkWitnessAlone(p: PreparedWitness, device: DeviceEntry | undefined): Reason | null {
    const { epochStart, epochEnd } = this.chain.index;
    const slack = this.params.witnessWindowMs;
    if (p.receivedAt < epochStart - slack || p.receivedAt >= epochEnd + slack) return "outside_epoch";
    return this.checkDevice(p, device);
  }

  // ------------------------------------------------------------------------------------------
  // stage 3

  /** Duplicate and interval rules over beacons in canonical order; returns accepted beacons by payload hash. */
  private beaconPass(rows: readonly Row[]): Map<Hex, BeaconRow> {
    const accepted = new Map<Hex, BeaconRow>();
    const windows = new Set<string>();
    for (const row of rows) {
      if (row.p.kind !== "beacon" || row.reason !== null) continue;
      const b = row as BeaconRow;
      if (accepted.has(b.p.beacon)) {
        b.reason = "duplicate";
        continue;
      }
      const window = `${b.device!.keyId}:${Math.floor(b.p.receivedAt / this.params.beaconIntervalMs)}`;
      if (windows.has(window)) {
        b.reason = "irregular_interval";
        continue;
      }
      windows.add(window);
      accepted.set(b.p.beacon, b);
      b.selected = true;
    }
    return accepted;
  }

  private witnessPass(rows: readonly Row[], accepted: ReadonlyMap<Hex, BeaconRow>): void {
    const cited = new Set<Hex>();
    for (const row of rows) if (row.p.kind === "beacon") cited.add(row.p.beacon);
    for (const row of rows) {
      if (row.p.kind !== "witness" || row.reason !== null) continue;
      const w = row as WitnessRow;
      const hash = w.p.beacon;
      const beacon = accepted.get(hash);
      if (beacon === undefined) {
        w.reason = cited.has(hash) ? "invalid_beacon" : "unknown_beacon";
        continue;
      }
      w.reason = this.checkPair(beacon, w);
      if (w.reason !== null) continue;
      const keyId = w.device!.keyId;
      if (beacon.witnessKeys.has(keyId)) {
        w.reason = "duplicate";
        continue;
      }
      beacon.witnessKeys.add(keyId);
      w.beacon = beacon;
      beacon.witnesses.push(w);
    }
  }

  private checkPair(beacon: BeaconRow, w: WitnessRow): Reason | null {
    const params = this.params;
    const witnessDevice = w.device!;
    const beaconDevice = beacon.device!;
    if (witnessDevice === beaconDevice) return "self_witness";
    const dt = w.p.receivedAt - beacon.p.receivedAt;
    if (dt > params.witnessWindowMs) return "too_late";
    if (dt < -params.witnessWindowMs) return "too_early";
    const bg = this.geo(beaconDevice);
    const wg = this.geo(witnessDevice);
    if (wg.region === undefined || wg.region !== bg.region) return "invalid_region";
    const b = beacon.p;
    const r = w.p;
    if (Math.abs(r.frequency - b.frequency) > params.maxFrequencyOffsetHz) return "invalid_frequency";
    if (r.dataRate !== b.dataRate) return "invalid_data_rate";
    const distance = haversineM(bg.lat, bg.lng, wg.lat, wg.lng);
    if (distance < GRID_CHECK_BELOW_M && gridDistance(bg.gridCell, wg.gridCell) < params.minGridDistance) {
      return "below_min_distance";
    }
    if (distance > params.maxDistanceM) return "max_distance_exceeded";
    const pathM = Math.max(distance - params.positionSlackM, 1);
    const bound = maxRssiDbm(
      b.txPower / 10,
      beaconDevice.record.gain / 10,
      pathM,
      b.frequency,
      witnessDevice.record.gain / 10,
    );
    if (r.signal / 10 > bound + params.rssiToleranceTenths / 10) return "bad_rssi";
    const rate = bg.region!.dataRates.get(b.dataRate)!;
    const snr = r.snr / 10;
    const tolerance = params.snrToleranceTenths / 10;
    if (snr < loraSnrFloorDb(rate.spreadingFactor) - tolerance) return "bad_snr";
    if (snr > r.signal / 10 - noiseFloorDbm(rate.bandwidthHz, params.noiseFigureDb) + tolerance)
      return "bad_snr";
    return null;
  }

  private noiseFloor(bandwidthHz: number): number {
    let n = this.noiseFloors.get(bandwidthHz);
    if (n === undefined) {
      n = noiseFloorDbm(bandwidthHz, this.params.noiseFigureDb);
      this.noiseFloors.set(bandwidthHz, n);
    }
    return n;
  }

  // ------------------------------------------------------------------------------------------
  // stages 4-5

  private reward(accepted: ReadonlyMap<Hex, BeaconRow>): DeviceWork[] {
    const max = this.params.maxWitnessesPerBeacon;
    const table = hip15Table(max);
    const density = this.density();
    const scales = new Map<DeviceEntry, bigint>();
    const scaleOf = (d: DeviceEntry): bigint => {
      let s = scales.get(d);
      if (s === undefined) {
        s = toWad(density.scaleOf(d.cell!));
        scales.set(d, s);
      }
      return s;
    };
    interface Acc {
      beaconUnits: bigint;
      witnessUnits: bigint;
      beaconWeight: bigint;
      witnessWeight: bigint;
    }
    const acc = new Map<DeviceEntry, Acc>();
    const accOf = (d: DeviceEntry): Acc => {
      let a = acc.get(d);
      if (a === undefined) {
        a = { beaconUnits: 0n, witnessUnits: 0n, beaconWeight: 0n, witnessWeight: 0n };
        acc.set(d, a);
      }
      return a;
    };

    for (const beacon of accepted.values()) {
      for (const w of beacon.witnesses) w.rank = this.rank(beacon, w);
      beacon.witnesses.sort(
        (x, y) => x.rank - y.rank || compareHex(this.fullRank(beacon, x), this.fullRank(beacon, y)),
      );
      const selected = beacon.witnesses.slice(0, max);
      const n = selected.length;
      if (n === 0) continue;
      const scale = scaleOf(beacon.device!);
      beacon.units = table.beaconer[n]!;
      const a = accOf(beacon.device!);
      a.beaconUnits += beacon.units;
      a.beaconWeight += beacon.units * scale;
      const units = table.witness[n]!;
      for (const w of selected) {
        w.selected = true;
        w.units = units;
        const wa = accOf(w.device!);
        wa.witnessUnits += units;
        wa.witnessWeight += units * scale; // a witness is scaled at the beaconer's hex
      }
    }

    const out: DeviceWork[] = [];
    for (const [d, a] of acc) {
      out.push({
        deviceId: d.record.id,
        weights: [a.beaconWeight, a.witnessWeight],
        metrics: [a.beaconUnits, a.witnessUnits, scaleOf(d)],
      });
    }
    return out;
  }

  /** Density over every active device with a valid asserted location. */
  private density(): DensityMap {
    const cells: string[] = [];
    for (const d of this.chain.devices)
      if (d.record.status === "active" && d.cell !== null) cells.push(d.cell);
    return buildDensity(cells);
  }

  /** Selection hash keccak256(remoteEntropy ‖ beaconer key id ‖ witness key id) into rankOut. */
  private selectionHash(beacon: BeaconRow, w: WitnessRow): void {
    const buf = this.rankBuf;
    writeHex(buf, 0, beacon.p.remoteEntropy);
    writeHex(buf, 32, beacon.device!.keyId);
    writeHex(buf, 52, w.device!.keyId);
    keccak256Into(buf, 0, 72, this.rankOut, 0);
  }

  /** The full selection hash, for the (2^-48-rare) ties on the first 48 bits. */
  private fullRank(beacon: BeaconRow, w: WitnessRow): Hex {
    this.selectionHash(beacon, w);
    return toHex(this.rankOut);
  }

  /** First 48 bits of the selection hash, exact in a double: lowest is selected first. */
  private rank(beacon: BeaconRow, w: WitnessRow): number {
    this.selectionHash(beacon, w);
    const o = this.rankOut;
    return (
      ((o[0]! << 8) | o[1]!) * 0x1_0000_0000 + (((o[2]! << 24) | (o[3]! << 16) | (o[4]! << 8) | o[5]!) >>> 0)
    );
  }

  private geo(d: DeviceEntry): Geo {
    let g = this.geoCache.get(d);
    if (g === undefined) {
      const cell = d.cell!;
      const [lat, lng] = h3.cellToLatLng(cell);
      g = {
        lat: (lat * Math.PI) / 180,
        lng: (lng * Math.PI) / 180,
        gridCell: h3.cellToParent(cell, this.params.minDistanceResolution),
        region: this.regions(lat, lng),
      };
      this.geoCache.set(d, g);
    }
    return g;
  }
}

/** H3 grid distance; cells h3 cannot relate (across a pentagon, very far) count as far apart. */
function gridDistance(a: string, b: string): number {
  try {
    return h3.gridDistance(a, b);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Canonical report order: receive time, then id, then the stage-2 reason. Rows equal on all three
 * are the same content received at the same time with the same outcome so far; whichever comes
 * first, the records written are the same bytes (the signature is not part of a record).
 */
function compareRows(a: Row, b: Row): number {
  if (a.p.receivedAt !== b.p.receivedAt) return a.p.receivedAt - b.p.receivedAt;
  if (a.p.id !== b.p.id) return a.p.id < b.p.id ? -1 : 1;
  return reasonCode(a.reason) - reasonCode(b.reason);
}

function toVerdict(row: Row): Verdict {
  const p = row.p;
  return {
    id: p.id,
    receivedAt: p.receivedAt,
    kind: p.kind,
    device: p.kind === "malformed" ? null : p.device,
    reason: row.reason,
    detail: p.kind === "malformed" ? p.error.code : null,
    beacon: p.kind === "malformed" ? null : p.beacon,
    selected: row.selected,
    units: row.units,
  };
}

const KIND_CODE = { malformed: 0, beacon: 1, witness: 2 } as const;

/**
 * Verdict record, per report in canonical order (104 bytes):
 *   id bytes32 | receivedAt uint64 | kind uint8 (0 malformed, 1 beacon, 2 witness) | device address
 *   | reason uint8 (verify/reasons.ts, 0 = valid) | parse error uint8 (reports/wire.ts, 0 = none)
 *   | selected uint8 | beacon payload hash bytes32 | units uint64 (18 decimals)
 * preceded by the count (uint64).
 */
function encodeVerdicts(rows: readonly Row[]): Uint8Array[] {
  const w = new ByteWriter();
  w.u64(rows.length);
  for (const row of rows) {
    const p = row.p;
    w.hex(p.id, 32).u64(p.receivedAt).u8(KIND_CODE[p.kind]);
    if (p.kind === "malformed") {
      w.hex(ZERO_ADDRESS, 20)
        .u8(reasonCode(row.reason))
        .u8(PARSE_ERROR_CODES.indexOf(p.error.code) + 1);
      w.u8(0).hex(ZERO_BYTES32, 32).u64(0);
      continue;
    }
    const device = p.device;
    const beacon = p.beacon;
    w.hex(device, 20)
      .u8(reasonCode(row.reason))
      .u8(0)
      .u8(row.selected ? 1 : 0)
      .hex(beacon, 32)
      .uint(row.units, 8);
  }
  return w.finish();
}
