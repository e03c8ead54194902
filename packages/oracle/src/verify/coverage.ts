/**
 * The coverage verifier: signed reports of one epoch -> a verdict per report -> reward units per
 * device (HIP-15 x hex density), in two pools (beacons 20%, witnesses 80%).
 *
 * Order of work, and why the result does not depend on input order:
 *   1. stage 1, per report (prepare.ts, on worker threads): parse, digest, key, signature, payload,
 *      written as one record of a ReportTable (table.ts);
 *   2. stateless checks per report against the chain index and the entropy log, as batches of
 *      stage 1 complete;
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
 * unknown_beacon, invalid_beacon, self_witness, same_owner, too_late / too_early, invalid_region,
 * invalid_frequency, invalid_data_rate, below_min_distance, max_distance_exceeded, bad_rssi,
 * bad_snr, then duplicate, then (over the epoch) nonreciprocal_signal, then one_way_links. The
 * first failing check is the recorded reason. same_owner, nonreciprocal_signal and one_way_links
 * are parameters (params.ts), on by default.
 *
 * Per report, the main thread keeps only the stage-1 record (160 bytes) and a few bytes of state
 * (reason, selected, units): no object or string per report.
 */
import * as h3 from "h3-js";

import {
  buildDensity,
  ByteWriter,
  type ChainIndex,
  type ChainView,
  coarseRegionResolver,
  type DensityMap,
  type DeviceEntry,
  type DeviceWork,
  type EntropyEntry,
  EntropyLog,
  type EpochResult,
  haversineM,
  type Hex,
  hip15Table,
  keccak256Into,
  loraSnrFloorDb,
  maxRssiDbm,
  noiseFloorDbm,
  PARSE_ERROR_CODES,
  type ReceivedReport,
  type RegionPlan,
  type RegionResolver,
  runEpoch,
  toHex,
  toWad,
  type Verifier,
  type WorkResult,
} from "@hexmesh/protocol";
import { DEFAULT_COVERAGE_PARAMS, type CoverageParams } from "./params.js";
import { ClaimLog, type LinkStats, type OneWayRule } from "./links.js";
import { WorkerPoolPreparer } from "./pool.js";
import { InlinePreparer, type ReportPreparer } from "./prepare.js";
import { CODE, reasonOf, type Reason } from "./reasons.js";
import {
  AUTH_BAD_SIGNATURE,
  AUTH_OK,
  KIND_BEACON,
  KIND_MALFORMED,
  KIND_WITNESS,
  RECORD_BYTES,
  OFFSET,
  type ReportTable,
} from "./table.js";

export interface CoverageInputs {
  readonly reports: readonly ReceivedReport[];
  readonly entropy: readonly EntropyEntry[];
}

export interface CoverageOptions {
  readonly params?: CoverageParams;
  readonly regions?: RegionResolver;
  /**
   * Stage-1 runner for an epoch. Default: worker threads, one per core ("workers"); "inline" runs
   * on the calling thread; a function supplies a custom preparer (closed after use). A custom
   * preparer must take its keys in `chain.devices` order (device index = position).
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

/** The one-way test's figures for one tested device (verify/links.ts). */
export interface DeviceLinkTest extends Omit<LinkStats, "device"> {
  readonly deviceId: bigint;
}

export interface CoverageWork extends WorkResult {
  /** Per device tested by the one-way rule, by device id; null when the rule is off. */
  readonly linkTests: readonly DeviceLinkTest[] | null;
  /**
   * One per report, in canonical order. Built on first access (the canonical record in `record`
   * is the stored form; this is the readable view of it).
   */
  readonly verdicts: readonly Verdict[];
}

export const COVERAGE_METRICS = ["beaconUnits", "witnessUnits", "scale"] as const;

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
    const epoch = new EpochVerification(
      chain,
      new EntropyLog(inputs.entropy),
      this.params,
      this.regions,
      inputs.reports.length,
    );
    const preparer = this.makePreparer(chain);
    let table: ReportTable;
    try {
      // Stage 2 runs on this thread as batches come back from stage 1, overlapping the workers.
      table = await preparer.prepare(inputs.reports, (t, start, end) => epoch.statelessChecks(t, start, end));
    } finally {
      await preparer.close();
    }
    return epoch.run(table);
  }

  private makePreparer(chain: ChainView): ReportPreparer {
    const keys = chain.devices.map((d) => d.record.key);
    const opt = this.preparerOption;
    if (opt === "inline") return new InlinePreparer(chain.domain, keys);
    if (opt === "workers" || opt === undefined) return new WorkerPoolPreparer(chain.domain, keys);
    return opt(chain);
  }
}

