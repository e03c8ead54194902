/**
 * Compute job specs: what a customer, a provider, a verifier and the ComputeJobs contract agree a
 * job is. A job is a WebAssembly (WASI) program and its input, both content-addressed by keccak256;
 * its spec is the 64 bytes `keccak256(program) ‖ keccak256(input)` and the job's id on chain is
 * `specHash = keccak256(spec)`. The spec is itself content-addressed, so a provider holding only the
 * specHash from `JobCreated` fetches the spec, then the program and the input, checking each hash.
 * keccak256 (not SHA-256) because it is the hash the contracts and the rest of Hexmesh use.
 */
import { keccak256 } from "../crypto/keccak.js";
import { isHexBytes, toHex, writeHex, type Hex } from "../hex.js";

/** Length of an encoded spec: two 32-byte hashes. */
export const JOB_SPEC_LENGTH = 64;

/** A job spec: the hashes of its program and its input. */
export interface JobSpec {
  programHash: Hex;
  inputHash: Hex;
}

/** keccak256 of `bytes` as canonical hex. */
export function contentHash(bytes: Uint8Array): Hex {
  return toHex(keccak256(bytes));
}

/** The 64-byte encoding of a spec (programHash ‖ inputHash). */
export function encodeJobSpec(spec: JobSpec): Uint8Array {
  if (!isHexBytes(spec.programHash, 32))
    throw new Error(`programHash is not 32-byte hex: ${spec.programHash}`);
  if (!isHexBytes(spec.inputHash, 32)) throw new Error(`inputHash is not 32-byte hex: ${spec.inputHash}`);
  const out = new Uint8Array(JOB_SPEC_LENGTH);
  writeHex(out, 0, spec.programHash);
  writeHex(out, 32, spec.inputHash);
  return out;
}

/** Decodes a 64-byte spec; throws on any other length. */
export function decodeJobSpec(bytes: Uint8Array): JobSpec {
  if (bytes.length !== JOB_SPEC_LENGTH)
    throw new Error(`a job spec is ${JOB_SPEC_LENGTH} bytes, got ${bytes.length}`);
  return { programHash: toHex(bytes, 0, 32), inputHash: toHex(bytes, 32, 32) };
}

/** The spec of a program and an input, its encoding and its hash (the job's `specHash`). */
export function jobSpecOf(
  program: Uint8Array,
  input: Uint8Array,
): { spec: JobSpec; specBytes: Uint8Array; specHash: Hex } {
  const spec = { programHash: contentHash(program), inputHash: contentHash(input) };
  const specBytes = encodeJobSpec(spec);
  return { spec, specBytes, specHash: contentHash(specBytes) };
}
