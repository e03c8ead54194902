/**
 * The DeviceRegistry's EIP-712 messages (contracts/registry/DeviceRegistry.sol): the maker's
 * attestation of a device key, the device key's proof of possession binding its first owner, and an
 * owner's signed location assertion. Domain: "Hexmesh DeviceRegistry", version "1".
 */
import type { ContractDomain, TypedFields } from "./typed-data.js";

export const REGISTRY_DOMAIN_NAME = "Hexmesh DeviceRegistry";
export const REGISTRY_DOMAIN_VERSION = "1";

export function registryDomain(chainId: bigint, registry: string): ContractDomain {
  return {
    name: REGISTRY_DOMAIN_NAME,
    version: REGISTRY_DOMAIN_VERSION,
    chainId,
    verifyingContract: registry,
  };
}

/** Signed by the maker's key: this key id is a device of this class, built by this maker. */
export const DEVICE_ATTESTATION_TYPES: { DeviceAttestation: TypedFields } = {
  DeviceAttestation: [
    { name: "keyId", type: "bytes32" },
    { name: "deviceClass", type: "uint16" },
    { name: "makerId", type: "uint32" },
    { name: "deadline", type: "uint64" },
  ],
};

/** Signed by the device key itself (proof of possession): `owner` may onboard it. */
export const DEVICE_OWNERSHIP_TYPES: { DeviceOwnership: TypedFields } = {
  DeviceOwnership: [
    { name: "keyId", type: "bytes32" },
    { name: "owner", type: "address" },
    { name: "deadline", type: "uint64" },
  ],
};

/** Signed by the device's owner (ERC-1271 for smart wallets): assert a location on its behalf. */
export const LOCATION_ASSERTION_TYPES: { LocationAssertion: TypedFields } = {
  LocationAssertion: [
    { name: "deviceId", type: "uint256" },
    { name: "cell", type: "uint64" },
    { name: "gain", type: "uint16" },
    { name: "elevation", type: "int16" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
