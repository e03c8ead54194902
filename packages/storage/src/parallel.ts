/**
 * Builds a piece's tree (the store's `tree` file and the root) from its bytes already on disk on
 * several cores: the piece is cut into subtrees of 2^s leaves, worker threads root them and write
 * their levels, and this thread combines the subtree roots into the levels above. The result is
 * byte-identical to what PieceStore.receive writes while streaming (tested), in about 1/cores of
 * the time. Used by `hexmesh-storage provider import` and the benchmark (bench/storage.ts).
 */
import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import { fromHex, pieceHeight, pieceLeafCount, pieceNodeHash, toHex, ZERO_SUBTREES } from "@hexmesh/protocol";

import { levelOffset, levelWidth, NODE_BYTES } from "./tree-layout.js";
import type { TreeWorkerInput } from "./tree-worker.js";

/** Default subtree height: 2^20 leaves, 32 MiB of data per job. */
export const DEFAULT_SUBTREE_HEIGHT = 20;

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
  // Subtrees dealt round-robin: neighbours go to different workers, so each gets an even share.
  const jobs = Array.from({ length: workers }, (_, w) =>
    Array.from({ length: subtrees }, (_, j) => j).filter((j) => j % workers === w),
  );
  const base = { dataFile, treeFile, size, leafCount, height, subtreeHeight: s };
  const answers = await Promise.all(jobs.map((subtreesOf) => runWorker({ ...base, subtrees: subtreesOf })));
  let level: Uint8Array[] = new Array<Uint8Array>(subtrees);
  for (const [j, root] of answers.flat()) level[j] = fromHex(root);
  // Levels s+1..height: combined here; levels below the root go into the tree file.
  const out = await open(treeFile, "r+");
  try {
    for (let h = s; h < height; h++) {
      const up: Uint8Array[] = [];
      for (let i = 0; i < level.length; i += 2)
        up.push(pieceNodeHash(level[i]!, level[i + 1] ?? ZERO_SUBTREES[h]!));
      level = up;
      if (h + 1 < height) {
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
