/**
 * The provider's piece store: each piece on disk as its bytes and its Merkle tree, so a proof is
 * answered with O(height) small reads and no piece is ever held in memory.
 *
 *   <dir>/pieces/<root>/data       the piece's bytes
 *   <dir>/pieces/<root>/tree       levels 5..height-1 of the tree (FIRST_STORED_LEVEL), level by
 *                                  level, 32 bytes a node; level h holds ceil(leafCount / 2^h) nodes
 *                                  (the rest is padding, ZERO_SUBTREES[h]). Levels 0-4 are not
 *                                  stored: a proof hashes them again from the leaf's aligned chunk
 *                                  of 32 leaves in `data` (1 KiB), so the file is ~1/16 of the piece
 *   <dir>/pieces/<root>/piece.json {root, size, leafCount, height, receivedAt, firstStoredLevel}
 *   <dir>/incoming/<random>/       a piece being received (moved into pieces/ once its root checks)
 *
 * Every tree is built from the bytes on disk by buildPieceTree (parallel.ts: worker threads on every
 * core, a 1 MiB level per WebAssembly call): a received piece is written to incoming/ as it streams
 * in, then its tree is built and its root checked. Hashing after the bytes land, on every core, is
 * several times faster than hashing node by node on the receiving thread while they arrive.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import {
  checkPieceRange,
  isHexBytes,
  pieceHeight,
  pieceLeafCount,
  pieceLeafHashes,
  pieceParentHashes,
  pieceRangeAnswer,
  toHex,
  ZERO_SUBTREES,
  type PieceProof,
  type PieceRangeAnswer,
} from "@hexmesh/protocol";

import { StorageError } from "./errors.js";
import { buildPieceTree, type ParallelTreeOptions } from "./parallel.js";
import { FIRST_STORED_LEVEL, levelOffset, levelWidth, NODE_BYTES } from "./tree-layout.js";

const NODE = NODE_BYTES;

/** A leaf's aligned chunk of 2^first leaves (zero past the piece's end) and its levels 0..first-1. */
interface Chunk {
  bytes: Uint8Array;
  levels: Uint8Array[];
}

/** A stored piece's description. */
export interface StoredPiece {
  root: string;
  size: number;
  leafCount: number;
  height: number;
  /** Unix ms when the piece was stored. */
  receivedAt: number;
  /**
   * Lowest level in its tree file (FIRST_STORED_LEVEL). Absent in pieces stored by agents before
   * it existed, whose tree files hold levels 1..height-1: they keep proving as they are.
   */
  firstStoredLevel?: number;
}

/** Canonical (lower-case) 32-byte hex root, or a 400 `bad_root`. */
export function parseRoot(root: string): string {
  const lower = root.toLowerCase();
  if (!isHexBytes(lower, 32))
    throw new StorageError(400, "bad_root", `not a 32-byte 0x-hex piece root: ${root}`);
  return lower;
}

export class PieceStore {
  constructor(readonly dir: string) {}

  private pieceDir(root: string): string {
    return path.join(this.dir, "pieces", root);
  }

  async init(): Promise<void> {
    await mkdir(path.join(this.dir, "pieces"), { recursive: true });
    // A receive cut off by a crash leaves only an incoming/ directory: nothing in it was accepted.
    await rm(path.join(this.dir, "incoming"), { recursive: true, force: true });
    await mkdir(path.join(this.dir, "incoming"), { recursive: true });
  }

