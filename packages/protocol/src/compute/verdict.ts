/**
 * The compute oracle quorum's FraudVerdict (contracts/compute/ComputeJobs.sol, `submitVerdict`): the
 * one field list of the message, its EIP-712 domain ("Hexmesh ComputeJobs", version "1", the chain
 * and the ComputeJobs contract) and its digest. Each oracle of the compute subnetwork's current set
 * signs the digest (65-byte r ‖ s ‖ v, low s: @hexmesh/oracle's `OracleKey.signDigest`); the
 * signatures are packed with signers strictly ascending (`packSignatures`), at least the compute
 * distributor's threshold of them.
 *
 * A verdict names the job, the provider at fault (a Verified job has two), why, the hash of the
 * evidence the oracles hold (for WrongResult, keccak256 of the re-executed output), who proved it
 * (paid 20% of the penalty), the oracle set it was signed under (a change of the set on chain kills
 * it) and a unix deadline after which the contract refuses it.
 */
import { keccak256 } from "../crypto/keccak.js";
import type { ContractDomain, TypedFields } from "../eip712/typed-data.js";
import { isHexBytes, toHex, type Hex } from "../hex.js";
import { contractDomainSeparator, structHasher } from "../reports/eip712.js";

export const COMPUTE_JOBS_DOMAIN_NAME = "Hexmesh ComputeJobs";
export const COMPUTE_JOBS_DOMAIN_VERSION = "1";

export function computeJobsDomain(chainId: bigint, computeJobs: string): ContractDomain {
  return {
    name: COMPUTE_JOBS_DOMAIN_NAME,
    version: COMPUTE_JOBS_DOMAIN_VERSION,
    chainId,
    verifyingContract: computeJobs.toLowerCase(),
  };
}

/**
 * Why a provider is at fault (`reason`, uint8). Zero is not a reason: the contract refuses it and
 * anything above the last code (`ComputeVerdictReasonInvalid`).
 */
export const FraudReason = {
  /** Re-executing the job's spec gave an output whose hash differs from the committed resultHash. */
  WrongResult: 1,
  /** The provider did not serve an output hashing to its committed resultHash when asked. */
  OutputWithheld: 2,
  /** The committed usedUnits exceed the units re-execution metered for the job. */
  UnitsInflated: 3,
} as const;
export type FraudReason = (typeof FraudReason)[keyof typeof FraudReason];

/** Highest reason code the contract accepts (ComputeJobs.MAX_FRAUD_REASON). */
export const MAX_FRAUD_REASON = 3;

export const FRAUD_VERDICT_TYPES: { FraudVerdict: TypedFields } = {
  FraudVerdict: [
    { name: "jobId", type: "uint256" },
    { name: "provider", type: "address" },
    { name: "reason", type: "uint8" },
    { name: "evidenceHash", type: "bytes32" },
    { name: "prover", type: "address" },
    { name: "oracleSetVersion", type: "uint64" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The verdict as signed and as `submitVerdict` takes it (the Solidity struct has the same fields). */
export interface FraudVerdict {
  readonly jobId: bigint;
  /** The provider at fault (the job's provider; for a Verified job, either of its two). */
  readonly provider: string;
  readonly reason: FraudReason;
  /** Nonzero 32 bytes. */
  readonly evidenceHash: string;
  /** Receives 20% of what the penalty takes; nonzero. */
  readonly prover: string;
  /** The compute distributor's oracleSetVersion the quorum signs under. */
  readonly oracleSetVersion: bigint;
  /** Unix seconds; the contract refuses the verdict after it. */
  readonly deadline: bigint;
}

const hashFraudVerdict = structHasher<FraudVerdict>("FraudVerdict", FRAUD_VERDICT_TYPES.FraudVerdict);

/**
 * The verdict with its addresses and hash in lowercase hex (checksummed input is accepted); throws on
 * a verdict the contract would refuse for its shape (not for its signatures or the job).
 */
export function checkFraudVerdict(verdict: FraudVerdict): FraudVerdict {
  const v: FraudVerdict = {
    ...verdict,
    provider: verdict.provider.toLowerCase(),
    prover: verdict.prover.toLowerCase(),
    evidenceHash: verdict.evidenceHash.toLowerCase(),
  };
  if (!Number.isInteger(v.reason) || v.reason < 1 || v.reason > MAX_FRAUD_REASON) {
    throw new RangeError(`fraud reason must be 1..${MAX_FRAUD_REASON}: ${v.reason}`);
  }
  if (!isHexBytes(v.provider, 20) || BigInt(v.provider) === 0n)
    throw new Error(`bad provider: ${v.provider}`);
  if (!isHexBytes(v.prover, 20) || BigInt(v.prover) === 0n) throw new Error(`bad prover: ${v.prover}`);
  if (!isHexBytes(v.evidenceHash, 32) || BigInt(v.evidenceHash) === 0n) {
    throw new Error(`evidenceHash must be nonzero 32 bytes: ${v.evidenceHash}`);
  }
  if (v.jobId <= 0n || v.jobId >= 1n << 256n) throw new RangeError(`jobId out of range: ${v.jobId}`);
  if (v.oracleSetVersion < 0n || v.oracleSetVersion >= 1n << 64n) {
    throw new RangeError(`oracleSetVersion out of range: ${v.oracleSetVersion}`);
  }
  if (v.deadline < 0n || v.deadline >= 1n << 256n)
    throw new RangeError(`deadline out of range: ${v.deadline}`);
  return v;
}

/** hashStruct(verdict) (what ComputeJobs.verdictStructHash returns). */
export function fraudVerdictStructHash(verdict: FraudVerdict): Hex {
  const out = new Uint8Array(32);
  hashFraudVerdict(checkFraudVerdict(verdict), out, 0);
  return toHex(out);
}

/** keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(verdict)): what each oracle signs. */
export function fraudVerdictDigest(domain: ContractDomain, verdict: FraudVerdict): Hex {
  const v = checkFraudVerdict(verdict);
  const buf = new Uint8Array(66);
  buf[0] = 0x19;
  buf[1] = 0x01;
  buf.set(contractDomainSeparator(domain), 2);
  hashFraudVerdict(v, buf, 34);
  return toHex(keccak256(buf));
}
