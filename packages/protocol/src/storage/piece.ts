/**
 * Piece roots: the binary Merkle tree a storage client commits to on chain (StorageDeals.addPieces)
 * and a provider proves possession against (provePossession). The Solidity twin is
 * contracts/libraries/PieceMerkle.sol; both follow this layout:
 *
 * - A piece of `size` bytes (1 <= size) is cut into 32-byte leaves; the last one is zero-padded.
 *   leafCount = ceil(size / 32); height = ceil(log2(leafCount)) (0 for a single leaf).
 * - leaf hash  = keccak256(0x00 ‖ 32 data bytes)
 *   node hash  = keccak256(0x01 ‖ left ‖ right)
 *   The prefix byte separates leaves from nodes, so no node can be passed off as a leaf.
 * - Up to the next power of two the tree is filled with padding leaves of 32 zero bytes (their hash
 *   is ZERO_SUBTREES[0]; a padding subtree of height h is ZERO_SUBTREES[h]). Challenges only ever
 *   pick real leaves (index < leafCount). A piece is named on chain by (root, size): bytes cut off by
 *   the size are not part of it, whatever their value.
 *
 * keccak256 rather than SHA-256: it is an EVM opcode (30 + 6 gas per word) where SHA-256 is a
 * precompile call (60 + 12 per word plus the call), which matters for K proofs of depth 30 per
 * day per data set, and it is the hash the rest of Hexmesh already uses (our WebAssembly keccak).
 *
 * `PieceTreeBuilder` is the one path to a root and the one proof builder: it streams bytes in any
 * chunking, keeps O(height) hashes, and collects the sibling path of any leaves it is asked to
 * prove while it goes. In-memory helpers and the Node file streamer (@hexmesh/protocol/node) all run
 * through it.
 */
import {
  keccak256Into,
  keccakPieceBlock,
  keccakPieceLeavesInto,
  keccakPieceNodesInto,
} from "../crypto/keccak.js";
import { fromHex, isHexBytes, toHex } from "../hex.js";

/** Bytes per leaf. */
export const PIECE_LEAF_SIZE = 32;
/** Largest piece StorageDeals accepts: 2^40 bytes (1 TiB), a tree of height 35. */
export const MAX_PIECE_SIZE = 2 ** 40;
/** Height of the largest piece's tree. */
export const MAX_PIECE_HEIGHT = 35;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** Leaves a piece of `size` bytes has. */
export function pieceLeafCount(size: number): number {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_PIECE_SIZE) {
    throw new RangeError(`piece size must be an integer in [1, 2^40], got ${size}`);
  }
  return Math.ceil(size / PIECE_LEAF_SIZE);
}

/** Height of the tree over `leafCount` leaves: ceil(log2(leafCount)). */
export function pieceHeight(leafCount: number): number {
  let height = 0;
  while (2 ** height < leafCount) height++;
  return height;
}

/** keccak256(0x00 ‖ leaf) into out[outOffset..+32); `leaf` is 32 bytes at leaf[offset..]. */
function hashLeafInto(
  scratch: Uint8Array,
  leaf: Uint8Array,
  offset: number,
  out: Uint8Array,
  outOffset: number,
) {
  scratch[0] = LEAF_PREFIX;
  scratch.set(leaf.subarray(offset, offset + PIECE_LEAF_SIZE), 1);
  keccak256Into(scratch, 0, 1 + PIECE_LEAF_SIZE, out, outOffset);
}

/** keccak256(0x01 ‖ left ‖ right) as a new array. */
function hashNode(scratch: Uint8Array, left: Uint8Array, right: Uint8Array): Uint8Array {
  scratch[0] = NODE_PREFIX;
  scratch.set(left, 1);
  scratch.set(right, 33);
  const out = new Uint8Array(32);
  keccak256Into(scratch, 0, 65, out, 0);
  return out;
}

/** The hash of a 32-byte leaf. */
export function pieceLeafHash(leaf: Uint8Array): Uint8Array {
  if (leaf.length !== PIECE_LEAF_SIZE) throw new RangeError("a piece leaf is 32 bytes");
  const out = new Uint8Array(32);
  hashLeafInto(new Uint8Array(65), leaf, 0, out, 0);
  return out;
}

/** The hash of an inner node. */
export function pieceNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return hashNode(new Uint8Array(65), left, right);
}

/**
 * The leaf hashes of whole 32-byte leaves, in order (`data.length` a multiple of 32): the same hashes
 * as pieceLeafHash, computed a level at a time in WebAssembly (no call per leaf). For building whole
 * subtrees fast (the provider's parallel tree build); PieceTreeBuilder stays the streaming path.
 */
export function pieceLeafHashes(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  keccakPieceLeavesInto(data, out);
  return out;
}

