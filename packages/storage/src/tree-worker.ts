/**
 * Worker thread of buildPieceTree (parallel.ts): roots whole subtrees of a piece on disk, taking the
 * next one from a counter shared with the other workers, and writes their stored tree-file nodes
 * (levels FIRST_STORED_LEVEL..s) at their global positions. A full subtree (2^s whole leaves) is
 * read in 1 MiB blocks straight into WebAssembly memory and hashed there a level at a time
 * (pieceBlockLevels: one call per level instead of one per node, no copies between levels); the
 * stored levels go into buffers allocated once per worker. A short last subtree goes through
 * PieceTreeBuilder. Both give the same nodes (tested against every level computed in memory).
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

import {
  pieceBlockLevels,
  pieceNodeHash,
  pieceParentHashesInto,
  PieceTreeBuilder,
  ZERO_SUBTREES,
} from "@hexmesh/protocol";

import { FIRST_STORED_LEVEL, levelOffset, levelWidth, NODE_BYTES } from "./tree-layout.js";

export interface TreeWorkerInput {
  dataFile: string;
  treeFile: string;
  size: number;
  leafCount: number;
  height: number;
  subtreeHeight: number;
  /** Subtrees in the piece (2^subtreeHeight leaves each, the last maybe short). */
  subtrees: number;
  /** One Int32: the next subtree to take, shared by every worker of the build. */
  next: SharedArrayBuffer;
}

const READ = 1 << 20;
/** Leaves per read of a full subtree: 2^15 (1 MiB), or the whole subtree when smaller. */
const BLOCK_HEIGHT = 15;
const input = workerData as TreeWorkerInput;
const { leafCount, height, subtreeHeight: s } = input;
const data = openSync(input.dataFile, "r");
const tree = openSync(input.treeFile, "r+");
const buf = Buffer.allocUnsafe(READ);
const roots: [number, string][] = [];
const next = new Int32Array(input.next);
/** Levels of a subtree that go into the tree file: FIRST_STORED_LEVEL..s, below the piece's root. */
const storedLevels: number[] = [];
for (let level = FIRST_STORED_LEVEL; level < Math.min(s + 1, height); level++) storedLevels.push(level);

/** Fills `into` from the data file at `position` (short reads are followed by more). */
function readFully(into: Uint8Array, position: number): void {
  for (let pos = 0; pos < into.length; ) {
    const n = readSync(data, into, pos, into.length - pos, position + pos);
    if (n <= 0) throw new Error(`${input.dataFile} ends before its ${input.size} bytes`);
    pos += n;
  }
}

/**
 * Levels FIRST_STORED_LEVEL..s of a full subtree, one buffer each, reused by every subtree (levels
 * below are hashed inside WebAssembly memory and never leave it).
 */
const fullLevels: Uint8Array[] = [];
for (let level = Math.min(FIRST_STORED_LEVEL, s); level <= s; level++)
  fullLevels[level] = new Uint8Array(2 ** (s - level) * NODE_BYTES);

/**
 * Levels FIRST_STORED_LEVEL..s of full subtree `j` (2^s whole leaves, every node real) and its root.
 * Each 1 MiB block is read straight into WebAssembly memory and hashed up to its top
 * (pieceBlockLevels); the levels above the blocks are hashed from the blocks' tops.
 */
function fullSubtree(j: number): { levels: Uint8Array[]; root: Uint8Array } {
  const b = Math.min(s, BLOCK_HEIGHT);
  const levels = fullLevels;
  const offset = j * 2 ** s * NODE_BYTES;
  const blocks = 2 ** (s - b);
  for (let k = 0; k < blocks; k++) {
    pieceBlockLevels(
      2 ** b,
      (leaves) => readFully(leaves, offset + k * 2 ** b * NODE_BYTES),
      // level h of block k is the k-th slice of levels[h]
      (h, nodes) => levels[h]?.set(nodes, k * nodes.length),
    );
  }
  for (let h = b + 1; h <= s; h++) pieceParentHashesInto(levels[h - 1]!, levels[h]!);
  return { levels, root: levels[s]!.subarray(0, NODE_BYTES) };
}

try {
  for (let j = Atomics.add(next, 0, 1); j < input.subtrees; j = Atomics.add(next, 0, 1)) {
    const offset = j * 2 ** s * NODE_BYTES;
    const length = Math.min(2 ** s * NODE_BYTES, input.size - offset);
    if (s > 0 && length === 2 ** s * NODE_BYTES) {
      const full = fullSubtree(j);
      for (const level of storedLevels) {
        const position = levelOffset(leafCount, level) + j * 2 ** (s - level) * NODE_BYTES;
        writeSync(tree, full.levels[level]!, 0, full.levels[level]!.length, position);
      }
      roots.push([j, "0x" + Buffer.from(full.root).toString("hex")]);
      continue;
    }
    // This subtree's nodes per level, in order, written in one call per level.
    const levels: Buffer[] = [];
    const filled: number[] = [];
    const builder = new PieceTreeBuilder(length, [], (level, index, hash) => {
      if (level < FIRST_STORED_LEVEL || level >= height) return;
      if (j * 2 ** (s - level) + index >= levelWidth(leafCount, level)) return; // padding
      if (!levels[level]) {
        levels[level] = Buffer.allocUnsafe(Math.ceil(length / NODE_BYTES / 2 ** level) * NODE_BYTES);
        filled[level] = 0;
      }
      levels[level]!.set(hash, filled[level]!);
      filled[level]! += NODE_BYTES;
    });
    for (let pos = 0; pos < length; ) {
      const n = readSync(data, buf, 0, Math.min(READ, length - pos), offset + pos);
      if (n <= 0) throw new Error(`${input.dataFile} ends before its ${input.size} bytes`);
      builder.update(buf.subarray(0, n));
      pos += n; // a short read is followed by another, not skipped
    }
    const piece = builder.finish();
    let node = Buffer.from(piece.root.slice(2), "hex");
    // A short last subtree: its root padded up to level s; those nodes are real nodes of the tree.
    for (let h = piece.height; h < s; h++) {
      node = Buffer.from(pieceNodeHash(node, ZERO_SUBTREES[h]!));
      const level = h + 1;
      if (level < height && level >= FIRST_STORED_LEVEL) {
        levels[level] = Buffer.concat([node]);
        filled[level] = NODE_BYTES;
      }
    }
    for (const level of storedLevels) {
      if (!levels[level]) continue;
      const position = levelOffset(leafCount, level) + j * 2 ** (s - level) * NODE_BYTES;
      writeSync(tree, levels[level]!, 0, filled[level]!, position);
    }
    roots.push([j, "0x" + node.toString("hex")]);
  }
} finally {
  closeSync(data);
  closeSync(tree);
}
parentPort!.postMessage(roots);
