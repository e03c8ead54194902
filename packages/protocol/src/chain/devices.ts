/**
 * A chain view's devices in columns: one small object per device (ChainDevice: the view's entry and
 * the device's record both) over typed arrays, in place of a plain record per device with a key
 * object, hex texts and bigints of its own. At 1.44M devices the plain records and the view's
 * entries held ~500 bytes a device; the columns hold ~200 (docs/oracle-service.md, "The chain
 * view's columns").
 *
 * Values are read back exactly as given: owners and key ids as the same lowercase hex, the same
 * bigints and numbers. Owners are kept once each (a Helium-sized fleet has an owner per device or
 * more devices per owner, and the bonds and cumulative amounts name the same owners).
 */
import { toHex, writeHex, type Hex } from "../hex.js";
import { keyIdOf } from "../keys.js";
import type { DeviceKey, DeviceRecord, DeviceStatus } from "./types.js";

const STATUSES: readonly DeviceStatus[] = ["active", "suspended", "retired"];
const STATUS_CODE: ReadonlyMap<string, number> = new Map(STATUSES.map((s, i) => [s, i]));

/** Whether `s` is a status the columns hold (a view refuses any other). */
export function isDeviceStatus(s: string): s is DeviceStatus {
  return STATUS_CODE.has(s);
}

/** Locations and onboard orders are uint64 on chain; the columns hold onboard orders below this. */
export const UINT64_END = 1n << 64n;

/** A device of a chain view: its record (by getters over the columns), key id and asserted cell. */
export interface DeviceEntry {
  readonly record: DeviceRecord;
  /** Position in the view's devices (sorted by id). */
  readonly index: number;
  readonly keyId: Hex;
  /** Whether its location is a valid cell at the location resolution (`cell` is not null). */
  readonly located: boolean;
  /** Asserted cell as h3-js hex text, or null if unasserted or not a valid res-12 cell. */
  readonly cell: string | null;
}

// Where a device's location is: none, in the column (uint64), or an odd value kept aside.
const NO_LOCATION = 0;
const LOCATION_COLUMN = 1;
const LOCATION_ASIDE = 2;

/** The columns, filled once in the view's order by DeviceColumns.build. */
export class DeviceColumns {
  private readonly owners: readonly Hex[];
  private readonly ownerOf: Uint32Array;
  private readonly status: Uint8Array;
  private readonly locatedFlags: Uint8Array;
  private readonly onboardOrders: BigUint64Array;
  private readonly locationKind: Uint8Array;
  private readonly locations: BigUint64Array;
  /** Locations that are not a uint64 (never from the registry; kept so the record reads back as given). */
  private readonly locationsAside = new Map<number, bigint>();
  private readonly gains: Float64Array;
  private readonly elevations: Float64Array;
  /** 20 bytes a device: the key id (a secp256k1 key's address). */
  private readonly keyIds: Uint8Array;
  /** P-256 keys only: position in `points` (64 bytes each), -1 for secp256k1. */
  private readonly pointOf: Int32Array;
  private readonly points: Uint8Array;

  private constructor(length: number, p256Keys: number, owners: readonly Hex[]) {
    this.owners = owners;
    this.ownerOf = new Uint32Array(length);
    this.status = new Uint8Array(length);
    this.locatedFlags = new Uint8Array(length);
    this.onboardOrders = new BigUint64Array(length);
    this.locationKind = new Uint8Array(length);
    this.locations = new BigUint64Array(length);
    this.gains = new Float64Array(length);
    this.elevations = new Float64Array(length);
    this.keyIds = new Uint8Array(20 * length);
    this.pointOf = new Int32Array(length);
    this.points = new Uint8Array(64 * p256Keys);
  }

