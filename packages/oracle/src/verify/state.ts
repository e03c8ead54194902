/**
 * What the rules of one epoch share (stages 2-5 of coverage.ts, single use): the inputs they read
 * (chain view, entropy log, parameters, region resolver), the outcome they write per report (reason
 * code, selected flag, HIP-15 units: a few bytes per report, no object or string), the devices'
 * geography (cached per device) and the accepted beacons with their valid witnesses (beacons.ts).
 */
import * as h3 from "h3-js";

import {
  EntropyLog,
  noiseFloorDbm,
  type ChainView,
  type RegionPlan,
  type RegionResolver,
} from "@hexmesh/protocol";

import type { AcceptedBeacons } from "./beacons.js";
import type { CoverageParams } from "./params.js";
import { KIND_WITNESS, type ReportRows } from "./table.js";

export class EpochState {
  readonly chain: ChainView;
  readonly entropy: EntropyLog;
  readonly params: CoverageParams;
  private readonly regions: RegionResolver;
  /**
   * Per report: reason code (0 valid) and selected flag, two bytes; a report's units are its
   * beacon's (AcceptedBeacons), and the beacon a witness was matched to is found again (pairOf).
   */
  readonly reason: Uint8Array;
  readonly selected: Uint8Array;
  /** The accepted beacons with their witness lists (set by the beacon pass). */
  accepted: AcceptedBeacons | null = null;
  /**
   * Each device's geography, made on first use and kept in columns by device index (every device
   * of a large epoch is used; as an object each it was ~110 bytes more a device): position in
   * radians, min-distance cell as its H3 index's two 32-bit halves (h3-js takes them as a cell; as
   * a string each it was ~40 bytes more a device), region plan (as an index into `plans`, -1 none,
   * 0 not made yet).
   */
  private readonly lats: Float64Array;
  private readonly lngs: Float64Array;
  private readonly gridLows: Uint32Array;
  private readonly gridHighs: Uint32Array;
  private readonly planOf: Int32Array;
  private readonly plans: RegionPlan[] = [];
  private readonly noiseFloors = new Map<number, number>();

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
    const devices = chain.devices.length;
    this.lats = new Float64Array(devices);
    this.lngs = new Float64Array(devices);
    this.gridLows = new Uint32Array(devices);
    this.gridHighs = new Uint32Array(devices);
    this.planOf = new Int32Array(devices);
  }

  /**
   * The accepted beacon witness w was matched to by the witness pass (report index), or -1: the
   * witnesses that passed stage 2 were matched by payload hash (rules/witness.ts).
   */
  pairOf(t: ReportRows, w: number): number {
    if (t.kind(w) !== KIND_WITNESS || t.stage2Reason(w) !== 0 || this.accepted === null) return -1;
    const slot = this.accepted.find(w);
    return slot < 0 ? -1 : this.accepted.row(slot);
  }

  /** Region plan of device index d (it has an asserted cell), undefined outside every region. */
  region(d: number): RegionPlan | undefined {
    const k = this.geo(d);
    return k < 0 ? undefined : this.plans[k];
  }

  /** Latitude of device index d's asserted cell centre, radians. */
  lat(d: number): number {
    this.geo(d);
    return this.lats[d]!;
  }

  /** Longitude of device index d's asserted cell centre, radians. */
  lng(d: number): number {
    this.geo(d);
    return this.lngs[d]!;
  }

  /** Parent of device index d's asserted cell at the min-distance resolution, as h3-js's [low, high]. */
  gridCell(d: number): [number, number] {
    this.geo(d);
    return [this.gridLows[d]!, this.gridHighs[d]!];
  }

  /** Makes device index d's geography on first use; its plan's index (-1: no region). */
  private geo(d: number): number {
    const made = this.planOf[d]!;
    if (made !== 0) return made > 0 ? made - 1 : -1;
    const cell = this.chain.devices[d]!.cell!;
    const [lat, lng] = h3.cellToLatLng(cell);
    this.lats[d] = (lat * Math.PI) / 180;
    this.lngs[d] = (lng * Math.PI) / 180;
    const [low, high] = h3.h3IndexToSplitLong(h3.cellToParent(cell, this.params.minDistanceResolution));
    this.gridLows[d] = low;
    this.gridHighs[d] = high;
    const plan = this.regions(lat, lng);
    let k = -1;
    if (plan !== undefined) {
      k = this.plans.indexOf(plan);
      if (k < 0) k = this.plans.push(plan) - 1;
    }
    this.planOf[d] = k < 0 ? -1 : k + 1;
    return k;
  }

  /** Thermal noise floor (dBm) of a bandwidth with the parameters' noise figure. */
  noiseFloor(bandwidthHz: number): number {
    let n = this.noiseFloors.get(bandwidthHz);
    if (n === undefined) {
      n = noiseFloorDbm(bandwidthHz, this.params.noiseFigureDb);
      this.noiseFloors.set(bandwidthHz, n);
    }
    return n;
  }

  /** Refuses every accepted witness report of the given devices; they leave their beacons' lists. */
  refuseWitnessesOf(devices: ReadonlySet<number>, code: number): void {
    this.accepted!.removeWitnessesOf(devices, (w) => (this.reason[w] = code));
  }
}
