/**
 * The aggregator: gathers k oracle signatures of one EpochRoot and posts it through the typed
 * binding, at most once.
 *
 * Idempotence: before every attempt it reads the distributor. If the epoch is already pending with
 * the same root, or live (or a later epoch is), it skips; a different root for the same epoch is
 * a conflict and an error (another oracle quorum disagrees: a human must look). A transaction whose
 * response was lost is found by that same check on the retry, so a root is never posted twice.
 * RPC failures (network, timeout, server) are retried with exponential backoff, a bounded number
 * of times; contract reverts are not retried.
 */
import { recoverAddress, type Signer, type TypedDataDomain } from "ethers";

import type { RewardsDistributor } from "@hexmesh/contracts";
import { distributorDomain, type EpochRoot, type Hex, type SignedEpochRoot } from "@hexmesh/protocol";

import { withRetry, type RetryOptions } from "../util/retry.js";
import { epochRootDigest, packSignatures, type OracleSignature } from "./sign.js";

export type RootState =
  | { readonly state: "open" }
  | { readonly state: "pending"; readonly readyAt: bigint }
  | { readonly state: "live" }
  /** A later epoch is pending or live: this one can no longer be posted (claims are cumulative). */
  | { readonly state: "superseded"; readonly by: bigint };

export class RootConflictError extends Error {
  override readonly name = "RootConflictError";
}

/**
 * `skipped` with state `empty`: the epoch's tree has no leaf (no owner has earned yet, in this or any
 * earlier epoch), so its root is zero, which the distributor refuses (DistributorZeroRoot). Every
 * oracle computes the same empty result, so all skip; cumulative totals carry over in the stored
 * result and the next epoch with rewards posts normally (the distributor takes any later epoch).
 */
export type PostOutcome =
  | {
      readonly status: "posted";
      readonly txHash: string;
      readonly block: number;
      readonly gasUsed: bigint;
      readonly readyAt: bigint;
    }
  | { readonly status: "skipped"; readonly state: Exclude<RootState["state"], "open"> | "empty" };

export interface PostRequest {
  readonly domain: TypedDataDomain;
  readonly value: SignedEpochRoot;
  readonly threshold: number;
  readonly oracles: readonly Hex[];
}

export class EpochRootAggregator {
  constructor(
    private readonly distributor: RewardsDistributor,
    private readonly retry: RetryOptions = {},
  ) {}

  /** What the oracles must sign for `root`: the current oracle set's version, domain and threshold. */
  async request(root: EpochRoot): Promise<PostRequest> {
    const d = this.distributor;
    const [network, address, version, threshold, oracles] = await withRetry(
      () =>
        Promise.all([
          d.runner!.provider!.getNetwork(),
          d.getAddress(),
          d.oracleSetVersion(),
          d.threshold(),
          d.oracles(),
        ]),
      this.retry,
    );
    return {
      domain: distributorDomain(network.chainId, address),
      value: { ...root, oracleSetVersion: version },
      threshold: Number(threshold),
      oracles: oracles.map((o) => o.toLowerCase() as Hex),
    };
  }

  /** Where `value`'s epoch stands on chain. Throws RootConflictError on a different root for it. */
  async state(value: SignedEpochRoot): Promise<RootState> {
    const d = this.distributor;
    const [live, pending] = await withRetry(() => Promise.all([d.liveRoot(), d.pendingRoot()]), this.retry);
    const [liveEpoch, liveRoot] = live;
    const [pendingEpoch, pendingRoot, , readyAt] = pending;
    const same = (r: string) => r.toLowerCase() === value.root.toLowerCase();
    if (readyAt !== 0n) {
      if (pendingEpoch === value.epoch) {
        if (!same(pendingRoot)) {
          throw new RootConflictError(
            `epoch ${value.epoch} is pending with root ${pendingRoot}, not ${value.root}`,
          );
        }
        return { state: "pending", readyAt };
      }
      if (pendingEpoch > value.epoch) return { state: "superseded", by: pendingEpoch };
    }
    // A posted root is never zero, so a zero live root means none yet.
    if (BigInt(liveRoot) !== 0n) {
      if (liveEpoch === value.epoch) {
        if (!same(liveRoot)) {
          throw new RootConflictError(
            `epoch ${value.epoch} is live with root ${liveRoot}, not ${value.root}`,
          );
        }
        return { state: "live" };
      }
      if (liveEpoch > value.epoch) return { state: "superseded", by: liveEpoch };
    }
    return { state: "open" };
  }

  /**
   * Keeps the signatures of oracles of the current set that signed exactly `request.value`
   * (recovered from the digest), so one bad or stale signature cannot spoil a post.
   */
  verified(request: PostRequest, signatures: readonly OracleSignature[]): OracleSignature[] {
    const digest = epochRootDigest(request.domain, request.value);
    const set = new Set(request.oracles);
    return signatures.filter((s) => {
      try {
        const signer = recoverAddress(digest, s.signature).toLowerCase();
        return signer === s.signer && set.has(s.signer);
      } catch {
        return false;
      }
    });
  }

  /**
   * The posting account's next nonce, asked of the node itself. Ethers providers answer a repeated
   * `getTransactionCount` from a 250 ms cache, so a post sent right after another from the same
   * account would reuse its nonce and be refused ("nonce too low"); the chain-fault test hit this.
   */
  private async nextNonce(): Promise<number> {
    const signer = this.distributor.runner as Signer | null;
    if (signer === null || typeof signer.getAddress !== "function") {
      throw new Error("the distributor binding has no signer: connect it to the posting account");
    }
    const provider = signer.provider as {
      send?: (method: string, params: unknown[]) => Promise<unknown>;
    } | null;
    if (typeof provider?.send !== "function") return signer.getNonce("pending");
    return Number(await provider.send("eth_getTransactionCount", [await signer.getAddress(), "pending"]));
  }

  /** Posts `request.value` with k of the signatures, unless the epoch is already pending or live. */
  async post(request: PostRequest, signatures: readonly OracleSignature[]): Promise<PostOutcome> {
    const v = request.value;
    if (BigInt(v.root) === 0n) return { status: "skipped", state: "empty" };
    const good = this.verified(request, signatures);
    const packed = packSignatures(good, request.threshold);
    const struct = {
      epoch: v.epoch,
      root: v.root,
      totalCumulative: v.totalCumulative,
      dataHash: v.dataHash,
      oracleSetVersion: v.oracleSetVersion,
    };
    return withRetry(async () => {
      const s = await this.state(v);
      if (s.state !== "open") return { status: "skipped", state: s.state };
      const tx = await this.distributor.postRoot(struct, packed, { nonce: await this.nextNonce() });
      const receipt = await tx.wait();
      if (receipt === null || receipt.status !== 1) throw new Error(`postRoot ${tx.hash} failed`);
      const after = await this.distributor.pendingRoot();
      return {
        status: "posted",
        txHash: tx.hash,
        block: receipt.blockNumber,
        gasUsed: receipt.gasUsed,
        readyAt: after[3],
      };
    }, this.retry);
  }
}
