/**
 * The chain's side of an epoch in the demo, the oracle dev service and the end-to-end test: end the
 * epoch and distribute it (funding its coverage pool), and wait out a posted root's challenge
 * window. No top-level side effects.
 */
import type { Suite } from "./suite.js";

/** The epoch's bounds in Unix ms, as the oracle's reports and the simulator take them. */
export function epochBoundsMs(
  suite: Pick<Suite, "genesisTime" | "epochLength">,
  epoch: bigint,
): { readonly epochStart: number; readonly epochEnd: number } {
  const epochStart = Number(suite.genesisTime + epoch * suite.epochLength) * 1000;
  return { epochStart, epochEnd: epochStart + Number(suite.epochLength) * 1000 };
}

/**
 * How long after an epoch's end the oracles may close it: two witness windows (8 s) and the close
 * grace (60 s) of @hexmesh/oracle's EpochService, plus a second.
 */
export const CLOSE_AFTER_END_S = 69n;

/**
 * Moves the chain past the end of `epoch` (far enough for the oracles to close it: CLOSE_AFTER_END_S)
 * and distributes it (funds its coverage pool).
 */
export async function closeEpoch(
  suite: Pick<Suite, "genesisTime" | "epochLength" | "time" | "controller">,
  epoch: bigint,
): Promise<void> {
  const end = suite.genesisTime + (epoch + 1n) * suite.epochLength + CLOSE_AFTER_END_S;
  if (BigInt(await suite.time.latest()) < end) await suite.time.increaseTo(end);
  while ((await suite.controller.nextEpoch()) <= epoch) {
    await (await suite.controller.distribute(8)).wait();
  }
}

/** Waits out the challenge window of the pending root and finalizes it. */
export async function passChallengeWindow(suite: Pick<Suite, "distributor" | "time">): Promise<void> {
  const [, , , readyAt] = await suite.distributor.pendingRoot();
  if (readyAt === 0n) return;
  if (BigInt(await suite.time.latest()) < readyAt) await suite.time.increaseTo(readyAt);
  await (await suite.distributor.finalize()).wait();
}