interface Geo {
  /** Radians. */
  readonly lat: number;
  readonly lng: number;
  /** Parent cell at the min-distance resolution. */
  readonly gridCell: string;
  readonly region: RegionPlan | undefined;
}

/** An accepted beacon and its valid witnesses (report indexes). */
interface BeaconState {
  readonly index: number;
  readonly witnesses: number[];
  /** Device indexes of those witnesses (duplicate rule). */
  readonly witnessDevices: Set<number>;
}

/** Report indexes by the first 48 bits of a 32-byte field, exact matches checked byte by byte. */
class HashIndex {
  private readonly map = new Map<number, number | number[]>();
  private readonly table: ReportTable;
  private readonly field: "beacon";

  constructor(table: ReportTable, field: "beacon") {
    this.table = table;
    this.field = field;
  }

  add(i: number): void {
    const key = this.table.prefix48(i, this.field);
    const found = this.map.get(key);
    if (found === undefined) this.map.set(key, i);
    else if (typeof found === "number") this.map.set(key, [found, i]);
    else found.push(i);
  }

  /** An index whose field equals record i's, or -1. */
  find(i: number): number {
    const found = this.map.get(this.table.prefix48(i, this.field));
    if (found === undefined) return -1;
    if (typeof found === "number") return this.table.compare32(found, i, this.field) === 0 ? found : -1;
    for (const j of found) if (this.table.compare32(j, i, this.field) === 0) return j;
    return -1;
  }
}

/** Stages 2-5 for one epoch (single use). */
class EpochVerification {
  private readonly chain: ChainView;
  private readonly entropy: EntropyLog;
  private readonly params: CoverageParams;
  private readonly regions: RegionResolver;
  /** Per report: reason code (0 valid), selected flag, HIP-15 units (WAD). */
  private readonly reason: Uint8Array;
  private readonly selected: Uint8Array;
  private readonly units: BigUint64Array;
  private readonly geoCache: (Geo | undefined)[] = [];
  private readonly noiseFloors = new Map<number, number>();
  private readonly rankBuf = new Uint8Array(72);
  private readonly rankOut = new Uint8Array(32);

  constructor(
    chain: ChainView,
    entropy: EntropyLog,
    params: CoverageParams,
    regions: RegionResolver,
    length: number,
  ) {
    this.chain = chain;
    this.entropy = entropy;
    this.params = params;
    this.regions = regions;
    this.reason = new Uint8Array(length);
    this.selected = new Uint8Array(length);
    this.units = new BigUint64Array(length);
  }

  // ------------------------------------------------------------------------------------------
  // stage 2

  statelessChecks(table: ReportTable, start: number, end: number): void {
    for (let i = start; i < end; i++) this.reason[i] = this.statelessCheck(table, i);
  }

  private statelessCheck(t: ReportTable, i: number): number {
    const kind = t.kind(i);
    if (kind === KIND_MALFORMED) return CODE.malformed;
    const { epochStart, epochEnd } = this.chain.index;
    const at = t.receivedAt(i);
    if (kind === KIND_BEACON) {
      if (at < epochStart || at >= epochEnd) return CODE.outside_epoch;
    } else {
      const slack = this.params.witnessWindowMs;
      if (at < epochStart - slack || at >= epochEnd + slack) return CODE.outside_epoch;
    }
    const d = t.deviceIndex(i);
    const device = d >= 0 ? this.chain.devices[d] : undefined;
    if (device === undefined) return CODE.gateway_not_found;
    if (t.auth(i) === AUTH_BAD_SIGNATURE) return CODE.bad_signature;
    if (t.auth(i) !== AUTH_OK) return CODE.gateway_not_found;
    if (device.record.status === "suspended") return CODE.denied;
    if (device.record.status !== "active") return CODE.not_active;
    if (device.cell === null) return CODE.not_asserted;
    if (kind === KIND_WITNESS) return 0;

    const e = this.entropy.checkBytes(t.bytes, t.at(i, "remoteEntropy"), at);
    if (!e.ok) return CODE[e.reason];
    if (!t.payloadOk(i)) return CODE.invalid_packet;
    const region = this.geo(d).region;
    if (region === undefined) return CODE.invalid_region;
    const channel = t.channel(i);
    if (region.channelFrequency[channel] !== t.frequency(i)) return CODE.invalid_frequency;
    if (!region.channelDataRates[channel]!.includes(t.dataRate(i))) return CODE.invalid_data_rate;
    const txPower = t.power(i);
    if (txPower > region.maxConductedTenths || txPower + device.record.gain > region.maxEirpTenths) {
      return CODE.invalid_tx_power;
    }
    return 0;
  }

