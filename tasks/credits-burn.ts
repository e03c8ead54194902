import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  formatMesh,
  openCredits,
  openSuite,
  sendOrDryRun,
  TaskError,
  type CommonArgs,
} from "./lib/common.js";

/** Burns the MESH paid for credits that the credits ledger holds (anyone may; it can do nothing else with it). */
export default async function creditsBurn(args: CommonArgs, hre: HardhatRuntimeEnvironment) {
  const suite = await openSuite(hre, args);
  const { credits } = await openCredits(suite);
  const amount = await suite.token.balanceOf(await credits.getAddress());
  if (amount === 0n) throw new TaskError("the credits ledger holds no MESH to burn");
  const supply = await suite.token.totalSupply();
  suite.log(
    `burning ${formatMesh(amount)} paid for credits; MESH supply ${formatMesh(supply)} -> ${formatMesh(supply - amount)}`,
  );
  const result = await sendOrDryRun(suite, credits, "burnCollected", [], args.dryRun);
  return { ...result, amount };
}
