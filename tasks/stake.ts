import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatMesh,
  openSuite,
  parseMesh,
  requireBalance,
  requireNotPaused,
  sendOrDryRun,
  signPermit,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

/** Stakes MESH in one transaction: an EIP-2612 permit signed off chain, then stakeWithPermit. */
export default async function stake(args: CommonArgs & { amount: string }, hre: HardhatRuntimeEnvironment) {
  const suite = await openSuite(hre, args);
  const amount = parseMesh(args.amount);
  if (amount === 0n) throw new TaskError("amount must be more than 0 MESH");
  await requireNotPaused(suite.vault, "staking vault");
  await requireBalance(suite, suite.signer.address, amount, "staking");
  const permit = await signPermit(suite, await suite.vault.getAddress(), amount);
  suite.log(`staking ${formatMesh(amount)} from ${suite.signer.address}`);
  return sendOrDryRun(
    suite,
    suite.vault,
    "stakeWithPermit",
    [amount, permit.deadline, permit.v, permit.r, permit.s],
    args.dryRun,
  );
}
