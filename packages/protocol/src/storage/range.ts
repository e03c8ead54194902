/**
 * Ranges: `count` consecutive leaves of a piece with their Merkle paths, what a provider agent serves
 * at `GET /v1/pieces/:root/range?leaf=&count=` and what a client or the storage oracle checks against
 * the root the client put on chain. The one field list of a range answer is PIECE_RANGE_FIELDS:
 *
 *   { root, size, firstLeaf, proofs }   proofs[i] proves leaf firstLeaf + i (a PieceProof)
 *
 * A range lies inside the piece (firstLeaf + count <= leafCount) and holds 1 to MAX_RANGE_LEAVES
 * leaves. Each proof carries its whole path (verified by verifyPieceProof, the one verifier), so a
 * range of 64 leaves is at most 64 × 36 hashes: small, and nothing new to get wrong.
 */
import { fromHex, isHexBytes } from "../hex.js";
import { PIECE_LEAF_SIZE, pieceLeafCount, verifyPieceProof, type PieceProof } from "./piece.js";

/** Most leaves one range answer holds. */
export const MAX_RANGE_LEAVES = 64;

/** The fields of a range answer, in wire order. */
export const PIECE_RANGE_FIELDS = ["root", "size", "firstLeaf", "proofs"] as const;

/** A range answer (JSON on the wire). */
export interface PieceRangeAnswer {
  /** 0x-hex piece root. */
  root: string;
  /** The piece's size in bytes. */
  size: number;
  /** Index of the first leaf answered. */
  firstLeaf: number;
  /** One proof per leaf, leaf firstLeaf + i at i. */
  proofs: PieceProof[];
}

/** Why a range answer fails. */
export type PieceRangeFailure = "wrong_root" | "wrong_size" | "wrong_leaf" | "bad_proof" | "short";

export type PieceRangeVerdict = { ok: true } | { ok: false; reason: PieceRangeFailure; detail: string };

/**
 * Checks that a range request lies in a piece of `size` bytes: 1 <= count <= MAX_RANGE_LEAVES and
 * firstLeaf + count <= leafCount. Throws a RangeError saying what is wrong otherwise.
 */
export function checkPieceRange(size: number, firstLeaf: number, count: number): void {
  const leafCount = pieceLeafCount(size);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_RANGE_LEAVES) {
    throw new RangeError(`a range holds 1 to ${MAX_RANGE_LEAVES} leaves, got ${count}`);
  }
  if (!Number.isSafeInteger(firstLeaf) || firstLeaf < 0 || firstLeaf + count > leafCount) {
    throw new RangeError(
      `leaves ${firstLeaf}..${firstLeaf + count - 1} are outside the piece's ${leafCount}`,
    );
  }
}

/** A range answer from its parts, fields in wire order. */
export function pieceRangeAnswer(
  root: string,
  size: number,
  firstLeaf: number,
  proofs: PieceProof[],
): PieceRangeAnswer {
  return { root, size, firstLeaf, proofs };
}

const fail = (reason: PieceRangeFailure, detail: string): PieceRangeVerdict => ({
  ok: false,
  reason,
  detail,
});

function isProofShape(p: unknown): p is PieceProof {
  if (typeof p !== "object" || p === null) return false;
  const proof = p as Record<string, unknown>;
  return (
    typeof proof.leafIndex === "number" &&
    typeof proof.leaf === "string" &&
    Array.isArray(proof.path) &&
    proof.path.every((s) => typeof s === "string")
  );
}

/**
 * Verifies an untrusted range answer (parsed JSON of any shape) for `count` leaves from `firstLeaf`
 * of the piece (root, size): it names that piece and range, holds exactly `count` proofs, and every
 * proof is for its leaf and verifies against the root. The first failure found is reported.
 */
export function verifyPieceRange(
  root: string,
  size: number,
  firstLeaf: number,
  count: number,
  answer: unknown,
): PieceRangeVerdict {
  checkPieceRange(size, firstLeaf, count);
  if (typeof answer !== "object" || answer === null) return fail("bad_proof", "the answer is not an object");
  const a = answer as Record<string, unknown>;
  if (
    typeof a.root !== "string" ||
    !isHexBytes(a.root.toLowerCase(), 32) ||
    a.root.toLowerCase() !== root.toLowerCase()
  ) {
    return fail("wrong_root", `answer names root ${String(a.root)}, asked ${root}`);
  }
  if (a.size !== size)
    return fail("wrong_size", `answer names size ${String(a.size)}, the piece has ${size}`);
  if (a.firstLeaf !== firstLeaf) {
    return fail("wrong_leaf", `answer starts at leaf ${String(a.firstLeaf)}, asked ${firstLeaf}`);
  }
  if (!Array.isArray(a.proofs)) return fail("bad_proof", "answer has no proof list");
  const proofs = a.proofs as unknown[];
  for (let i = 0; i < Math.min(proofs.length, count); i++) {
    const proof = proofs[i];
    if (!isProofShape(proof)) return fail("bad_proof", `proof ${i} is malformed`);
    if (proof.leafIndex !== firstLeaf + i) {
      return fail("wrong_leaf", `proof ${i} is for leaf ${proof.leafIndex}, expected ${firstLeaf + i}`);
    }
    if (!verifyPieceProof(root, size, proof))
      return fail("bad_proof", `proof of leaf ${proof.leafIndex} fails`);
  }
  if (proofs.length < count) return fail("short", `answer holds ${proofs.length} of ${count} leaves`);
  if (proofs.length > count)
    return fail("wrong_leaf", `answer holds ${proofs.length} leaves, asked ${count}`);
  return { ok: true };
}

/**
 * The piece's bytes a verified range covers: its leaves laid end to end, cut at the piece's size
 * (the last leaf's zero padding is not data).
 */
export function pieceRangeBytes(answer: PieceRangeAnswer): Uint8Array {
  const start = answer.firstLeaf * PIECE_LEAF_SIZE;
  const end = Math.min(answer.size, start + answer.proofs.length * PIECE_LEAF_SIZE);
  const out = new Uint8Array(end - start);
  answer.proofs.forEach((p, i) => {
    const leaf = fromHex(p.leaf);
    out.set(
      leaf.subarray(0, Math.min(PIECE_LEAF_SIZE, out.length - i * PIECE_LEAF_SIZE)),
      i * PIECE_LEAF_SIZE,
    );
  });
  return out;
}
