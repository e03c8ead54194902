/**
 * Operators of the storage and compute sections: an account with its own deterministic key (so its
 * agent, a separate program, can sign with the same key over JSON-RPC), funded with ETH and MESH,
 * owning one device of a storage or compute class, onboarded with the maker's attestation and the
 * device key's ownership signature, and bonded in the vault. No top-level side effects.
 */
import {
  keccak256,
  toUtf8Bytes,
  Wallet,
  type ContractTransactionReceipt,
  type Interface,
  type LogDescription,
  type Provider,
} from "ethers";

import {
  DEVICE_ATTESTATION_TYPES,
  DEVICE_OWNERSHIP_TYPES,
  registryDomain,
  registryKeyHash,
  registryKeyOf,
  type DeviceKey,
  type Hex,
} from "@hexmesh/protocol";

import { MAKER_ID, type Suite } from "./suite.js";

export interface Operator {
  readonly name: string;
  /** The operator's account, connected to the demo's chain. */
  readonly wallet: Wallet;
  readonly deviceId: bigint;
  readonly deviceClass: number;
}

/** A deterministic key for `label` (demo only: a real operator keeps its key in a key file). */
export function demoWallet(label: string, provider: Provider): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`hexmesh demo ${label}`)), provider);
}

/** Sends `wei` of ETH and `mesh` of MESH from the deployer and the treasury to `to`. */
export async function fund(suite: Suite, to: string, mesh: bigint, wei = 10n ** 19n): Promise<void> {
  await (await suite.deployer.sendTransaction({ to, value: wei })).wait();
  if (mesh > 0n) await (await suite.token.connect(suite.treasury).transfer(to, mesh)).wait();
}

/**
 * Onboards one device of `deviceClass` for a new operator `name` (a secp256k1 device key derived
 * from the name), pays the class fee and bonds the vault's minimum stake for it. `mesh` is what the
 * operator holds besides (collateral).
 */
export async function startOperator(
  suite: Suite,
  name: string,
  deviceClass: number,
  mesh: bigint,
): Promise<Operator> {
  const { registry, vault, token } = suite;
  const provider = suite.ethers.provider as unknown as Provider;
  const wallet = demoWallet(`operator ${name}`, provider);
  const device = demoWallet(`device of ${name}`, provider);
  const fee = (await registry.deviceClassInfo(deviceClass)).onboardingFee;
  const bond = await vault.minStakePerDevice();
  await fund(suite, wallet.address, fee + bond + mesh);

  const registryAddress = await registry.getAddress();
  const domain = registryDomain(suite.chainId, registryAddress);
  const deviceKey: DeviceKey = { type: "secp256k1", address: device.address.toLowerCase() as Hex };
  const key = registryKeyOf(deviceKey);
  const keyId = registryKeyHash(deviceKey);
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const makerDeadline = now + 365n * 86_400n;
  const deviceDeadline = now + 30n * 86_400n;
  const makerSignature = await suite.makerKey.signTypedData(domain, DEVICE_ATTESTATION_TYPES, {
    keyId,
    deviceClass,
    makerId: MAKER_ID,
    deadline: makerDeadline,
  });
  const deviceSignature = await device.signTypedData(domain, DEVICE_OWNERSHIP_TYPES, {
    keyId,
    owner: wallet.address,
    deadline: deviceDeadline,
  });
  const asOwner = registry.connect(wallet);
  if (fee > 0n) await (await token.connect(wallet).approve(registryAddress, fee)).wait();
  const receipt = await (
    await asOwner.onboard(
      { key, deviceClass, makerId: MAKER_ID, owner: wallet.address, makerDeadline, deviceDeadline },
      makerSignature,
      deviceSignature,
    )
  ).wait();
  const onboarded = eventOf(registry.interface, receipt, "DeviceOnboarded");
  const vaultAddress = await vault.getAddress();
  await (await token.connect(wallet).approve(vaultAddress, bond)).wait();
  await (await vault.connect(wallet).stake(bond)).wait();
  return { name, wallet, deviceId: onboarded.args.deviceId as bigint, deviceClass };
}

/** The private key of an operator's wallet written as a key file (0x + 64 hex), mode 0600. */
export function keyFileText(wallet: Wallet): string {
  return `${wallet.privateKey}\n`;
}

/** The logs of `receipt` that `iface` parses as event `name`, in order. */
export function eventsOf(
  iface: Interface,
  receipt: ContractTransactionReceipt | null,
  name: string,
): LogDescription[] {
  const out: LogDescription[] = [];
  for (const log of receipt?.logs ?? []) {
    try {
      const parsed = iface.parseLog(log);
      if (parsed?.name === name) out.push(parsed);
    } catch {
      // another contract's log
    }
  }
  return out;
}

/** The first `name` event of `receipt`; throws if there is none. */
export function eventOf(
  iface: Interface,
  receipt: ContractTransactionReceipt | null,
  name: string,
): LogDescription {
  const found = eventsOf(iface, receipt, name)[0];
  if (found === undefined) throw new Error(`no ${name} event in ${receipt?.hash}`);
  return found;
}
