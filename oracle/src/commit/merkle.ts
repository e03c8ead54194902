/**
 * A fast builder of OpenZeppelin StandardMerkleTree trees for leaves ["address", "uint256"]
 * (owner, cumulative amount), identical to @openzeppelin/merkle-tree 1.x:
 *   leaf  = keccak256(keccak256(abi.encode(owner, amount)))
 *   leaves sorted ascending by hash, laid out at the end of a complete binary tree in array form
 *   (tree[len - 1 - i] = i-th smallest leaf), node i = keccak256(sort(tree[2i+1], tree[2i+2])).
 * Same root, same proofs, same dump (loadable with StandardMerkleTree.load).
 *
 * Why: the library re-encodes hex strings and compares hashes as BigInts at every step; at
 * 1,000,000 owners it is slow (bench/merkle.ts). This one works on one flat Uint8Array.
 */
import { keccak256Into } from "../crypto/keccak.js";
import { compareHex, isHexBytes, toHex, writeHex, writeUint, type Hex } from "../util/hex.js";

export interface MerkleLeafValue {
  readonly owner: Hex;
  readonly amount: bigint;
}

export const LEAF_ENCODING = ["address", "uint256"] as const;

/** The StandardMerkleTree dump format ("standard-v1"). */
export interface StandardTreeDump {
  readonly format: "standard-v1";
  readonly leafEncoding: string[];
  readonly tree: Hex[];
  readonly values: { readonly value: [string, string]; readonly treeIndex: number }[];
}

const MAX_UINT256 = (1n << 256n) - 1n;

export class OwnerMerkleTree {
  /** Values in the order given to build(). */
  readonly values: readonly MerkleLeafValue[];
  /** All nodes, 32 bytes each, node i at [32i, 32i + 32). */
  private readonly nodes: Uint8Array;
  /** Tree index of values[k]. */
  private readonly treeIndex: Uint32Array;
  private readonly byOwner = new Map<Hex, number>();

  private constructor(values: readonly MerkleLeafValue[], nodes: Uint8Array, treeIndex: Uint32Array) {
    this.values = values;
    this.nodes = nodes;
    this.treeIndex = treeIndex;
    for (let k = 0; k < values.length; k++) this.byOwner.set(values[k]!.owner, k);
  }

  static build(values: readonly MerkleLeafValue[]): OwnerMerkleTree {
    const n = values.length;
    if (n === 0) throw new RangeError("a Merkle tree needs at least one leaf");
    if (n > 2 ** 31) throw new RangeError("too many leaves");
    const leaves = new Uint8Array(32 * n);
    const enc = new Uint8Array(64);
    const inner = new Uint8Array(32);
    const owners = new Set<Hex>();
    for (let k = 0; k < n; k++) {
      const v = values[k]!;
      if (!isHexBytes(v.owner, 20)) throw new RangeError(`bad owner address ${v.owner}`);
      if (v.amount < 0n || v.amount > MAX_UINT256) throw new RangeError(`amount out of range for ${v.owner}`);
      if (owners.has(v.owner)) throw new RangeError(`owner ${v.owner} twice`);
      owners.add(v.owner);
      // abi.encode(address, uint256): 12 zero bytes, the address, the 32-byte amount
      enc.fill(0, 0, 12);
      writeHex(enc, 12, v.owner);
      writeUint(enc, 32, v.amount, 32);
      keccak256Into(enc, 0, 64, inner, 0);
      keccak256Into(inner, 0, 32, leaves, 32 * k);
    }

    // Sort leaf indexes by hash. The first 4 bytes decide almost always; ties fall back to bytes.
    const head = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      const o = 32 * k;
      head[k] = ((leaves[o]! << 24) | (leaves[o + 1]! << 16) | (leaves[o + 2]! << 8) | leaves[o + 3]!) >>> 0;
    }
    const order = Array.from({ length: n }, (_, k) => k);
    order.sort((a, b) => head[a]! - head[b]! || compareBytes(leaves, 32 * a, leaves, 32 * b) || a - b);

    const len = 2 * n - 1;
    const nodes = new Uint8Array(32 * len);
    const treeIndex = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      const t = len - 1 - i;
      nodes.set(leaves.subarray(32 * k, 32 * k + 32), 32 * t);
      treeIndex[k] = t;
    }
    const pair = new Uint8Array(64);
    for (let i = len - 1 - n; i >= 0; i--) {
      const l = 32 * (2 * i + 1);
      const r = l + 32;
      if (compareBytes(nodes, l, nodes, r) <= 0) {
        keccak256Into(nodes, l, 64, nodes, 32 * i); // children are adjacent and already in order
      } else {
        pair.set(nodes.subarray(r, r + 32), 0);
        pair.set(nodes.subarray(l, l + 32), 32);
        keccak256Into(pair, 0, 64, nodes, 32 * i);
      }
    }
    return new OwnerMerkleTree(values, nodes, treeIndex);
  }

  get length(): number {
    return this.values.length;
  }

  get root(): Hex {
    return toHex(this.nodes, 0, 32);
  }

  has(owner: Hex): boolean {
    return this.byOwner.has(owner);
  }

  /** Proof for an owner (sibling hashes from leaf to root), as the library's getProof. */
  proof(owner: Hex): Hex[] {
    const k = this.byOwner.get(owner);
    if (k === undefined) throw new RangeError(`owner ${owner} is not in the tree`);
    return this.proofAt(k);
  }

  /** Proof for values[k]. */
  proofAt(k: number): Hex[] {
    let i = this.treeIndex[k];
    if (i === undefined) throw new RangeError(`index ${k} out of bounds`);
    const proof: Hex[] = [];
    while (i > 0) {
      const sibling = i % 2 === 1 ? i + 1 : i - 1;
      proof.push(toHex(this.nodes, 32 * sibling, 32));
      i = Math.floor((i - 1) / 2);
    }
    return proof;
  }

  /** The library's dump format: StandardMerkleTree.load(tree.dump()) gives the same tree. */
  dump(): StandardTreeDump {
    const len = this.nodes.length / 32;
    const tree: Hex[] = new Array(len);
    for (let i = 0; i < len; i++) tree[i] = toHex(this.nodes, 32 * i, 32);
    return {
      format: "standard-v1",
      leafEncoding: [...LEAF_ENCODING],
      tree,
      values: this.values.map((v, k) => ({
        value: [v.owner, v.amount.toString()],
        treeIndex: this.treeIndex[k]!,
      })),
    };
  }
}

/** Leaves sorted by owner, the order the commit stage uses. */
export function sortedLeafValues(values: readonly MerkleLeafValue[]): MerkleLeafValue[] {
  return [...values].sort((a, b) => compareHex(a.owner, b.owner));
}

function compareBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 32; i++) {
    const d = a[ao + i]! - b[bo + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
