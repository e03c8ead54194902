/**
 * The chain side of the provider agent and the client commands: a JSON-RPC provider, a wallet from a
 * key file, and the ComputeJobs binding of @hexmesh/contracts.
 */
import { readFileSync } from "node:fs";

import { JsonRpcProvider, Wallet } from "ethers";

import { ComputeJobs__factory, type ComputeJobs } from "@hexmesh/contracts";

/** ComputeJobs' Status enum, by number. */
export const JOB_STATUS = [
  "None",
  "Open",
  "Accepted",
  "Committed",
  "Disputed",
  "Finalized",
  "Refunded",
] as const;
export type JobStatusName = (typeof JOB_STATUS)[number];
export const TIERS = ["standard", "verified"] as const;

export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
}

/** A key file holds one secp256k1 private key: 0x and 64 hex digits (whitespace around is ignored). */
export function readPrivateKey(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new KeyFileError(`cannot read the key file ${file}: ${(e as Error).message}`);
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new KeyFileError(`the key file ${file} does not hold 0x and 64 hex digits`);
  return text;
}

export interface ComputeChain {
  readonly provider: JsonRpcProvider;
  readonly signer: Wallet;
  readonly address: string;
  readonly jobs: ComputeJobs;
  close(): void;
}

/** A read-only connection to ComputeJobs at `jobsAddress` on `rpc` (checked to hold code). */
export async function readCompute(
  rpc: string,
  jobsAddress: string,
): Promise<{ provider: JsonRpcProvider; jobs: ComputeJobs; close(): void }> {
  const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  let code: string;
  try {
    code = await provider.getCode(jobsAddress);
  } catch (e) {
    provider.destroy();
    throw new Error(`cannot reach the node at ${rpc}: ${(e as Error).message}`);
  }
  if (code === "0x") {
    provider.destroy();
    throw new Error(`no contract at ${jobsAddress} on ${rpc}`);
  }
  return {
    provider,
    jobs: ComputeJobs__factory.connect(jobsAddress, provider),
    close: () => provider.destroy(),
  };
}

/** Connects to `rpc` as the key in `keyFile`, at the ComputeJobs contract `jobsAddress`. */
export async function connectCompute(
  rpc: string,
  keyFile: string,
  jobsAddress: string,
): Promise<ComputeChain> {
  const key = readPrivateKey(keyFile);
  const { provider, close } = await readCompute(rpc, jobsAddress);
  // A plain wallet reads the pending nonce for every transaction (each is awaited before the next):
  // an operator's `provider accept` may send with the same key while the agent runs.
  const signer = new Wallet(key, provider);
  return {
    provider,
    signer,
    address: signer.address,
    jobs: ComputeJobs__factory.connect(jobsAddress, signer),
    close,
  };
}