  // ------------------------------------------------------------------------------------------
  // stages 3-5

  run(table: ReportTable): CoverageWork {
    const order = this.canonicalOrder(table);
    const accepted = this.beaconPass(table, order);
    const claims = this.params.oneWayLinks ? new ClaimLog(table.length, this.chain.devices.length) : null;
    this.witnessPass(table, order, accepted, claims);
    if (this.params.reciprocity) this.reciprocityPass(table, accepted, this.params.reciprocity);
    const linkTests =
      claims === null ? null : this.oneWayPass(table, accepted, claims, this.params.oneWayLinks!);
    const devices = this.reward(table, accepted);
    const reason = this.reason;
    const selected = this.selected;
    const units = this.units;
    let verdicts: Verdict[] | null = null;
    return {
      kind: "coverage",
      pools: [
        { name: "beacon", bps: this.params.beaconPoolBps },
        { name: "witness", bps: 10_000 - this.params.beaconPoolBps },
      ],
      metricNames: COVERAGE_METRICS,
      devices,
      linkTests,
      record: encodeVerdicts(table, order, reason, selected, units),
      get verdicts() {
        verdicts ??= Array.from(order, (i) => toVerdict(table, i, reason[i]!, selected[i] === 1, units[i]!));
        return verdicts;
      },
    };
  }

  /** Report indexes by (receive time, id, stage-2 reason). */
  private canonicalOrder(t: ReportTable): number[] {
    const reason = this.reason;
    const order = Array.from({ length: t.length }, (_, i) => i);
    // Rows equal on all three are the same content received at the same time with the same
    // outcome so far: whichever comes first, the records written are the same bytes.
    order.sort(
      (a, b) => t.receivedAt(a) - t.receivedAt(b) || t.compare32(a, b, "id") || reason[a]! - reason[b]!,
    );
    return order;
  }

  /** Duplicate and interval rules over beacons in canonical order; returns the accepted beacons. */
  private beaconPass(t: ReportTable, order: readonly number[]): Map<number, BeaconState> {
    const acceptedIndex = new HashIndex(t, "beacon");
    const accepted = new Map<number, BeaconState>();
    const windows = new Set<number>();
    const interval = this.params.beaconIntervalMs;
    for (const i of order) {
      if (t.kind(i) !== KIND_BEACON || this.reason[i] !== 0) continue;
      if (acceptedIndex.find(i) >= 0) {
        this.reason[i] = CODE.duplicate;
        continue;
      }
      // device index x 2^20 + window number (mod 2^20, i.e. ~700 years of 6-hour windows): exact
      const window = t.deviceIndex(i) * 0x10_0000 + (Math.floor(t.receivedAt(i) / interval) % 0x10_0000);
      if (windows.has(window)) {
        this.reason[i] = CODE.irregular_interval;
        continue;
      }
      windows.add(window);
      acceptedIndex.add(i);
      accepted.set(i, { index: i, witnesses: [], witnessDevices: new Set() });
      this.selected[i] = 1;
    }
    return accepted;
  }

