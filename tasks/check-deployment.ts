import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { checkDeployedCode, describeFailedCheck } from "../deploy/lib/check.js";
import { TaskError } from "./lib/common.js";

/**
 * `hexmesh check-deployment`: does every address of this chain's Ignition deployment record hold
 * the recorded artifact's runtime code? What `ignition deploy` checks after every run, on demand.
 */
export default async function checkDeployment(
  args: { deploymentId: string },
  hre: HardhatRuntimeEnvironment,
) {
  const connection = await hre.network.create();
  const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
  const id = args.deploymentId === "" ? `chain-${chainId}` : args.deploymentId;
  const dir = path.join(hre.config.paths.ignition, "deployments", id);
  const check = await checkDeployedCode(
    (method, params) => connection.provider.request({ method, params }),
    dir,
  );
  if (check.checks.length === 0)
    throw new TaskError(
      `no deployment record ${path.relative(process.cwd(), dir)} (deployed_addresses.json) for chain ${chainId}`,
    );
  if (!check.ok) throw new TaskError(describeFailedCheck(check, chainId, connection.networkName));
  for (const c of check.checks) console.log(`${c.status.padEnd(10)} ${c.futureId.padEnd(32)} ${c.address}`);
  console.log(
    `chain ${chainId}: ${check.checks.length} recorded addresses hold their artifacts' runtime code`,
  );
  return check;
}
