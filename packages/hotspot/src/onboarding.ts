/**
 * Onboarding, in three files (README "Onboarding"):
 *
 * 1. identity (device): `DeviceIdentity` (key.ts), what the maker attests: the registry key and its id.
 * 2. attestation (maker, with its approved signing key): `MakerAttestation`, an EIP-712
 *    DeviceAttestation {keyId, deviceClass, makerId, deadline} in the registry's domain.
 * 3. onboarding file (device, for its first owner): `OnboardingFile` =
 *    {req: {key, deviceClass, makerId, owner, makerDeadline, deviceDeadline}, makerSignature,
 *    deviceSignature}, where deviceSignature is the device key's DeviceOwnership {keyId, owner,
 *    deadline}. This is exactly what `npx hardhat hexmesh onboard --file` (and the registry's
 *    `onboard`) takes.
 */
import { getBytes, TypedDataEncoder, Wallet } from "ethers";

import {
  DEVICE_ATTESTATION_TYPES,
  DEVICE_OWNERSHIP_TYPES,
  isHexBytes,
  registryDomain,
  registryKeyHash,
  type Hex,
  type RegistryKey,
} from "@hexmesh/protocol";

import { identityOf, possessionSignature, type DeviceIdentity, type DeviceKeyPair } from "./key.js";

export interface MakerAttestation {
  readonly chainId: string;
  readonly registry: Hex;
  readonly key: RegistryKey;
  readonly keyId: Hex;
  readonly deviceClass: number;
  readonly makerId: number;
  /** Unix seconds. */
  readonly makerDeadline: string;
  readonly makerSignature: Hex;
}

export interface OnboardingFile {
  readonly req: {
    readonly key: RegistryKey;
    readonly deviceClass: number;
    readonly makerId: number;
    readonly owner: Hex;
    readonly makerDeadline: string;
    readonly deviceDeadline: string;
  };
  readonly makerSignature: Hex;
  readonly deviceSignature: Hex;
}

export class OnboardingError extends Error {
  override readonly name = "OnboardingError";
}

const uint = (v: number, bits: number, what: string) => {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
    throw new OnboardingError(`${what} must be a uint${bits}`);
  return v;
};

/** The maker signs an attestation of `identity` with its approved key (a maker's factory step). */
export async function attestDevice(o: {
  readonly makerKey: string;
  readonly identity: Pick<DeviceIdentity, "key" | "keyId">;
  readonly chainId: bigint;
  readonly registry: string;
  readonly makerId: number;
  readonly deviceClass: number;
  readonly deadline: bigint;
}): Promise<MakerAttestation> {
  const key = o.identity.key;
  const keyId = registryKeyHash(
    key.keyType === 0
      ? { type: "secp256k1", address: `0x${key.x.slice(26)}` as Hex }
      : { type: "p256", x: key.x, y: key.y },
  );
  if (keyId !== o.identity.keyId)
    throw new OnboardingError(`the identity's keyId ${o.identity.keyId} is not its key's id ${keyId}`);
  if (!isHexBytes(o.registry.toLowerCase(), 20)) throw new OnboardingError("registry must be an address");
  let maker: Wallet;
  try {
    maker = new Wallet(o.makerKey);
  } catch {
    throw new OnboardingError("the maker key must be a 32-byte hex private key");
  }
  const deviceClass = uint(o.deviceClass, 16, "device class");
  const makerId = uint(o.makerId, 32, "maker id");
  const domain = registryDomain(o.chainId, o.registry);
  const makerSignature = (await maker.signTypedData(domain, DEVICE_ATTESTATION_TYPES, {
    keyId,
    deviceClass,
    makerId,
    deadline: o.deadline,
  })) as Hex;
  return {
    chainId: o.chainId.toString(),
    registry: o.registry.toLowerCase() as Hex,
    key,
    keyId,
    deviceClass,
    makerId,
    makerDeadline: o.deadline.toString(),
    makerSignature,
  };
}

/** The device signs its proof of possession for `owner` and assembles the onboarding file. */
export function onboardingFile(
  device: DeviceKeyPair,
  attestation: MakerAttestation,
  owner: string,
  deviceDeadline: bigint,
): OnboardingFile {
  const identity = identityOf(device);
  if (attestation.keyId !== identity.keyId)
    throw new OnboardingError(
      `the attestation is for key ${attestation.keyId}, this device's key is ${identity.keyId}`,
    );
  if (!isHexBytes(owner.toLowerCase(), 20)) throw new OnboardingError("owner must be an address");
  const domain = registryDomain(BigInt(attestation.chainId), attestation.registry);
  const digest = getBytes(
    TypedDataEncoder.hash(domain, DEVICE_OWNERSHIP_TYPES, {
      keyId: identity.keyId,
      owner,
      deadline: deviceDeadline,
    }),
  );
  return {
    req: {
      key: identity.key,
      deviceClass: attestation.deviceClass,
      makerId: attestation.makerId,
      owner: owner.toLowerCase() as Hex,
      makerDeadline: attestation.makerDeadline,
      deviceDeadline: deviceDeadline.toString(),
    },
    makerSignature: attestation.makerSignature,
    deviceSignature: possessionSignature(device, digest),
  };
}
