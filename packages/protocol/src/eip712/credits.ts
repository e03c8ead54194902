/**
 * The demand side's EIP-712 messages: an account's SpenderApproval for UsageCredits
 * (contracts/credits/UsageCredits.sol; domain "Hexmesh UsageCredits", version "1") and an oracle's
 * MeshPrice observation for QuorumPrice (contracts/price/QuorumPrice.sol; domain "Hexmesh
 * QuorumPrice", version "1"). Each domain binds the chain and the contract.
 */
import type { ContractDomain, TypedFields } from "./typed-data.js";

export const CREDITS_DOMAIN_NAME = "Hexmesh UsageCredits";
export const CREDITS_DOMAIN_VERSION = "1";
export const QUORUM_PRICE_DOMAIN_NAME = "Hexmesh QuorumPrice";
export const QUORUM_PRICE_DOMAIN_VERSION = "1";

export function creditsDomain(chainId: bigint, credits: string): ContractDomain {
  return { name: CREDITS_DOMAIN_NAME, version: CREDITS_DOMAIN_VERSION, chainId, verifyingContract: credits };
}

export function quorumPriceDomain(chainId: bigint, quorumPrice: string): ContractDomain {
  return {
    name: QUORUM_PRICE_DOMAIN_NAME,
    version: QUORUM_PRICE_DOMAIN_VERSION,
    chainId,
    verifyingContract: quorumPrice,
  };
}

/** An account lets a registered spender lock or consume up to `allowance` credits (2^128 - 1: unlimited). */
export const SPENDER_APPROVAL_TYPES: { SpenderApproval: TypedFields } = {
  SpenderApproval: [
    { name: "account", type: "address" },
    { name: "spender", type: "address" },
    { name: "allowance", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export interface SpenderApproval {
  readonly account: string;
  readonly spender: string;
  readonly allowance: bigint;
  readonly nonce: bigint;
  readonly deadline: bigint;
}

/** One oracle's MESH/USD observation: USD per MESH with 18 decimals, at a unix time in seconds. */
export const MESH_PRICE_TYPES: { MeshPrice: TypedFields } = {
  MeshPrice: [
    { name: "price", type: "uint256" },
    { name: "timestamp", type: "uint64" },
  ],
};

export interface MeshPriceObservation {
  readonly price: bigint;
  readonly timestamp: bigint;
}

/** The allowance that never runs down (UsageCredits.UNLIMITED). */
export const UNLIMITED_ALLOWANCE = 2n ** 128n - 1n;

/** Credits (micro-USD) per US dollar: a Helium Data Credit ($0.00001) is 10 credits. */
export const CREDITS_PER_USD = 1_000_000n;

/** UsageCredits' conversion: floor(meshWei x price / 10^30), price in USD per MESH with 18 decimals. */
export function creditsForMesh(meshWei: bigint, price: bigint): bigint {
  return (meshWei * price) / 10n ** 30n;
}
