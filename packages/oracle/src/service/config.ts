/**
 * Service configuration: a JSON file plus environment variables (the environment wins), validated
 * with ajv before anything starts. Keys belong in the environment (HEXMESH_ORACLE_KEY,
 * HEXMESH_POSTER_KEY), never in a committed file.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { Ajv, type ErrorObject } from "ajv";

import type { StoreConfig } from "../store/index.js";
import type { SuiteAddresses } from "./chain.js";

export interface ServiceConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly store: StoreConfig;
  readonly chain?: {
    readonly rpcUrl: string;
    readonly addresses: SuiteAddresses;
    /** Block the suite was deployed at (registry events are replayed from it). */
    readonly fromBlock: number;
    /** First epoch this oracle computes; unset: derived from the chain (chain/first-epoch.ts). */
    readonly firstEpoch?: number;
  };
  /** This oracle's EpochRoot signing key (0x + 64 hex); prefer HEXMESH_ORACLE_KEY. */
  readonly oracleKey?: string;
  /** Account that sends postRoot (the aggregator's); prefer HEXMESH_POSTER_KEY. */
  readonly posterKey?: string;
  /** Other oracles' API base URLs: signatures are collected from them. */
  readonly peers: readonly string[];
  /** Ingest peer to pull epoch inputs from (oracles that do not ingest themselves). */
  readonly inputsFrom?: string;
  readonly limits: {
    /** Largest request body, bytes. */
    readonly bodyBytes: number;
    /** Most reports in one batch. */
    readonly batchMax: number;
    /** Reports per proven device key per minute, every endpoint together (after the signature check). */
    readonly perDevicePerMinute: number;
    /** Reports per client address per minute, every write endpoint together. */
    readonly clientReportsPerMinute: number;
    /** Reports stored per device per 6-hour beacon window (windows aligned to Unix time). */
    readonly perDevicePerWindow: number;
    /** Batch requests per client address per minute. */
    readonly batchesPerMinute: number;
  };
  /** Ingest: where device keys come from when there is no chain, and the signature-check threads. */
  readonly ingest: {
    /** A key file exported from the registry (needed without `chain`; see service/keys.ts). */
    readonly devicesFile?: string;
    /** Worker threads for signature checks at ingest; 0 = on the main thread. Default: one per core. */
    readonly signatureThreads?: number;
  };
  /**
   * Receive-time clock. "system": the host clock (+ offsetMs). "device-timestamp": the report's
   * own signed timestamp, for replays and deterministic tests only (it trusts devices). "chain": the
   * chain's clock (latest block time, running with the host's between blocks; chain-clock.ts), for
   * local nodes whose time is moved; needs `chain`.
   */
  readonly clock: { readonly mode: "system" | "device-timestamp" | "chain"; readonly offsetMs: number };
  /** Epoch steps. */
  readonly epochs: {
    /** close-epoch refuses to run before an epoch's end + 2 witness windows + this, ms. */
    readonly closeGraceMs: number;
  };
  /** Raw reports' retention (`prune`); absent: `prune` refuses to run, nothing is ever deleted. */
  readonly retention?: {
    /** Raw reports are kept this many epochs after the epoch's root is live (0: pruned once live). */
    readonly keepEpochs: number;
  };
  /**
   * A folder of static files served at `/` (the built web app, packages/web/dist, with its
   * hexmesh.json); absent: no static files. API routes take precedence over file names.
   */
  readonly staticDir?: string;
  /**
   * The storage oracle (packages/oracle/src/storage): absent, this oracle does no storage work. Needs
   * `chain` and `oracleKey`; with `posterKey` it also keeps the seeds and sends suspension updates.
   */
  readonly storage?: {
    /** StorageDeals. */
    readonly deals: string;
    /** StorageSuspensions. */
    readonly suspensions: string;
    /** The storage subnetwork's RewardsDistributor (its oracle set signs suspensions). */
    readonly distributor: string;
    /** Block StorageDeals was deployed at (the index starts there). */
    readonly fromBlock: number;
    /** Blocks behind the head the indexer leaves unread. */
    readonly confirmations: number;
    /** Time between rounds, ms. */
    readonly intervalMs: number;
    /** A probe's whole answer must arrive within this, ms. */
    readonly probeTimeoutMs: number;
  };
  /**
   * The kinds of work besides coverage whose epochs this oracle closes, signs and posts (`--work`),
   * each with its subnetwork's RewardsDistributor and the registry's class subnetwork of its device
   * classes (the deployment's `classSubnetwork`). Storage needs `storage` (its StorageDeals index and
   * retrieval results); usage is read from chain.addresses.credits under the kind's subnetwork id.
   */
  readonly works?: {
    readonly storage?: WorkConfig;
    readonly compute?: WorkConfig;
  };
  /**
   * The compute oracle (packages/oracle/src/compute): absent, this oracle does no compute work. Needs
   * `chain` and `oracleKey`; with `posterKey` it also records spot checks, submits verdicts and
   * executes penalties; the oracle whose poster account is `benchmark.sender` sends the benchmarks.
   */
  readonly compute?: {
    /** ComputeJobs. */
    readonly jobs: string;
    /** The compute subnetwork's RewardsDistributor (its oracle set signs verdicts). */
    readonly distributor: string;
    /** Block ComputeJobs was deployed at (the index starts there). */
    readonly fromBlock: number;
    /** Blocks behind the head the indexer leaves unread. */
    readonly confirmations: number;
    /** Time between rounds, ms. */
    readonly intervalMs: number;
    /** Receives the prover's 20% of each penalty (the same on every oracle: the verdicts must be identical). */
    readonly prover: string;
    /** Blob servers job specs, programs and inputs are fetched from (re-execution), in order. */
    readonly sources: readonly string[];
    /** Folder the fetched blobs are cached in. */
    readonly cacheDir: string;
    /** Re-execution limits (the runner's; defaults: @hexmesh/compute DEFAULT_LIMITS). */
    readonly limits?: {
      readonly timeMs?: number;
      readonly memoryBytes?: number;
      readonly outputBytes?: number;
    };
    /** Committed units above measured + ceil(measured × this / 10,000) are inflated (UnitsInflated). */
    readonly unitsToleranceBps: number;
    /**
     * The withheld-output detector (compute/withheld.ts); absent, outputs are not probed. Every oracle
     * of the set should use the same values: the verdict needs the threshold of them to judge alike.
     */
    readonly withheld?: {
      readonly attempts: number;
      readonly spacingSeconds: number;
      readonly graceSeconds: number;
      readonly timeoutMs: number;
      /** Each provider's registered output endpoint (its agent's blob server), by address. */
      readonly endpoints: Readonly<Record<string, string>>;
    };
    /** The daily availability benchmark. */
    readonly benchmark: {
      /** The designated sender (its directed benchmark jobs are the ones that count). */
      readonly sender: string;
      /** Registry device classes benchmarked. */
      readonly classes: readonly number[];
      /** Seconds from sending to the benchmark's deadline. */
      readonly deadlineSeconds: number;
      /** Blob servers the benchmark's spec, program and input are uploaded to. */
      readonly publish: readonly string[];
    };
  };
  readonly log: { readonly level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent" };
}

