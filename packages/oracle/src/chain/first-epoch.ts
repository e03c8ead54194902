/**
 * The first epoch an oracle computes when `chain.firstEpoch` is not set, read from the chain so that
 * every oracle of a set, started at any time, arrives at the same one (their cumulative totals, and so
 * their roots, agree only if they start from the same epoch):
 *
 * - nothing posted on the distributor yet: the epoch of block `chain.fromBlock` (the deployment's
 *   block): nothing can have been earned before it, and every oracle reading from that block agrees;
 * - a root posted (pending or live) for epoch P: the next root carries every owner's cumulative total
 *   on from P's, which only an oracle holding P's result knows. With it stored, the oracle continues
 *   at P + 1; without it, it refuses and says how to join.
 */
import { withRetry, type RetryOptions } from "../util/retry.js";
import type { ChainContracts } from "./indexer.js";

export interface FirstEpochChoice {
  readonly epoch: bigint;
  /** One sentence for the operator: which epoch and why. */
  readonly reason: string;
}

const ZERO_ROOT = `0x${"0".repeat(64)}`;

export async function deriveFirstEpoch(
  contracts: ChainContracts,
  fromBlock: number,
  hasResult: (epoch: bigint) => Promise<boolean>,
  retry?: RetryOptions,
): Promise<FirstEpochChoice> {
  const { distributor, controller, registry } = contracts;
  const [live, pending] = await withRetry(
    () => Promise.all([distributor.liveRoot(), distributor.pendingRoot()]),
    retry,
  );
  const posted =
    pending.root !== ZERO_ROOT
      ? { epoch: pending.epoch, state: "pending", root: pending.root }
      : live.root !== ZERO_ROOT
        ? { epoch: live.epoch, state: "live", root: live.root }
        : undefined;
  if (posted !== undefined) {
    if (await hasResult(posted.epoch))
      return {
        epoch: posted.epoch + 1n,
        reason:
          `chain.firstEpoch is not set: epoch ${posted.epoch} is the last one posted on the distributor ` +
          `(${posted.state}) and this oracle's store holds its result, so it continues at epoch ${posted.epoch + 1n}`,
      };
    throw new Error(
      `chain.firstEpoch is not set and epoch ${posted.epoch} is already posted on the distributor ` +
        `(${posted.state} root ${posted.root}), but this oracle's store has no result for it: the next root ` +
        `carries every owner's cumulative total on from it, which the chain alone does not give. Join with a ` +
        `copy of the store of an oracle that closed epoch ${posted.epoch} (or close every epoch from the ` +
        `deployment's on, with the same inputs), or set chain.firstEpoch if you know why (docs/operate.md)`,
    );
  }
  const provider = registry.runner!.provider!;
  const [block, genesis, length] = await withRetry(
    () => Promise.all([provider.getBlock(fromBlock), controller.genesisTime(), controller.epochLength()]),
    retry,
  );
  if (block === null) throw new Error(`chain.fromBlock ${fromBlock} is not on this chain yet`);
  const time = BigInt(block.timestamp);
  const epoch = time < genesis ? 0n : (time - genesis) / length;
  return {
    epoch,
    reason:
      `chain.firstEpoch is not set and nothing has been posted on the distributor yet: starting at epoch ` +
      `${epoch}, the epoch of block ${fromBlock} (chain.fromBlock, time ${time}), where every oracle reading ` +
      `from that block starts`,
  };
}
