/**
 * Deploys the Ignition module on a fresh in-process chain with the localhost (demo) parameters and returns
 * typed handles. Shared by the deploy and task tests; no top-level side effects.
 */
import { network } from "hardhat";

import {
  buildHexmeshModule,
  loadHexmeshParameters,
  type HexmeshParameters,
} from "../../deploy/lib/hexmesh.js";
import type {
  DeviceRegistry,
  EmissionsController,
  HexmeshTimelock,
  MeshToken,
  RewardsDistributor,
  StakingVault,
} from "../../typechain-types/index.js";

export const LOCAL_PARAMETERS = "deploy/parameters/localhost.json";

export async function deployHexmeshInProcess(
  params: HexmeshParameters = loadHexmeshParameters(LOCAL_PARAMETERS),
) {
  const connection = await network.create();
  const { ethers, ignition } = connection;
  const deployed = await ignition.deploy(buildHexmeshModule(params));
  const deployedAtBlock = await ethers.provider.getBlockNumber();
  const at = async <T>(name: string, c: { getAddress(): Promise<string> }) =>
    (await ethers.getContractAt(name, await c.getAddress())) as unknown as T;
  return {
    connection,
    ethers,
    params,
    deployedAtBlock,
    timelock: await at<HexmeshTimelock>("HexmeshTimelock", deployed.timelock),
    token: await at<MeshToken>("MeshToken", deployed.token),
    registry: await at<DeviceRegistry>("DeviceRegistry", deployed.registry),
    vault: await at<StakingVault>("StakingVault", deployed.vault),
    distributor: await at<RewardsDistributor>("RewardsDistributor", deployed.distributor),
    controller: await at<EmissionsController>("EmissionsController", deployed.controller),
    p256: await deployed.p256.getAddress(),
  };
}

export type HexmeshInProcess = Awaited<ReturnType<typeof deployHexmeshInProcess>>;
