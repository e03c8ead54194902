/**
 * Claim proofs: an owner's lifetime cumulative amount in the live root and its Merkle proof, built
 * from this oracle's stored result of the live epoch. The one place the oracle builds proofs; the
 * API's owner route serves what it returns, and wallets claim with it. Each kind of work has its own
 * distributor and results (coverage, and storage or compute where config `works` names them).
 */
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import type { OracleStore, WorkKind } from "../store/types.js";
import type { DistributorReader } from "./chain.js";

/** A root's state on chain, as the owner route reports it. */
export type RootStatus = "live" | "pending" | "unposted" | "superseded";

export interface OwnerClaim {
  readonly owner: Hex;
  /** The kind of work whose distributor the proof is for. */
  readonly work: WorkKind;
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
    readonly code: "no_live_root" | "no_result" | "root_mismatch" | "no_leaf" | "work_not_served",
  ) {
    super(message);
  }
}

export class ClaimProofs {
  /** The last tree served: rebuilt only when another kind or epoch is asked for. */
  private cached:
    | { readonly work: WorkKind; readonly epoch: bigint; readonly tree: OwnerMerkleTree }
    | undefined;

  /** `distributors`: the reader of each kind's distributor this oracle serves (coverage always). */
  constructor(
    private readonly store: OracleStore,
    private readonly distributors: ReadonlyMap<WorkKind, DistributorReader>,
  ) {}

  /**
   * The owner's leaf and proof in the live root of `work`'s distributor, or in this oracle's root of
   * `epoch` (a pending root too: status "pending"). A root on chain for that epoch other than this
   * oracle's is a 409; a kind this oracle does not serve is a 404.
   */
  async forOwner(address: string, epoch?: bigint, work: WorkKind = "coverage"): Promise<OwnerClaim> {
    const owner = address.toLowerCase() as Hex;
    const distributor = this.distributors.get(work);
    if (distributor === undefined)
      throw new ClaimProofError(
        404,
        `this oracle does not serve ${work} epochs (config works.${work})`,
        "work_not_served",
      );
    const what = work === "coverage" ? "" : `${work} `;
    const live = await distributor.liveRoot();
    let status: RootStatus;
    let target: bigint;
    /** The root on chain for the target epoch (live or pending), null for the other statuses. */
    let onChain: Hex | null;
    if (epoch === undefined) {
      if (live === null) {
        const pending = await distributor.pendingRoot();
        throw new ClaimProofError(
          404,
          pending === null
            ? `no ${what}root is live yet`
            : `no ${what}root is live yet; epoch ${pending.epoch} is pending (ask with ?epoch=${pending.epoch})`,
          "no_live_root",
        );
      }
      target = live.epoch;
      status = "live";
      onChain = live.root;
    } else {
      target = epoch;
      const pending = await distributor.pendingRoot();
      status =
        live?.epoch === epoch
          ? "live"
          : pending?.epoch === epoch
            ? "pending"
            : live !== null && epoch < live.epoch
              ? "superseded"
              : "unposted";
      onChain = status === "live" ? live!.root : status === "pending" ? pending!.root : null;
    }
    const result = await this.store.getEpochResult(target, work);
    if (result === null)
      throw new ClaimProofError(
        epoch === undefined ? 503 : 404,
        `this oracle has no result for ${epoch === undefined ? "the live " : ""}${what}epoch ${target}`,
        "no_result",
      );
    if (onChain !== null && result.root !== onChain) {
      throw new ClaimProofError(
        409,
        `the ${status} root of ${what}epoch ${target} is ${onChain}, this oracle computed ${result.root}`,
        "root_mismatch",
      );
    }
    const leaf = result.owners.find((o) => o.owner === owner);
    if (leaf === undefined)
      throw new ClaimProofError(
        404,
        `owner ${owner} has no amount in the ${status} ${what}root (epoch ${target})`,
        "no_leaf",
      );
    if (this.cached?.epoch !== target || this.cached.work !== work) {
      const leaves = result.owners.map((o) => ({ owner: o.owner, amount: o.cumulative }));
      this.cached = { work, epoch: target, tree: OwnerMerkleTree.build(leaves) };
    }
    const claimed = await distributor.claimed(owner);
    return {
      owner,
      work,
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
