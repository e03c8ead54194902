/**
 * The agent's configuration file (`hexmesh-hotspot run --config hotspot.json`), validated with ajv
 * before anything starts; relative paths are relative to the file. README "Configuration" lists
 * every key.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { Ajv } from "ajv";

import { describeSchemaError, EU868, US915, type RegionPlan } from "@hexmesh/protocol";

export const REGIONS: Readonly<Record<string, RegionPlan>> = { US915, EU868 };

export interface AgentConfig {
  /** Device key file or P-256 PEM. */
  readonly key: string;
  /** Queue file (SQLite). */
  readonly queue: string;
  readonly chainId: number;
  /** The DeviceRegistry address (the reports' EIP-712 verifying contract). */
  readonly registry: string;
  readonly oracles: readonly string[];
  readonly region: "US915" | "EU868";
  readonly beacon: { readonly channel: number; readonly dataRate: number; readonly txPowerTenths: number };
  readonly beaconIntervalMs: number;
  readonly maxBeaconDelayMs?: number;
  readonly batchMax: number;
  readonly radio:
    | {
        readonly type: "semtech-udp";
        readonly host: string;
        readonly port: number;
        readonly gatewayEui?: string;
      }
    | { readonly type: "none" };
}

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["key", "queue", "chainId", "registry", "oracles"],
  properties: {
    key: { type: "string", minLength: 1 },
    queue: { type: "string", minLength: 1 },
    chainId: { type: "integer", minimum: 1 },
    registry: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
    oracles: { type: "array", minItems: 1, items: { type: "string", pattern: "^https?://" } },
    region: { enum: ["US915", "EU868"], default: "US915" },
    beacon: {
      type: "object",
      additionalProperties: false,
      properties: {
        channel: { type: "integer", minimum: 0, maximum: 255, default: 8 },
        dataRate: { type: "integer", minimum: 0, maximum: 15, default: 2 },
        txPowerTenths: { type: "integer", minimum: -300, maximum: 400, default: 270 },
      },
      default: {},
    },
    beaconIntervalMs: { type: "integer", minimum: 60_000, default: 21_600_000 },
    maxBeaconDelayMs: { type: "integer", minimum: 0 },
    batchMax: { type: "integer", minimum: 1, maximum: 10_000, default: 100 },
    radio: {
      oneOf: [
        {
          type: "object",
          additionalProperties: false,
          required: ["type"],
          properties: {
            type: { const: "semtech-udp" },
            host: { type: "string", minLength: 1, default: "0.0.0.0" },
            port: { type: "integer", minimum: 0, maximum: 65535, default: 1700 },
            gatewayEui: { type: "string", pattern: "^[0-9a-fA-F]{16}$" },
          },
        },
        {
          type: "object",
          additionalProperties: false,
          required: ["type"],
          properties: { type: { const: "none" } },
        },
      ],
      default: { type: "semtech-udp" },
    },
  },
} as const;

export class HotspotConfigError extends Error {
  override readonly name = "HotspotConfigError";
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(SCHEMA);

const describe = describeSchemaError;

export function validateAgentConfig(raw: unknown, source: string, baseDir: string): AgentConfig {
  const copy = structuredClone(raw) as Record<string, unknown>;
  if (!validate(copy)) {
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "const");
    throw new HotspotConfigError(
      `invalid ${source}:\n  - ${[...new Set(errors.map(describe))].join("\n  - ")}`,
    );
  }
  const cfg = copy as unknown as AgentConfig;
  return { ...cfg, key: path.resolve(baseDir, cfg.key), queue: path.resolve(baseDir, cfg.queue) };
}

export function loadAgentConfig(file: string): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new HotspotConfigError(`cannot read config ${file}: ${(e as Error).message}`);
  }
  return validateAgentConfig(raw, `config ${file}`, path.dirname(path.resolve(file)));
}
