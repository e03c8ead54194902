import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { concat, keccak256 } from "ethers";
import fc from "fast-check";

import {
  buildPieceProofs,
  challengeGlobalLeaf,
  periodChallenges,
  pieceBlockLevels,
  pieceHeight,
  pieceLeafCount,
  pieceLeafHashes,
  pieceParentHashes,
  pieceRoot,
  PieceTreeBuilder,
  verifyPieceProof,
  ZERO_SUBTREES,
  type PieceProof,
} from "@hexmesh/protocol";
import { pieceOfFile } from "@hexmesh/protocol/node";

/** Reference written from the layout in docs/storage.md with ethers' keccak: every level in memory. */
function referenceLevels(data: Uint8Array): string[][] {
  const leafCount = Math.max(1, Math.ceil(data.length / 32));
  let width = 1;
  while (width < leafCount) width *= 2;
  const padded = new Uint8Array(width * 32);
  padded.set(data);
  const levels: string[][] = [[]];
  for (let i = 0; i < width; i++)
    levels[0]!.push(keccak256(concat(["0x00", padded.subarray(i * 32, i * 32 + 32)])));
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const up: string[] = [];
    for (let i = 0; i < below.length; i += 2) up.push(keccak256(concat(["0x01", below[i]!, below[i + 1]!])));
    levels.push(up);
  }
  return levels;
}

const toHexBytes = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");

function referenceProof(levels: string[][], index: number): string[] {
  const path: string[] = [];
  for (let h = 0; h < levels.length - 1; h++) path.push(levels[h]![Math.floor(index / 2 ** h) ^ 1]!);
  return path;
}

