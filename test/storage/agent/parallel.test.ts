import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";

import { expect } from "chai";

import { buildPieceProofs, pieceRoot } from "@hexmesh/protocol";
import { buildPieceTree, PieceStore } from "@hexmesh/storage";

describe("@hexmesh/storage parallel tree build (worker threads)", function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-storage-parallel-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the same tree file and root as the streaming receive, for any size and subtree height", async function () {
    const store = new PieceStore(path.join(dir, "store"));
    await store.init();
    // 1 leaf, a partial leaf, exactly 2^k leaves, 2^k + 1, and odd sizes across subtree boundaries.
    for (const size of [1, 31, 32 * 8, 32 * 8 + 1, 1000, 32 * 37 - 5, 20_000]) {
      const bytes = randomBytes(size);
      const { root } = pieceRoot(bytes);
      await store.receive(root, size, Readable.from([bytes]));
      const streamedTree = await readFile(path.join(dir, "store", "pieces", root, "tree"));
      const dataFile = path.join(dir, `data-${size}`);
      await writeFile(dataFile, bytes);
      for (const [workers, subtreeHeight] of [
        [2, 1],
        [3, 3],
        [1, 20],
      ] as const) {
        const treeFile = path.join(dir, `tree-${size}-${workers}-${subtreeHeight}`);
        const built = await buildPieceTree(dataFile, treeFile, size, { workers, subtreeHeight });
        expect(built, `size ${size}`).to.equal(root);
        expect((await readFile(treeFile)).equals(streamedTree), `size ${size} s=${subtreeHeight}`).to.equal(
          true,
        );
      }
    }
  });

  it("hashes full subtrees a 1 MiB level at a time: several blocks per subtree, then a short last one", async function () {
    // Subtrees of 2^16 leaves (2 MiB): the first two are full (two 1 MiB blocks each), the last short.
    const size = 2 * 2 ** 21 + 12_345;
    const bytes = randomBytes(size);
    const { root } = pieceRoot(bytes);
    const store = new PieceStore(path.join(dir, "blocks"));
    await store.init();
    await store.receive(root, size, Readable.from([bytes]));
    const streamedTree = await readFile(path.join(dir, "blocks", "pieces", root, "tree"));
    const dataFile = path.join(dir, "data-blocks");
    await writeFile(dataFile, bytes);
    const treeFile = path.join(dir, "tree-blocks");
    expect(await buildPieceTree(dataFile, treeFile, size, { workers: 2, subtreeHeight: 16 })).to.equal(root);
    expect((await readFile(treeFile)).equals(streamedTree)).to.equal(true);
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
