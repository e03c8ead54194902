/**
 * ReportTable: stage-1 results of an epoch, one fixed-size record per report in one buffer.
 *
 * Workers write records straight into a SharedArrayBuffer at the report's index, so nothing is
 * serialised between threads and the main thread never holds an object or a string per report:
 * that is what lets one process verify ~40M reports a day in a few GB. Layout (little-endian,
 * RECORD_BYTES = 160 per report):
 *
 *   byte  0      kind          uint8   0 malformed, 1 beacon, 2 witness
 *   byte  1      auth          uint8   0 ok, 1 unknown device, 2 bad signature
 *   byte  2      payloadOk     uint8   beacon: payload rebuilds from the two entropies
 *   byte  3      parseError    uint8   malformed: 1 + index in PARSE_ERROR_CODES
 *   bytes 4-7    deviceIndex   int32   index of the named key in the preparer's key list, -1 if none
 *   bytes 8-15   receivedAt    float64 Unix ms (a safe integer)
 *   bytes 16-19  frequency     uint32  Hz
 *   byte  20     channel       uint8   beacon
 *   byte  21     dataRate      uint8
 *   bytes 22-23  power         int16   beacon: txPower; witness: signal (tenths)
 *   bytes 24-25  snr           int16   witness (tenths of dB)
 *   byte  26     reason        uint8   stage 2's reason code (0 = passed), set by the main thread
 *   bytes 28-31  written       int32   set atomically by the writer once the record is complete
 *   bytes 32-63  id            EIP-712 digest; malformed: keccak256 of the text
 *   bytes 64-83  device        key id named by the report (zero if malformed)
 *   bytes 96-127 beacon        beacon: keccak256(payload); witness: the payload hash it cites
 *   bytes 128-159 remoteEntropy beacon
 */
import { toHex, type Hex } from "@hexmesh/protocol";

export const RECORD_BYTES = 160;

export const KIND_MALFORMED = 0;
export const KIND_BEACON = 1;
export const KIND_WITNESS = 2;

export const AUTH_OK = 0;
export const AUTH_UNKNOWN_DEVICE = 1;
export const AUTH_BAD_SIGNATURE = 2;

/** The byte fields of a record (20 bytes: device; 32: the others). */
export type RowField = "id" | "device" | "beacon" | "remoteEntropy";

export const OFFSET = {
  kind: 0,
  auth: 1,
  payloadOk: 2,
  parseError: 3,
  deviceIndex: 4,
  receivedAt: 8,
  frequency: 16,
  channel: 20,
  dataRate: 21,
  power: 22,
  snr: 24,
  reason: 26,
  id: 32,
  device: 64,
  beacon: 96,
  remoteEntropy: 128,
} as const;

// Type-array strides per record.
const I32 = RECORD_BYTES / 4;
const F64 = RECORD_BYTES / 8;
const I16 = RECORD_BYTES / 2;

/**
 * Read access to an epoch's records by row: the in-memory ReportTable (stages 1 and 2) or the
 * records spilled to disk in canonical order (spill.ts: stages 3-5).
 */
export interface ReportRows {
  readonly length: number;
  kind(i: number): number;
  parseError(i: number): number;
  deviceIndex(i: number): number;
  receivedAt(i: number): number;
  frequency(i: number): number;
  dataRate(i: number): number;
  power(i: number): number;
  snr(i: number): number;
  stage2Reason(i: number): number;
  idHex(i: number): Hex;
  deviceHex(i: number): Hex;
  beaconHex(i: number): Hex;
  prefix48(i: number, field: "id" | "beacon" | "remoteEntropy"): number;
  compare32(i: number, j: number, field: "id" | "beacon"): number;
  /** Copies a 32- or 20-byte field of record i into `into` at `at`. */
  copyField(i: number, field: RowField, into: Uint8Array, at: number): void;
}

export class ReportTable implements ReportRows {
  readonly length: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly bytes: Uint8Array;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly i16: Int16Array;

  /** A table for `length` reports; `shared` backs it with a SharedArrayBuffer (for workers). */
  constructor(length: number, shared = false, buffer?: ArrayBuffer | SharedArrayBuffer) {
    this.length = length;
    this.buffer =
      buffer ??
      (shared ? new SharedArrayBuffer(length * RECORD_BYTES) : new ArrayBuffer(length * RECORD_BYTES));
    if (this.buffer.byteLength !== length * RECORD_BYTES)
      throw new RangeError("report table buffer has the wrong size");
    this.bytes = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.i16 = new Int16Array(this.buffer);
  }