/** The level above `level` (an even number of 32-byte hashes, in order): pieceNodeHash of each pair. */
export function pieceParentHashes(level: Uint8Array): Uint8Array {
  const out = new Uint8Array(level.length / 2);
  keccakPieceNodesInto(level, out);
  return out;
}

/**
 * pieceLeafHashes into `out` (at least `data.length` bytes), and pieceParentHashes into `out` (at
 * least half of `level`): for a builder that reuses its buffers, since a fresh large array costs a
 * page fault per 4 KiB on first write (a third of the build's time when every level was allocated).
 */
export { keccakPieceLeavesInto as pieceLeafHashesInto, keccakPieceNodesInto as pieceParentHashesInto };

/**
 * A block of 2^b whole leaves hashed with its levels 1..b inside WebAssembly memory (no copies in
 * between): `fill` writes the leaves into the view it is given, `level(h, nodes)` sees each level.
 * What a tree build over a file runs per block (packages/storage/src/tree-worker.ts).
 */
export { keccakPieceBlock as pieceBlockLevels };

/** ZERO_SUBTREES[h]: root of a padding subtree of height h (all leaves 32 zero bytes). */
export const ZERO_SUBTREES: readonly Uint8Array[] = (() => {
  const levels = [pieceLeafHash(new Uint8Array(PIECE_LEAF_SIZE))];
  for (let h = 1; h <= MAX_PIECE_HEIGHT; h++) levels.push(pieceNodeHash(levels[h - 1]!, levels[h - 1]!));
  return levels;
})();

/** A piece's commitment: what StorageDeals stores. */
export interface PieceRoot {
  /** 0x-hex root. */
  root: string;
  /** Bytes in the piece. */
  size: number;
  leafCount: number;
  height: number;
}

/** Possession proof of one leaf: its 32 bytes and its siblings from the leaf level up. */
export interface PieceProof {
  leafIndex: number;
  /** 0x-hex, 32 bytes (the last leaf zero-padded). */
  leaf: string;
  /** 0x-hex siblings, `height` of them, leaf level first. */
  path: string[];
}

/** See PieceTreeBuilder's constructor; `hash` is only valid during the call (copy it to keep it). */
export type PieceNodeListener = (level: number, index: number, hash: Uint8Array) => void;

interface Target {
  leafIndex: number;
  leaf: Uint8Array | undefined;
  path: (Uint8Array | undefined)[];
}

/**
 * Streams a piece's bytes (any chunking) into its root, keeping one pending hash per level, and
 * builds proofs for the leaves named in `prove` on the way: a sibling is recorded when its subtree
 * completes, padding siblings when the tree is closed. `size` is the piece's length, known in
 * advance (a file's length), so the tree height is fixed before the first byte.
 */
export class PieceTreeBuilder {
  readonly size: number;
  readonly leafCount: number;
  readonly height: number;
  private readonly pending: (Uint8Array | undefined)[];
  private readonly levelCounts: number[];
  private readonly partial = new Uint8Array(PIECE_LEAF_SIZE);
  private partialLength = 0;
  private received = 0;
  private readonly scratch = new Uint8Array(65);
  private readonly leafHash = new Uint8Array(32);
  private readonly targets: Target[];
  private result: PieceRoot | undefined;
  private readonly onNode: PieceNodeListener | undefined;

