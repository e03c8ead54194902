/**
 * Shared helpers of the oracle service tests (test/service/): signed reports from the simulator,
 * store backends under test, free ports, child processes. No top-level side effects.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import pg from "pg";

import {
  buildApi,
  type ApiDeps,
  type OracleStore,
  type ReportInput,
  type StoredEpochResult,
} from "@hexmesh/oracle";
import { OracleClient } from "@hexmesh/oracle/api/client";
import { Ingestor, toReportInput } from "@hexmesh/oracle/service/ingest";
import { toJson } from "@hexmesh/oracle/store/json";
import { MIGRATIONS, MIGRATIONS_TABLE } from "@hexmesh/oracle/store/migrations";
import { PostgresStore } from "@hexmesh/oracle/store/postgres";
import { resultToRow } from "@hexmesh/oracle/store/rows";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { InlineAuthenticator } from "@hexmesh/oracle/verify/prepare";
import type { ChainIndex, Hex, ReportDomain } from "@hexmesh/protocol";
import { makeFleet, simulateEpoch, type SimDevice } from "@hexmesh/sim/fleet";

export const BIN = path.resolve("node_modules/.bin");
/** The oracle package's `hexmesh-oracle` bin (runs the compiled dist/; `npm run build` first). */
export const CLI = path.resolve("packages/oracle/bin/hexmesh-oracle.js");
export const DOMAIN: ReportDomain = {
  chainId: 31337n,
  verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex,
};
export const EPOCH_START = Date.UTC(2026, 0, 1);
export const EPOCH_END = EPOCH_START + 86_400_000;

export { freePort } from "../../scripts/demo/rpc.js";

/** A key file for `ingest.devicesFile` (what a node without a chain checks signatures against). */
export function writeDevicesFile(
  file: string,
  fleet: readonly SimDevice[],
  domain: ReportDomain = DOMAIN,
): string {
  writeFileSync(
    file,
    JSON.stringify({
      chainId: domain.chainId.toString(),
      registry: domain.verifyingContract,
      keys: fleet.map((d) => d.signer.key),
    }),
  );
  return file;
}

/** A report as the store takes it (ingest's own conversion), stamped `receivedAt`. */
export function reportInput(raw: string, receivedAt: number): ReportInput {
  const c = toReportInput(raw, receivedAt);
  if (!c.ok) throw new Error(`not a report: ${c.error.code}`);
  return c.input;
}

/** A fleet and one simulated epoch of signed reports (some spoiled), deterministic per seed. */
export function simulated(devices: number, seed: string, invalidShare = 0.02) {
  const fleet: SimDevice[] = makeFleet({ devices, p256Share: 0.2, spacingM: 400, seed });
  const sim = simulateEpoch(fleet, {
    domain: DOMAIN,
    epochStart: EPOCH_START,
    epochEnd: EPOCH_END,
    beaconsPerDevice: 4,
    witnessesPerBeacon: 6,
    invalidShare,
    seed,
  });
  return { fleet, sim };
}

/**
 * The PostgreSQL server under test: HEXMESH_TEST_PG_URL. Unset: the PG tests skip with a printed
 * reason, except under CI (CI=true), where a missing server is a failure. Set but unreachable: fail.
 */
export function pgUrl(): { url: string } | { skip: string } {
  const url = process.env.HEXMESH_TEST_PG_URL;
  if (url !== undefined && url !== "") return { url };
  if (process.env.CI === "true" || process.env.CI === "1") {
    throw new Error("CI: HEXMESH_TEST_PG_URL is not set; .ci/run must start PostgreSQL and export it");
  }
  return { skip: "HEXMESH_TEST_PG_URL is not set (no PostgreSQL server): PostgreSQL store tests skipped" };
}

/** A fresh schema for one test's PostgreSQL store. */
export async function freshPgSchema(url: string, name: string): Promise<string> {
  const schema = `t_${name}_${process.pid}_${Date.now() % 1_000_000}`.toLowerCase();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return schema;
}

export async function dropPgSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A store backend under test: SQLite (temp files) and PostgreSQL (fresh schemas; `skip` without a server). */
export interface StoreBackend {
  readonly name: string;
  readonly skip?: string;
  open(): Promise<OracleStore>;
  /** A second connection (pool) to the store last opened. */
  second(): Promise<OracleStore>;
  cleanup(): Promise<void>;
}