  /**
   * Receives a piece of `size` bytes claimed to have `root`: streams it to disk, builds its tree,
   * and keeps it only if the computed root is `root` (400 `root_mismatch` otherwise, nothing kept).
   * A piece already stored is received and checked again, then the existing copy is kept.
   */
  async receive(
    claimedRoot: string,
    size: number,
    body: Readable,
    options: ParallelTreeOptions = {},
  ): Promise<StoredPiece> {
    const root = parseRoot(claimedRoot);
    pieceLeafCount(size); // refuses a size no piece can have before anything is written
    const work = path.join(this.dir, "incoming", randomBytes(8).toString("hex"));
    await mkdir(work);
    const dataFile = path.join(work, "data");
    const data = await open(dataFile, "w");
    try {
      let received = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > size) {
          throw new StorageError(400, "size_mismatch", `the body is longer than its ${size} bytes`);
        }
        await data.write(chunk);
      }
      if (received !== size) {
        throw new StorageError(400, "size_mismatch", `the body has ${received} of its ${size} bytes`);
      }
      await data.close();
      const computed = await buildPieceTree(dataFile, path.join(work, "tree"), size, options);
      if (computed !== root) {
        throw new StorageError(400, "root_mismatch", `the bytes' root is ${computed}, not ${root}`);
      }
      return await this.keep(work, root, size);
    } catch (e) {
      await data.close().catch(() => {});
      await rm(work, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Imports a byte range of a local file as a piece (data delivered out of band, e.g. on a disk):
   * copies it in and builds its tree on every core (buildPieceTree). Its root is whatever the bytes
   * give; a piece already stored is kept.
   */
  async importPiece(
    file: string,
    offset: number,
    size: number,
    options: ParallelTreeOptions = {},
  ): Promise<StoredPiece> {
    pieceLeafCount(size); // refuses a size no piece can have before anything is copied
    const work = path.join(this.dir, "incoming", randomBytes(8).toString("hex"));
    await mkdir(work);
    try {
      const dataFile = path.join(work, "data");
      await pipeline(
        createReadStream(file, { start: offset, end: offset + size - 1 }),
        createWriteStream(dataFile),
      );
      const root = await buildPieceTree(dataFile, path.join(work, "tree"), size, options);
      return await this.keep(work, root, size);
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Moves a checked piece from its incoming directory into pieces/ (one rename: a piece is there
   * whole or not at all); if the piece is already stored, keeps that copy and drops this one.
   */
  private async keep(work: string, root: string, size: number): Promise<StoredPiece> {
    const existing = await this.meta(root).catch(() => undefined);
    if (existing) {
      await rm(work, { recursive: true, force: true });
      return existing;
    }
    // The tree's workers wrote through their own descriptors: one fsync of each file makes the piece
    // durable before it is moved in (a rename must never expose a half-written tree after a crash).
    for (const file of ["data", "tree"]) {
      const handle = await open(path.join(work, file), "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    const leafCount = pieceLeafCount(size);
    const piece: StoredPiece = {
      root,
      size,
      leafCount,
      height: pieceHeight(leafCount),
      receivedAt: Date.now(),
      firstStoredLevel: FIRST_STORED_LEVEL,
    };
    await writeFile(path.join(work, "piece.json"), JSON.stringify(piece));
    await rename(work, this.pieceDir(root));
    return piece;
  }

  /** A stored piece's description; 404 `unknown_piece` if it is not here. */
  async meta(claimedRoot: string): Promise<StoredPiece> {
    const root = parseRoot(claimedRoot);
    try {
      return JSON.parse(await readFile(path.join(this.pieceDir(root), "piece.json"), "utf8")) as StoredPiece;
    } catch {
      throw new StorageError(404, "unknown_piece", `no piece ${root} is stored here`);
    }
  }

  /** True if the piece is stored. */
  async has(root: string): Promise<boolean> {
    return this.meta(root).then(
      () => true,
      () => false,
    );
  }

  /** Proofs of the given leaves of a stored piece, read from disk (O(height) reads each). */
  async proofs(claimedRoot: string, leaves: readonly number[]): Promise<PieceProof[]> {
    const piece = await this.meta(claimedRoot);
    const data = await open(path.join(this.pieceDir(piece.root), "data"), "r");
    const tree = await open(path.join(this.pieceDir(piece.root), "tree"), "r");
    try {
      const proofs: PieceProof[] = [];
      const chunks = new Map<number, Chunk>(); // a range's neighbouring leaves share chunks
      for (const leafIndex of leaves) proofs.push(await this.proofOf(piece, data, tree, chunks, leafIndex));
      return proofs;
    } finally {
      await data.close();
      await tree.close();
    }
  }

  /** The range answer for `count` leaves from `firstLeaf` (400 `bad_range` outside the piece). */
  async range(claimedRoot: string, firstLeaf: number, count: number): Promise<PieceRangeAnswer> {
    const piece = await this.meta(claimedRoot);
    try {
      checkPieceRange(piece.size, firstLeaf, count);
    } catch (e) {
      throw new StorageError(400, "bad_range", (e as Error).message);
    }
    const leaves = Array.from({ length: count }, (_, i) => firstLeaf + i);
    return pieceRangeAnswer(piece.root, piece.size, firstLeaf, await this.proofs(piece.root, leaves));
  }

  /** A stream of the piece's bytes [start, end] (inclusive). */
  async bytes(claimedRoot: string, start: number, end: number): Promise<Readable> {
    const piece = await this.meta(claimedRoot);
    return createReadStream(path.join(this.pieceDir(piece.root), "data"), { start, end });
  }

  /** Path of a stored piece's data file. */
  async dataPath(claimedRoot: string): Promise<string> {
    const piece = await this.meta(claimedRoot);
    return path.join(this.pieceDir(piece.root), "data");
  }

  /**
   * Levels 0..first-1 of the chunk of 2^first leaves holding chunk `c` (the levels a tree file does
   * not keep), hashed from the data: past the piece's end the chunk reads as zero bytes, which are
   * the padding leaves, so the padding nodes come out as ZERO_SUBTREES without a special case.
   */
  private async chunkLevels(piece: StoredPiece, data: FileHandle, first: number, c: number): Promise<Chunk> {
    const bytes = new Uint8Array(2 ** first * NODE);
    const start = c * bytes.length;
    const expected = Math.min(bytes.length, piece.size - start);
    const { bytesRead } = await data.read(bytes, 0, expected, start);
    if (bytesRead < expected) {
      throw new StorageError(
        500,
        "piece_damaged",
        `piece ${piece.root}'s data file is shorter than its size`,
      );
    }
    const levels = [pieceLeafHashes(bytes)];
    for (let h = 1; h < first; h++) levels.push(pieceParentHashes(levels[h - 1]!));
    return { bytes, levels };
  }

  private async proofOf(
    piece: StoredPiece,
    data: FileHandle,
    tree: FileHandle,
    chunks: Map<number, Chunk>,
    leafIndex: number,
  ): Promise<PieceProof> {
    if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= piece.leafCount) {
      throw new StorageError(400, "bad_range", `leaf ${leafIndex} is outside the piece's ${piece.leafCount}`);
    }
    const first = Math.min(piece.firstStoredLevel ?? 1, piece.height);
    const c = Math.floor(leafIndex / 2 ** first);
    let chunk = chunks.get(c);
    if (!chunk) chunks.set(c, (chunk = await this.chunkLevels(piece, data, first, c)));
    const { bytes, levels } = chunk;
    // The leaf is in its chunk (the last leaf's missing bytes read as its zero padding).
    const inChunkLeaf = leafIndex - c * 2 ** first;
    const leaf = bytes.subarray(inChunkLeaf * NODE, (inChunkLeaf + 1) * NODE);
    const path: string[] = [];
    for (let h = 0; h < piece.height; h++) {
      const sibling = Math.floor(leafIndex / 2 ** h) ^ 1;
      if (sibling >= levelWidth(piece.leafCount, h)) {
        path.push(toHex(ZERO_SUBTREES[h]!));
      } else if (h < first) {
        const inChunk = sibling - c * 2 ** (first - h);
        path.push(toHex(levels[h]!.subarray(inChunk * NODE, (inChunk + 1) * NODE)));
      } else {
        const node = new Uint8Array(NODE);
        const offset = levelOffset(piece.leafCount, h, piece.firstStoredLevel ?? 1);
        await tree.read(node, 0, NODE, offset + sibling * NODE);
        path.push(toHex(node));
      }
    }
    return { leafIndex, leaf: toHex(leaf), path };
  }
}
