/**
 * Deploys MESH + DeviceRegistry (with its linked P-256 verifier library) and sets up roles, a maker
 * and device classes. Shared by the registry tests and bench/gas/registry.ts; no top-level side effects.
 */
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Wallet, type TransactionReceipt } from "ethers";
import { network } from "hardhat";

import type { DeviceRegistry, MeshToken } from "../../typechain-types/index.js";
import { coverageRun } from "./gas.js";
import { registryDomain, signAttestation, type DeviceSigner } from "./registry.js";

export const MESH = (n: number | bigint) => BigInt(n) * 10n ** 18n;

export const CLASS_HOTSPOT = 1;
export const CLASS_LIGHT = 2;
export const CLASS_DISABLED = 7;
export const HOTSPOT_FEE = MESH(40);
export const LIGHT_FEE = MESH(10);
export const ASSERT_FEE = MESH(5);
export const MAKER_ID = 17;
export const MAKER_ALLOWANCE = 1000n;

/**
 * A fresh in-process chain for registry tests. Coverage instrumentation pushes the registry past the
 * 24 KiB limit, so only coverage runs lift it; the size test checks the real bytecode otherwise.
 */
export function createRegistryNetwork(override: { chainId?: number; hardfork?: string } = {}) {
  return network.create({
    override: { ...override, ...(coverageRun ? { allowUnlimitedContractSize: true } : {}) },
  });
}

/** Deploys the P-256 verifier library and a registry linked to it. */
export async function deployRegistry(
  ethers: HardhatEthers,
  admin: string,
  mesh: string,
  deployer?: HardhatEthersSigner,
): Promise<DeviceRegistry> {
  const lib = await ethers.deployContract("P256Verifier", deployer ? { signer: deployer } : {});
  const factory = await ethers.getContractFactory("DeviceRegistry", {
    libraries: { P256Verifier: await lib.getAddress() },
    ...(deployer ? { signer: deployer } : {}),
  });
  const registry = await factory.deploy(admin, mesh);
  await registry.waitForDeployment();
  return registry as unknown as DeviceRegistry;
}

export interface RegistryFixture {
  ethers: HardhatEthers;
  mesh: MeshToken;
  registry: DeviceRegistry;
  chainId: bigint;
  admin: HardhatEthersSigner;
  guardian: HardhatEthersSigner;
  denylister: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  makerKey: Wallet;
}

/** The full setup: roles, maker MAKER_ID, classes HOTSPOT (40 MESH) and LIGHT (10 MESH), assert fee. */
export async function setupRegistry(ethers: HardhatEthers): Promise<RegistryFixture> {
  const [admin, guardian, denylister, treasury, alice, bob, carol, relayer] = await ethers.getSigners();
  const mesh = (await ethers.deployContract("MeshToken", [
    treasury!.address,
    MESH(1_000_000),
    admin!.address,
  ])) as unknown as MeshToken;
  const registry = await deployRegistry(ethers, admin!.address, await mesh.getAddress());
  const { chainId } = await ethers.provider.getNetwork();

  await registry.connect(admin!).grantRole(await registry.GUARDIAN_ROLE(), guardian!.address);
  await registry.connect(admin!).grantRole(await registry.DENYLIST_ROLE(), denylister!.address);
  const makerKey = new Wallet(Wallet.createRandom().privateKey);
  await registry.connect(admin!).addMaker(MAKER_ID, makerKey.address, MAKER_ALLOWANCE);
  await registry
    .connect(admin!)
    .setDeviceClass(CLASS_HOTSPOT, { enabled: true, subnetwork: 0, onboardingFee: HOTSPOT_FEE });
  await registry
    .connect(admin!)
    .setDeviceClass(CLASS_LIGHT, { enabled: true, subnetwork: 0, onboardingFee: LIGHT_FEE });
  await registry.connect(admin!).setAssertFee(ASSERT_FEE);
  for (const who of [alice!, bob!, carol!, relayer!]) {
    await mesh.connect(treasury!).transfer(who.address, MESH(10_000));
  }
  return {
    ethers,
    mesh,
    registry,
    chainId,
    admin: admin!,
    guardian: guardian!,
    denylister: denylister!,
    treasury: treasury!,
    alice: alice!,
    bob: bob!,
    carol: carol!,
    relayer: relayer!,
    makerKey,
  };
}

export interface OnboardArgs {
  device: DeviceSigner;
  owner: string;
  deviceClass?: number;
  makerId?: number;
  makerKey?: Wallet;
  makerDeadline?: bigint;
  deviceDeadline?: bigint;
  /** Domain overrides, to sign for another chain or registry. */
  makerDomain?: { chainId?: bigint; verifyingContract?: string };
  deviceDomain?: { chainId?: bigint; verifyingContract?: string };
}

export interface OnboardCall {
  req: {
    key: { keyType: number; x: string; y: string };
    deviceClass: number;
    makerId: number;
    owner: string;
    makerDeadline: bigint;
    deviceDeadline: bigint;
  };
  makerSignature: string;
  deviceSignature: string;
}

/** Builds an onboarding the way it happens in the field: the maker attests, the device signs its owner. */
export async function prepareOnboard(fx: RegistryFixture, args: OnboardArgs): Promise<OnboardCall> {
  const now = BigInt((await fx.ethers.provider.getBlock("latest"))!.timestamp);
  const address = await fx.registry.getAddress();
  const deviceClass = args.deviceClass ?? CLASS_HOTSPOT;
  const makerId = args.makerId ?? MAKER_ID;
  const makerDeadline = args.makerDeadline ?? now + 365n * 86_400n;
  const deviceDeadline = args.deviceDeadline ?? now + 3_600n;
  const makerDomain = registryDomain(
    args.makerDomain?.chainId ?? fx.chainId,
    args.makerDomain?.verifyingContract ?? address,
  );
  const deviceDomain = registryDomain(
    args.deviceDomain?.chainId ?? fx.chainId,
    args.deviceDomain?.verifyingContract ?? address,
  );
  const makerSignature = await signAttestation(args.makerKey ?? fx.makerKey, makerDomain, {
    keyId: args.device.keyId,
    deviceClass,
    makerId,
    deadline: makerDeadline,
  });
  const deviceSignature = await args.device.signOwnership(deviceDomain, args.owner, deviceDeadline);
  return {
    req: { key: args.device.key, deviceClass, makerId, owner: args.owner, makerDeadline, deviceDeadline },
    makerSignature,
    deviceSignature,
  };
}

/** The device id a receipt's DeviceOnboarded event reports (what a wallet reads after onboarding). */
export async function onboardedDeviceId(
  registry: DeviceRegistry,
  receipt: TransactionReceipt | null,
): Promise<bigint> {
  const address = await registry.getAddress();
  for (const log of receipt?.logs ?? []) {
    if (log.address !== address) continue; // MESH's Transfer shares the ERC-721 Transfer topic
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "DeviceOnboarded") return parsed.args.deviceId as bigint;
  }
  throw new Error("no DeviceOnboarded event in the receipt");
}
