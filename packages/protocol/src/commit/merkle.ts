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
import { isHexBytes, toHex, writeHex, writeUint256, type Hex } from "../hex.js";

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

/**
 * leaf = keccak256(keccak256(abi.encode(owner, amount))) into out[at, at + 32); `enc` (64 bytes) and
 * `inner` (32 bytes) are scratch space, so the builder hashes a million leaves without allocating.
 */
function hashLeafInto(
  v: MerkleLeafValue,
  enc: Uint8Array,
  inner: Uint8Array,
  out: Uint8Array,
  at: number,
): void {
  // abi.encode(address, uint256): 12 zero bytes, the address, the 32-byte amount
  enc.fill(0, 0, 12);
  writeHex(enc, 12, v.owner);
  writeUint256(enc, 32, v.amount);
  keccak256Into(enc, 0, 64, inner, 0);
  keccak256Into(inner, 0, 32, out, at);
}

/**
 * Whether `proof` (as OwnerMerkleTree.proof or the oracle's API gives it) proves the leaf
 * (owner, amount) under `root`: what RewardsDistributor.claim checks (OpenZeppelin MerkleProof,
 * sorted pairs), so a wallet or a browser can check a proof before it sends a claim.
 */
export function verifyOwnerProof(root: Hex, leaf: MerkleLeafValue, proof: readonly Hex[]): boolean {
  const want = root.toLowerCase();
  const owner = leaf.owner.toLowerCase() as Hex;
  if (!isHexBytes(want, 32) || !isHexBytes(owner, 20)) return false;
  if (leaf.amount < 0n || leaf.amount > MAX_UINT256) return false;
  const node = new Uint8Array(32);
  hashLeafInto({ owner, amount: leaf.amount }, new Uint8Array(64), new Uint8Array(32), node, 0);
  const pair = new Uint8Array(64);
  const sibling = new Uint8Array(32);
  for (const p of proof) {
    const h = p.toLowerCase();
    if (!isHexBytes(h, 32)) return false;
    writeHex(sibling, 0, h as Hex);
    const [a, b] = compareBytes(node, 0, sibling, 0) <= 0 ? [node, sibling] : [sibling, node];
    pair.set(a, 0);
    pair.set(b, 32);
    keccak256Into(pair, 0, 64, node, 0);
  }
  return toHex(node, 0, 32) === want;
}

export class OwnerMerkleTree {
  /** What the tree was built from, in the order given (buildOf: the caller's objects, not copies). */
  private readonly items: readonly { readonly owner: Hex }[];
  private readonly amountAt: (k: number) => bigint;
  /** All nodes, 32 bytes each, node i at [32i, 32i + 32). */
  private readonly nodes: Uint8Array;
  /** Tree index of the k-th value. */
  private readonly treeIndex: Uint32Array;
  private byOwnerIndex: Map<Hex, number> | null = null;

  private constructor(
    items: readonly { readonly owner: Hex }[],
    amountAt: (k: number) => bigint,
    nodes: Uint8Array,
    treeIndex: Uint32Array,
  ) {
    this.items = items;
    this.amountAt = amountAt;
    this.nodes = nodes;
    this.treeIndex = treeIndex;
  }

  /** Owner -> value index, built on first lookup (building the tree does not need it). */
  private get byOwner(): Map<Hex, number> {
    if (this.byOwnerIndex === null) {
      this.byOwnerIndex = new Map();
      for (let k = 0; k < this.items.length; k++) this.byOwnerIndex.set(this.items[k]!.owner, k);
    }
    return this.byOwnerIndex;
  }

  static build(values: readonly MerkleLeafValue[]): OwnerMerkleTree {
    return OwnerMerkleTree.buildOf(values, (v) => v.amount);
  }