export interface WorkConfig {
  readonly distributor: string;
  readonly classSubnetwork: number;
}

const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" };
const privateKey = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" };
const WORK_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["distributor", "classSubnetwork"],
  properties: { distributor: address, classSubnetwork: { type: "integer", minimum: 0, maximum: 255 } },
} as const;

export const CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["store"],
  properties: {
    listen: {
      type: "object",
      additionalProperties: false,
      properties: {
        host: { type: "string", minLength: 1, default: "127.0.0.1" },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 8080 },
      },
      default: {},
    },
    store: {
      oneOf: [
        {
          type: "object",
          additionalProperties: false,
          required: ["backend", "path"],
          properties: { backend: { const: "sqlite" }, path: { type: "string", minLength: 1 } },
        },
        {
          type: "object",
          additionalProperties: false,
          required: ["backend", "url"],
          properties: {
            backend: { const: "postgres" },
            url: { type: "string", pattern: "^postgres(ql)?://" },
            maxConnections: { type: "integer", minimum: 1, maximum: 200 },
            schema: { type: "string", pattern: "^[a-z_][a-z0-9_]{0,62}$" },
          },
        },
      ],
    },
    chain: {
      type: "object",
      additionalProperties: false,
      required: ["rpcUrl", "addresses"],
      properties: {
        rpcUrl: { type: "string", pattern: "^(https?|wss?)://" },
        addresses: {
          type: "object",
          additionalProperties: false,
          required: ["registry", "vault", "controller", "distributor"],
          properties: {
            registry: address,
            vault: address,
            controller: address,
            distributor: address,
            dataTransfer: address,
            credits: address,
            subnetwork: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" },
          },
        },
        fromBlock: { type: "integer", minimum: 0, default: 0 },
        firstEpoch: { type: "integer", minimum: 0 },
      },
    },
    oracleKey: privateKey,
    posterKey: privateKey,
    peers: { type: "array", items: { type: "string", pattern: "^https?://" }, default: [] },
    inputsFrom: { type: "string", pattern: "^https?://" },
    limits: {
      type: "object",
      additionalProperties: false,
      properties: {
        bodyBytes: { type: "integer", minimum: 1024, maximum: 64 * 1024 * 1024, default: 4 * 1024 * 1024 },
        batchMax: { type: "integer", minimum: 1, maximum: 10_000, default: 2_000 },
        perDevicePerMinute: { type: "integer", minimum: 1, default: 120 },
        clientReportsPerMinute: { type: "integer", minimum: 1, default: 120_000 },
        perDevicePerWindow: { type: "integer", minimum: 1, default: 1_000 },
        batchesPerMinute: { type: "integer", minimum: 1, default: 6_000 },
      },
      default: {},
    },
    ingest: {
      type: "object",
      additionalProperties: false,
      properties: {
        devicesFile: { type: "string", minLength: 1 },
        signatureThreads: { type: "integer", minimum: 0, maximum: 64 },
      },
      default: {},
    },
    clock: {
      type: "object",
      additionalProperties: false,
      properties: {
        mode: { enum: ["system", "device-timestamp", "chain"], default: "system" },
        offsetMs: { type: "integer", default: 0 },
      },
      default: {},
    },
    epochs: {
      type: "object",
      additionalProperties: false,
      properties: {
        closeGraceMs: { type: "integer", minimum: 0, default: 60_000 },
      },
      default: {},
    },
    retention: {
      type: "object",
      additionalProperties: false,
      required: ["keepEpochs"],
      properties: { keepEpochs: { type: "integer", minimum: 0 } },
    },
    staticDir: { type: "string", minLength: 1 },
    storage: {
      type: "object",
      additionalProperties: false,
      required: ["deals", "suspensions", "distributor"],
      properties: {
        deals: address,
        suspensions: address,
        distributor: address,
        fromBlock: { type: "integer", minimum: 0, default: 0 },
        confirmations: { type: "integer", minimum: 0, maximum: 1_000, default: 0 },
        intervalMs: { type: "integer", minimum: 1_000, default: 60_000 },
        probeTimeoutMs: { type: "integer", minimum: 100, maximum: 120_000, default: 10_000 },
      },
    },
    works: {
      type: "object",
      additionalProperties: false,
      properties: { storage: WORK_SCHEMA, compute: WORK_SCHEMA },
    },
    compute: {
      type: "object",
      additionalProperties: false,
      required: ["jobs", "distributor", "prover", "sources", "cacheDir", "benchmark"],
      properties: {
        jobs: address,
        distributor: address,
        fromBlock: { type: "integer", minimum: 0, default: 0 },
        confirmations: { type: "integer", minimum: 0, maximum: 1_000, default: 0 },
        intervalMs: { type: "integer", minimum: 1_000, default: 60_000 },
        prover: address,
        sources: { type: "array", items: { type: "string", pattern: "^https?://" } },
        cacheDir: { type: "string", minLength: 1 },
        limits: {
          type: "object",
          additionalProperties: false,
          properties: {
            timeMs: { type: "integer", minimum: 100, maximum: 3_600_000 },
            memoryBytes: { type: "integer", minimum: 65_536, maximum: 4_294_967_296 },
            outputBytes: { type: "integer", minimum: 1, maximum: 1_073_741_824 },
          },
        },
        unitsToleranceBps: { type: "integer", minimum: 0, maximum: 10_000, default: 0 },
        withheld: {
          type: "object",
          additionalProperties: false,
          properties: {
            attempts: { type: "integer", minimum: 1, maximum: 24, default: 3 },
            spacingSeconds: { type: "integer", minimum: 1, maximum: 21_600, default: 3_600 },
            graceSeconds: { type: "integer", minimum: 0, maximum: 72_000, default: 14_400 },
            timeoutMs: { type: "integer", minimum: 100, maximum: 120_000, default: 10_000 },
            endpoints: {
              type: "object",
              propertyNames: address,
              additionalProperties: { type: "string", pattern: "^https?://" },
              default: {},
            },
          },
        },
        benchmark: {
          type: "object",
          additionalProperties: false,
          required: ["sender"],
          properties: {
            sender: address,
            classes: {
              type: "array",
              items: { type: "integer", minimum: 0, maximum: 65_535 },
              minItems: 1,
              default: [4, 5, 6],
            },
            deadlineSeconds: { type: "integer", minimum: 60, maximum: 86_400, default: 1_800 },
            publish: { type: "array", items: { type: "string", pattern: "^https?://" }, default: [] },
          },
        },
      },
    },
    log: {
      type: "object",
      additionalProperties: false,
      properties: {
        level: { enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], default: "info" },
      },
      default: {},
    },
  },
} as const;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Environment variables and the config path they override. */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  HEXMESH_LISTEN_HOST: "listen.host",
  HEXMESH_LISTEN_PORT: "listen.port",
  HEXMESH_STORE_PATH: "store.path (sqlite)",
  HEXMESH_STORE_URL: "store.url (postgres)",
  HEXMESH_RPC_URL: "chain.rpcUrl",
  HEXMESH_ORACLE_KEY: "oracleKey",
  HEXMESH_POSTER_KEY: "posterKey",
  HEXMESH_PEERS: "peers (comma-separated)",
  HEXMESH_LOG_LEVEL: "log.level",
  HEXMESH_STATIC_DIR: "staticDir",
};

function applyEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): void {
  const obj = (k: string): Record<string, any> => (raw[k] ??= {}) as Record<string, any>;
  if (env.HEXMESH_LISTEN_HOST) obj("listen").host = env.HEXMESH_LISTEN_HOST;
  if (env.HEXMESH_LISTEN_PORT) {
    const p = Number(env.HEXMESH_LISTEN_PORT);
    obj("listen").port = Number.isInteger(p) ? p : env.HEXMESH_LISTEN_PORT;
  }
  if (env.HEXMESH_STORE_URL) raw.store = { backend: "postgres", url: env.HEXMESH_STORE_URL };
  else if (env.HEXMESH_STORE_PATH) raw.store = { backend: "sqlite", path: env.HEXMESH_STORE_PATH };
  if (env.HEXMESH_RPC_URL) obj("chain").rpcUrl = env.HEXMESH_RPC_URL;
  if (env.HEXMESH_ORACLE_KEY) raw.oracleKey = env.HEXMESH_ORACLE_KEY;
  if (env.HEXMESH_POSTER_KEY) raw.posterKey = env.HEXMESH_POSTER_KEY;
  if (env.HEXMESH_PEERS !== undefined)
    raw.peers = env.HEXMESH_PEERS.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (env.HEXMESH_LOG_LEVEL) obj("log").level = env.HEXMESH_LOG_LEVEL;
  if (env.HEXMESH_STATIC_DIR) raw.staticDir = env.HEXMESH_STATIC_DIR;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === "" ? "(top level)" : e.instancePath.slice(1).replaceAll("/", ".");
  if (e.keyword === "additionalProperties")
    return `${at}: unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === "enum") return `${at}: must be one of ${(e.params.allowedValues as string[]).join(", ")}`;
  if (e.keyword === "pattern" && /Key$/.test(at)) return `${at}: must be 0x followed by 64 hex digits`;
  return `${at}: ${e.message ?? e.keyword}`;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(CONFIG_SCHEMA);

/** Validates a raw object (after env overrides); throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, source = "configuration"): ServiceConfig {
  const copy = structuredClone(raw);
  if (!validate(copy)) {
    // oneOf reports each branch; keep the errors of the branch the user meant.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "const");
    const lines = [...new Set(errors.map(describe))];
    throw new ConfigError(`invalid ${source}:\n  - ${lines.join("\n  - ")}`);
  }
  const cfg = copy as unknown as ServiceConfig;
  if (cfg.ingest.devicesFile !== undefined)
    (cfg.ingest as { devicesFile: string }).devicesFile = path.resolve(cfg.ingest.devicesFile);
  if (cfg.store.backend === "sqlite" && cfg.store.path !== ":memory:") {
    (cfg.store as { path: string }).path = path.resolve(cfg.store.path);
  }
  if (cfg.works !== undefined && Object.keys(cfg.works).length > 0 && cfg.chain === undefined)
    throw new ConfigError(
      `invalid ${source}:\n  - works: needs chain (epochs are read from and posted to it)`,
    );
  if (cfg.works?.storage !== undefined && cfg.storage === undefined)
    throw new ConfigError(
      `invalid ${source}:\n  - works.storage: needs storage (the StorageDeals index and retrieval results it pays from)`,
    );
  if (cfg.works?.compute !== undefined && cfg.compute === undefined)
    throw new ConfigError(
      `invalid ${source}:\n  - works.compute: needs compute (the ComputeJobs index its benchmarks are derived from)`,
    );
  const withheld = cfg.compute?.withheld;
  if (withheld !== undefined && (withheld.attempts - 1) * withheld.spacingSeconds > 72_000)
    throw new ConfigError(
      `invalid ${source}:\n  - compute.withheld: (attempts - 1) × spacingSeconds is over 72000 s: a verdict must be reachable within 20 hours of the commit, before the 24-hour acceptance window lets anyone finalize the job`,
    );
  if (cfg.staticDir !== undefined) {
    (cfg as { staticDir: string }).staticDir = path.resolve(cfg.staticDir);
    if (!existsSync(path.join(cfg.staticDir, "index.html")))
      throw new ConfigError(`invalid ${source}:\n  - staticDir: no index.html in ${cfg.staticDir}`);
  }
  return cfg;
}

/** Reads `file` (if given), applies the environment, validates. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  let raw: Record<string, any> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, any>;
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw))
      throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  applyEnv(raw, env);
  return validateConfig(raw, file === undefined ? "configuration (environment)" : `config ${file}`);
}
