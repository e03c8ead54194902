/**
 * An owner's rewards from one kind of work's RewardsDistributor (coverage, storage or compute: each
 * has its own roots and oracle set): earned in the live root (the oracle's leaf), claimed (the
 * chain), claimable, the root's epoch and status, and Claim, which fetches the proof with `?work=`,
 * checks it in the browser against that distributor's live root, and sends nothing if it fails.
 */
import { useQuery } from "@tanstack/react-query";
import type { Address, Hex } from "viem";

import { RewardsDistributorAbi } from "@hexmesh/contracts/abis";
import { OracleApiError } from "@hexmesh/oracle/api/client";
import { verifyOwnerProof } from "@hexmesh/protocol";

import { readOwnerRewards, ZERO_ROOT } from "../lib/chain";
import { WORK_NAMES, type RewardWork } from "../lib/config";
import { useApp } from "../lib/context";
import { mesh, shortHex } from "../lib/format";
import { useOwnerRewardsChain } from "../lib/useData";
import type { useTransaction } from "./Wallet";

/**
 * The owner's leaf of `work` from the oracle, or why there is none: `{ missing: code, message }` for
 * a kind the oracle does not serve, no live root, no leaf for the owner, or any other coded answer.
 */
function useOwnerLeaf(work: RewardWork, owner: Address) {
  const { oracle } = useApp();
  return useQuery({
    queryKey: ["owner-leaf", work, owner],
    refetchInterval: 10_000,
    retry: false,
    queryFn: async () => {
      try {
        return { leaf: await oracle.owner(owner, { work }) };
      } catch (e) {
        // An answer with a code (404 not served / no live root / no leaf, 409 root mismatch, 503 no
        // result) says why there is no proof; no answer at all is the oracle being down.
        if (e instanceof OracleApiError && !e.unreachable && e.code !== undefined)
          return { missing: e.code, message: e.apiMessage };
        throw e;
      }
    },
  });
}

/** What the page says when the oracle has no leaf to show, by the oracle's code. */
function missingText(work: RewardWork, code: string, message: string): string {
  switch (code) {
    case "work_not_served":
      return `The oracle does not serve ${work} rewards: earned and claimable are unknown here (oracle: ${message}).`;
    case "no_live_root":
      return `No ${work} root is live on chain yet: nothing to claim (oracle: ${message}).`;
    case "no_leaf":
      return `This owner has earned nothing in the live ${work} root: nothing to claim (oracle: ${message}).`;
    default:
      return `The oracle has no proof of the live ${work} root to give: nothing can be claimed here (oracle: ${message}).`;
  }
}

export function OwnerRewards({
  work,
  distributor,
  owner,
  canClaim,
  tx,
}: {
  readonly work: RewardWork;
  readonly distributor: Address;
  readonly owner: Address;
  /** Whether the connected wallet is this owner's. */
  readonly canClaim: boolean;
  /** The page's one transaction state (its status line is shown once, below the sections). */
  readonly tx: ReturnType<typeof useTransaction>;
}) {
  const { client, oracle } = useApp();
  const chain = useOwnerRewardsChain(distributor, owner);
  const answer = useOwnerLeaf(work, owner);
  const leaf = answer.data?.leaf;
  const c = chain.data;
  const cumulative = leaf ? BigInt(leaf.cumulative) : 0n;
  const claimable = c && leaf?.status === "live" && cumulative > c.claimed ? cumulative - c.claimed : 0n;
  const id = (field: string) => `${work}-${field}`;

  async function claim() {
    // Fresh figures: the oracle's leaf and proof for this kind, and its distributor's live root now.
    let fresh;
    try {
      fresh = await oracle.owner(owner, { work });
    } catch (e) {
      tx.fail(
        `Claim ${work}: cannot get the proof from the oracle: ${e instanceof Error ? e.message : String(e)}`,
      );
      return;
    }
    const now = await readOwnerRewards(client, distributor, owner);
    const amount = BigInt(fresh.cumulative);
    if (!verifyOwnerProof(now.liveRoot.root, { owner, amount }, fresh.proof as Hex[])) {
      tx.fail(
        `Claim ${work}: the oracle's proof does not verify against the ${work} root on chain (epoch ${now.liveRoot.epoch}, ${shortHex(now.liveRoot.root)}); nothing was sent`,
      );
      return;
    }
    await tx.write(`Claim ${work}`, {
      address: distributor,
      abi: RewardsDistributorAbi,
      functionName: "claim",
      args: [owner, amount, fresh.proof as Hex[]],
    });
  }

  return (
    <section aria-labelledby={id("title")} data-testid={id("rewards")}>
      <h2 id={id("title")}>{WORK_NAMES[work]} rewards</h2>
      {answer.error ? (
        <p role="alert">
          The oracle cannot be reached: {work} rewards are unavailable ({String(answer.error)}).
        </p>
      ) : null}
      {answer.data?.missing !== undefined ? (
        <p data-testid={id("note")}>{missingText(work, answer.data.missing, answer.data.message)}</p>
      ) : null}
      <dl className="stats">
        <div>
          <dt>Earned (cumulative)</dt>
          <dd data-testid={id("earned")}>
            {answer.data === undefined ? "…" : leaf ? `${mesh(cumulative, 4)} MESH` : "none"}
          </dd>
        </div>
        <div>
          <dt>Claimed</dt>
          <dd data-testid={id("claimed")}>{c ? `${mesh(c.claimed, 4)} MESH` : "…"}</dd>
        </div>
        <div>
          <dt>Claimable</dt>
          <dd data-testid={id("claimable")}>{mesh(claimable, 4)} MESH</dd>
        </div>
        <div>
          <dt>Root</dt>
          <dd data-testid={id("root")}>
            {leaf
              ? `epoch ${leaf.epoch}, ${leaf.status}`
              : c === undefined
                ? "…"
                : c.liveRoot.root === ZERO_ROOT
                  ? "none live"
                  : `epoch ${c.liveRoot.epoch}, live`}
          </dd>
        </div>
      </dl>
      {leaf && c ? (
        <p className="asof">
          oracle root <code>{shortHex(leaf.root)}</code>; on chain <code>{shortHex(c.liveRoot.root)}</code>
          {leaf.root !== c.liveRoot.root.toLowerCase() ? " (they differ: a claim would not verify)" : ""}
        </p>
      ) : null}
      <button type="button" onClick={() => void claim()} disabled={!canClaim || claimable === 0n}>
        Claim {mesh(claimable, 4)} MESH of {work} rewards
      </button>
    </section>
  );
}
