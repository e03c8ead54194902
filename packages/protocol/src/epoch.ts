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

/**
 * Told as each stage of a long computation ends (an epoch close runs for an hour at 40M reports):
 * `step` names the stage, `done` of `total` its items; a stage has ended when done === total.
 */
export type StageProgress = (step: string, done: number, total: number) => void;

export interface EpochOptions {
  /** The usage-linked reward rule's parameters (rewards/usage.ts); default DEFAULT_USAGE_PARAMS. */
  readonly usage?: UsageParams;
  /** Told when the payout (its devices) and the commit (its owners) are done. */
  readonly progress?: StageProgress;
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
  const progress = options.progress ?? (() => {});
  const payout = computePayout(chain, work, options.usage ?? DEFAULT_USAGE_PARAMS);
  progress("payout", payout.devices.length, payout.devices.length);
  const commit = commitEpoch(chain, work, payout);
  progress("commit", payout.owners.length, payout.owners.length);
  return { chain, work, payout, commit };
}
