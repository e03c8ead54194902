import { randomBytes } from "node:crypto";

import { expect } from "chai";

import {
  buildPieceProofs,
  checkPieceRange,
  MAX_RANGE_LEAVES,
  PIECE_RANGE_FIELDS,
  pieceRangeAnswer,
  pieceRangeBytes,
  pieceRoot,
  verifyPieceRange,
  type PieceRangeAnswer,
} from "@hexmesh/protocol";

/** A piece of 1000 leaves minus 7 bytes (a partial last leaf, a non-power-of-two leaf count). */
const DATA = randomBytes(1000 * 32 - 7);
const PIECE = pieceRoot(DATA);

function answerFor(data: Uint8Array, firstLeaf: number, count: number): PieceRangeAnswer {
  const leaves = Array.from({ length: count }, (_, i) => firstLeaf + i);
  const { piece, proofs } = buildPieceProofs(data, leaves);
  return pieceRangeAnswer(piece.root, piece.size, firstLeaf, proofs);
}

const clone = (a: PieceRangeAnswer): PieceRangeAnswer => JSON.parse(JSON.stringify(a)) as PieceRangeAnswer;

describe("@hexmesh/protocol storage ranges", function () {
  it("puts the fields on the wire in the one field list's order", function () {
    const answer = answerFor(DATA, 3, 2);
    expect(Object.keys(answer)).to.deep.equal([...PIECE_RANGE_FIELDS]);
    expect(Object.keys(JSON.parse(JSON.stringify(answer)) as object)).to.deep.equal([...PIECE_RANGE_FIELDS]);
  });

  it("accepts honest ranges anywhere in the piece, through JSON, and yields the piece's bytes", function () {
    for (const [first, count] of [
      [0, 1],
      [0, MAX_RANGE_LEAVES],
      [500, 17],
      [999, 1],
      [1000 - MAX_RANGE_LEAVES, MAX_RANGE_LEAVES],
    ] as const) {
      const answer = clone(answerFor(DATA, first, count));
      expect(verifyPieceRange(PIECE.root, PIECE.size, first, count, answer)).to.deep.equal({ ok: true });
      const bytes = pieceRangeBytes(answer);
      expect(Buffer.from(bytes).equals(DATA.subarray(first * 32, (first + count) * 32))).to.equal(true);
    }
    // The last leaf's padding is cut off at the piece's size.
    expect(pieceRangeBytes(answerFor(DATA, 999, 1)).length).to.equal(25);
    // Root case-insensitive.
    const upper = clone(answerFor(DATA, 1, 1));
    upper.root = "0x" + upper.root.slice(2).toUpperCase();
    expect(verifyPieceRange(PIECE.root, PIECE.size, 1, 1, upper).ok).to.equal(true);
  });

  it("a single-leaf piece has a range of one leaf with an empty path", function () {
    const data = randomBytes(5);
    const answer = answerFor(data, 0, 1);
    expect(answer.proofs[0]!.path).to.deep.equal([]);
    expect(verifyPieceRange(pieceRoot(data).root, 5, 0, 1, answer)).to.deep.equal({ ok: true });
  });

  it("refuses requests outside the piece or over the leaf limit", function () {
    expect(() => checkPieceRange(PIECE.size, 0, 0)).to.throw(RangeError, "1 to 64 leaves");
    expect(() => checkPieceRange(PIECE.size, 0, MAX_RANGE_LEAVES + 1)).to.throw(RangeError, "1 to 64 leaves");
    expect(() => checkPieceRange(PIECE.size, 1.5, 1)).to.throw(RangeError, "outside the piece");
    expect(() => checkPieceRange(PIECE.size, -1, 1)).to.throw(RangeError, "outside the piece");
    expect(() => checkPieceRange(PIECE.size, 999, 2)).to.throw(RangeError, "outside the piece's 1000");
    expect(() => verifyPieceRange(PIECE.root, PIECE.size, 1000, 1, {})).to.throw(RangeError);
    expect(() => checkPieceRange(0, 0, 1)).to.throw(RangeError, "piece size");
  });

  it("names each failure: wrong_root, wrong_size, wrong_leaf, bad_proof, short", function () {
    const good = answerFor(DATA, 10, 4);
    const verdict = (a: unknown, first = 10, count = 4) =>
      verifyPieceRange(PIECE.root, PIECE.size, first, count, a);
    const reason = (a: unknown, first = 10, count = 4) => {
      const v = verdict(a, first, count);
      return v.ok ? "ok" : v.reason;
    };

    // Another piece's honest answer.
    const other = answerFor(randomBytes(DATA.length), 10, 4);
    expect(reason(other)).to.equal("wrong_root");
    expect(reason({ ...clone(good), root: "0x1234" })).to.equal("wrong_root");
    expect(reason({ ...clone(good), root: 7 })).to.equal("wrong_root");

    expect(reason({ ...clone(good), size: PIECE.size + 1 })).to.equal("wrong_size");
    expect(reason({ ...clone(good), size: String(PIECE.size) })).to.equal("wrong_size");

    // Another range of the same piece, or a proof out of order.
    expect(reason(answerFor(DATA, 11, 4))).to.equal("wrong_leaf");
    const reordered = clone(good);
    [reordered.proofs[0], reordered.proofs[1]] = [reordered.proofs[1]!, reordered.proofs[0]!];
    expect(reason(reordered)).to.equal("wrong_leaf");
    expect(reason(answerFor(DATA, 10, 5))).to.equal("wrong_leaf"); // more leaves than asked

    // A leaf's bytes or a sibling changed, a path cut short, a malformed proof or answer.
    const flipped = clone(good);
    const leaf = flipped.proofs[2]!.leaf;
    flipped.proofs[2]!.leaf = leaf.slice(0, -1) + (leaf.endsWith("0") ? "1" : "0");
    const v = verdict(flipped);
    expect(v).to.deep.include({ ok: false, reason: "bad_proof" });
    expect(v.ok ? "" : v.detail).to.equal("proof of leaf 12 fails");
    const sibling = clone(good);
    sibling.proofs[0]!.path[3] = "0x" + "00".repeat(32);
    expect(reason(sibling)).to.equal("bad_proof");
    const cut = clone(good);
    cut.proofs[1]!.path.pop();
    expect(reason(cut)).to.equal("bad_proof");
    expect(reason({ ...clone(good), proofs: [null, ...good.proofs.slice(1)] })).to.equal("bad_proof");
    expect(reason({ ...clone(good), proofs: "nope" })).to.equal("bad_proof");
    expect(reason(null)).to.equal("bad_proof");
    expect(reason("answer")).to.equal("bad_proof");

    // Fewer leaves than asked: honest as far as it goes, but short.
    expect(reason(answerFor(DATA, 10, 3))).to.equal("short");
    expect(reason({ ...clone(good), proofs: [] })).to.equal("short");
  });
});