describe("piece roots (packages/protocol/src/storage)", function () {
  it("leaf and node layout: one leaf is its own root, two leaves hash with the node prefix", function () {
    const one = new Uint8Array(32).fill(7);
    expect(pieceRoot(one).root).to.equal(keccak256(concat(["0x00", one])));
    expect(pieceRoot(one).height).to.equal(0);
    const five = new Uint8Array(5).fill(9);
    const padded = new Uint8Array(32);
    padded.set(five);
    expect(pieceRoot(five).root).to.equal(keccak256(concat(["0x00", padded])));
    const two = randomBytes(64);
    const l = keccak256(concat(["0x00", two.subarray(0, 32)]));
    const r = keccak256(concat(["0x00", two.subarray(32)]));
    expect(pieceRoot(two).root).to.equal(keccak256(concat(["0x01", l, r])));
    expect(ZERO_SUBTREES[1]).to.deep.equal(
      Buffer.from(keccak256(concat(["0x01", ZERO_SUBTREES[0]!, ZERO_SUBTREES[0]!])).slice(2), "hex"),
    );
  });

  it("level-at-a-time hashes (the parallel tree build's) equal the reference, across batch calls", function () {
    // 40,000 leaves: two WebAssembly calls of up to 32,768 leaves (1 MiB); 20,000 parents: two of 16,384.
    for (const leaves of [1, 2, 3, 7, 40_000]) {
      const data = randomBytes(leaves * 32);
      const hashes = pieceLeafHashes(data);
      expect(hashes.length).to.equal(data.length);
      const sample = [0, 1, leaves - 1, 32_767, 32_768, 39_999].filter((i) => i < leaves);
      for (const i of sample) {
        expect(toHexBytes(hashes.subarray(i * 32, i * 32 + 32)), `leaf ${i} of ${leaves}`).to.equal(
          keccak256(concat(["0x00", data.subarray(i * 32, i * 32 + 32)])),
        );
      }
      if (leaves % 2 !== 0) continue;
      const parents = pieceParentHashes(hashes);
      expect(parents.length).to.equal(hashes.length / 2);
      for (const i of [0, leaves / 2 - 1, 16_383, 16_384].filter((k) => k < leaves / 2)) {
        expect(toHexBytes(parents.subarray(i * 32, i * 32 + 32)), `parent ${i} of ${leaves / 2}`).to.equal(
          keccak256(concat(["0x01", hashes.subarray(i * 64, i * 64 + 64)])),
        );
      }
    }
    // Every hash of short batches: the WebAssembly hashes two messages per permutation, so odd counts
    // (the last message alone) and both lanes of each pair are checked, for leaves and for nodes.
    for (let count = 1; count <= 9; count++) {
      const leaves = randomBytes(count * 32);
      const pairs = randomBytes(count * 64);
      const leafHashes = pieceLeafHashes(leaves);
      const nodeHashes = pieceParentHashes(pairs);
      for (let i = 0; i < count; i++) {
        expect(toHexBytes(leafHashes.subarray(i * 32, i * 32 + 32)), `leaf ${i} of ${count}`).to.equal(
          keccak256(concat(["0x00", leaves.subarray(i * 32, i * 32 + 32)])),
        );
        expect(toHexBytes(nodeHashes.subarray(i * 32, i * 32 + 32)), `node ${i} of ${count}`).to.equal(
          keccak256(concat(["0x01", pairs.subarray(i * 64, i * 64 + 64)])),
        );
      }
    }
    // A whole tree a level at a time gives pieceRoot's root.
    const data = randomBytes(32 * 1024);
    let level = pieceLeafHashes(data);
    while (level.length > 32) level = pieceParentHashes(level);
    expect(toHexBytes(level)).to.equal(pieceRoot(data).root);
    expect(() => pieceLeafHashes(new Uint8Array(33))).to.throw(RangeError, "not whole 32-byte items");
    expect(() => pieceParentHashes(new Uint8Array(96))).to.throw(RangeError, "not whole 64-byte items");
  });

  it("a block's levels hashed inside WebAssembly memory (pieceBlockLevels) equal the reference, for every block size", function () {
    for (const b of [0, 1, 2, 5, 15]) {
      const data = randomBytes(2 ** b * 32);
      const reference = referenceLevels(data);
      const seen: number[] = [];
      pieceBlockLevels(
        2 ** b,
        (leaves) => {
          expect(leaves.length).to.equal(data.length);
          leaves.set(data);
        },
        (h, nodes) => {
          seen.push(h);
          expect(nodes.length, `level ${h} of 2^${b}`).to.equal(2 ** (b - h) * 32);
          // every node of small levels; the first, second and last of large ones
          const width = 2 ** (b - h);
          for (const i of width <= 64 ? [...Array(width).keys()] : [0, 1, width - 1]) {
            expect(
              toHexBytes(nodes.subarray(i * 32, i * 32 + 32)),
              `level ${h} node ${i} of 2^${b}`,
            ).to.equal(reference[h]![i]);
          }
        },
      );
      expect(seen).to.deep.equal(Array.from({ length: b }, (_, i) => i + 1));
    }
    for (const bad of [0, 3, 6, 2 ** 16, 1.5, -2]) {
      expect(
        () =>
          pieceBlockLevels(
            bad,
            () => {},
            () => {},
          ),
        `${bad} leaves`,
      ).to.throw(RangeError, "not a power of two");
    }
  });

  it("leaf count and height", function () {
    expect([1, 32, 33, 64, 65, 2 ** 40].map(pieceLeafCount)).to.deep.equal([1, 1, 2, 2, 3, 2 ** 35]);
    expect([1, 2, 3, 4, 5, 2 ** 35].map(pieceHeight)).to.deep.equal([0, 1, 2, 2, 3, 35]);
    for (const bad of [0, -1, 1.5, 2 ** 40 + 1]) expect(() => pieceLeafCount(bad)).to.throw(RangeError);
  });

  it("matches the all-levels reference for any size and any chunking, with every proof", function () {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 700 }),
        fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 8 }),
        (data, chunkSizes) => {
          const levels = referenceLevels(data);
          const leafCount = pieceLeafCount(data.length);
          const all = Array.from({ length: leafCount }, (_, i) => i);
          const builder = new PieceTreeBuilder(data.length, all);
          let pos = 0;
          for (let c = 0; pos < data.length; c++) {
            const n = chunkSizes[c % chunkSizes.length]!;
            builder.update(data.subarray(pos, pos + n));
            pos += n;
          }
          const piece = builder.finish();
          expect(piece.root).to.equal(levels[levels.length - 1]![0]);
          for (const proof of builder.proofs()) {
            expect(proof.path).to.deep.equal(referenceProof(levels, proof.leafIndex));
            expect(verifyPieceProof(piece.root, data.length, proof)).to.equal(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses wrong leaves, wrong indices, wrong heights, wrong roots and non-canonical hex", function () {
    const data = randomBytes(32 * 13 + 5);
    const { piece, proofs } = buildPieceProofs(data, [0, 6, 13]);
    for (const p of proofs) expect(verifyPieceProof(piece.root, data.length, p)).to.equal(true);
    const p = proofs[1]!;
    const flip = (h: string) => h.slice(0, -1) + (h.endsWith("0") ? "1" : "0");
    const bad: PieceProof[] = [
      { ...p, leaf: flip(p.leaf) },
      { ...p, leafIndex: 7 },
      { ...p, leafIndex: 14 },
      { ...p, leafIndex: -1 },
      { ...p, path: p.path.slice(1) },
      { ...p, path: [...p.path, p.path[0]!] },
      { ...p, path: [flip(p.path[0]!), ...p.path.slice(1)] },
      { ...p, leaf: p.leaf.toUpperCase().replace("0X", "0x") === p.leaf ? "0x12" : p.leaf.toUpperCase() },
    ];
    for (const b of bad) expect(verifyPieceProof(piece.root, data.length, b)).to.equal(false);
    expect(verifyPieceProof(flip(piece.root), data.length, p)).to.equal(false);
    // The same bytes declared one byte shorter are a different piece (another leaf count).
    expect(verifyPieceProof(piece.root, 32 * 12, proofs[2]!)).to.equal(false);
  });

  it("refuses misuse of the builder", function () {
    expect(() => new PieceTreeBuilder(10, [1])).to.throw(RangeError);
    expect(() => new PieceTreeBuilder(10).update(new Uint8Array(11))).to.throw(RangeError);
    expect(() => new PieceTreeBuilder(10).update(new Uint8Array(9)).finish()).to.throw(RangeError);
    const b = new PieceTreeBuilder(1, [0]);
    expect(() => b.proofs()).to.throw(/before finish/);
    b.update(new Uint8Array(1)).finish();
    expect(() => b.update(new Uint8Array(0))).to.throw(/after finish/);
  });

  it("streams a file from disk to the same root and proofs", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "hexmesh-piece-"));
    try {
      const data = randomBytes(3 * (1 << 20) + 77); // several 1 MiB read chunks, a partial last leaf
      const file = path.join(dir, "piece.bin");
      await writeFile(file, data);
      const leaves = [0, 12345, pieceLeafCount(data.length) - 1];
      const fromFile = await pieceOfFile(file, leaves);
      const inMemory = buildPieceProofs(data, leaves);
      expect(fromFile).to.deep.equal(inMemory);
      for (const p of fromFile.proofs)
        expect(verifyPieceProof(fromFile.piece.root, data.length, p)).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("challenges: keccak256(abi.encode(seed, id, period, i)) mod leaves, located by cumulative leaf counts", function () {
    const seed = "0x" + "ab".repeat(32);
    const words = concat([seed, ...[5n, 9n, 2n].map((v) => "0x" + v.toString(16).padStart(64, "0"))]);
    expect(challengeGlobalLeaf(seed, 5n, 9n, 2, 1000n)).to.equal(BigInt(keccak256(words)) % 1000n);
    const sizes = [100, 32 * 1000, 1]; // 4, 1000 and 1 leaves
    const cs = periodChallenges(seed, 5n, 9n, 50, sizes);
    expect(cs).to.have.length(50);
    for (const [i, c] of cs.entries()) {
      expect(c.globalLeaf).to.equal(challengeGlobalLeaf(seed, 5n, 9n, i, 1005n));
      const start = [0n, 4n, 1004n][c.pieceIndex]!;
      expect(BigInt(c.leafIndex)).to.equal(c.globalLeaf - start);
      expect(c.leafIndex).to.be.lessThan(pieceLeafCount(sizes[c.pieceIndex]!));
    }
    expect(() => challengeGlobalLeaf("0x12", 1n, 1n, 0, 1n)).to.throw();
    expect(() => challengeGlobalLeaf(seed, 1n, 1n, 0, 0n)).to.throw(RangeError);
  });
});
