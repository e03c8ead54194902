/**
 * The provider agent's configuration file (`hexmesh-compute provider start --config provider.json`),
 * validated with ajv before anything starts; relative paths are relative to the file. docs/compute.md
 * "The provider agent" lists every key.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { Ajv } from "ajv";

import { describeSchemaError } from "@hexmesh/protocol";

import { DEFAULT_LIMITS, type JobLimits } from "../runner.js";

export interface ProviderDevice {
  /** The device's id in the DeviceRegistry (decimal). */
  readonly id: string;
  /** Its device class (a compute class of the registry). */
  readonly class: number;
}

export interface AutoAcceptRule {
  readonly class: number;
  /** Lowest price per unit accepted, micro-USD credits. */
  readonly minPricePerUnit: number;
  /** Largest job accepted, units. */
  readonly maxUnits: number;
}

export interface ProviderConfig {
  /** The operator's key file (0x + 64 hex): owns the devices, holds the collateral, sends the transactions. */
  readonly key: string;
  /** JSON-RPC URL of the chain. */
  readonly rpc: string;
  /** The ComputeJobs contract. */
  readonly computeJobs: string;
  readonly devices: readonly ProviderDevice[];
  /** State file (SQLite). */
  readonly state: string;
  /**
   * The agent's own blob server (read-only: GET of its outputs) and the folder it keeps outputs and
   * fetched programs and inputs in; `maxBytes` is the largest program, input or spec it fetches.
   */
  readonly blobs: {
    readonly dir: string;
    readonly host: string;
    readonly port: number;
    readonly maxBytes: number;
  };
  /** Blob servers programs and inputs are fetched from, in order (the customers' and the market's). */
  readonly sources: readonly string[];
  /** Blob servers each output is also uploaded to (e.g. the market's shared one); may be empty. */
  readonly publish: readonly string[];
  /** Jobs accepted without the operator (none when absent). */
  readonly autoAccept: readonly AutoAcceptRule[];
  /**
   * Accept every job directed to one of the devices (ComputeJobs' JobDirected: the compute oracle's
   * daily availability benchmark, or a customer who chose the device). Default true.
   */
  readonly acceptDirected: boolean;
  /** The runner's limits for every job. */
  readonly limits: JobLimits;
  /** How often the chain is read, ms. */
  readonly pollMs: number;
  /** Seconds before a job's deadline under which it is not started (it could not commit in time). */
  readonly commitMarginSec: number;
  /** Runs of one job that may be cut short by a crash of the agent before it is given up. */
  readonly maxAttempts: number;
  /** First block scanned for the provider's jobs. */
  readonly fromBlock: number;
}

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["key", "rpc", "computeJobs", "devices", "state", "blobs", "sources"],
  properties: {
    key: { type: "string", minLength: 1 },
    rpc: { type: "string", pattern: "^https?://" },
    computeJobs: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
    devices: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "class"],
        properties: {
          id: { type: "string", pattern: "^[1-9][0-9]{0,77}$" },
          class: { type: "integer", minimum: 0, maximum: 65535 },
        },
      },
    },
    state: { type: "string", minLength: 1 },
    blobs: {
      type: "object",
      additionalProperties: false,
      required: ["dir"],
      properties: {
        dir: { type: "string", minLength: 1 },
        host: { type: "string", minLength: 1, default: "127.0.0.1" },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 8790 },
        maxBytes: { type: "integer", minimum: 1, default: DEFAULT_LIMITS.outputBytes },
      },
    },
    sources: { type: "array", minItems: 1, items: { type: "string", pattern: "^https?://" } },
    publish: { type: "array", items: { type: "string", pattern: "^https?://" }, default: [] },
    autoAccept: {
      type: "array",
      default: [],
      items: {
        type: "object",
        additionalProperties: false,
        required: ["class", "minPricePerUnit", "maxUnits"],
        properties: {
          class: { type: "integer", minimum: 0, maximum: 65535 },
          minPricePerUnit: { type: "integer", minimum: 1 },
          maxUnits: { type: "integer", minimum: 1, maximum: 1_000_000_000 },
        },
      },
    },
    acceptDirected: { type: "boolean", default: true },
    limits: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        memoryMib: { type: "integer", minimum: 1, maximum: 65_536 },
        timeMs: { type: "integer", minimum: 1 },
        outputBytes: { type: "integer", minimum: 1 },
      },
    },
    pollMs: { type: "integer", minimum: 50, default: 2000 },
    commitMarginSec: { type: "integer", minimum: 0, default: 60 },
    maxAttempts: { type: "integer", minimum: 1, maximum: 100, default: 3 },
    fromBlock: { type: "integer", minimum: 0, default: 0 },
  },
} as const;

export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(SCHEMA);

const describe = describeSchemaError;

export function validateProviderConfig(raw: unknown, source: string, baseDir: string): ProviderConfig {
  const copy = structuredClone(raw) as Record<string, unknown>;
  if (!validate(copy))
    throw new ProviderConfigError(
      `invalid ${source}:\n  - ${[...new Set((validate.errors ?? []).map(describe))].join("\n  - ")}`,
    );
  const cfg = copy as unknown as Omit<ProviderConfig, "limits"> & {
    limits: { memoryMib?: number; timeMs?: number; outputBytes?: number };
  };
  const ids = cfg.devices.map((d) => d.id);
  for (const id of ids)
    if (BigInt(id) >= 2n ** 256n)
      throw new ProviderConfigError(`invalid ${source}:\n  - devices: ${id} is not a uint256 device id`);
  if (new Set(ids).size !== ids.length)
    throw new ProviderConfigError(`invalid ${source}:\n  - devices: a device is listed twice`);
  const resolve = (p: string) => path.resolve(baseDir, p);
  return {
    ...cfg,
    key: resolve(cfg.key),
    state: resolve(cfg.state),
    blobs: { ...cfg.blobs, dir: resolve(cfg.blobs.dir) },
    limits: {
      memoryBytes: (cfg.limits.memoryMib ?? DEFAULT_LIMITS.memoryBytes / 1024 / 1024) * 1024 * 1024,
      timeMs: cfg.limits.timeMs ?? DEFAULT_LIMITS.timeMs,
      outputBytes: cfg.limits.outputBytes ?? DEFAULT_LIMITS.outputBytes,
    },
  };
}

export function loadProviderConfig(file: string): ProviderConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ProviderConfigError(`cannot read config ${file}: ${(e as Error).message}`);
  }
  return validateProviderConfig(raw, `config ${file}`, path.dirname(path.resolve(file)));
}
