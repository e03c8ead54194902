/**
 * The storage oracle's retrieval probes: which range a day's probe fetches, how each probe ended, the
 * signed `RetrievalResult`, and the retrieval score every oracle keeps the same way.
 *
 * The probed range. Day `day` (chain time: floor(block timestamp / 86,400)) probes data set
 * `dataSetId` at
 *   leaf    = uint256(keccak256(abi.encode(keccak256("hexmesh.storage.retrieval"), dataSetId, day))) mod totalLeaves
 * over the data set's pieces laid end to end in the order they were added (a piece is probed in
 * proportion to its size, as challenges pick pieces), and fetches `count = min(MAX_RANGE_LEAVES = 64, leafCount)` leaves of
 * the piece holding it, starting at that leaf, moved back when the range would pass the piece's end.
 * Every oracle of the quorum derives the same range from the same chain state, so their results agree
 * and one quorum signature covers them. The range is knowable in advance; what a provider gains from
 * that is little: it must hold the data anyway for the on-chain possession proofs, and a provider
 * that serves only probed ranges is still refusing its clients, which they see.
 *
 * The score. Per device, an exponential moving average of its probes in parts per million,
 *   score ← floor((95 × score + 5 × (outcome = ok ? 1,000,000 : 0)) / 100)      (λ = 0.95)
 * starting at 1,000,000 and applied in (day, data set) order: integers, so every oracle computes the
 * same figure. Below 900,000 (0.9) the provider's usage reward is scaled by the score; below 600,000
 * (0.6) the device is suspended from new data sets (StorageSuspensions).
 */
import { keccak256 } from "../crypto/keccak.js";
import type { ContractDomain, TypedFields } from "../eip712/typed-data.js";
import { writeUint256 } from "../hex.js";
import { pieceLeafCount } from "./piece.js";
import { MAX_RANGE_LEAVES, type PieceRangeFailure } from "./range.js";

/** Seconds per probe day (chain time). */
export const RETRIEVAL_DAY_SECONDS = 86_400;

/**
 * How a probe ended. `ok`: the range verified against the piece root. `unreachable`: no endpoint is
 * registered, or the connection failed. `timeout`: no full answer within the timeout. `refused`: the
 * provider answered with an HTTP error status. `malformed`: the body is not JSON. The rest are
 * verifyPieceRange's reasons (storage/range.ts): `wrong_root`, `wrong_size`, `wrong_leaf` (the answer
 * names another piece or range), `bad_proof` (a leaf's bytes do not hash to the root along its path,
 * or a proof is malformed: wrong data), `short` (fewer leaves than asked).
 */
export const RETRIEVAL_OUTCOMES = [
  "ok",
  "unreachable",
  "timeout",
  "refused",
  "malformed",
  "wrong_root",
  "wrong_size",
  "wrong_leaf",
  "bad_proof",
  "short",
] as const satisfies readonly (string | PieceRangeFailure)[];
export type RetrievalOutcome = (typeof RETRIEVAL_OUTCOMES)[number];

/** The outcome's number in a signed RetrievalResult (its index in RETRIEVAL_OUTCOMES). */
export function retrievalOutcomeCode(outcome: RetrievalOutcome): number {
  return RETRIEVAL_OUTCOMES.indexOf(outcome);
}

export function retrievalOutcomeOf(code: number): RetrievalOutcome {
  const outcome = RETRIEVAL_OUTCOMES[code];
  if (outcome === undefined) throw new RangeError(`unknown retrieval outcome code ${code}`);
  return outcome;
}

export const RETRIEVAL_DOMAIN_NAME = "Hexmesh StorageRetrieval";
export const RETRIEVAL_DOMAIN_VERSION = "1";

/** The domain oracles sign RetrievalResults under: this chain and the StorageDeals contract. */
export function retrievalDomain(chainId: bigint, storageDeals: string): ContractDomain {
  return {
    name: RETRIEVAL_DOMAIN_NAME,
    version: RETRIEVAL_DOMAIN_VERSION,
    chainId,
    verifyingContract: storageDeals,
  };
}

/** One probe's result, as each oracle signs it (the one field list). */
export const RETRIEVAL_RESULT_TYPES: { RetrievalResult: TypedFields } = {
  RetrievalResult: [
    { name: "dataSetId", type: "uint256" },
    { name: "day", type: "uint64" },
    { name: "pieceRoot", type: "bytes32" },
    { name: "firstLeaf", type: "uint64" },
    { name: "count", type: "uint32" },
    { name: "outcome", type: "uint8" },
    { name: "answerHash", type: "bytes32" },
  ],
};