  kind(i: number): number {
    return this.bytes[i * RECORD_BYTES]!;
  }
  auth(i: number): number {
    return this.bytes[i * RECORD_BYTES + OFFSET.auth]!;
  }
  payloadOk(i: number): boolean {
    return this.bytes[i * RECORD_BYTES + OFFSET.payloadOk] === 1;
  }
  parseError(i: number): number {
    return this.bytes[i * RECORD_BYTES + OFFSET.parseError]!;
  }
  deviceIndex(i: number): number {
    return this.i32[i * I32 + 1]!;
  }
  receivedAt(i: number): number {
    return this.f64[i * F64 + 1]!;
  }
  frequency(i: number): number {
    return this.u32[i * I32 + 4]!;
  }
  channel(i: number): number {
    return this.bytes[i * RECORD_BYTES + OFFSET.channel]!;
  }
  dataRate(i: number): number {
    return this.bytes[i * RECORD_BYTES + OFFSET.dataRate]!;
  }
  /** Beacon: txPower; witness: signal (tenths of dBm). */
  power(i: number): number {
    return this.i16[i * I16 + 11]!;
  }
  snr(i: number): number {
    return this.i16[i * I16 + 12]!;
  }
  stage2Reason(i: number): number {
    return this.bytes[i * RECORD_BYTES + OFFSET.reason]!;
  }
  setStage2Reason(i: number, code: number): void {
    this.bytes[i * RECORD_BYTES + OFFSET.reason] = code;
  }

  /** Byte offset of a 32- or 20-byte field of record i. */
  at(i: number, field: "id" | "device" | "beacon" | "remoteEntropy"): number {
    return i * RECORD_BYTES + OFFSET[field];
  }

  copyField(i: number, field: RowField, into: Uint8Array, at: number): void {
    // A plain loop: a subarray view per copy was a collector cost at 40M rows.
    const o = this.at(i, field);
    const bytes = this.bytes;
    const n = field === "device" ? 20 : 32;
    for (let k = 0; k < n; k++) into[at + k] = bytes[o + k]!;
  }

  idHex(i: number): Hex {
    return toHex(this.bytes, this.at(i, "id"), 32);
  }
  deviceHex(i: number): Hex {
    return toHex(this.bytes, this.at(i, "device"), 20);
  }
  beaconHex(i: number): Hex {
    return toHex(this.bytes, this.at(i, "beacon"), 32);
  }
  remoteEntropyHex(i: number): Hex {
    return toHex(this.bytes, this.at(i, "remoteEntropy"), 32);
  }

  /** First 48 bits of a 32-byte field as an exact number (a hash-table key). */
  prefix48(i: number, field: "id" | "beacon" | "remoteEntropy"): number {
    const o = this.at(i, field);
    const b = this.bytes;
    return (
      ((b[o]! << 8) | b[o + 1]!) * 0x1_0000_0000 +
      (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0)
    );
  }

  /** Lexicographic comparison of a 32-byte field of two records. */
  compare32(i: number, j: number, field: "id" | "beacon"): number {
    return compare32At(this.bytes, this.at(i, field), this.bytes, this.at(j, field));
  }

  // -- writers (stage 1) ---------------------------------------------------------------------

  setHeader(
    i: number,
    kind: number,
    auth: number,
    payloadOk: boolean,
    parseError: number,
    deviceIndex: number,
    receivedAt: number,
  ): void {
    const o = i * RECORD_BYTES;
    this.bytes.fill(0, o, o + RECORD_BYTES);
    this.bytes[o] = kind;
    this.bytes[o + OFFSET.auth] = auth;
    this.bytes[o + OFFSET.payloadOk] = payloadOk ? 1 : 0;
    this.bytes[o + OFFSET.parseError] = parseError;
    this.i32[i * I32 + 1] = deviceIndex;
    this.f64[i * F64 + 1] = receivedAt;
  }

  setRadio(
    i: number,
    frequency: number,
    channel: number,
    dataRate: number,
    power: number,
    snr: number,
  ): void {
    const o = i * RECORD_BYTES;
    this.u32[i * I32 + 4] = frequency;
    this.bytes[o + OFFSET.channel] = channel;
    this.bytes[o + OFFSET.dataRate] = dataRate;
    this.i16[i * I16 + 11] = power;
    this.i16[i * I16 + 12] = snr;
  }

  setAuth(i: number, auth: number): void {
    this.bytes[i * RECORD_BYTES + OFFSET.auth] = auth;
  }

  /**
   * Publishes record i (Atomics.store: every plain write before it is visible to a thread that
   * then sees isWritten(i), per the JavaScript memory model). Every record is marked, so a table
   * does not depend on how reports were batched.
   */
  markWritten(i: number): void {
    Atomics.store(this.i32, i * I32 + 7, 1);
  }

  isWritten(i: number): boolean {
    return Atomics.load(this.i32, i * I32 + 7) === 1;
  }
}

/** Lexicographic comparison of the 32 bytes at a[x] and b[y]. */
export function compare32At(a: Uint8Array, x: number, b: Uint8Array, y: number): number {
  for (let k = 0; k < 32; k++) {
    const d = a[x + k]! - b[y + k]!;
    if (d !== 0) return d;
  }
  return 0;
}
