import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatDuration,
  formatMesh,
  openSuite,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";
import { pendingRequest } from "./lib/requests.js";

/** Withdraws a matured unstake request. Works while the vault is paused, by design. */
export default async function withdraw(
  args: CommonArgs & { request: string },
  hre: HardhatRuntimeEnvironment,
) {
  const suite = await openSuite(hre, args);
  const req = await pendingRequest(suite, args.request);
  const now = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp);
  if (now < req.unlockTime) {
    throw new TaskError(
      `cooldown not over: request ${req.id} unlocks at ${new Date(Number(req.unlockTime) * 1000).toISOString()}, ` +
        `in ${formatDuration(req.unlockTime - now)}`,
    );
  }
  suite.log(`withdrawing request ${req.id} (${formatMesh(req.amount)})`);
  return sendOrDryRun(suite, suite.vault, "withdraw", [req.id], args.dryRun);
}
