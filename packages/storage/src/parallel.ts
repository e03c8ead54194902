/**
 * Builds a piece's tree (the store's `tree` file and the root) from its bytes already on disk on
 * several cores: the piece is cut into subtrees of 2^s leaves, worker threads root them and write
 * their stored levels, and this thread combines the subtree roots into the levels above. Workers
 * take the next subtree from a shared counter as they finish one, so a core slowed by other work
 * takes fewer and none waits at the end for a slow one's queue. Every piece's tree is built here:
 * a PUT (PieceStore.receive), `hexmesh-storage provider import` and the benchmark (bench/storage.ts).
 */
import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import { fromHex, pieceHeight, pieceLeafCount, pieceNodeHash, toHex, ZERO_SUBTREES } from "@hexmesh/protocol";

import { FIRST_STORED_LEVEL, levelOffset, levelWidth, NODE_BYTES } from "./tree-layout.js";
import type { TreeWorkerInput } from "./tree-worker.js";

/** Default subtree height: 2^18 leaves, 8 MiB of data per job (128 jobs in a GiB: a short tail). */
export const DEFAULT_SUBTREE_HEIGHT = 18;

export interface ParallelTreeOptions {
  workers?: number;
  subtreeHeight?: number;
}

function runWorker(input: TreeWorkerInput): Promise<[number, string][]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./tree-worker.js", import.meta.url), { workerData: input });
    let result: [number, string][] | undefined;
    worker.once("message", (m: [number, string][]) => (result = m));
    worker.once("error", reject);
    worker.once("exit", (code) =>
      result && code === 0 ? resolve(result) : reject(new Error(`tree worker exited ${code}`)),
    );
  });
}

/** Writes `treeFile` for the `size` bytes in `dataFile`; the piece's root. */
export async function buildPieceTree(
  dataFile: string,
  treeFile: string,
  size: number,
  options: ParallelTreeOptions = {},
): Promise<string> {
  const leafCount = pieceLeafCount(size);
  const height = pieceHeight(leafCount);
  const s = Math.min(height, options.subtreeHeight ?? DEFAULT_SUBTREE_HEIGHT);
  const subtrees = levelWidth(leafCount, s);
  const workers = Math.max(1, Math.min(subtrees, options.workers ?? availableParallelism()));
  const tree = await open(treeFile, "w");
  try {
    await tree.truncate(levelOffset(leafCount, height));
  } finally {
    await tree.close();
  }
  // The next subtree to root, shared by the workers (Atomics.add in tree-worker.ts).
  const next = new SharedArrayBuffer(4);
  const input: TreeWorkerInput = {
    dataFile,
    treeFile,
    size,
    leafCount,
    height,
    subtreeHeight: s,
    subtrees,
    next,
  };
  const answers = await Promise.all(Array.from({ length: workers }, () => runWorker(input)));
  let level: Uint8Array[] = new Array<Uint8Array>(subtrees);
  for (const [j, root] of answers.flat()) level[j] = fromHex(root);
  // Levels s+1..height: combined here; the stored ones below the root go into the tree file.
  const out = await open(treeFile, "r+");
  try {
    for (let h = s; h < height; h++) {
      const up: Uint8Array[] = [];
      for (let i = 0; i < level.length; i += 2)
        up.push(pieceNodeHash(level[i]!, level[i + 1] ?? ZERO_SUBTREES[h]!));
      level = up;
      if (h + 1 < height && h + 1 >= FIRST_STORED_LEVEL) {
        const bytes = new Uint8Array(level.length * NODE_BYTES);
        level.forEach((n, i) => bytes.set(n, i * NODE_BYTES));
        await out.write(bytes, 0, bytes.length, levelOffset(leafCount, h + 1));
      }
    }
  } finally {
    await out.close();
  }
  return toHex(level[0]!);
}
