import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { formatMesh, openSuite, sendOrDryRun, TaskError, type CommonArgs } from "./lib/common.js";

/**
 * Burns the onboarding and assert fees the device registry has collected. Anyone may: the registry can
 * do nothing else with MESH it holds, and burning in batches spares each fee payer a total-supply
 * checkpoint. Works while the registry is paused.
 */
export default async function burnFees(args: CommonArgs, hre: HardhatRuntimeEnvironment) {
  const suite = await openSuite(hre, args);
  const amount = await suite.registry.collectedFees();
  if (amount === 0n) throw new TaskError("the device registry holds no collected fees to burn");
  const supply = await suite.token.totalSupply();
  suite.log(
    `burning ${formatMesh(amount)} of collected registry fees; MESH supply ${formatMesh(supply)} -> ${formatMesh(supply - amount)}`,
  );
  const result = await sendOrDryRun(suite, suite.registry, "burnCollectedFees", [], args.dryRun);
  if (result.dryRun) return { ...result, amount };
  // The amount actually burned (fees may have arrived between the read and the transaction).
  const receipt = await suite.ethers.provider.getTransactionReceipt(result.hash!);
  const registry = await suite.registry.getAddress();
  const event = receipt?.logs
    .filter((l) => l.address === registry)
    .map((l) => suite.registry.interface.parseLog(l))
    .find((e) => e?.name === "CollectedFeesBurned");
  if (event == null) throw new TaskError(`transaction ${result.hash} burned nothing`);
  const burned = event.args.amount as bigint;
  suite.log(`burned ${formatMesh(burned)}; MESH supply now ${formatMesh(await suite.token.totalSupply())}`);
  return { ...result, amount: burned };
}
