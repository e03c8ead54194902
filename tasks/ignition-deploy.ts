/**
 * `hardhat ignition deploy`, checked: before deploying, a node on localhost answering with a
 * testnet's chain id is refused without an explicit --deployment-id (its record would land in the
 * testnet's committed folder); after every successful run ("Nothing new to deploy" included),
 * every recorded address must hold its artifact's runtime code (deploy/lib/check.ts), or the
 * command fails saying what happened and how to proceed.
 */
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { checkDeployedCode, describeFailedCheck } from "../deploy/lib/check.js";
import { TaskError } from "./lib/common.js";

interface DeployArgs {
  readonly deploymentId?: string;
  readonly [key: string]: unknown;
}

export default async function deployAndCheck(
  args: DeployArgs,
  hre: HardhatRuntimeEnvironment,
  runSuper: (args: DeployArgs) => Promise<unknown>,
) {
  const connection = await hre.network.create();
  const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
  const given = args.deploymentId === undefined || args.deploymentId === "" ? undefined : args.deploymentId;
  if (connection.networkName === "localhost" && given === undefined) {
    const testnet = Object.entries(hre.config.networks).find(
      ([name, n]) => name !== "localhost" && n.type === "http" && n.chainId === chainId,
    );
    if (testnet !== undefined)
      throw new TaskError(
        `the node on localhost answers with chain id ${chainId}, ${testnet[0]}'s: its record would land in deploy/deployments/chain-${chainId}, ` +
          `the folder of the real ${testnet[0]} deployment. Run local nodes with chain id 31337 (Hardhat's node and Anvil's default), or pass --deployment-id.`,
      );
  }
  // Ignition asks on the terminal before deploying to a chain other than 31337, and again before a
  // --reset; without a terminal the prompt dies (exit 13). Scripted runs say so in the environment:
  // HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true confirms the deployment and, with --reset on the same
  // command line, the reset too.
  const scripted = process.env.HARDHAT_IGNITION_CONFIRM_DEPLOYMENT !== undefined;
  if (chainId !== 31337 && !process.stdin.isTTY) {
    if (!scripted)
      throw new TaskError(
        `Ignition asks for confirmation before deploying to chain ${chainId} and there is no terminal: set HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true`,
      );
    if (args.reset === true && process.env.HARDHAT_IGNITION_CONFIRM_RESET === undefined) {
      process.env.HARDHAT_IGNITION_CONFIRM_RESET = "true";
      console.log(`--reset without a terminal: HARDHAT_IGNITION_CONFIRM_DEPLOYMENT confirms the reset too`);
    }
  }
  const result = (await runSuper(args)) as { type?: string } | null;
  if (result === null || result?.type !== "SUCCESSFUL_DEPLOYMENT") return result;
  const dir = path.join(hre.config.paths.ignition, "deployments", given ?? `chain-${chainId}`);
  const check = await checkDeployedCode(
    (method, params) => connection.provider.request({ method, params }),
    dir,
  );
  if (!check.ok) throw new TaskError(describeFailedCheck(check, chainId, connection.networkName));
  console.log(
    `\nChecked on chain ${chainId}: ${check.checks.length} recorded addresses hold their artifacts' runtime code.`,
  );
  return result;
}
