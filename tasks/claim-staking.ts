import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatMesh,
  openSuite,
  requireNotPaused,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

/** Claims the signer's staking rewards. */
export default async function claimStaking(args: CommonArgs, hre: HardhatRuntimeEnvironment) {
  const suite = await openSuite(hre, args);
  await requireNotPaused(suite.vault, "staking vault");
  const earned = await suite.vault.earned(suite.signer.address);
  if (earned === 0n) throw new TaskError(`${suite.signer.address} has no staking rewards to claim`);
  suite.log(`claiming ${formatMesh(earned)} of staking rewards`);
  return { ...(await sendOrDryRun(suite, suite.vault, "claimRewards", [], args.dryRun)), earned };
}