  /**
   * The tree of `items`, each leaf (item.owner, amountOf(item)), keeping the items themselves: a
   * payout's owners build the tree of their cumulative amounts without a second object per owner
   * (at a million owners, ~80 MB the tree would otherwise hold for as long as it lives).
   */
  static buildOf<T extends { readonly owner: Hex }>(
    items: readonly T[],
    amountOf: (item: T) => bigint,
  ): OwnerMerkleTree {
    const n = items.length;
    if (n === 0) throw new RangeError("a Merkle tree needs at least one leaf");
    if (n > 2 ** 31) throw new RangeError("too many leaves");
    const leaves = new Uint8Array(32 * n);
    const enc = new Uint8Array(64);
    const inner = new Uint8Array(32);
    const owners = new Set<Hex>();
    for (let k = 0; k < n; k++) {
      const v = { owner: items[k]!.owner, amount: amountOf(items[k]!) };
      if (!isHexBytes(v.owner, 20)) throw new RangeError(`bad owner address ${v.owner}`);
      if (v.amount < 0n || v.amount > MAX_UINT256) throw new RangeError(`amount out of range for ${v.owner}`);
      if (owners.has(v.owner)) throw new RangeError(`owner ${v.owner} twice`);
      owners.add(v.owner);
      hashLeafInto(v, enc, inner, leaves, 32 * k);
    }

    const order = sortByHash(leaves, n);

    const len = 2 * n - 1;
    const nodes = new Uint8Array(32 * len);
    const treeIndex = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      const t = len - 1 - i;
      for (let b = 0; b < 32; b++) nodes[32 * t + b] = leaves[32 * k + b]!;
      treeIndex[k] = t;
    }
    const pair = new Uint8Array(64);
    for (let i = len - 1 - n; i >= 0; i--) {
      const l = 32 * (2 * i + 1);
      const r = l + 32;
      if (compareBytes(nodes, l, nodes, r) <= 0) {
        keccak256Into(nodes, l, 64, nodes, 32 * i); // children are adjacent and already in order
      } else {
        for (let b = 0; b < 32; b++) {
          pair[b] = nodes[r + b]!;
          pair[32 + b] = nodes[l + b]!;
        }
        keccak256Into(pair, 0, 64, nodes, 32 * i);
      }
    }
    return new OwnerMerkleTree(items, (k) => amountOf(items[k]!), nodes, treeIndex);
  }

  /** The k-th value given to build (its leaf's owner and amount). */
  value(k: number): MerkleLeafValue {
    const item = this.items[k];
    if (item === undefined) throw new RangeError(`index ${k} out of bounds`);
    return { owner: item.owner, amount: this.amountAt(k) };
  }

  get length(): number {
    return this.items.length;
  }

  get root(): Hex {
    return toHex(this.nodes, 0, 32);
  }

  has(owner: Hex): boolean {
    return this.byOwner.has(owner);
  }

  /** Tree index of the k-th value (the dump's `treeIndex`: the leaf's position in the array tree). */
  leafIndexAt(k: number): number {
    const i = this.treeIndex[k];
    if (i === undefined) throw new RangeError(`index ${k} out of bounds`);
    return i;
  }

  /** Proof for an owner (sibling hashes from leaf to root), as the library's getProof. */
  proof(owner: Hex): Hex[] {
    const k = this.byOwner.get(owner);
    if (k === undefined) throw new RangeError(`owner ${owner} is not in the tree`);
    return this.proofAt(k);
  }

  /** Proof for the k-th value. */
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
      values: this.items.map((item, k) => ({
        value: [item.owner, this.amountAt(k).toString()],
        treeIndex: this.treeIndex[k]!,
      })),
    };
  }
}

/**
 * Leaf indexes in ascending order of their hashes (ties keep index order, as the library's
 * stable sort does). Hashes are uniform, so their first 32 bits almost always decide: each index
 * is packed with those bits into one float64 (first32 x 2^21 + index, exact below 2^53), the
 * typed array is sorted natively, and the rare runs sharing their first 32 bits are re-sorted on
 * the full 32 bytes.
 */
function sortByHash(leaves: Uint8Array, n: number): Uint32Array {
  const head = (k: number) =>
    ((leaves[32 * k]! << 24) |
      (leaves[32 * k + 1]! << 16) |
      (leaves[32 * k + 2]! << 8) |
      leaves[32 * k + 3]!) >>>
    0;
  const full = (a: number, b: number) => compareBytes(leaves, 32 * a, leaves, 32 * b) || a - b;
  const order = new Uint32Array(n);
  if (n > INDEX_SPAN) {
    const all = Array.from({ length: n }, (_, k) => k).sort(full);
    order.set(all);
    return order;
  }
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) keys[k] = head(k) * INDEX_SPAN + k;
  keys.sort();
  for (let i = 0; i < n; i++) order[i] = keys[i]! % INDEX_SPAN;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    const h = head(order[i]!);
    while (j < n && head(order[j]!) === h) j++;
    if (j - i > 1) order.set(Array.from(order.subarray(i, j)).sort(full), i);
    i = j;
  }
  return order;
}

const INDEX_SPAN = 2 ** 21;

function compareBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 32; i++) {
    const d = a[ao + i]! - b[bo + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
