/**
 * Spot-check selection of committed compute jobs, exactly as ComputeJobs.recordSpotCheck draws it:
 * the draw is `uint256(keccak256(abi.encode(seed, jobId))) % 10000`, where `seed` is the hash of the
 * job's check block (the block after its commit); the job is selected when it is one of its
 * provider's first 10 (`forced`), when the seed was out of reach (zero), or when the draw is below the
 * probability in basis points. The compute oracle uses this to know what to re-execute.
 */
import { keccak256 } from "../crypto/keccak.js";
import { fromHex, isHexBytes, writeUint256 } from "../hex.js";

const BPS = 10_000n;
const ZERO_SEED = "0x" + "00".repeat(32);

/** The job's draw in [0, 10000) from its check block's hash. */
export function spotCheckDraw(seed: string, jobId: bigint): number {
  if (!isHexBytes(seed, 32)) throw new Error(`seed must be 32 bytes of canonical hex: ${seed}`);
  const buf = new Uint8Array(64);
  buf.set(fromHex(seed), 0);
  writeUint256(buf, 32, jobId);
  let value = 0n;
  for (const b of keccak256(buf)) value = (value << 8n) | BigInt(b);
  return Number(value % BPS);
}

/** Whether the job is selected for re-execution (see the file comment). */
export function spotCheckSelected(
  seed: string,
  jobId: bigint,
  probabilityBps: number,
  forced: boolean,
): boolean {
  return forced || seed === ZERO_SEED || spotCheckDraw(seed, jobId) < probabilityBps;
}
