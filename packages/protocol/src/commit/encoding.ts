/**
 * ByteWriter: the canonical binary encoding's primitives. Fixed-width big-endian integers,
 * addresses as 20 raw bytes, strings as a length byte + ASCII. No optional fields, no varints:
 * a given value has one encoding, and a reader needs only this file to decode.
 * Output is a list of chunks (the whole epoch record can exceed one buffer).
 */
import { writeHex, writeSmallUint, writeUint, type Hex } from "../hex.js";

const CHUNK = 1 << 20;

export class ByteWriter {
  private readonly done: Uint8Array[] = [];
  private buf = new Uint8Array(CHUNK);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private total = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(Math.max(CHUNK, n));
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    this.room(1);
    this.buf[this.pos++] = v;
    this.total += 1;
    return this;
  }

  u16(v: number): this {
    return this.smallUint(v, 2);
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uint32 out of range: ${v}`);
    this.room(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    this.total += 4;
    return this;
  }

  /** uint64 from a safe integer (times in ms, counts) or a bigint. */
  u64(v: number | bigint): this {
    if (typeof v === "bigint") {
      if (v < 0n || v >= 1n << 64n) throw new RangeError(`uint64 out of range: ${v}`);
      this.room(8);
      this.view.setBigUint64(this.pos, v); // big-endian
    } else {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uint64 out of range: ${v}`);
      this.room(8);
      this.view.setUint32(this.pos, Math.floor(v / 0x1_0000_0000));
      this.view.setUint32(this.pos + 4, v % 0x1_0000_0000);
    }
    this.pos += 8;
    this.total += 8;
    return this;
  }

  u256(v: bigint): this {
    return this.uint(v, 32);
  }

  uint(v: bigint, width: number): this {
    this.room(width);
    writeUint(this.buf, this.pos, v, width);
    this.pos += width;
    this.total += width;
    return this;
  }

  /** Canonical hex of exactly `size` bytes (address: 20, bytes32: 32). */
  hex(v: Hex, size: number): this {
    if (v.length !== 2 + 2 * size) throw new RangeError(`expected ${size} bytes: ${v}`);
    this.room(size);
    writeHex(this.buf, this.pos, v);
    this.pos += size;
    this.total += size;
    return this;
  }

  ascii(s: string): this {
    if (s.length > 255 || !/^[\x20-\x7e]*$/.test(s)) throw new RangeError(`not a short ASCII string: ${s}`);
    this.u8(s.length);
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
    this.total += s.length;
    return this;
  }

  /** src[offset, offset + length) as is. */
  copy(src: Uint8Array, offset: number, length: number): this {
    this.room(length);
    const buf = this.buf;
    for (let k = 0; k < length; k++) buf[this.pos + k] = src[offset + k]!;
    this.pos += length;
    this.total += length;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    this.total += b.length;
    return this;
  }

  /**
   * Appends chunks by reference, not copied (a verifier's record of ~100 bytes per report is not
   * held twice while an epoch is committed); they must not change while the output is in use.
   */
  chunks(cs: readonly Uint8Array[]): this {
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    for (const c of cs) if (c.length > 0) this.done.push(c);
    // The rest of the current buffer is written next.
    this.buf = this.buf.subarray(this.pos);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
    this.total += cs.reduce((n, c) => n + c.length, 0);
    return this;
  }

  get length(): number {
    return this.total;
  }

  /** The chunks written so far (the writer must not be used afterwards). */
  finish(): Uint8Array[] {
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
    this.buf = new Uint8Array(0);
    this.view = new DataView(this.buf.buffer);
    return this.done;
  }

  private smallUint(v: number, width: number): this {
    if (!Number.isSafeInteger(v) || v < 0 || (width < 8 && v >= 2 ** (8 * width))) {
      throw new RangeError(`uint${8 * width} out of range: ${v}`);
    }
    this.room(width);
    writeSmallUint(this.buf, this.pos, v, width);
    this.pos += width;
    this.total += width;
    return this;
  }
}

/**
 * Bytes as chunks built again on each iteration instead of held (a verifier's record of ~100 bytes
 * per report, and the encoding that embeds it): `byteLength` is known without iterating.
 */
export interface ChunkSource extends Iterable<Uint8Array> {
  readonly byteLength: number;
}

/** Bytes as chunks: held in an array, or built as they are read (ChunkSource). */
export type Chunks = readonly Uint8Array[] | ChunkSource;

/** Total bytes of `chunks` (a ChunkSource's without iterating it). */
export function chunksByteLength(chunks: Chunks): number {
  if ("byteLength" in chunks) return chunks.byteLength;
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** Concatenates chunks (tests, small epochs). */
export function concatChunks(chunks: Chunks): Uint8Array {
  const out = new Uint8Array(chunksByteLength(chunks));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
