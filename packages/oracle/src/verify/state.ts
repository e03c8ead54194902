/**
 * What the rules of one epoch share (stages 2-5 of coverage.ts, single use): the inputs they read
 * (chain view, entropy log, parameters, region resolver), the outcome they write per report (reason
 * code, selected flag, HIP-15 units: a few bytes per report, no object or string), the devices'
 * geography (cached per device) and the accepted beacons with their valid witnesses.
 */
import * as h3 from "h3-js";

import {
  EntropyLog,
  noiseFloorDbm,
  type ChainView,
  type RegionPlan,
  type RegionResolver,
} from "@hexmesh/protocol";

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

/** An accepted beacon, its valid witnesses (report indexes) and the HIP-15 units it paid (stage 5). */
export interface BeaconState {
  readonly index: number;
  readonly witnesses: number[];
  /** Units of the beacon's report, and of each of its selected witnesses' (0 until stage 5). */
  beaconerUnits: bigint;
  witnessUnits: bigint;
}

export class EpochState {
  readonly chain: ChainView;
  readonly entropy: EntropyLog;
  readonly params: CoverageParams;
  private readonly regions: RegionResolver;
  /**
   * Per report: reason code (0 valid) and selected flag, two bytes; a report's units are its
   * beacon's (BeaconState), and the beacon a witness was matched to is found again (pairOf).
   */
  readonly reason: Uint8Array;
  readonly selected: Uint8Array;
  /** The accepted beacons by payload hash (set by the witness pass; pairOf). */
  acceptedIndex: HashIndex | null = null;
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
    if (t.kind(w) !== KIND_WITNESS || t.stage2Reason(w) !== 0 || this.acceptedIndex === null) return -1;
    return this.acceptedIndex.find(w);
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
  refuseWitnessesOf(
    t: ReportRows,
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
}

/** Report indexes by the first 48 bits of a 32-byte field, exact matches checked byte by byte. */
export class HashIndex {
  private readonly map = new Map<number, number | number[]>();
  private readonly table: ReportRows;
  private readonly field: "beacon";

  constructor(table: ReportRows, field: "beacon") {
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
