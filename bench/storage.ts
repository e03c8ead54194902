/**
 * `npm run bench:storage`: the storage provider agent's speed targets (issue 19), on a 1 GiB piece
 * generated once under cache/bench-storage/ (random bytes, streamed to disk in 16 MiB writes):
 *
 * - tree build: buildPieceTree (worker threads, the piece cut into 2^20-leaf subtrees, the tree file
 *   written) with every core and with one, MB/s = 2^30 bytes / wall seconds (target >= 100 MB/s);
 * - the streaming receive path (PieceStore.receive from a file stream: one core, root and levels
 *   while the bytes arrive, as a PUT does);
 * - one challenge answered from disk: K = 5 proofs of random leaves of the 1 GiB piece
 *   (PieceStore.proofs), median and worst of 50 challenges (target < 1 s).
 *
 * The machine is shared: the 1-minute load average at start and end is recorded with the figures.
 * Writes bench/results/storage.json.
 */
import { randomBytes, randomInt } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { buildPieceTree, PieceStore } from "@hexmesh/storage";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "storage.json");
const cacheDir = path.join(here, "..", "cache", "bench-storage");
const SIZE = 2 ** 30;
const K = 5;
const CHALLENGES = 50;
const MB = 1e6;

await mkdir(cacheDir, { recursive: true });
const dataFile = path.join(cacheDir, "piece-1GiB.bin");
if (!existsSync(dataFile) || (await stat(dataFile)).size !== SIZE) {
  const fd = await open(dataFile, "w");
  for (let pos = 0; pos < SIZE; pos += 16 << 20) await fd.write(randomBytes(16 << 20));
  await fd.close();
}

const load = () => Number(os.loadavg()[0]!.toFixed(2));
const loadAverage1mAtStart = load();
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function timedBuild(workers: number) {
  const treeFile = path.join(cacheDir, `tree-${workers}`);
  const loadBefore = load();
  const start = process.hrtime.bigint();
  const root = await buildPieceTree(dataFile, treeFile, SIZE, { workers });
  const s = seconds(start);
  await rm(treeFile, { force: true });
  return {
    workers,
    seconds: Number(s.toFixed(2)),
    mbPerSecond: Number((SIZE / MB / s).toFixed(1)),
    loadBefore,
    root,
  };
}

const parallel = await timedBuild(os.availableParallelism());
const single = await timedBuild(1);
if (parallel.root !== single.root) throw new Error("the parallel and single-worker roots differ");

// The streaming receive (what a PUT runs), from the file instead of a socket.
const storeDir = path.join(cacheDir, "store");
await rm(storeDir, { recursive: true, force: true });
const store = new PieceStore(storeDir);
await store.init();
const receiveLoad = load();
const receiveStart = process.hrtime.bigint();
await store.receive(parallel.root, SIZE, createReadStream(dataFile, { highWaterMark: 1 << 20 }));
const receiveSeconds = seconds(receiveStart);

// Challenges answered from disk.
const times: number[] = [];
for (let c = 0; c < CHALLENGES; c++) {
  const leaves = Array.from({ length: K }, () => randomInt(SIZE / 32));
  const start = process.hrtime.bigint();
  await store.proofs(parallel.root, leaves);
  times.push(seconds(start) * 1000);
}
times.sort((a, b) => a - b);
await rm(storeDir, { recursive: true, force: true });

const result = {
  what: "storage provider agent (issue 19): Merkle tree of a 1 GiB piece (keccak, @hexmesh/protocol's WebAssembly keccak via PieceTreeBuilder), and one challenge (K = 5 proofs) answered from disk",
  command: "npm run bench:storage",
  generatedAt: new Date().toISOString(),
  machine: {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage1mAtStart,
    loadAverage1mAtEnd: load(),
    note: "a shared machine: other sessions' builds and tests ran at the same time (see the load averages)",
  },
  pieceBytes: SIZE,
  treeBuild: {
    method:
      "buildPieceTree: worker threads root 2^20-leaf subtrees (32 MiB each, dealt round-robin) read in 1 MiB blocks and write their tree levels; the main thread combines the subtree roots",
    targetMbPerSecond: 100,
    allCores: parallel,
    oneWorker: single,
    speedup: Number((single.seconds / parallel.seconds).toFixed(2)),
  },
  streamingReceive: {
    method:
      "PieceStore.receive from a file stream: one thread computes the root and writes data and tree levels while the bytes arrive (a PUT's path)",
    seconds: Number(receiveSeconds.toFixed(2)),
    mbPerSecond: Number((SIZE / MB / receiveSeconds).toFixed(1)),
    loadBefore: receiveLoad,
  },
  challenge: {
    method: `PieceStore.proofs of ${K} random leaves of the 1 GiB piece (height 25): data and tree files opened, one 32-byte read per level`,
    k: K,
    challenges: CHALLENGES,
    targetMs: 1000,
    medianMs: Number(times[Math.floor(CHALLENGES / 2)]!.toFixed(2)),
    worstMs: Number(times[CHALLENGES - 1]!.toFixed(2)),
  },
};
await writeFile(outFile, JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