  /**
   * The columns of `records` in the given order, and one entry per device. `located(r)` says whether
   * the record's location is a valid cell; `owners` holds each owner's text once, at its slot in
   * `ownerSlots` (kept, not copied). The records must be validated first (well-formed keys and
   * owners, statuses of DeviceStatus, onboard orders 0..2^64-1).
   */
  static build(
    records: readonly DeviceRecord[],
    located: (r: DeviceRecord) => boolean,
    owners: readonly Hex[],
    ownerSlots: ReadonlyMap<Hex, number>,
  ): ChainDevice[] {
    let p256Keys = 0;
    for (const r of records) if (r.key.type === "p256") p256Keys++;
    const c = new DeviceColumns(records.length, p256Keys, owners);
    const entries: ChainDevice[] = [];
    let points = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      c.ownerOf[i] = ownerSlots.get(r.owner)!;
      c.status[i] = STATUS_CODE.get(r.status)!;
      c.locatedFlags[i] = located(r) ? 1 : 0;
      c.onboardOrders[i] = r.onboardOrder;
      const loc = r.location;
      if (loc === null) c.locationKind[i] = NO_LOCATION;
      else if (loc >= 0n && loc < UINT64_END) {
        c.locationKind[i] = LOCATION_COLUMN;
        c.locations[i] = loc;
      } else {
        c.locationKind[i] = LOCATION_ASIDE;
        c.locationsAside.set(i, loc);
      }
      c.gains[i] = r.gain;
      c.elevations[i] = r.elevation;
      writeHex(c.keyIds, 20 * i, keyIdOf(r.key));
      if (r.key.type === "p256") {
        c.pointOf[i] = points;
        writeHex(c.points, 64 * points, r.key.x);
        writeHex(c.points, 64 * points + 32, r.key.y);
        points++;
      } else c.pointOf[i] = -1;
      entries.push(new ChainDevice(c, i, r.id));
    }
    return entries;
  }

  owner(i: number): Hex {
    return this.owners[this.ownerOf[i]!]!;
  }

  statusOf(i: number): DeviceStatus {
    return STATUSES[this.status[i]!]!;
  }

  located(i: number): boolean {
    return this.locatedFlags[i] === 1;
  }

  onboardOrder(i: number): bigint {
    return this.onboardOrders[i]!;
  }

  location(i: number): bigint | null {
    const kind = this.locationKind[i];
    return kind === NO_LOCATION
      ? null
      : kind === LOCATION_COLUMN
        ? this.locations[i]!
        : this.locationsAside.get(i)!;
  }

  gain(i: number): number {
    return this.gains[i]!;
  }

  elevation(i: number): number {
    return this.elevations[i]!;
  }

  keyId(i: number): Hex {
    return toHex(this.keyIds, 20 * i, 20);
  }

  key(i: number): DeviceKey {
    const p = this.pointOf[i]!;
    return p < 0
      ? { type: "secp256k1", address: this.keyId(i) }
      : { type: "p256", x: toHex(this.points, 64 * p, 32), y: toHex(this.points, 64 * p + 32, 32) };
  }
}

/**
 * One device of a chain view: its entry and, by getters over the view's columns, its record
 * (`entry.record` is the entry itself). The id is kept as a field: lookups by id compare it often.
 */
export class ChainDevice implements DeviceEntry, DeviceRecord {
  private readonly columns: DeviceColumns;
  readonly index: number;
  readonly id: bigint;

  constructor(columns: DeviceColumns, index: number, id: bigint) {
    this.columns = columns;
    this.index = index;
    this.id = id;
  }

  get record(): DeviceRecord {
    return this;
  }

  get onboardOrder(): bigint {
    return this.columns.onboardOrder(this.index);
  }

  get owner(): Hex {
    return this.columns.owner(this.index);
  }

  get key(): DeviceKey {
    return this.columns.key(this.index);
  }

  get status(): DeviceStatus {
    return this.columns.statusOf(this.index);
  }

  get location(): bigint | null {
    return this.columns.location(this.index);
  }

  get gain(): number {
    return this.columns.gain(this.index);
  }

  get elevation(): number {
    return this.columns.elevation(this.index);
  }

  get keyId(): Hex {
    return this.columns.keyId(this.index);
  }

  get located(): boolean {
    return this.columns.located(this.index);
  }

  get cell(): string | null {
    return this.located ? this.location!.toString(16) : null;
  }

  /** The record as plain data (what JSON.stringify and the store take). */
  toJSON(): DeviceRecord {
    return {
      id: this.id,
      onboardOrder: this.onboardOrder,
      owner: this.owner,
      key: this.key,
      status: this.status,
      location: this.location,
      gain: this.gain,
      elevation: this.elevation,
    };
  }
}
