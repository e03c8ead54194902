/**
 * Hash tables over typed arrays for the epoch-wide state of stages 3-5, which is sized by beacons
 * and links: a JavaScript Map spends ~80 bytes an entry and an object per value, these 12-32 bytes
 * a slot and no object (measured: the 4M-report day's accepted beacons and witness lists in Maps
 * and arrays took ~0.8 KB per beacon). Open addressing with linear probing; nothing is ever
 * deleted.
 */
import type { ReportRows } from "./table.js";

/** Slots for `entries` at a load of at most one half (a power of two, at least 16). */
function slotsFor(entries: number): number {
  let n = 16;
  while (n < entries * 2) n *= 2;
  return n;
}

/** A well-mixed 32-bit hash of an exact integer below 2^53 (the keys of NumberSet and NumberMap). */
function mix(key: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key / 0x1_0000_0000) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e37_79b1), 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Report rows by a 32-byte field (a beacon's payload hash, or the one a witness cites), each with a
 * tag: the first 48 bits (already uniform: keccak256 output) pick the slot, the whole 32 bytes are
 * compared on a match. Sized up front for at most `capacity` rows.
 */
export class RowIndex {
  private readonly prefixes: Float64Array;
  private readonly rows: Int32Array;
  private readonly tags: Int32Array;
  private readonly mask: number;
  private readonly capacity: number;
  private size = 0;

  constructor(
    private readonly table: ReportRows,
    private readonly field: "beacon",
    capacity: number,
  ) {
    const slots = slotsFor(capacity);
    this.capacity = capacity;
    this.mask = slots - 1;
    this.prefixes = new Float64Array(slots).fill(-1);
    this.rows = new Int32Array(slots);
    this.tags = new Int32Array(slots);
  }

  /** Adds row i (its field) with `tag`; rows with the same field may be added more than once. */
  add(i: number, tag: number): void {
    if (this.size === this.capacity)
      throw new RangeError(`a row index sized for ${this.capacity} rows is full`);
    const prefix = this.table.prefix48(i, this.field);
    let s = prefix % 0x1_0000_0000 & this.mask;
    while (this.prefixes[s] !== -1) s = (s + 1) & this.mask;
    this.prefixes[s] = prefix;
    this.rows[s] = i;
    this.tags[s] = tag;
    this.size++;
  }

  /** The tag of the first row added whose field equals record i's, or -1. */
  find(i: number): number {
    const prefix = this.table.prefix48(i, this.field);
    for (let s = prefix % 0x1_0000_0000 & this.mask; ; s = (s + 1) & this.mask) {
      const p = this.prefixes[s]!;
      if (p === -1) return -1;
      if (p === prefix && this.table.compare32(this.rows[s]!, i, this.field) === 0) return this.tags[s]!;
    }
  }
}

/** A set of exact non-negative integers below 2^53, sized up front for at most `capacity` of them. */
export class NumberSet {
  private readonly keys: Float64Array;
  private readonly mask: number;
  private readonly capacity: number;
  private size = 0;

  constructor(capacity: number) {
    const slots = slotsFor(capacity);
    this.capacity = capacity;
    this.mask = slots - 1;
    this.keys = new Float64Array(slots).fill(-1);
  }

  /** Adds `key`; false if it was there already. */
  add(key: number): boolean {
    let s = mix(key) & this.mask;
    for (let k = this.keys[s]!; k !== -1; k = this.keys[s]!) {
      if (k === key) return false;
      s = (s + 1) & this.mask;
    }
    if (this.size === this.capacity) throw new RangeError(`a number set sized for ${this.capacity} is full`);
    this.keys[s] = key;
    this.size++;
    return true;
  }
}

/**
 * Exact non-negative integer keys below 2^53 -> a dense entry number (0, 1, 2, ... in the order
 * first seen), growing as it fills: callers keep per-entry values in their own typed arrays.
 */
export class NumberMap {
  private keys: Float64Array;
  private entries: Int32Array;
  private mask: number;
  /** Keys in entry order. */
  private byEntry: Float64Array;
  private size = 0;

  constructor(expected = 1024) {
    const slots = slotsFor(expected);
    this.mask = slots - 1;
    this.keys = new Float64Array(slots).fill(-1);
    this.entries = new Int32Array(slots);
    this.byEntry = new Float64Array(slots / 2);
  }

  get length(): number {
    return this.size;
  }

  /** The key of entry e. */
  keyOf(e: number): number {
    return this.byEntry[e]!;
  }

  /** The entry of `key`, added (as the next entry number) if it is new. */
  entryOf(key: number): number {
    let s = mix(key) & this.mask;
    for (let k = this.keys[s]!; k !== -1; k = this.keys[s]!) {
      if (k === key) return this.entries[s]!;
      s = (s + 1) & this.mask;
    }
    const e = this.size++;
    this.keys[s] = key;
    this.entries[s] = e;
    if (e === this.byEntry.length) this.grow();
    this.byEntry[e] = key;
    return e;
  }

  /** Doubles the slots (re-placing every key) and the entry list. */
  private grow(): void {
    const old = this.keys;
    const oldEntries = this.entries;
    const slots = old.length * 2;
    this.mask = slots - 1;
    this.keys = new Float64Array(slots).fill(-1);
    this.entries = new Int32Array(slots);
    for (let o = 0; o < old.length; o++) {
      const k = old[o]!;
      if (k === -1) continue;
      let s = mix(k) & this.mask;
      while (this.keys[s] !== -1) s = (s + 1) & this.mask;
      this.keys[s] = k;
      this.entries[s] = oldEntries[o]!;
    }
    const byEntry = new Float64Array(slots / 2);
    byEntry.set(this.byEntry);
    this.byEntry = byEntry;
  }
}