  /**
   * @param onNode Called with every node as it completes, level by level in index order (leaves are
   * level 0; padding nodes at or past a level's real width are reported too): a provider stores
   * the levels it needs to answer proofs from disk without a second pass.
   */
  constructor(size: number, prove: readonly number[] = [], onNode?: PieceNodeListener) {
    this.onNode = onNode;
    this.size = size;
    this.leafCount = pieceLeafCount(size);
    this.height = pieceHeight(this.leafCount);
    this.pending = new Array<Uint8Array | undefined>(this.height + 1).fill(undefined);
    this.levelCounts = new Array<number>(this.height + 1).fill(0);
    this.targets = prove.map((leafIndex) => {
      if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= this.leafCount) {
        throw new RangeError(`leaf ${leafIndex} is outside the piece's ${this.leafCount} leaves`);
      }
      return {
        leafIndex,
        leaf: undefined,
        path: new Array<Uint8Array | undefined>(this.height).fill(undefined),
      };
    });
  }

  /** Feeds the next bytes of the piece. */
  update(data: Uint8Array): this {
    if (this.result) throw new Error("PieceTreeBuilder: update after finish");
    if (this.received + data.length > this.size) {
      throw new RangeError(`piece is longer than its declared ${this.size} bytes`);
    }
    this.received += data.length;
    let pos = 0;
    if (this.partialLength > 0) {
      const take = Math.min(PIECE_LEAF_SIZE - this.partialLength, data.length);
      this.partial.set(data.subarray(0, take), this.partialLength);
      this.partialLength += take;
      pos = take;
      if (this.partialLength === PIECE_LEAF_SIZE) {
        this.addLeaf(this.partial, 0);
        this.partialLength = 0;
      }
    }
    while (data.length - pos >= PIECE_LEAF_SIZE) {
      this.addLeaf(data, pos);
      pos += PIECE_LEAF_SIZE;
    }
    if (pos < data.length) {
      this.partial.set(data.subarray(pos), 0);
      this.partialLength = data.length - pos;
    }
    return this;
  }

  /** Closes the tree: pads the last leaf and the leaf count, returns the root. */
  finish(): PieceRoot {
    if (this.result) return this.result;
    if (this.received !== this.size) {
      throw new RangeError(`piece has ${this.received} bytes, declared ${this.size}`);
    }
    if (this.partialLength > 0) {
      this.partial.fill(0, this.partialLength);
      this.addLeaf(this.partial, 0);
      this.partialLength = 0;
    }
    // Close every level bottom-up: a pending left node gets its padding right sibling.
    for (let h = 0; h < this.height; h++) {
      if (this.pending[h]) this.addNode(h, ZERO_SUBTREES[h]!);
    }
    const root = this.pending[this.height]!;
    this.result = { root: toHex(root), size: this.size, leafCount: this.leafCount, height: this.height };
    return this.result;
  }

  /** Proofs of the leaves named at construction, in that order (after {finish}). */
  proofs(): PieceProof[] {
    if (!this.result) throw new Error("PieceTreeBuilder: proofs before finish");
    return this.targets.map((t) => ({
      leafIndex: t.leafIndex,
      leaf: toHex(t.leaf!),
      path: t.path.map((p) => toHex(p!)),
    }));
  }

  private addLeaf(data: Uint8Array, offset: number): void {
    const index = this.levelCounts[0]!;
    for (const t of this.targets) {
      if (t.leafIndex === index) t.leaf = data.slice(offset, offset + PIECE_LEAF_SIZE);
    }
    hashLeafInto(this.scratch, data, offset, this.leafHash, 0);
    this.addNode(0, this.leafHash.slice());
  }

  /** Places a completed node at `level`, merging upwards while it is a right child. */
  private addNode(level: number, hash: Uint8Array): void {
    for (;;) {
      const index = this.levelCounts[level]!;
      this.levelCounts[level] = index + 1;
      this.onNode?.(level, index, hash);
      for (const t of this.targets) {
        if (level < this.height && Math.floor(t.leafIndex / 2 ** level) === (index ^ 1)) t.path[level] = hash;
      }
      const left = this.pending[level];
      if (left === undefined) {
        this.pending[level] = hash;
        return;
      }
      this.pending[level] = undefined;
      hash = hashNode(this.scratch, left, hash);
      level++;
    }
  }
}

/** Root of a piece held in memory (browser, tests, small pieces). */
export function pieceRoot(data: Uint8Array): PieceRoot {
  return new PieceTreeBuilder(data.length).update(data).finish();
}

/** Root and possession proofs of the given leaves of a piece held in memory. */
export function buildPieceProofs(
  data: Uint8Array,
  leafIndices: readonly number[],
): { piece: PieceRoot; proofs: PieceProof[] } {
  const builder = new PieceTreeBuilder(data.length, leafIndices).update(data);
  const piece = builder.finish();
  return { piece, proofs: builder.proofs() };
}

/**
 * Checks a possession proof against a piece root, as PieceMerkle.verify does on chain: the path has
 * exactly the piece's height, the index is a real leaf, and hashing up from the leaf gives the root.
 */
export function verifyPieceProof(root: string, size: number, proof: PieceProof): boolean {
  const leafCount = pieceLeafCount(size);
  if (!Number.isSafeInteger(proof.leafIndex) || proof.leafIndex < 0 || proof.leafIndex >= leafCount)
    return false;
  if (proof.path.length !== pieceHeight(leafCount)) return false;
  if (!isHexBytes(proof.leaf, PIECE_LEAF_SIZE) || !proof.path.every((p) => isHexBytes(p, 32))) return false;
  const leaf = fromHex(proof.leaf);
  const scratch = new Uint8Array(65);
  let hash: Uint8Array = new Uint8Array(32);
  hashLeafInto(scratch, leaf, 0, hash, 0);
  let index = proof.leafIndex;
  for (const siblingHex of proof.path) {
    const sibling = fromHex(siblingHex);
    hash = index % 2 === 0 ? hashNode(scratch, hash, sibling) : hashNode(scratch, sibling, hash);
    index = Math.floor(index / 2);
  }
  return toHex(hash) === root.toLowerCase();
}
