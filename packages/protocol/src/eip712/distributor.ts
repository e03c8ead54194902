/**
 * The RewardsDistributor's EIP-712 messages (contracts/rewards/RewardsDistributor.sol): the
 * EpochRoot each oracle signs for postRoot, and the owner's gasless Claim. Domain: "Hexmesh
 * RewardsDistributor", version "1", the chain and the distributor of one subnetwork.
 *
 * `oracleSetVersion` binds an EpochRoot signature to the oracle set it was made for: a change of
 * the set on chain kills every signature gathered for the old one.
 */
import type { EpochRoot } from "../commit/commit.js";
import type { ContractDomain, TypedFields } from "./typed-data.js";

export const DISTRIBUTOR_DOMAIN_NAME = "Hexmesh RewardsDistributor";
export const DISTRIBUTOR_DOMAIN_VERSION = "1";

export function distributorDomain(chainId: bigint, distributor: string): ContractDomain {
  return {
    name: DISTRIBUTOR_DOMAIN_NAME,
    version: DISTRIBUTOR_DOMAIN_VERSION,
    chainId,
    verifyingContract: distributor,
  };
}

export const EPOCH_ROOT_TYPES: { EpochRoot: TypedFields } = {
  EpochRoot: [
    { name: "epoch", type: "uint64" },
    { name: "root", type: "bytes32" },
    { name: "totalCumulative", type: "uint256" },
    { name: "dataHash", type: "bytes32" },
    { name: "oracleSetVersion", type: "uint64" },
  ],
};

/** What each oracle signs and postRoot takes: the epoch's result under the current oracle set. */
export interface SignedEpochRoot extends EpochRoot {
  readonly oracleSetVersion: bigint;
}

export const CLAIM_TYPES: { Claim: TypedFields } = {
  Claim: [
    { name: "owner", type: "address" },
    { name: "cumulative", type: "uint256" },
    { name: "relayer", type: "address" },
    { name: "fee", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
