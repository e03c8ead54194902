/**
 * Deploys the Ignition module on a fresh in-process chain with the localhost (demo) parameters (the
 * suite deployment of deploy/lib/suite.ts). Shared by the deploy and task tests; no top-level side
 * effects. Also the README's deploy command against a node on localhost, as a subprocess.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

import { network } from "hardhat";

import { loadHexmeshParameters, type HexmeshParameters } from "../../deploy/lib/hexmesh.js";
import { deploySuite } from "../../deploy/lib/suite.js";
import { BIN } from "./service.js";

export const LOCAL_PARAMETERS = "deploy/parameters/localhost.json";

export async function deployHexmeshInProcess(
  params: HexmeshParameters = loadHexmeshParameters(LOCAL_PARAMETERS),
) {
  const suite = await deploySuite(await network.create(), params);
  const { ethers } = suite.connection;
  return { ...suite, ethers, deployedAtBlock: await ethers.provider.getBlockNumber() };
}

export type HexmeshInProcess = Awaited<ReturnType<typeof deployHexmeshInProcess>>;

/**
 * `npm run deploy -- --network localhost --parameters <file> --deployment-id <id>`, as docs/deploy.md
 * says, against the node at `rpcUrl` (LOCALHOST_RPC_URL). Resolves with the command's stdout.
 */
export async function runDeployCommand(
  rpcUrl: string,
  /** "" for Ignition's default (chain-<chainId>). */
  deploymentId: string,
  parameters = LOCAL_PARAMETERS,
  extraArgs: readonly string[] = [],
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    "npm",
    [
      "run",
      "deploy",
      "--",
      "--network",
      "localhost",
      "--parameters",
      parameters,
      ...(deploymentId === "" ? [] : ["--deployment-id", deploymentId]),
      ...extraArgs,
      // Both build profiles have identical settings (hardhat.config.ts); reusing the default profile's
      // artifacts, which `npm test` has just built, saves a full recompile in this test.
      "--build-profile",
      "default",
    ],
    {
      env: {
        ...process.env,
        PATH: `${BIN}:${process.env.PATH}`,
        LOCALHOST_RPC_URL: rpcUrl,
        // Ignition asks for confirmation on any chain but 31337; a scripted run answers it this way.
        HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true",
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout;
}

/** `npx hardhat hexmesh <args>` against the node at `rpcUrl` (LOCALHOST_RPC_URL); resolves with stdout. */
export async function runHexmesh(rpcUrl: string, args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(path.join(BIN, "hardhat"), ["hexmesh", ...args], {
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, LOCALHOST_RPC_URL: rpcUrl },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
