/**
 * Deploys the Ignition module on a fresh in-process chain with the localhost (demo) parameters (the
 * suite deployment of deploy/lib/suite.ts). Shared by the deploy and task tests; no top-level side
 * effects.
 */
import { network } from "hardhat";

import { loadHexmeshParameters, type HexmeshParameters } from "../../deploy/lib/hexmesh.js";
import { deploySuite } from "../../deploy/lib/suite.js";

export const LOCAL_PARAMETERS = "deploy/parameters/localhost.json";

export async function deployHexmeshInProcess(
  params: HexmeshParameters = loadHexmeshParameters(LOCAL_PARAMETERS),
) {
  const suite = await deploySuite(await network.create(), params);
  const { ethers } = suite.connection;
  return { ...suite, ethers, deployedAtBlock: await ethers.provider.getBlockNumber() };
}

export type HexmeshInProcess = Awaited<ReturnType<typeof deployHexmeshInProcess>>;
