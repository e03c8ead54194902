/**
 * Claim proofs: an owner's lifetime cumulative amount in the live root and its Merkle proof, built
 * from this oracle's stored result of the live epoch. The one place the oracle builds proofs; the
 * API's owner route serves what it returns, and wallets claim with it.
 */
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import type { OracleStore } from "../store/types.js";
import type { ChainReader } from "./chain.js";

export interface OwnerClaim {
  readonly owner: Hex;
  /** Epoch of the live root. */
  readonly epoch: bigint;
  readonly root: Hex;
  /** Lifetime amount in the live root: the Merkle leaf, what `claim` takes. */
  readonly cumulative: bigint;
  /** Already claimed on chain. */
  readonly claimed: bigint;
  /** cumulative - claimed (never negative). */
  readonly claimable: bigint;
  readonly proof: readonly Hex[];
}

/** Why no proof can be served, with the HTTP status the API answers. */
export class ClaimProofError extends Error {
  override readonly name = "ClaimProofError";
  constructor(
    readonly status: 404 | 409 | 503,
    message: string,
    /** Stable code of the API answer. */
    readonly code: "no_live_root" | "no_result" | "root_mismatch" | "no_leaf",
  ) {
    super(message);
  }
}

export class ClaimProofs {
  /** The live epoch's tree: rebuilt only when the live root moves on. */
  private cached: { readonly epoch: bigint; readonly tree: OwnerMerkleTree } | undefined;

  constructor(
    private readonly store: OracleStore,
    private readonly chain: ChainReader,
  ) {}

  async forOwner(address: string): Promise<OwnerClaim> {
    const owner = address.toLowerCase() as Hex;
    const live = await this.chain.liveRoot();
    if (live === null) throw new ClaimProofError(404, "no root is live yet", "no_live_root");
    const result = await this.store.getEpochResult(live.epoch);
    if (result === null)
      throw new ClaimProofError(
        503,
        `this oracle has no result for the live epoch ${live.epoch}`,
        "no_result",
      );
    if (result.root !== live.root) {
      throw new ClaimProofError(
        409,
        `the live root of epoch ${live.epoch} is ${live.root}, this oracle computed ${result.root}`,
        "root_mismatch",
      );
    }
    const leaf = result.owners.find((o) => o.owner === owner);
    if (leaf === undefined)
      throw new ClaimProofError(
        404,
        `owner ${owner} has no amount in the live root (epoch ${live.epoch})`,
        "no_leaf",
      );
    if (this.cached?.epoch !== live.epoch) {
      const leaves = result.owners.map((o) => ({ owner: o.owner, amount: o.cumulative }));
      this.cached = { epoch: live.epoch, tree: OwnerMerkleTree.build(leaves) };
    }
    const claimed = await this.chain.claimed(owner);
    return {
      owner,
      epoch: live.epoch,
      root: live.root,
      cumulative: leaf.cumulative,
      claimed,
      claimable: leaf.cumulative > claimed ? leaf.cumulative - claimed : 0n,
      proof: this.cached.tree.proof(owner),
    };
  }
}
