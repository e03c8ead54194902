/**
 * Remote entropy (Helium's PoC entropy): every ENTROPY_INTERVAL_MS the oracle publishes
 *
 *   entropy = keccak256(abi.encode(bytes32 blockHash, uint256 timestamp))
 *
 * from the latest block hash it knows and the publication time (Unix seconds). A beacon must cite
 * an entropy that was valid when the oracle received it: publishedAt <= receivedAt <=
 * publishedAt + ENTROPY_VALIDITY_MS. The block hash makes it unpredictable before publication;
 * the validity window stops a device from preparing beacons long in advance.
 */
import { keccak256 } from "../crypto/keccak.js";
import { isHexBytes, toHex, writeHex, writeSmallUint, type Hex } from "../hex.js";

export const ENTROPY_INTERVAL_MS = 60_000;
export const ENTROPY_VALIDITY_MS = 180_000;

export interface EntropyEntry {
  /** Hash of the block the entropy was drawn from. */
  readonly blockHash: Hex;
  /** Publication time, Unix seconds. */
  readonly timestamp: number;
  /** keccak256(abi.encode(blockHash, timestamp)). */
  readonly value: Hex;
}

export function entropyValue(blockHash: Hex, timestamp: number): Hex {
  const buf = new Uint8Array(64);
  writeHex(buf, 0, blockHash);
  writeSmallUint(buf, 32, timestamp, 32);
  return toHex(keccak256(buf));
}

export function makeEntropy(blockHash: Hex, timestamp: number): EntropyEntry {
  return { blockHash, timestamp, value: entropyValue(blockHash, timestamp) };
}

export type EntropyLookup =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "bad_entropy" | "entropy_expired" };

const VALID: EntropyLookup = Object.freeze({ ok: true });
const UNKNOWN: EntropyLookup = Object.freeze({ ok: false, reason: "bad_entropy" });
const EXPIRED: EntropyLookup = Object.freeze({ ok: false, reason: "entropy_expired" });

/** The published entropies an epoch is checked against (order of entries does not matter). */
export class EntropyLog {
  private readonly byValue = new Map<Hex, number>();
  /** First 48 bits of the value -> (value bytes, publication ms): lookups without strings. */
  private readonly byPrefix = new Map<number, { readonly value: Uint8Array; publishedAt: number }[]>();

  /** Throws if an entry is malformed or does not recompute: the log is an input all oracles share. */
  constructor(entries: readonly EntropyEntry[]) {
    for (const e of entries) {
      if (!isHexBytes(e.blockHash, 32) || !Number.isSafeInteger(e.timestamp) || e.timestamp < 0) {
        throw new Error(`malformed entropy entry ${JSON.stringify(e)}`);
      }
      if (entropyValue(e.blockHash, e.timestamp) !== e.value)
        throw new Error(`entropy ${e.value} does not recompute`);
      const publishedAt = e.timestamp * 1000;
      // Same value twice (same block and time) is the same entropy; keep the earliest publication.
      const known = this.byValue.get(e.value);
      if (known === undefined || publishedAt < known) this.byValue.set(e.value, publishedAt);
    }
    for (const [value, publishedAt] of this.byValue) {
      const bytes = new Uint8Array(32);
      writeHex(bytes, 0, value);
      const key = prefix48(bytes, 0);
      const list = this.byPrefix.get(key);
      if (list === undefined) this.byPrefix.set(key, [{ value: bytes, publishedAt }]);
      else list.push({ value: bytes, publishedAt });
    }
  }

  get size(): number {
    return this.byValue.size;
  }

  /** Whether `value` was published and valid at `receivedAt` (Unix ms). */
  check(value: Hex, receivedAt: number): EntropyLookup {
    return this.validity(this.byValue.get(value), receivedAt);
  }

  /** check() for the 32 bytes at bytes[offset]. */
  checkBytes(bytes: Uint8Array, offset: number, receivedAt: number): EntropyLookup {
    const list = this.byPrefix.get(prefix48(bytes, offset));
    if (list !== undefined) {
      for (const e of list) {
        let same = true;
        for (let k = 0; k < 32 && same; k++) same = e.value[k] === bytes[offset + k];
        if (same) return this.validity(e.publishedAt, receivedAt);
      }
    }
    return UNKNOWN;
  }

  private validity(publishedAt: number | undefined, receivedAt: number): EntropyLookup {
    if (publishedAt === undefined) return UNKNOWN;
    if (receivedAt < publishedAt || receivedAt > publishedAt + ENTROPY_VALIDITY_MS) return EXPIRED;
    return VALID;
  }
}

function prefix48(b: Uint8Array, o: number): number {
  return (
    ((b[o]! << 8) | b[o + 1]!) * 0x1_0000_0000 +
    (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0)
  );
}
