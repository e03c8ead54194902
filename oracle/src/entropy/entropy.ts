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
import { isHexBytes, toHex, writeHex, writeSmallUint, type Hex } from "../util/hex.js";

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

/** The published entropies an epoch is checked against (order of entries does not matter). */
export class EntropyLog {
  private readonly byValue = new Map<Hex, number>();

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
  }

  get size(): number {
    return this.byValue.size;
  }

  /** Whether `value` was published and valid at `receivedAt` (Unix ms). */
  check(value: Hex, receivedAt: number): EntropyLookup {
    const publishedAt = this.byValue.get(value);
    if (publishedAt === undefined) return { ok: false, reason: "bad_entropy" };
    if (receivedAt < publishedAt || receivedAt > publishedAt + ENTROPY_VALIDITY_MS) {
      return { ok: false, reason: "entropy_expired" };
    }
    return { ok: true };
  }
}

/** A source of the latest block (the chain indexer provides one). */
export type LatestBlock = () => Promise<{ readonly hash: Hex }>;

/**
 * Publishes a new entropy every ENTROPY_INTERVAL_MS, on slot boundaries (Unix time multiple of
 * 60 s), so independent oracles reading the same block publish the same value.
 */
export class EntropyPublisher {
  private readonly log: EntropyEntry[] = [];
  private readonly latestBlock: LatestBlock;
  private readonly now: () => number;

  constructor(latestBlock: LatestBlock, now: () => number = Date.now) {
    this.latestBlock = latestBlock;
    this.now = now;
  }

  /** Publishes the entropy of the current slot if not done yet; returns the current entropy. */
  async tick(): Promise<EntropyEntry> {
    const slot = Math.floor(this.now() / ENTROPY_INTERVAL_MS) * (ENTROPY_INTERVAL_MS / 1000);
    const last = this.log.at(-1);
    if (last !== undefined && last.timestamp === slot) return last;
    const { hash } = await this.latestBlock();
    const entry = makeEntropy(hash, slot);
    this.log.push(entry);
    return entry;
  }

  /** Everything published so far, oldest first. */
  entries(): readonly EntropyEntry[] {
    return this.log;
  }
}