export function storeBackends(name: string): StoreBackend[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hexmesh-${name}-`));
  let n = 0;
  let last = "";
  const sqlite: StoreBackend = {
    name: "sqlite",
    open: async () => openSqlite((last = path.join(dir, `s${n++}.sqlite`))),
    second: async () => openSqlite(last),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
  const target = pgUrl();
  if ("skip" in target)
    return [
      sqlite,
      {
        name: "postgres",
        skip: target.skip,
        open: async () => {
          throw new Error(target.skip);
        },
        second: async () => {
          throw new Error(target.skip);
        },
        cleanup: async () => {},
      },
    ];
  const schemas: string[] = [];
  const postgres: StoreBackend = {
    name: "postgres",
    open: async () => {
      const schema = await freshPgSchema(target.url, `${name}${n++}`);
      schemas.push(schema);
      return openPg(target.url, schema);
    },
    second: async () => openPg(target.url, schemas.at(-1)!),
    cleanup: async () => {
      for (const s of schemas) await dropPgSchema(target.url, s);
    },
  };
  return [sqlite, postgres];
}

export function openSqlite(file: string): SqliteStore {
  return new SqliteStore({ path: file });
}

export function openPg(url: string, schema: string): PostgresStore {
  return new PostgresStore({ url, schema, maxConnections: 4 });
}

export type { OracleStore };

/** Applies migrations 1..`version` statement by statement (the schema an older oracle left). */
export async function migrateTo(store: OracleStore, version: number): Promise<void> {
  const sql = store.storageSql();
  await sql.run(MIGRATIONS_TABLE);
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
    for (const s of store.backend === "postgres" ? (m.postgres ?? m.statements) : m.statements)
      await sql.run(s);
    await sql.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
      m.version,
      m.name,
      0,
    ]);
  }
}

/**
 * Writes coverage epoch result r as an oracle before schema version 16 did (migrateTo a version
 * below it): the same columns, its owners inside its row, no owner_chunks.
 */
export async function putResultBefore16(store: OracleStore, r: StoredEpochResult): Promise<void> {
  const { row } = resultToRow(r);
  await store
    .storageSql()
    .run(
      "INSERT INTO epoch_results (work, epoch, root, total_cumulative, data_hash, snapshot_block, summary, owners, computed_at) VALUES ('coverage', ?, ?, ?, ?, ?, ?, ?, ?)",
      [...row.slice(0, 6), toJson(r.owners), row[7]!],
    );
}

/** Runs the oracle CLI as a child process of this Node (22), as an operator would: plain JavaScript. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  return { child, output: () => out };
}

/**
 * Starts a long-running program (a node, a service) in its own process group, with the repository's
 * node_modules/.bin first on PATH, so stopProcessGroup can stop it and every child it started (npx and
 * anvil). Its output is collected for error messages.
 */
export function startProcessGroup(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const child = spawn(command, args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    cwd: options.cwd,
    env: options.env ?? { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  return { child, output: () => out };
}

/** Polls `request` until it answers 2xx; fails fast if the child exits, after `ms` otherwise. */
async function waitAnswering(
  child: ChildProcess,
  output: () => string,
  /** Resolves true once answered (an accepted but unanswered connection must time out: undici waits 300 s). */
  answered: () => Promise<boolean>,
  what: string,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited early (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      if (await answered()) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${what} within ${ms} ms:\n${output()}`);
}

/** Waits until an oracle service answers /ready. */
export function waitReady(
  url: string,
  child: ChildProcess,
  output: () => string,
  ms = 60_000,
): Promise<void> {
  const oracle = new OracleClient(url, { timeoutMs: 2_000 });
  return waitAnswering(child, output, () => oracle.ready().then(() => true), `${oracle.baseUrl} /ready`, ms);
}

/** Waits until a JSON-RPC node answers eth_chainId. */
export function waitForRpc(
  url: string,
  child: ChildProcess,
  output: () => string,
  ms = 60_000,
): Promise<void> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] });
  const headers = { "content-type": "application/json" };
  return waitAnswering(
    child,
    output,
    async () => (await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(2_000) })).ok,
    url,
    ms,
  );
}

/**
 * Sends `signal` to the process group led by `child` (spawned with `detached: true`) and waits until
 * every process of the group has exited. Waiting for `child` alone is not enough when it is a wrapper:
 * `npx @foundry-rs/anvil` exits about 20 ms after SIGINT, while Anvil itself takes a second or two
 * more to write its `--state` file and release its port.
 */
export async function stopProcessGroup(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
  ms = 30_000,
): Promise<void> {
  const pid = child?.pid;
  if (pid === undefined) return;
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false; // ESRCH: no process of the group is left
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pid, signal);
  } catch {
    return; // gone in between
  }
  const deadline = Date.now() + ms;
  while (alive()) {
    if (Date.now() > deadline) {
      process.kill(-pid, "SIGKILL");
      throw new Error(`process group ${pid} still running ${ms} ms after ${signal}; killed`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The chain index of a simulated fleet for the epoch [start, end): every device, 4 bonded per owner, pool 1M MESH. */
export function fleetIndex(
  fleet: readonly SimDevice[],
  t: { readonly epoch: bigint; readonly start: number; readonly end: number },
): ChainIndex {
  return {
    chainId: DOMAIN.chainId,
    registry: DOMAIN.verifyingContract,
    epoch: t.epoch,
    epochStart: t.start,
    epochEnd: t.end,
    pool: 10n ** 24n,
    devices: fleet.map((d) => d.record),
    bonds: [...new Set(fleet.map((d) => d.record.owner))].map((owner) => ({ owner, bondedDevices: 4 })),
    previousCumulative: [],
  };
}

/** An oracle's real API over `store` on localhost (port 0), with `extra` dependencies; its URL. */
export async function serveOracleApi(
  store: OracleStore,
  extra: Partial<ApiDeps> = {},
): Promise<{ app: Awaited<ReturnType<typeof buildApi>>; url: string }> {
  const app = await buildApi({
    store,
    ingestor: new Ingestor(store, {
      clock: () => 0,
      authenticator: new InlineAuthenticator(DOMAIN, []),
      limits: {
        perDevicePerMinute: 10,
        clientReportsPerMinute: 10,
        perDevicePerWindow: 10,
        beaconWindowMs: 21_600_000,
      },
    }),
    limits: { bodyBytes: 1 << 20, batchMax: 10, batchesPerMinute: 100 },
    ...extra,
  });
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

/** A stored epoch result that counts and pays nothing: for store tests and benches that need its row only. */
export function bareEpochResult(epoch: bigint, root: Hex, dataHash: Hex = root): StoredEpochResult {
  return {
    epoch,
    root,
    totalCumulative: 0n,
    dataHash,
    snapshotBlock: 1,
    summary: {
      reports: 0,
      valid: 0,
      beacons: 0,
      witnesses: 0,
      rejected: {},
      devices: 0,
      owners: 0,
      pool: "0",
      distributed: "0",
      dust: "0",
    },
    owners: [],
    computedAt: 0,
  };
}
