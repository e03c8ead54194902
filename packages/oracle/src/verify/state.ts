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

export interface Geo {
  /** Radians. */
  readonly lat: number;
  readonly lng: number;
  /** Parent cell at the min-distance resolution. */
  readonly gridCell: string;
  readonly region: RegionPlan | undefined;
}

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
  private readonly geoCache: (Geo | undefined)[] = [];
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

  /** Position, min-distance cell and region plan of device index d (it has an asserted cell). */
  geo(d: number): Geo {
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
