/**
 * One epoch, end to end, without the chain:
 *
 *   ChainIndex ──► ChainView ─┐
 *   reports + entropy ────────┴─► Verifier.verify ─► WorkResult ─► computePayout ─► commitEpoch
 *                                (verify/)                        (rewards/)        (commit/)
 *
 * The result (EpochCommit.epochRoot) is what the signing and posting stages take. Deterministic:
 * the same chain index, reports and entropy log (in any order) give byte-identical encodings.
 */
import type { ChainIndex } from "./chain/types.js";
import { ChainView } from "./chain/view.js";
import { commitEpoch, type EpochCommit } from "./commit/commit.js";
import { computePayout, type Payout } from "./rewards/payout.js";
import { DEFAULT_USAGE_PARAMS, type UsageParams } from "./rewards/usage.js";
import type { Verifier, WorkResult } from "./work.js";

export interface EpochResult<W extends WorkResult = WorkResult> {
  readonly chain: ChainView;
  readonly work: W;
  readonly payout: Payout;
  readonly commit: EpochCommit;
}

export interface EpochOptions {
  /** The usage-linked reward rule's parameters (rewards/usage.ts); default DEFAULT_USAGE_PARAMS. */
  readonly usage?: UsageParams;
}

/**
 * Runs any kind of work's verifier through the shared reward and commit stages. `index`: the chain
 * index, or its ChainView when the caller built one already (a view holds every device: one per
 * epoch is enough).
 */
export async function runEpoch<I, W extends WorkResult>(
  verifier: Verifier<I, W>,
  index: ChainIndex | ChainView,
  inputs: I,
  options: EpochOptions = {},
): Promise<EpochResult<W>> {
  const chain = index instanceof ChainView ? index : new ChainView(index);
  const work = await verifier.verify(chain, inputs);
  if (work.kind !== verifier.kind) throw new Error(`verifier ${verifier.kind} returned ${work.kind} work`);
  const payout = computePayout(chain, work, options.usage ?? DEFAULT_USAGE_PARAMS);
  const commit = commitEpoch(chain, work, payout);
  return { chain, work, payout, commit };
}
