/**
 * One epoch of the mission, shared by the demo and the end-to-end test: close the epoch on chain
 * (distribute), let every oracle node compute it independently, check they agree, gather k
 * signatures, post through the aggregator, and (after the challenge window) claim. No top-level side
 * effects.
 */
import type { EpochRootAggregator, PostOutcome, PostRequest } from "@hexmesh/oracle";
import { claimFor } from "@hexmesh/oracle/post/claims";
import type { ComputedEpoch, OracleNode } from "@hexmesh/oracle/post/node";
import type { CoverageInputs } from "@hexmesh/oracle";
import type { Suite } from "./suite.js";

export interface TimeControl {
  increaseTo(timestamp: bigint | number): Promise<void>;
  latest(): Promise<number>;
}

/** Moves the chain past the end of `epoch` and distributes it (funds its coverage pool). */
export async function closeEpoch(suite: Suite, time: TimeControl, epoch: bigint): Promise<void> {
  const end = suite.genesisTime + (epoch + 1n) * suite.epochLength;
  if (BigInt(await time.latest()) < end) await time.increaseTo(end);
  while ((await suite.controller.nextEpoch()) <= epoch) {
    await (await suite.controller.distribute(8)).wait();
  }
}

export interface PostedEpoch {
  readonly computed: ComputedEpoch[];
  readonly request: PostRequest;
  readonly outcome: PostOutcome;
}

/**
 * Every node computes the epoch on its own; all must produce the same root and dataHash (the
 * canonical encoding is byte-identical), then the aggregator posts with k of their signatures.
 */
export async function computeAndPost(
  nodes: readonly OracleNode[],
  aggregator: EpochRootAggregator,
  epoch: bigint,
  inputs: readonly CoverageInputs[],
): Promise<PostedEpoch> {
  const computed: ComputedEpoch[] = [];
  for (const [i, node] of nodes.entries()) computed.push(await node.compute(epoch, inputs[i] ?? inputs[0]!));
  const first = computed[0]!.result.commit.epochRoot;
  for (const [i, c] of computed.entries()) {
    const r = c.result.commit.epochRoot;
    if (
      r.root !== first.root ||
      r.dataHash !== first.dataHash ||
      r.totalCumulative !== first.totalCumulative
    ) {
      throw new Error(
        `epoch ${epoch}: oracle ${i} computed ${r.root}/${r.dataHash}, oracle 0 ${first.root}/${first.dataHash}`,
      );
    }
  }
  const request = await aggregator.request(first);
  const signatures = nodes.map((n, i) => n.sign(request.domain, request.value, computed[i]!));
  const outcome = await aggregator.post(request, signatures);
  nodes.forEach((n, i) => n.accept(computed[i]!));
  return { computed, request, outcome };
}

/** Waits out the challenge window of the pending root and finalizes it. */
export async function passChallengeWindow(suite: Suite, time: TimeControl): Promise<void> {
  const [, , , readyAt] = await suite.distributor.pendingRoot();
  if (readyAt === 0n) return;
  if (BigInt(await time.latest()) < readyAt) await time.increaseTo(readyAt);
  await (await suite.distributor.finalize()).wait();
}

/** Claims every owner's due amount with the proof served by `node`. Returns amounts paid by owner. */
export async function claimAll(suite: Suite, node: OracleNode): Promise<Map<string, bigint>> {
  const server = node.claimServer;
  const paid = new Map<string, bigint>();
  if (server === undefined) return paid;
  for (const owner of server.owners()) {
    const p = server.proof(owner)!;
    const before = await suite.token.balanceOf(owner);
    const due = p.cumulative - (await suite.distributor.claimed(owner));
    const amount = await claimFor(suite.distributor, p);
    const received = (await suite.token.balanceOf(owner)) - before;
    if (amount !== due || received !== due)
      throw new Error(`claim of ${owner}: due ${due}, paid ${amount}, received ${received}`);
    paid.set(owner, received);
  }
  return paid;
}
