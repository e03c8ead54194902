import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";

import { expect } from "chai";

import {
  buildPieceProofs,
  pieceHeight,
  pieceLeafHashes,
  pieceParentHashes,
  pieceRoot,
} from "@hexmesh/protocol";
import { buildPieceTree, FIRST_STORED_LEVEL, PieceStore, type StoredPiece } from "@hexmesh/storage";

/**
 * The tree file a piece must have, computed apart from the agent's code: every level of the whole
 * tree in memory (the bytes zero-padded to 2^height leaves, which are the padding leaves), then
 * levels `first`..height-1 cut to their ceil(leafCount / 2^h) real nodes, one after the other.
 */
function expectedTreeFile(bytes: Uint8Array, first: number): Buffer {
  const leafCount = Math.max(1, Math.ceil(bytes.length / 32));
  const height = pieceHeight(leafCount);
  const padded = new Uint8Array(2 ** height * 32);
  padded.set(bytes);
  const levels = [pieceLeafHashes(padded)];
  for (let h = 1; h < height; h++) levels.push(pieceParentHashes(levels[h - 1]!));
  const stored: Uint8Array[] = [];
  for (let h = first; h < height; h++)
    stored.push(levels[h]!.subarray(0, Math.ceil(leafCount / 2 ** h) * 32));
  return Buffer.concat(stored);
}

describe("@hexmesh/storage parallel tree build (worker threads)", function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-storage-parallel-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the tree file's levels 5.. and the root of the whole tree, for any size, subtree height and worker count", async function () {
    const store = new PieceStore(path.join(dir, "store"));
    await store.init();
    // 1 leaf, a partial leaf, exactly 2^k leaves, 2^k + 1, below and above the first stored level,
    // and odd sizes across subtree boundaries.
    // Subtrees below, at and above the first stored level; more workers than subtrees; one worker:
    // two of these per size (each build starts its threads), besides the receive's default.
    const configs = [
      [2, 1],
      [3, 3],
      [2, 5],
      [3, 6],
      [1, 20],
    ] as const;
    const sizes = [1, 31, 32 * 8, 32 * 32, 32 * 64 + 1, 1000, 32 * 37 - 5, 20_000, 70_001];
    for (const [i, size] of sizes.entries()) {
      const bytes = randomBytes(size);
      const { root } = pieceRoot(bytes);
      const expected = expectedTreeFile(bytes, FIRST_STORED_LEVEL);
      const stored = await store.receive(root, size, Readable.from([bytes]));
      expect(stored.firstStoredLevel).to.equal(FIRST_STORED_LEVEL);
      const receivedTree = await readFile(path.join(dir, "store", "pieces", root, "tree"));
      expect(receivedTree.equals(expected), `size ${size}: the received piece's tree`).to.equal(true);
      const dataFile = path.join(dir, `data-${size}`);
      await writeFile(dataFile, bytes);
      for (const [workers, subtreeHeight] of [configs[i % 5]!, configs[(i + 2) % 5]!]) {
        const treeFile = path.join(dir, `tree-${size}-${workers}-${subtreeHeight}`);
        const built = await buildPieceTree(dataFile, treeFile, size, { workers, subtreeHeight });
        expect(built, `size ${size}`).to.equal(root);
        expect((await readFile(treeFile)).equals(expected), `size ${size} s=${subtreeHeight}`).to.equal(true);
      }
      // Proofs from the stored levels and the chunks hashed again: first, last and middle leaves.
      const leafCount = Math.ceil(size / 32);
      const leaves = [
        ...new Set([0, 1, leafCount - 1, Math.floor(leafCount / 2), Math.floor(leafCount / 3)]),
      ].filter((i) => i < leafCount);
      expect(await store.proofs(root, leaves), `size ${size}`).to.deep.equal(
        buildPieceProofs(bytes, leaves).proofs,
      );
    }
  });

  it("hashes full subtrees a 1 MiB level at a time: several blocks per subtree, then a short last one", async function () {
    // Subtrees of 2^16 leaves (2 MiB): the first two are full (two 1 MiB blocks each), the last short.
    const size = 2 * 2 ** 21 + 12_345;
    const bytes = randomBytes(size);
    const { root } = pieceRoot(bytes);
    const dataFile = path.join(dir, "data-blocks");
    await writeFile(dataFile, bytes);
    const treeFile = path.join(dir, "tree-blocks");
    expect(await buildPieceTree(dataFile, treeFile, size, { workers: 2, subtreeHeight: 16 })).to.equal(root);
    expect((await readFile(treeFile)).equals(expectedTreeFile(bytes, FIRST_STORED_LEVEL))).to.equal(true);
  });

  it("keeps proving a piece stored before firstStoredLevel, whose tree file holds levels 1..height-1", async function () {
    const store = new PieceStore(path.join(dir, "old"));
    await store.init();
    const bytes = randomBytes(50_000);
    const { root } = pieceRoot(bytes);
    await store.receive(root, bytes.length, Readable.from([bytes]));
    // The layout and piece.json an earlier agent wrote.
    const pieceDir = path.join(dir, "old", "pieces", root);
    await writeFile(path.join(pieceDir, "tree"), expectedTreeFile(bytes, 1));
    const meta = JSON.parse(await readFile(path.join(pieceDir, "piece.json"), "utf8")) as StoredPiece;
    delete meta.firstStoredLevel;
    await writeFile(path.join(pieceDir, "piece.json"), JSON.stringify(meta));
    const leaves = [0, 1, 2, 3, 777, 1562];
    expect(await store.proofs(root, leaves)).to.deep.equal(buildPieceProofs(bytes, leaves).proofs);
  });

  it("imports a local file's range as a piece whose proofs come from the parallel tree", async function () {
    const store = new PieceStore(path.join(dir, "import"));
    await store.init();
    const bytes = randomBytes(50_000);
    const file = path.join(dir, "import.bin");
    await writeFile(file, bytes);
    const piece = await store.importPiece(file, 10_000, 30_001, { workers: 2, subtreeHeight: 5 });
    const slice = bytes.subarray(10_000, 40_001);
    expect(piece.root).to.equal(pieceRoot(slice).root);
    const leaves = [0, 1, 500, 937];
    expect(await store.proofs(piece.root, leaves)).to.deep.equal(buildPieceProofs(slice, leaves).proofs);
  });

  it("refuses a data file shorter than the size it is built for", async function () {
    const file = path.join(dir, "short.bin");
    await writeFile(file, randomBytes(100));
    let error: unknown;
    await buildPieceTree(file, path.join(dir, "short.tree"), 5000, { workers: 2, subtreeHeight: 3 }).catch(
      (e: unknown) => (error = e),
    );
    expect(String(error)).to.contain(`${file} ends before its 5000 bytes`);
  });
});
