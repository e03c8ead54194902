/**
 * The provider agent's configuration file (JSON), checked with ajv before anything starts. Keys are
 * not in it (see keys.ts).
 */
import { readFile } from "node:fs/promises";

import { Ajv } from "ajv";

import { UsageError } from "./errors.js";

export interface ProviderConfig {
  /** JSON-RPC URL of the chain. */
  rpcUrl: string;
  /** StorageDeals address. */
  deals: string;
  /** MESH token address (collateral is deposited in MESH). */
  mesh: string;
  /** The provider's storage device (decimal string or number). */
  deviceId: string;
  /** Where pieces, trees and the agent's state live. */
  dataDir: string;
  /** Address and port the HTTP server listens on. */
  host: string;
  port: number;
  /** The URL clients and the oracle reach this agent at; registered on chain (setEndpoint). */
  publicUrl: string;
  /** Accept data sets proposed to the device (default true). */
  autoAccept: boolean;
  /** Deposit the collateral a data set requires from the provider's MESH (default true). */
  autoCollateral: boolean;
  /** Largest piece received, bytes (default 1 GiB). */
  maxPieceBytes: number;
  /** Chain poll interval, ms (default 2000). */
  pollMs: number;
  /** Blocks per log query when scanning for data sets (default 5000). */
  logBlockRange: number;
  /** First block to scan for data sets (default 0; the deployment block saves work). */
  fromBlock: number;
}

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["rpcUrl", "deals", "mesh", "deviceId", "dataDir", "publicUrl"],
  properties: {
    rpcUrl: { type: "string", pattern: "^(https?|wss?)://" },
    deals: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
    mesh: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
    deviceId: {
      anyOf: [
        { type: "string", pattern: "^[0-9]{1,78}$" },
        { type: "integer", minimum: 0 },
      ],
    },
    dataDir: { type: "string", minLength: 1 },
    host: { type: "string", minLength: 1 },
    port: { type: "integer", minimum: 0, maximum: 65535 },
    publicUrl: { type: "string", pattern: "^https?://", maxLength: 256 },
    autoAccept: { type: "boolean" },
    autoCollateral: { type: "boolean" },
    maxPieceBytes: { type: "integer", minimum: 1, maximum: 2 ** 40 },
    pollMs: { type: "integer", minimum: 10, maximum: 600_000 },
    logBlockRange: { type: "integer", minimum: 1, maximum: 1_000_000 },
    fromBlock: { type: "integer", minimum: 0 },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(schema);

/** Checks a parsed configuration and fills the defaults. */
export function parseProviderConfig(raw: unknown): ProviderConfig {
  if (!validate(raw)) {
    const errors = (validate.errors ?? [])
      .map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`)
      .join("; ");
    throw new UsageError(`bad provider config: ${errors}`);
  }
  const r = raw as Partial<ProviderConfig> &
    Pick<ProviderConfig, "rpcUrl" | "deals" | "mesh" | "dataDir" | "publicUrl">;
  return {
    rpcUrl: r.rpcUrl,
    deals: r.deals,
    mesh: r.mesh,
    deviceId: String((raw as { deviceId: string | number }).deviceId),
    dataDir: r.dataDir,
    host: r.host ?? "127.0.0.1",
    port: r.port ?? 8710,
    publicUrl: r.publicUrl,
    autoAccept: r.autoAccept ?? true,
    autoCollateral: r.autoCollateral ?? true,
    maxPieceBytes: r.maxPieceBytes ?? 2 ** 30,
    pollMs: r.pollMs ?? 2000,
    logBlockRange: r.logBlockRange ?? 5000,
    fromBlock: r.fromBlock ?? 0,
  };
}

export async function loadProviderConfig(file: string): Promise<ProviderConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read the config ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`the config ${file} is not JSON: ${(e as Error).message}`);
  }
  return parseProviderConfig(raw);
}
