import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatDuration,
  formatMesh,
  openSuite,
  parseMesh,
  requireNotPaused,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

/** Requests an unstake; the amount becomes withdrawable after the vault's cooldown. */
export default async function unstakeRequest(
  args: CommonArgs & { amount: string },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  const amount = parseMesh(args.amount);
  if (amount === 0n) throw new TaskError("amount must be more than 0 MESH");
  await requireNotPaused(suite.vault, "staking vault");
  const active = await suite.vault.activeStakeOf(suite.signer.address);
  if (active < amount) {
    throw new TaskError(
      `insufficient stake: ${suite.signer.address} has ${formatMesh(active)} staked, asked to unstake ${formatMesh(amount)}`,
    );
  }
  const requestId = await suite.vault.nextRequestId(suite.signer.address);
  suite.log(
    `requesting unstake of ${formatMesh(amount)} (request ${requestId}, withdrawable after ${formatDuration(await suite.vault.cooldown())})`,
  );
  return { ...(await sendOrDryRun(suite, suite.vault, "requestUnstake", [amount], args.dryRun)), requestId };
}