  private witnessPass(
    t: ReportTable,
    order: readonly number[],
    accepted: ReadonlyMap<number, BeaconState>,
    claims: ClaimLog | null,
  ): void {
    const acceptedIndex = new HashIndex(t, "beacon");
    for (const b of accepted.keys()) acceptedIndex.add(b);
    const anyBeacon = new HashIndex(t, "beacon");
    for (let i = 0; i < t.length; i++) if (t.kind(i) === KIND_BEACON) anyBeacon.add(i);
    for (const i of order) {
      if (t.kind(i) !== KIND_WITNESS || this.reason[i] !== 0) continue;
      const b = acceptedIndex.find(i);
      if (b < 0) {
        this.reason[i] = anyBeacon.find(i) >= 0 ? CODE.invalid_beacon : CODE.unknown_beacon;
        continue;
      }
      // Every signed claim to have heard an accepted beacon is evidence for the one-way test, even
      // if a later check refuses it (a slow backhaul still proves the link exists).
      if (claims !== null && t.deviceIndex(i) !== t.deviceIndex(b))
        claims.add(t.deviceIndex(i), t.deviceIndex(b), t.snr(i) - t.power(b));
      const r = this.checkPair(t, b, i);
      if (r !== 0) {
        this.reason[i] = r;
        continue;
      }
      const state = accepted.get(b)!;
      const device = t.deviceIndex(i);
      if (state.witnessDevices.has(device)) {
        this.reason[i] = CODE.duplicate;
        continue;
      }
      state.witnessDevices.add(device);
      state.witnesses.push(i);
    }
  }

  /**
   * Reciprocity over the witnesses accepted so far (see CoverageParams.reciprocity). Losses are
   * summed in canonical order and medians taken over sorted values, so the outcome does not depend
   * on input order. Refused witnesses leave their beacon's list before selection.
   */
  private reciprocityPass(
    t: ReportTable,
    accepted: ReadonlyMap<number, BeaconState>,
    rule: { readonly minPairs: number; readonly maxMedianDb: number },
  ): void {
    const devices = this.chain.devices;
    // pair (lo, hi) -> [sum loss lo->hi, count, sum loss hi->lo, count]
    const pairs = new Map<number, [number, number, number, number]>();
    const span = devices.length + 1;
    const beacons = [...accepted.values()].sort((x, y) => x.index - y.index);
    const position = new Map<number, number>();
    for (const [k, i] of this.canonicalPositions(beacons, t)) position.set(i, k);
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
    this.refuseWitnessesOf(t, accepted, flagged, CODE.nonreciprocal_signal);
  }

  /** Refuses every accepted witness report of the given devices; they leave their beacons' lists. */
  private refuseWitnessesOf(
    t: ReportTable,
    accepted: ReadonlyMap<number, BeaconState>,
    devices: ReadonlySet<number>,
    code: number,
  ): void {
    if (devices.size === 0) return;
    for (const beacon of accepted.values()) {
      const kept: number[] = [];
      for (const w of beacon.witnesses) {
        if (devices.has(t.deviceIndex(w))) this.reason[w] = code;
        else kept.push(w);
      }
      beacon.witnesses.length = 0;
      beacon.witnesses.push(...kept);
    }
  }

  /**
   * One-way links (links.ts, CoverageParams.oneWayLinks): a device that claims many more links
   * than fading explains that the other end never confirmed is relaying or inventing what it
   * reports; all its witness reports of the epoch are refused.
   */
  private oneWayPass(
    t: ReportTable,
    accepted: ReadonlyMap<number, BeaconState>,
    claims: ClaimLog,
    rule: OneWayRule,
  ): DeviceLinkTest[] {
    const n = this.chain.devices.length;
    const budget = new Int32Array(n).fill(0x7fff_ffff);
    const beacons = new Uint32Array(n);
    for (const beacon of accepted.values()) {
      const i = beacon.index;
      const d = t.deviceIndex(i);
      const sf = this.geo(d).region!.dataRates.get(t.dataRate(i))!.spreadingFactor;
      const b = t.power(i) - Math.round(loraSnrFloorDb(sf) * 10);
      if (b < budget[d]!) budget[d] = b;
      beacons[d]! += 1;
    }
    const { flagged, stats } = claims.test(budget, beacons, rule);
    this.refuseWitnessesOf(t, accepted, flagged, CODE.one_way_links);
    return stats.map(({ device, ...rest }) => ({ deviceId: this.chain.devices[device]!.record.id, ...rest }));
  }

  /** (position in canonical order, report index) of the given beacons: by receive time, then id. */
  private canonicalPositions(beacons: readonly BeaconState[], t: ReportTable): [number, number][] {
    const idx = beacons.map((b) => b.index);
    idx.sort((a, b) => t.receivedAt(a) - t.receivedAt(b) || t.compare32(a, b, "id"));
    return idx.map((i, k) => [k, i]);
  }

