/**
 * Hash tables over typed arrays for the epoch-wide state of stages 3-5, which is sized by beacons
 * and links: a JavaScript Map spends ~80 bytes an entry and an object per value, these 8 bytes a
 * slot and no object (measured: the 4M-report day's accepted beacons and witness lists in Maps
 * and arrays took ~0.8 KB per beacon). Open addressing with linear probing; nothing is ever
 * deleted.
 */
import type { ReportRows } from "./table.js";

/**
 * Slots for `entries` at a load of at most three quarters (a power of two, at least 16): linear
 * probing then takes ~2.5 probes a hit and ~8.5 a miss at worst. At most one half took 8-16 bytes
 * an entry instead of 5.3-10.7 (at 40M reports the accepted beacons' index, which lives until the
 * verdicts are written, 134 MB instead of 67).
 */
function slotsFor(entries: number): number {
  let n = 16;
  while (n * 3 < entries * 4) n *= 2;
  return n;
}

/** A well-mixed 32-bit hash of an exact integer below 2^53 (the keys of NumberSet). */
function mix(key: number): number {
  const lo = key >>> 0;
  const hi = Math.floor(key / 0x1_0000_0000) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e37_79b1), 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Tags (non-negative numbers the caller gives, such as a beacon's slot) by a 32-byte field of their
 * report row (a beacon's payload hash, or the one a witness cites): the first 48 bits (already
 * uniform: keccak256 output) pick the slot, a slot keeps their low 32 bits and the tag, and the
 * whole 32 bytes of the tag's row (`rowOf`) are compared on a match. 8 bytes a slot. Sized up front
 * for at most `capacity` tags.
 */
export class RowIndex {
  private readonly prefixes: Uint32Array;
  private readonly tags: Int32Array;
  private readonly mask: number;
  private readonly capacity: number;
  private size = 0;

  constructor(
    private readonly table: ReportRows,
    private readonly field: "beacon",
    capacity: number,
    private readonly rowOf: (tag: number) => number,
  ) {
    const slots = slotsFor(capacity);
    this.capacity = capacity;
    this.mask = slots - 1;
    this.prefixes = new Uint32Array(slots);
    this.tags = new Int32Array(slots).fill(-1);
  }

  /** Adds `tag` (its row rowOf(tag)); rows with the same field may be added more than once. */
  add(tag: number): void {
    if (this.size === this.capacity)
      throw new RangeError(`a row index sized for ${this.capacity} rows is full`);
    if (!Number.isInteger(tag) || tag < 0 || tag > 0x7fff_ffff) throw new RangeError(`bad tag ${tag}`);
    const low = this.table.prefix48(this.rowOf(tag), this.field) % 0x1_0000_0000;
    let s = low & this.mask;
    while (this.tags[s] !== -1) s = (s + 1) & this.mask;
    this.prefixes[s] = low;
    this.tags[s] = tag;
    this.size++;
  }

  /** The first tag added whose row's field equals record i's, or -1. */
  find(i: number): number {
    const low = this.table.prefix48(i, this.field) % 0x1_0000_0000;
    for (let s = low & this.mask; ; s = (s + 1) & this.mask) {
      const tag = this.tags[s]!;
      if (tag === -1) return -1;
      if (this.prefixes[s] === low && this.table.compare32(this.rowOf(tag), i, this.field) === 0) return tag;
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