export interface RetrievalResult {
  readonly dataSetId: bigint;
  readonly day: bigint;
  readonly pieceRoot: string;
  /** First leaf of the range, within the piece. */
  readonly firstLeaf: bigint;
  readonly count: number;
  /** retrievalOutcomeCode(outcome). */
  readonly outcome: number;
  /** keccak256 of the answer's body bytes (zero when there was no answer). */
  readonly answerHash: string;
}

export const STORAGE_SUSPENSIONS_DOMAIN_NAME = "Hexmesh StorageSuspensions";
export const STORAGE_SUSPENSIONS_DOMAIN_VERSION = "1";

/** The domain of StorageSuspensions (contracts/storage/StorageSuspensions.sol). */
export function storageSuspensionsDomain(chainId: bigint, suspensions: string): ContractDomain {
  return {
    name: STORAGE_SUSPENSIONS_DOMAIN_NAME,
    version: STORAGE_SUSPENSIONS_DOMAIN_VERSION,
    chainId,
    verifyingContract: suspensions,
  };
}

/** The oracles' quorum-signed suspension update (StorageSuspensions.update). */
export const STORAGE_SUSPENSION_TYPES: { StorageSuspension: TypedFields } = {
  StorageSuspension: [
    { name: "deviceId", type: "uint256" },
    { name: "suspended", type: "bool" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
    { name: "oracleSetVersion", type: "uint64" },
  ],
};

export interface StorageSuspension {
  readonly deviceId: bigint;
  readonly suspended: boolean;
  readonly nonce: bigint;
  readonly deadline: bigint;
  readonly oracleSetVersion: bigint;
}

/** The probe day of a chain timestamp (seconds). */
export function retrievalDay(timestamp: bigint | number): bigint {
  return BigInt(timestamp) / BigInt(RETRIEVAL_DAY_SECONDS);
}

const PROBE_TAG = keccak256(new TextEncoder().encode("hexmesh.storage.retrieval"));

/** A piece of a data set as the probe sees it (data set order). */
export interface ProbePiece {
  readonly root: string;
  readonly size: number;
}

/** The range a day's probe fetches. */
export interface ProbeRange {
  readonly pieceIndex: number;
  readonly pieceRoot: string;
  readonly pieceSize: number;
  readonly firstLeaf: number;
  readonly count: number;
}

/** The range day `day` probes in a data set with these pieces (file comment); null without pieces. */
export function probeRange(dataSetId: bigint, day: bigint, pieces: readonly ProbePiece[]): ProbeRange | null {
  let total = 0n;
  for (const p of pieces) total += BigInt(pieceLeafCount(p.size));
  if (total === 0n) return null;
  const buf = new Uint8Array(96);
  buf.set(PROBE_TAG, 0);
  writeUint256(buf, 32, dataSetId);
  writeUint256(buf, 64, day);
  let value = 0n;
  for (const b of keccak256(buf)) value = (value << 8n) | BigInt(b);
  let leaf = value % total;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const leafCount = pieceLeafCount(piece.size);
    if (leaf < BigInt(leafCount)) {
      const count = Math.min(MAX_RANGE_LEAVES, leafCount);
      const firstLeaf = Math.min(Number(leaf), leafCount - count);
      return { pieceIndex: i, pieceRoot: piece.root, pieceSize: piece.size, firstLeaf, count };
    }
    leaf -= BigInt(leafCount);
  }
  /* c8 ignore next */
  throw new Error("unreachable: leaf below the total");
}

/** Score scale: 1,000,000 is 1.0. */
export const SCORE_ONE = 1_000_000;
/** Below this the provider's usage reward is scaled by its score (0.9). */
export const SCORE_SCALE_BELOW = 900_000;
/** Below this the device is suspended from new data sets (0.6). */
export const SCORE_SUSPEND_BELOW = 600_000;

/** One probe applied to a score (file comment). */
export function nextRetrievalScore(score: number, ok: boolean): number {
  if (!Number.isInteger(score) || score < 0 || score > SCORE_ONE)
    throw new RangeError(`score out of range: ${score}`);
  return Math.floor((95 * score + 5 * (ok ? SCORE_ONE : 0)) / 100);
}

/** A provider's usage reward after its score: unchanged at or above 0.9, else × score (floor). */
export function scaleUsageReward(reward: bigint, score: number): bigint {
  if (score >= SCORE_SCALE_BELOW) return reward;
  return (reward * BigInt(score)) / BigInt(SCORE_ONE);
}
