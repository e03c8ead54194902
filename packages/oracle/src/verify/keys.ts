/**
 * The fleet's device keys as stage 1 needs them, packed: key id -> device index, and each P-256
 * key's point. Every stage-1 thread holds the whole fleet's keys, so their size is paid once per
 * thread: ~40 bytes a device here, against ~400 in a Map of DeviceKey objects (1.5M devices: 60 MB
 * a thread instead of 600). Threads are given the keys as one packed buffer (KeyRing.pack), not as
 * objects to clone.
 */
import type { KeyObject } from "node:crypto";

import { keyIdOf, writeHex, type DeviceKey, type Hex } from "@hexmesh/protocol";

import { p256PublicKey, type SignatureChecker } from "./signatures.js";

const TYPE_SECP256K1 = 0;
const TYPE_P256 = 1;
/** Packed entry: type (1) | key id (20) | P-256 only: x (32) | y (32). */
const ID_BYTES = 20;
const POINT_BYTES = 64;
/**
 * P-256 key objects kept (~2.5 KB of native memory each): every key of a fleet of up to 32,768 P-256
 * devices (~160,000 devices, a fifth of them P-256). A larger fleet's reports name its devices in
 * no useful order, so a cache of 32,768 would hit for a small share of them (11% at 1.44M devices)
 * and cost ~80 MB a thread; its threads keep P256_KEYS_CACHED_LARGE and make the others again as
 * needed (~15 µs each, against ~60 µs for the verification).
 */
const P256_KEYS_CACHED = 32_768;
const P256_KEYS_CACHED_LARGE = 1_024;

export class KeyRing {
  /** Distinct keys held; device index = order added. */
  size = 0;
  private ids = new Uint8Array(ID_BYTES * 16);
  /** Device index -> offset of its P-256 point in `points`, or -1 (secp256k1: the key id is the address). */
  private pointAt = new Int32Array(16);
  private points = new Uint8Array(POINT_BYTES * 4);
  private pointBytes = 0;
  private p256Count = 0;
  /** Open addressing by the key id's first four bytes (uniform: keccak256 output): device index + 1, 0 empty. */
  private slots = new Int32Array(32);
  private readonly scratch = new Uint8Array(ID_BYTES);
  /** The latest P-256 key objects made, by device index (oldest dropped first). */
  private readonly p256Keys = new Map<number, KeyObject | null>();

  /** `keys[i]` gets device index i (keys already held are skipped: indexes continue after them). */
  constructor(keys: readonly DeviceKey[] | Uint8Array = []) {
    this.add(keys);
  }

  /** Keys in the packed form a thread is given: [type, key id, P-256 point] each. */
  static pack(keys: readonly DeviceKey[]): Uint8Array {
    let bytes = 0;
    for (const k of keys) bytes += 1 + ID_BYTES + (k.type === "p256" ? POINT_BYTES : 0);
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const k of keys) {
      out[at] = k.type === "p256" ? TYPE_P256 : TYPE_SECP256K1;
      writeHex(out, at + 1, keyIdOf(k));
      at += 1 + ID_BYTES;
      if (k.type === "p256") {
        writeHex(out, at, k.x);
        writeHex(out, at + 32, k.y);
        at += POINT_BYTES;
      }
    }
    return out;
  }

  /** Appends keys (DeviceKey objects or KeyRing.pack's bytes); a key id already held is skipped. */
  add(keys: readonly DeviceKey[] | Uint8Array): void {
    const packed = keys instanceof Uint8Array ? keys : KeyRing.pack(keys);
    for (let at = 0; at < packed.length; ) {
      const type = packed[at]!;
      if (type !== TYPE_SECP256K1 && type !== TYPE_P256)
        throw new RangeError(`packed key at byte ${at} has type ${type}`);
      const id = packed.subarray(at + 1, at + 1 + ID_BYTES);
      if (id.length !== ID_BYTES) throw new RangeError("packed keys end inside a key id");
      at += 1 + ID_BYTES;
      const point = type === TYPE_P256 ? packed.subarray(at, at + POINT_BYTES) : null;
      if (point !== null) {
        if (point.length !== POINT_BYTES) throw new RangeError("packed keys end inside a P-256 point");
        at += POINT_BYTES;
      }
      if (this.indexOfBytes(id, 0) >= 0) continue;
      this.append(id, point);
    }
  }

  /** P-256 key objects held now (at most P256_KEYS_CACHED, or P256_KEYS_CACHED_LARGE for a larger fleet). */
  get cachedKeyObjects(): number {
    return this.p256Keys.size;
  }

  /** Device index of the key with this id (canonical hex), or -1. */
  find(keyId: Hex): number {
    writeHex(this.scratch, 0, keyId);
    return this.indexOfBytes(this.scratch, 0);
  }

  /** Whether `signature` of `digest` is device index d's (SignatureChecker, with the key's bytes). */
  verify(checker: SignatureChecker, d: number, digest: Uint8Array, signature: Hex): boolean {
    const p = this.pointAt[d]!;
    if (p < 0) return checker.verifySecp256k1Id(this.ids, d * ID_BYTES, digest, signature);
    let key = this.p256Keys.get(d);
    if (key === undefined) {
      key = p256PublicKey(this.points, p);
      const cached = this.p256Count <= P256_KEYS_CACHED ? P256_KEYS_CACHED : P256_KEYS_CACHED_LARGE;
      if (this.p256Keys.size >= cached) this.p256Keys.delete(this.p256Keys.keys().next().value!);
      this.p256Keys.set(d, key);
    }
    return checker.verifyP256(key, digest, signature);
  }

  private indexOfBytes(id: Uint8Array, at: number): number {
    const mask = this.slots.length - 1;
    const ids = this.ids;
    for (let s = this.hashOf(id, at) & mask; ; s = (s + 1) & mask) {
      const d = this.slots[s]! - 1;
      if (d < 0) return -1;
      let same = true;
      const o = d * ID_BYTES;
      for (let k = 0; k < ID_BYTES; k++)
        if (ids[o + k] !== id[at + k]) {
          same = false;
          break;
        }
      if (same) return d;
    }
  }

  private hashOf(id: Uint8Array, at: number): number {
    return ((id[at]! << 24) | (id[at + 1]! << 16) | (id[at + 2]! << 8) | id[at + 3]!) >>> 0;
  }

  private append(id: Uint8Array, point: Uint8Array | null): void {
    const d = this.size;
    if ((d + 1) * ID_BYTES > this.ids.length) {
      const ids = new Uint8Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
      const pointAt = new Int32Array(this.pointAt.length * 2);
      pointAt.set(this.pointAt);
      this.pointAt = pointAt;
    }
    this.ids.set(id, d * ID_BYTES);
    if (point === null) this.pointAt[d] = -1;
    else {
      if (this.pointBytes + POINT_BYTES > this.points.length) {
        const points = new Uint8Array(this.points.length * 2);
        points.set(this.points);
        this.points = points;
      }
      this.points.set(point, this.pointBytes);
      this.pointAt[d] = this.pointBytes;
      this.pointBytes += POINT_BYTES;
      this.p256Count++;
    }
    this.size++;
    if (this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(d);
  }

  private place(d: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashOf(this.ids, d * ID_BYTES) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = d + 1;
  }

  private rehash(slots: number): void {
    this.slots = new Int32Array(slots);
    for (let d = 0; d < this.size; d++) this.place(d);
  }
}