  private checkPair(t: ReportTable, b: number, w: number): number {
    const params = this.params;
    const bd = t.deviceIndex(b);
    const wd = t.deviceIndex(w);
    if (bd === wd) return CODE.self_witness;
    const devices = this.chain.devices;
    if (params.refuseSameOwnerWitness === true && devices[bd]!.record.owner === devices[wd]!.record.owner) {
      return CODE.same_owner;
    }
    const dt = t.receivedAt(w) - t.receivedAt(b);
    if (dt > params.witnessWindowMs) return CODE.too_late;
    if (dt < -params.witnessWindowMs) return CODE.too_early;
    const bg = this.geo(bd);
    const wg = this.geo(wd);
    if (wg.region === undefined || wg.region !== bg.region) return CODE.invalid_region;
    const frequency = t.frequency(b);
    if (Math.abs(t.frequency(w) - frequency) > params.maxFrequencyOffsetHz) return CODE.invalid_frequency;
    const dataRate = t.dataRate(b);
    if (t.dataRate(w) !== dataRate) return CODE.invalid_data_rate;
    const distance = haversineM(bg.lat, bg.lng, wg.lat, wg.lng);
    if (distance < GRID_CHECK_BELOW_M && gridDistance(bg.gridCell, wg.gridCell) < params.minGridDistance) {
      return CODE.below_min_distance;
    }
    if (distance > params.maxDistanceM) return CODE.max_distance_exceeded;
    const signal = t.power(w) / 10;
    const pathM = Math.max(distance - params.positionSlackM, 1);
    const bound = maxRssiDbm(
      t.power(b) / 10,
      devices[bd]!.record.gain / 10,
      pathM,
      frequency,
      devices[wd]!.record.gain / 10,
    );
    if (signal > bound + params.rssiToleranceTenths / 10) return CODE.bad_rssi;
    const rate = bg.region!.dataRates.get(dataRate)!;
    const snr = t.snr(w) / 10;
    const tolerance = params.snrToleranceTenths / 10;
    if (snr < loraSnrFloorDb(rate.spreadingFactor) - tolerance) return CODE.bad_snr;
    if (snr > signal - this.noiseFloor(rate.bandwidthHz) + tolerance) return CODE.bad_snr;
    return 0;
  }

