/**
 * Deploys the whole suite with the project's Ignition module on a Hardhat network connection and
 * returns typed handles: the one deployment path of the demo, the oracle dev service and the tests
 * (a testnet uses the same module through `npm run deploy`).
 */
import type { NetworkConnection } from "hardhat/types/network";

import type {
  ComputeJobs,
  DataTransferSettlement,
  DeviceRegistry,
  EmissionsController,
  HexmeshTimelock,
  IMeshPrice,
  MeshToken,
  RewardsDistributor,
  StakingVault,
  StorageDeals,
  StorageSuspensions,
  UsageCredits,
} from "../../typechain-types/index.js";
import { buildHexmeshModule, type HexmeshParameters } from "./hexmesh.js";

export interface DeployedSuite {
  readonly connection: NetworkConnection;
  readonly params: HexmeshParameters;
  readonly chainId: bigint;
  /** The block before the deployment's first transaction: oracles replay registry events from it. */
  readonly deployBlock: number;
  readonly timelock: HexmeshTimelock;
  readonly token: MeshToken;
  readonly registry: DeviceRegistry;
  readonly vault: StakingVault;
  readonly distributor: RewardsDistributor;
  readonly controller: EmissionsController;
  /** The MESH/USD price source (GovernedPrice or QuorumPrice, per the parameters). */
  readonly meshPrice: IMeshPrice;
  readonly credits: UsageCredits;
  /** The coverage data-transfer market (UsageCredits' coverage spender). */
  readonly dataTransfer: DataTransferSettlement;
  /** The storage subnetwork's distributor (its own oracle set; the controller's second pool). */
  readonly storageDistributor: RewardsDistributor;
  /** The compute subnetwork's distributor (its own oracle set; the controller's third pool). */
  readonly computeDistributor: RewardsDistributor;
  /** The storage market (UsageCredits' storage spender). */
  readonly storageDeals: StorageDeals;
  /** Quorum-signed suspensions of storage devices from new data sets (StorageDeals consults it). */
  readonly storageSuspensions: StorageSuspensions;
  /** The compute job market (UsageCredits' compute spender, the vault's slasher). */
  readonly computeJobs: ComputeJobs;
  /** Address of the P-256 verifier library linked into the registry. */
  readonly p256: string;
}

export async function deploySuite(
  connection: NetworkConnection,
  params: HexmeshParameters,
  /** Where Ignition records a deployment to a node (default chain-<id>); the in-process chain records none. */
  deploymentId?: string,
): Promise<DeployedSuite> {
  const { ethers, ignition } = connection;
  const deployBlock = await ethers.provider.getBlockNumber();
  const deployed = await ignition.deploy(
    buildHexmeshModule(params),
    deploymentId !== undefined ? { deploymentId } : {},
  );
  const at = async <T>(name: string, c: { getAddress(): Promise<string> }) =>
    (await ethers.getContractAt(name, await c.getAddress())) as unknown as T;
  return {
    connection,
    params,
    chainId: (await ethers.provider.getNetwork()).chainId,
    deployBlock,
    timelock: await at<HexmeshTimelock>("HexmeshTimelock", deployed.timelock),
    token: await at<MeshToken>("MeshToken", deployed.token),
    registry: await at<DeviceRegistry>("DeviceRegistry", deployed.registry),
    vault: await at<StakingVault>("StakingVault", deployed.vault),
    distributor: await at<RewardsDistributor>("RewardsDistributor", deployed.distributor),
    controller: await at<EmissionsController>("EmissionsController", deployed.controller),
    meshPrice: await at<IMeshPrice>("IMeshPrice", deployed.meshPrice),
    credits: await at<UsageCredits>("UsageCredits", deployed.credits),
    dataTransfer: await at<DataTransferSettlement>("DataTransferSettlement", deployed.dataTransfer),
    storageDistributor: await at<RewardsDistributor>("RewardsDistributor", deployed.storageDistributor),
    computeDistributor: await at<RewardsDistributor>("RewardsDistributor", deployed.computeDistributor),
    storageDeals: await at<StorageDeals>("StorageDeals", deployed.storageDeals),
    storageSuspensions: await at<StorageSuspensions>("StorageSuspensions", deployed.storageSuspensions),
    computeJobs: await at<ComputeJobs>("ComputeJobs", deployed.computeJobs),
    p256: await deployed.p256.getAddress(),
  };
}

/** The suite's addresses, as an oracle's config and the wallet commands take them. */
export async function suiteAddresses(s: DeployedSuite) {
  return {
    token: await s.token.getAddress(),
    registry: await s.registry.getAddress(),
    vault: await s.vault.getAddress(),
    controller: await s.controller.getAddress(),
    distributor: await s.distributor.getAddress(),
    dataTransfer: await s.dataTransfer.getAddress(),
  };
}
