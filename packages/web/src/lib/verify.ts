/**
 * Verify an epoch in the browser: rebuild the owner Merkle tree from the epoch's published leaves
 * with @hexmesh/protocol (the oracles' own code) and compare its root and total with what the
 * chain's RootPosted event committed. When the root differs, find the first published leaf that the
 * chain's root does not contain: a leaf is in the committed tree exactly when a proof of it verifies
 * against the on-chain root (proofs come from the oracle, but a proof cannot lie).
 */
import { OwnerMerkleTree, verifyOwnerProof, type Hex } from "@hexmesh/protocol";

export interface VerifyRequest {
  readonly leaves: readonly { readonly owner: Hex; readonly cumulative: string }[];
  readonly chain: { readonly root: Hex; readonly totalCumulative: string; readonly dataHash: Hex };
  readonly published: { readonly root: Hex; readonly dataHash: Hex };
  /** Proofs for the leaves' owners against the chain's root, where the oracle serves them. */
  readonly proofs?: Readonly<Record<string, readonly Hex[] | null>>;
}

export interface VerifyResult {
  readonly leafCount: number;
  readonly root: Hex;
  readonly totalCumulative: string;
  readonly rootMatches: boolean;
  readonly totalMatches: boolean;
  /** The dataHash the oracle publishes equals the one on chain (recomputing it needs the encoding). */
  readonly dataHashMatches: boolean;
  /** Index (in published order) and value of the first leaf the chain's root does not hold. */
  readonly firstMismatch: { readonly index: number; readonly owner: Hex; readonly cumulative: string } | null;
  /** Set when the mismatch could not be located (no proofs for this root). */
  readonly note: string | null;
}

export function verifyEpoch(req: VerifyRequest): VerifyResult {
  const values = req.leaves.map((l) => ({
    owner: l.owner.toLowerCase() as Hex,
    amount: BigInt(l.cumulative),
  }));
  const ZERO = `0x${"00".repeat(32)}` as Hex;
  const root = values.length === 0 ? ZERO : OwnerMerkleTree.build(values).root;
  const total = values.reduce((s, v) => s + v.amount, 0n);
  const rootMatches = root === req.chain.root.toLowerCase();
  let firstMismatch: VerifyResult["firstMismatch"] = null;
  let note: string | null = null;
  if (!rootMatches) {
    if (req.proofs === undefined)
      note = "no proofs for this root: the first differing leaf cannot be located";
    else
      for (const [index, v] of values.entries()) {
        const proof = req.proofs[v.owner];
        if (proof === undefined || proof === null || !verifyOwnerProof(req.chain.root, v, proof)) {
          firstMismatch = { index, owner: v.owner, cumulative: v.amount.toString() };
          break;
        }
      }
  }
  return {
    leafCount: values.length,
    root,
    totalCumulative: total.toString(),
    rootMatches,
    totalMatches: total === BigInt(req.chain.totalCumulative),
    dataHashMatches: req.published.dataHash.toLowerCase() === req.chain.dataHash.toLowerCase(),
    firstMismatch,
    note,
  };
}
