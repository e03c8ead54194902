/**
 * Which leaves a proving period challenges, as StorageDeals derives them on chain: challenge i of
 * period `period` of data set `dataSetId` is the global leaf
 *   uint256(keccak256(abi.encode(seed, dataSetId, period, i))) mod challengedLeaves
 * over the data set's pieces laid end to end in the order they were added (so a piece is picked in
 * proportion to its leaves, i.e. its size). `challengedLeaves` is the data set's leaf total when the
 * period's challenge was armed; pieces added later are not challenged in that period.
 */
import { keccak256 } from "../crypto/keccak.js";
import { fromHex, isHexBytes, writeUint256 } from "../hex.js";
import { pieceLeafCount } from "./piece.js";

/** A challenged leaf: which piece (index in the data set) and which leaf of it. */
export interface Challenge {
  /** Global leaf index over the data set. */
  globalLeaf: bigint;
  pieceIndex: number;
  leafIndex: number;
}

/** The global leaf of challenge `index` (see the file comment). */
export function challengeGlobalLeaf(
  seed: string,
  dataSetId: bigint,
  period: bigint,
  index: number,
  challengedLeaves: bigint,
): bigint {
  if (!isHexBytes(seed, 32)) throw new Error(`seed must be 32 bytes of canonical hex: ${seed}`);
  if (challengedLeaves <= 0n) throw new RangeError("a data set without leaves has no challenges");
  const buf = new Uint8Array(128);
  buf.set(fromHex(seed), 0);
  writeUint256(buf, 32, dataSetId);
  writeUint256(buf, 64, period);
  writeUint256(buf, 96, BigInt(index));
  const digest = keccak256(buf);
  let value = 0n;
  for (const b of digest) value = (value << 8n) | BigInt(b);
  return value % challengedLeaves;
}

/**
 * The K challenges of a period over pieces of the given sizes (in data set order), each located in
 * its piece by the pieces' cumulative leaf counts (what provePossession's piece index must name).
 */
export function periodChallenges(
  seed: string,
  dataSetId: bigint,
  period: bigint,
  count: number,
  pieceSizes: readonly number[],
): Challenge[] {
  const starts: bigint[] = [];
  let total = 0n;
  for (const size of pieceSizes) {
    starts.push(total);
    total += BigInt(pieceLeafCount(size));
  }
  const challenges: Challenge[] = [];
  for (let i = 0; i < count; i++) {
    const globalLeaf = challengeGlobalLeaf(seed, dataSetId, period, i, total);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= globalLeaf) lo = mid;
      else hi = mid - 1;
    }
    challenges.push({ globalLeaf, pieceIndex: lo, leafIndex: Number(globalLeaf - starts[lo]!) });
  }
  return challenges;
}
