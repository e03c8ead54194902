/**
 * Byte/hex helpers for the hot paths. Canonical hex in Hexmesh is lowercase with a 0x prefix;
 * every parser here rejects anything else, so a value has exactly one textual form.
 */

/** A lowercase 0x-prefixed hex string. */
export type Hex = `0x${string}`;

// charCode -> nibble value, -1 for anything that is not 0-9a-f (uppercase is not canonical).
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = 10 + i;

const HEX_CODES = new Uint8Array(16).map((_, i) => "0123456789abcdef".charCodeAt(i));
const latin1 = new TextDecoder("latin1");
let hexScratch = new Uint8Array(2 + 2 * 64);

/** bytes[offset, offset + length) as 0x-prefixed lowercase hex (one flat string, no concatenation). */
export function toHex(bytes: Uint8Array, offset = 0, length = bytes.length - offset): Hex {
  if (hexScratch.length < 2 + 2 * length) hexScratch = new Uint8Array(2 + 2 * length);
  const out = hexScratch;
  out[0] = 48; // "0"
  out[1] = 120; // "x"
  for (let i = 0; i < length; i++) {
    const v = bytes[offset + i]!;
    out[2 + 2 * i] = HEX_CODES[v >> 4]!;
    out[3 + 2 * i] = HEX_CODES[v & 15]!;
  }
  return latin1.decode(out.subarray(0, 2 + 2 * length)) as Hex;
}

const HEX_PATTERNS: RegExp[] = [];

/** True when s is 0x + exactly 2*byteLength lowercase hex digits. */
export function isHexBytes(s: string, byteLength: number): boolean {
  if (typeof s !== "string" || s.length !== 2 + 2 * byteLength) return false;
  let re = HEX_PATTERNS[byteLength];
  if (re === undefined) HEX_PATTERNS[byteLength] = re = new RegExp(`^0x[0-9a-f]{${2 * byteLength}}$`);
  return re.test(s);
}

/**
 * Writes the bytes of canonical hex `hex` (validated by the caller with isHexBytes) into out at
 * offset. Returns the number of bytes written.
 */
export function writeHex(out: Uint8Array, offset: number, hex: string): number {
  const n = (hex.length - 2) >> 1;
  for (let i = 0; i < n; i++) {
    out[offset + i] = (NIBBLE[hex.charCodeAt(2 + 2 * i)]! << 4) | NIBBLE[hex.charCodeAt(3 + 2 * i)]!;
  }
  return n;
}

/** Canonical hex to bytes; throws on non-canonical input (use isHexBytes first on untrusted data). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !isHexBytes(hex, (hex.length - 2) / 2))
    throw new Error(`not canonical hex: ${hex}`);
  const out = new Uint8Array((hex.length - 2) / 2);
  writeHex(out, 0, hex);
  return out;
}

/** Writes v as a big-endian unsigned integer of `width` bytes; v must fit. */
export function writeUint(out: Uint8Array, offset: number, v: bigint, width: number): void {
  if (v < 0n || v >> BigInt(8 * width) !== 0n)
    throw new RangeError(`value ${v} does not fit in ${width} bytes`);
  for (let i = width - 1; i >= 0; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Writes v (0 <= v < 2^256) as a 32-byte big-endian word; faster than writeUint for big values. */
export function writeUint256(out: Uint8Array, offset: number, v: bigint): void {
  if (v < 0n) throw new RangeError(`negative value ${v}`);
  const h = v.toString(16);
  if (h.length > 64) throw new RangeError(`value ${v} does not fit in 32 bytes`);
  out.fill(0, offset, offset + 32);
  let o = offset + 31;
  let i = h.length;
  for (; i >= 2; i -= 2) out[o--] = (NIBBLE[h.charCodeAt(i - 2)]! << 4) | NIBBLE[h.charCodeAt(i - 1)]!;
  if (i === 1) out[o] = NIBBLE[h.charCodeAt(0)]!;
}

/** Writes a safe non-negative integer as a big-endian word of `width` bytes (fast path, no bigint). */
export function writeSmallUint(out: Uint8Array, offset: number, v: number, width: number): void {
  let x = v;
  for (let i = width - 1; i >= 0; i--) {
    out[offset + i] = x % 256;
    x = Math.floor(x / 256);
  }
}

/** Writes a safe integer (possibly negative) as a 32-byte two's-complement word, as abi.encode does. */
export function writeInt256(out: Uint8Array, offset: number, v: number): void {
  if (v >= 0) {
    out.fill(0, offset, offset + 32);
    writeSmallUint(out, offset + 24, v, 8);
  } else {
    out.fill(0xff, offset, offset + 32);
    // two's complement of |v| in the low 8 bytes: 2^64 + v
    let x = -v - 1; // bitwise-not of (|v| - 1) gives 2^64 - |v|
    for (let i = 31; i >= 24; i--) {
      out[offset + i] = 255 - (x % 256);
      x = Math.floor(x / 256);
    }
  }
}

/** Lexicographic comparison of equal-length hex strings (same as numeric order). */
export function compareHex(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numeric order of bigints (ids, days, periods) for Array.sort; chain keys with `||`. */
export function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const ZERO_ADDRESS = `0x${"00".repeat(20)}` as Hex;
export const ZERO_BYTES32 = `0x${"00".repeat(32)}` as Hex;
