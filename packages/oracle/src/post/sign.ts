/**
 * Oracle signatures of the distributor's EIP-712 EpochRoot.
 *
 * Domain: name "Hexmesh RewardsDistributor", version "1", chain id, the distributor's address.
 * Type: EpochRoot(uint64 epoch,bytes32 root,uint256 totalCumulative,bytes32 dataHash,uint64 oracleSetVersion).
 * `oracleSetVersion` binds a signature to the oracle set it was made for: a change of the set on
 * chain kills every signature gathered for the old one. Signatures are 65-byte r ‖ s ‖ v, low s.
 */
import {
  getBytes,
  hexlify,
  Signature,
  TypedDataEncoder,
  type BaseWallet,
  type TypedDataDomain,
} from "ethers";

import type { EpochRoot, Hex } from "@hexmesh/protocol";

export const DISTRIBUTOR_DOMAIN_NAME = "Hexmesh RewardsDistributor";
export const DISTRIBUTOR_DOMAIN_VERSION = "1";

export const EPOCH_ROOT_TYPES = {
  EpochRoot: [
    { name: "epoch", type: "uint64" },
    { name: "root", type: "bytes32" },
    { name: "totalCumulative", type: "uint256" },
    { name: "dataHash", type: "bytes32" },
    { name: "oracleSetVersion", type: "uint64" },
  ],
};

/** The struct postRoot takes (and the oracles sign). */
export interface SignedEpochRoot extends EpochRoot {
  readonly oracleSetVersion: bigint;
}

export function distributorDomain(chainId: bigint, distributor: string): TypedDataDomain {
  return {
    name: DISTRIBUTOR_DOMAIN_NAME,
    version: DISTRIBUTOR_DOMAIN_VERSION,
    chainId,
    verifyingContract: distributor,
  };
}

export function epochRootDigest(domain: TypedDataDomain, value: SignedEpochRoot): Hex {
  return TypedDataEncoder.hash(domain, EPOCH_ROOT_TYPES, { ...value }) as Hex;
}

export interface OracleSignature {
  /** Lowercase signer address. */
  readonly signer: Hex;
  /** 65 bytes r ‖ s ‖ v. */
  readonly signature: Hex;
}

/** One oracle's key: signs the EpochRoot it computed itself. */
export class OracleKey {
  constructor(private readonly wallet: BaseWallet) {}

  get address(): Hex {
    return this.wallet.address.toLowerCase() as Hex;
  }

  sign(domain: TypedDataDomain, value: SignedEpochRoot): OracleSignature {
    const digest = epochRootDigest(domain, value);
    const sig = this.wallet.signingKey.sign(digest);
    return { signer: this.address, signature: Signature.from(sig).serialized as Hex };
  }
}

/**
 * Packs signatures the way postRoot requires: signers strictly ascending by address, at most one
 * per signer, exactly `threshold` of them (more cost gas and prove nothing more).
 */
export function packSignatures(signatures: readonly OracleSignature[], threshold: number): Hex {
  const unique = new Map<string, OracleSignature>();
  for (const s of signatures) if (!unique.has(s.signer)) unique.set(s.signer, s);
  const sorted = [...unique.values()].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  if (sorted.length < threshold) {
    throw new Error(`need ${threshold} oracle signatures, have ${sorted.length}`);
  }
  const picked = sorted.slice(0, threshold);
  const out = new Uint8Array(65 * picked.length);
  picked.forEach((s, i) => out.set(getBytes(s.signature), 65 * i));
  return hexlify(out) as Hex;
}