  private reward(t: ReportTable, accepted: ReadonlyMap<number, BeaconState>): DeviceWork[] {
    const max = this.params.maxWitnessesPerBeacon;
    const table = hip15Table(max);
    const devices = this.chain.devices;
    const density = this.density();
    const scales: bigint[] = [];
    const scaleOf = (d: number): bigint => (scales[d] ??= toWad(density.scaleOf(devices[d]!.cell!)));
    interface Acc {
      beaconUnits: bigint;
      witnessUnits: bigint;
      beaconWeight: bigint;
      witnessWeight: bigint;
    }
    const acc = new Map<number, Acc>();
    const accOf = (d: number): Acc => {
      let a = acc.get(d);
      if (a === undefined) {
        a = { beaconUnits: 0n, witnessUnits: 0n, beaconWeight: 0n, witnessWeight: 0n };
        acc.set(d, a);
      }
      return a;
    };

    const rank = new Map<number, number>();
    for (const beacon of accepted.values()) {
      const ws = beacon.witnesses;
      if (ws.length === 0) continue;
      for (const w of ws) rank.set(w, this.rank(t, beacon.index, w));
      ws.sort(
        (x, y) =>
          rank.get(x)! - rank.get(y)! ||
          compareBytes(this.fullRank(t, beacon.index, x), this.fullRank(t, beacon.index, y)),
      );
      const n = Math.min(ws.length, max);
      const bd = t.deviceIndex(beacon.index);
      const scale = scaleOf(bd);
      const beaconUnits = table.beaconer[n]!;
      this.units[beacon.index] = beaconUnits;
      const a = accOf(bd);
      a.beaconUnits += beaconUnits;
      a.beaconWeight += beaconUnits * scale;
      const witnessUnits = table.witness[n]!;
      for (let k = 0; k < n; k++) {
        const w = ws[k]!;
        this.selected[w] = 1;
        this.units[w] = witnessUnits;
        const wa = accOf(t.deviceIndex(w));
        wa.witnessUnits += witnessUnits;
        wa.witnessWeight += witnessUnits * scale; // a witness is scaled at the beaconer's hex
      }
      rank.clear();
    }

    const out: DeviceWork[] = [];
    for (const [d, a] of acc) {
      out.push({
        deviceId: devices[d]!.record.id,
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
  private selectionHash(t: ReportTable, b: number, w: number): Uint8Array {
    const buf = this.rankBuf;
    const bytes = t.bytes;
    buf.set(bytes.subarray(t.at(b, "remoteEntropy"), t.at(b, "remoteEntropy") + 32), 0);
    buf.set(bytes.subarray(t.at(b, "device"), t.at(b, "device") + 20), 32);
    buf.set(bytes.subarray(t.at(w, "device"), t.at(w, "device") + 20), 52);
    keccak256Into(buf, 0, 72, this.rankOut, 0);
    return this.rankOut;
  }

  /** First 48 bits of the selection hash, exact in a double: the lowest are selected. */
  private rank(t: ReportTable, b: number, w: number): number {
    const o = this.selectionHash(t, b, w);
    return (
      ((o[0]! << 8) | o[1]!) * 0x1_0000_0000 + (((o[2]! << 24) | (o[3]! << 16) | (o[4]! << 8) | o[5]!) >>> 0)
    );
  }

  /** The full selection hash (a copy), for the 2^-48-rare ties on the first 48 bits. */
  private fullRank(t: ReportTable, b: number, w: number): Uint8Array {
    return this.selectionHash(t, b, w).slice();
  }

  private geo(d: number): Geo {
    let g = this.geoCache[d];
    if (g === undefined) {
      const cell = this.chain.devices[d]!.cell!;
      const [lat, lng] = h3.cellToLatLng(cell);
      g = {
        lat: (lat * Math.PI) / 180,
        lng: (lng * Math.PI) / 180,
        gridCell: h3.cellToParent(cell, this.params.minDistanceResolution),
        region: this.regions(lat, lng),
      };
      this.geoCache[d] = g;
    }
    return g;
  }

  private noiseFloor(bandwidthHz: number): number {
    let n = this.noiseFloors.get(bandwidthHz);
    if (n === undefined) {
      n = noiseFloorDbm(bandwidthHz, this.params.noiseFigureDb);
      this.noiseFloors.set(bandwidthHz, n);
    }
    return n;
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

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
}

const KIND_NAME = ["malformed", "beacon", "witness"] as const;

function toVerdict(t: ReportTable, i: number, reason: number, selected: boolean, units: bigint): Verdict {
  const kind = KIND_NAME[t.kind(i)]!;
  const malformed = kind === "malformed";
  return {
    id: t.idHex(i),
    receivedAt: t.receivedAt(i),
    kind,
    device: malformed ? null : t.deviceHex(i),
    reason: reasonOf(reason),
    detail: malformed ? PARSE_ERROR_CODES[t.parseError(i) - 1]! : null,
    beacon: malformed ? null : t.beaconHex(i),
    selected,
    units,
  };
}

/**
 * Verdict record, per report in canonical order (104 bytes):
 *   id bytes32 | receivedAt uint64 | kind uint8 (0 malformed, 1 beacon, 2 witness) | device address
 *   | reason uint8 (verify/reasons.ts, 0 = valid) | parse error uint8 (reports/wire.ts, 0 = none)
 *   | selected uint8 | beacon payload hash bytes32 | units uint64 (18 decimals)
 * preceded by the count (uint64). Malformed reports have zero device and payload hash.
 */
function encodeVerdicts(
  t: ReportTable,
  order: readonly number[],
  reason: Uint8Array,
  selected: Uint8Array,
  units: BigUint64Array,
): Uint8Array[] {
  const w = new ByteWriter();
  w.u64(order.length);
  const bytes = t.bytes;
  for (const i of order) {
    const o = i * RECORD_BYTES;
    w.copy(bytes, o + OFFSET.id, 32)
      .u64(t.receivedAt(i))
      .u8(t.kind(i));
    w.copy(bytes, o + OFFSET.device, 20)
      .u8(reason[i]!)
      .u8(t.parseError(i))
      .u8(selected[i]!);
    w.copy(bytes, o + OFFSET.beacon, 32).u64(units[i]!);
  }
  return w.finish();
}

/** The coverage subnetwork's epoch: the coverage verifier through the shared reward and commit stages. */
export function runCoverageEpoch(
  index: ChainIndex,
  inputs: CoverageInputs,
  options: CoverageOptions = {},
): Promise<EpochResult<CoverageWork>> {
  return runEpoch(new CoverageVerifier(options), index, inputs);
}
