/**
 * Claim proofs: an owner's lifetime cumulative amount in the live root and its Merkle proof, built
 * from this oracle's stored result of the live epoch. The one place the oracle builds proofs; the
 * API's owner route serves what it returns, and wallets claim with it.
 */
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import type { OracleStore } from "../store/types.js";
import type { ChainReader } from "./chain.js";

/** A root's state on chain, as the owner route reports it. */
export type RootStatus = "live" | "pending" | "unposted" | "superseded";

export interface OwnerClaim {
  readonly owner: Hex;
  /** Epoch of the root (the live one unless asked for another). */
  readonly epoch: bigint;
  readonly root: Hex;
  /** live: claimable now; pending: inside its challenge window, claimable once it goes live. */
  readonly status: RootStatus;
  /** Lifetime amount in the live root: the Merkle leaf, what `claim` takes. */
  readonly cumulative: bigint;
  /** Already claimed on chain. */
  readonly claimed: bigint;
  /** cumulative - claimed for the live root (never negative); 0 for any other root. */
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
  /** The last epoch's tree: rebuilt only when another epoch is asked for. */
  private cached: { readonly epoch: bigint; readonly tree: OwnerMerkleTree } | undefined;

  constructor(
    private readonly store: OracleStore,
    private readonly chain: ChainReader,
  ) {}

  /**
   * The owner's leaf and proof in the live root, or in this oracle's root of `epoch` (a pending root
   * too: status "pending"). A root on chain for that epoch other than this oracle's is a 409.
   */
  async forOwner(address: string, epoch?: bigint): Promise<OwnerClaim> {
    const owner = address.toLowerCase() as Hex;
    const live = await this.chain.liveRoot();
    let status: RootStatus;
    let target: bigint;
    if (epoch === undefined) {
      if (live === null) {
        const pending = await this.chain.pendingRoot();
        throw new ClaimProofError(
          404,
          pending === null
            ? "no root is live yet"
            : `no root is live yet; epoch ${pending.epoch} is pending (ask with ?epoch=${pending.epoch})`,
          "no_live_root",
        );
      }
      target = live.epoch;
      status = "live";
    } else {
      target = epoch;
      const pending = await this.chain.pendingRoot();
      status =
        live?.epoch === epoch
          ? "live"
          : pending?.epoch === epoch
            ? "pending"
            : live !== null && epoch < live.epoch
              ? "superseded"
              : "unposted";
    }
    const result = await this.store.getEpochResult(target);
    if (result === null)
      throw new ClaimProofError(
        epoch === undefined ? 503 : 404,
        `this oracle has no result for ${epoch === undefined ? "the live " : ""}epoch ${target}`,
        "no_result",
      );
    const onChain =
      status === "live" ? live!.root : status === "pending" ? (await this.chain.pendingRoot())!.root : null;
    if (onChain !== null && result.root !== onChain) {
      throw new ClaimProofError(
        409,
        `the ${status} root of epoch ${target} is ${onChain}, this oracle computed ${result.root}`,
        "root_mismatch",
      );
    }
    const leaf = result.owners.find((o) => o.owner === owner);
    if (leaf === undefined)
      throw new ClaimProofError(
        404,
        `owner ${owner} has no amount in the ${status} root (epoch ${target})`,
        "no_leaf",
      );
    if (this.cached?.epoch !== target) {
      const leaves = result.owners.map((o) => ({ owner: o.owner, amount: o.cumulative }));
      this.cached = { epoch: target, tree: OwnerMerkleTree.build(leaves) };
    }
    const claimed = await this.chain.claimed(owner);
    return {
      owner,
      epoch: target,
      root: result.root,
      status,
      cumulative: leaf.cumulative,
      claimed,
      claimable: status === "live" && leaf.cumulative > claimed ? leaf.cumulative - claimed : 0n,
      proof: this.cached.tree.proof(owner),
    };
  }
}
