/**
 * Worker thread of buildPieceTree (parallel.ts): roots whole subtrees of a piece on disk with
 * PieceTreeBuilder and writes their tree-file nodes (levels 1..s) at their global positions.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

import { pieceNodeHash, PieceTreeBuilder, ZERO_SUBTREES } from "@hexmesh/protocol";

import { levelOffset, levelWidth, NODE_BYTES } from "./tree-layout.js";

export interface TreeWorkerInput {
  dataFile: string;
  treeFile: string;
  size: number;
  leafCount: number;
  height: number;
  subtreeHeight: number;
  subtrees: number[];
}

const READ = 1 << 20;
const input = workerData as TreeWorkerInput;
const { leafCount, height, subtreeHeight: s } = input;
const data = openSync(input.dataFile, "r");
const tree = openSync(input.treeFile, "r+");
const buf = Buffer.allocUnsafe(READ);
const roots: [number, string][] = [];
try {
  for (const j of input.subtrees) {
    const offset = j * 2 ** s * NODE_BYTES;
    const length = Math.min(2 ** s * NODE_BYTES, input.size - offset);
    // This subtree's nodes per level, in order, written in one call per level.
    const levels: Buffer[] = [];
    const filled: number[] = [];
    const builder = new PieceTreeBuilder(length, [], (level, index, hash) => {
      if (level === 0 || level >= height) return;
      if (j * 2 ** (s - level) + index >= levelWidth(leafCount, level)) return; // padding
      if (!levels[level]) {
        levels[level] = Buffer.allocUnsafe(Math.ceil(length / NODE_BYTES / 2 ** level) * NODE_BYTES);
        filled[level] = 0;
      }
      levels[level]!.set(hash, filled[level]!);
      filled[level]! += NODE_BYTES;
    });
    for (let pos = 0; pos < length; pos += READ) {
      const n = readSync(data, buf, 0, Math.min(READ, length - pos), offset + pos);
      if (n <= 0) throw new Error(`${input.dataFile} ends before its ${input.size} bytes`);
      builder.update(buf.subarray(0, n));
    }
    const piece = builder.finish();
    let node = Buffer.from(piece.root.slice(2), "hex");
    // A short last subtree: its root padded up to level s; those nodes are real nodes of the tree.
    for (let h = piece.height; h < s; h++) {
      node = Buffer.from(pieceNodeHash(node, ZERO_SUBTREES[h]!));
      const level = h + 1;
      if (level < height) {
        levels[level] = Buffer.concat([node]);
        filled[level] = NODE_BYTES;
      }
    }
    for (let level = 1; level < Math.min(s + 1, height); level++) {
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
