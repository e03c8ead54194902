/**
 * Oracle signatures of the distributor's EIP-712 EpochRoot (domain and field list:
 * @hexmesh/protocol's eip712/distributor.ts). Signatures are 65-byte r ‖ s ‖ v, low s.
 */
import {
  getBytes,
  hexlify,
  Signature,
  TypedDataEncoder,
  type BaseWallet,
  type TypedDataDomain,
} from "ethers";

import { EPOCH_ROOT_TYPES, type Hex, type SignedEpochRoot } from "@hexmesh/protocol";

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
    return this.signDigest(epochRootDigest(domain, value));
  }

  /** Signs an EIP-712 digest (the EpochRoot's above, a DataTransferSettlement's in service/settlement.ts). */
  signDigest(digest: Hex): OracleSignature {
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
