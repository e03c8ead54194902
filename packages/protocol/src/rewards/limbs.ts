/**
 * Exact sums of non-negative integers too wide for a double (18- and 36-decimal reward weights), held
 * as columns of 24-bit limbs in one Float64Array. Adding a value already split into limbs allocates
 * nothing: a bigint sum makes a new bigint per addition, and an epoch-wide weighting adds one per
 * credited witness (tens of millions a day at Helium's size).
 *
 * A limb is an integer in a double, exact below 2^53. Every added limb is below 2^24, so a limb
 * takes 2^28 additions before it could pass 2^52; it is carried into the next when it does.
 */

/** Bits per limb: a limb product (< 2^48) and a sum of a few of them stay exact in a double. */
export const LIMB_BITS = 24;
const BASE = 2 ** LIMB_BITS;
const CARRY_AT = 2 ** 52;

/** `v` as `count` limbs, least significant first; throws if it is negative or does not fit. */
export function toLimbs(v: bigint, count: number): Float64Array {
  if (v < 0n) throw new RangeError(`negative value ${v}`);
  const out = new Float64Array(count);
  let rest = v;
  for (let k = 0; k < count; k++) {
    out[k] = Number(rest & 0xff_ffffn);
    rest >>= BigInt(LIMB_BITS);
  }
  if (rest !== 0n) throw new RangeError(`${v} does not fit in ${count} limbs of ${LIMB_BITS} bits`);
  return out;
}

/** The value of `count` limbs of `limbs` from `at` (limbs may be above 2^24: any exact doubles). */
export function fromLimbs(limbs: Float64Array, at: number, count: number): bigint {
  let v = 0n;
  for (let k = count - 1; k >= 0; k--) v = (v << BigInt(LIMB_BITS)) + BigInt(limbs[at + k]!);
  return v;
}

/**
 * The product of two limb vectors, normalized into `out` (every limb below 2^24). Each partial
 * product is below 2^48 and at most min(a, b) of them meet in a column, so columns stay exact (below
 * 2^53) for factors of up to 16 limbs.
 */
export function mulLimbs(a: Float64Array, b: Float64Array, out: Float64Array): void {
  if (Math.min(a.length, b.length) > 16) throw new RangeError("factors of more than 16 limbs");
  out.fill(0);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    if (ai === 0) continue;
    for (let j = 0; j < b.length; j++) out[i + j]! += ai * b[j]!;
  }
  let carry = 0;
  for (let k = 0; k < out.length; k++) {
    const x = out[k]! + carry;
    carry = Math.floor(x / BASE);
    out[k] = x - carry * BASE;
  }
  if (carry !== 0) throw new RangeError(`a product does not fit in ${out.length} limbs`);
}

/** Rows per block: a column grows a block at a time, never copied and never more than a block over. */
const BLOCK_SHIFT = 16;
const BLOCK_MASK = (1 << BLOCK_SHIFT) - 1;

/** Rows of exact sums, `limbs` limbs each, growing a block of rows at a time as rows are added. */
export class LimbColumns {
  private readonly width: number;
  private readonly blocks: Float64Array[] = [];
  private rows = 0;

  constructor(limbs: number) {
    if (!Number.isSafeInteger(limbs) || limbs < 1) throw new RangeError(`bad limb count ${limbs}`);
    this.width = limbs;
  }

  get length(): number {
    return this.rows;
  }

  /** A new row at zero; returns its index. */
  push(): number {
    if ((this.rows & BLOCK_MASK) === 0) this.blocks.push(new Float64Array(this.width << BLOCK_SHIFT));
    return this.rows++;
  }

  /** Adds `limbs` (each below 2^24; at most this row's width) to row `row`. */
  add(row: number, limbs: Float64Array): void {
    const w = this.width;
    this.check(row);
    if (limbs.length > w) throw new RangeError(`${limbs.length} limbs added to a row of ${w}`);
    const d = this.blocks[row >>> BLOCK_SHIFT]!;
    const at = (row & BLOCK_MASK) * w;
    let carryNeeded = false;
    for (let k = 0; k < limbs.length; k++) if ((d[at + k]! += limbs[k]!) >= CARRY_AT) carryNeeded = true;
    if (carryNeeded) this.carry(d, at);
  }

  /** Row `row`'s sum. */
  get(row: number): bigint {
    this.check(row);
    return fromLimbs(this.blocks[row >>> BLOCK_SHIFT]!, (row & BLOCK_MASK) * this.width, this.width);
  }

  /** Row `row`'s limbs, normalized (each below 2^24 but the last), copied into `out`. */
  limbsOf(row: number, out: Float64Array): void {
    this.check(row);
    const d = this.blocks[row >>> BLOCK_SHIFT]!;
    const at = (row & BLOCK_MASK) * this.width;
    this.carry(d, at);
    for (let k = 0; k < this.width; k++) out[k] = d[at + k]!;
  }

  private check(row: number): void {
    if (!(row >= 0 && row < this.rows)) throw new RangeError(`row ${row} outside 0..${this.rows - 1}`);
  }

  private carry(d: Float64Array, at: number): void {
    const last = at + this.width - 1;
    for (let k = at; k < last; k++) {
      const q = Math.floor(d[k]! / BASE);
      d[k] = d[k]! - q * BASE;
      d[k + 1] = d[k + 1]! + q;
    }
    if (d[last]! >= CARRY_AT) throw new RangeError(`a sum outgrew its ${this.width} limbs`);
  }
}
