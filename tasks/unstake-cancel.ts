import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { formatMesh, openSuite, requireNotPaused, sendOrDryRun, type CommonArgs } from "./lib/common.js";
import { pendingRequest } from "./lib/requests.js";

/** Cancels a pending unstake request: its amount is staked again. */
export default async function unstakeCancel(
  args: CommonArgs & { request: string },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  await requireNotPaused(suite.vault, "staking vault");
  const req = await pendingRequest(suite, args.request);
  suite.log(`cancelling request ${req.id} (${formatMesh(req.amount)}): staked again`);
  return sendOrDryRun(suite, suite.vault, "cancelUnstake", [req.id], args.dryRun);
}
