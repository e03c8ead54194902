/**
 * `npm run bench:ingest`: batched report submission against the oracle service on localhost.
 *
 * Starts the service as its own process (`hexmesh-oracle serve`, SQLite store in a temp dir, WAL +
 * synchronous=FULL: every acknowledgement follows an fsync'd commit), then CONCURRENCY clients
 * submit a simulated epoch of signed reports in batches of BATCH over keep-alive HTTP as fast as
 * the service acknowledges them. Bounded: a fixed number of reports, localhost only. Measures the
 * sustained rate (acknowledged reports per second of wall time), batch latency percentiles, and
 * lost reports (sent and acknowledged, but not in the store afterwards: must be 0). Writes
 * bench/results/ingest.json.
 *
 * Options (environment): INGEST_BENCH_DEVICES (default 3000: ~84,000 reports),
 * INGEST_BENCH_BATCH (500), INGEST_BENCH_CONCURRENCY (8).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import type { SubmitReportsResponse } from "@hexmesh/oracle/api/routes";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import type { Hex } from "@hexmesh/protocol";
import { makeFleet, simulateEpoch } from "@hexmesh/sim/fleet";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "ingest.json");
const DEVICES = Number(process.env.INGEST_BENCH_DEVICES ?? 3_000);
const BATCH = Number(process.env.INGEST_BENCH_BATCH ?? 500);
const CONCURRENCY = Number(process.env.INGEST_BENCH_CONCURRENCY ?? 8);
const loadAtStart = Number(os.loadavg()[0]!.toFixed(2));

const t0 = performance.now();
const fleet = makeFleet({ devices: DEVICES, p256Share: 0.2, spacingM: 400, seed: "ingest bench" });
const start = Date.UTC(2026, 0, 1);
const sim = simulateEpoch(fleet, {
  domain: { chainId: 31337n, verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex },
  epochStart: start,
  epochEnd: start + 86_400_000,
  beaconsPerDevice: 4,
  witnessesPerBeacon: 6,
  seed: "ingest bench",
});
const raws = sim.reports.map((r) => r.raw);
console.log(`simulated ${raws.length} signed reports in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const port = await new Promise<number>((resolve, reject) => {
  const srv = createServer();
  srv.once("error", reject);
  srv.listen(0, "127.0.0.1", () => {
    const p = (srv.address() as { port: number }).port;
    srv.close(() => resolve(p));
  });
});
const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-ingest-bench-"));
const dbFile = path.join(dir, "oracle.sqlite");
const configFile = path.join(dir, "config.json");
writeFileSync(
  configFile,
  JSON.stringify({
    listen: { host: "127.0.0.1", port },
    store: { backend: "sqlite", path: dbFile },
    limits: {
      batchMax: Math.max(BATCH, 1),
      bodyBytes: 8 * 1024 * 1024,
      perDevicePerMinute: 1_000_000,
      batchesPerMinute: 1_000_000,
    },
    log: { level: "warn" },
  }),
);
const oracle = new OracleClient(`http://127.0.0.1:${port}`);
// The oracle package's compiled CLI, as an operator runs it.
const service = spawn(
  process.execPath,
  [path.resolve("packages/oracle/bin/hexmesh-oracle.js"), "-c", configFile, "serve"],
  {
    stdio: ["ignore", "inherit", "inherit"],
  },
);
for (let t = 0; ; t++) {
  if (service.exitCode !== null) throw new Error("the service exited");
  try {
    await oracle.ready();
    break;
  } catch {
    // starting
  }
  if (t > 600) throw new Error("the service is not ready after 60 s");
  await new Promise((r) => setTimeout(r, 100));
}

const batches: string[][] = [];
for (let i = 0; i < raws.length; i += BATCH) batches.push(raws.slice(i, i + BATCH));
const latencies: number[] = [];
const acked = new Map<string, number>();
let next = 0;
let errors = 0;
const began = performance.now();
async function client(): Promise<void> {
  for (;;) {
    const k = next++;
    const batch = batches[k];
    if (batch === undefined) return;
    const t = performance.now();
    let body: SubmitReportsResponse;
    try {
      body = await oracle.submitReports(batch);
    } catch (e) {
      if (!(e instanceof OracleApiError)) throw e;
      latencies.push(performance.now() - t);
      errors++;
      continue;
    }
    latencies.push(performance.now() - t);
    for (const r of body.results)
      if (r.status !== "refused") acked.set(r.hash!, (acked.get(r.hash!) ?? 0) + 1);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, client));
const seconds = (performance.now() - began) / 1000;
service.kill("SIGTERM");
await new Promise((r) => service.once("exit", r));

const store = new SqliteStore({ path: dbFile });
const stored = await store.countReports();
let lost = 0;
for (const hash of acked.keys()) if ((await store.getReport(hash as Hex)) === null) lost++;
await store.close();
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  Number(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!.toFixed(1));
const ackedCount = [...acked.values()].reduce((a, b) => a + b, 0);
const result = {
  what:
    "batched POST /v1/reports/batch to one service process on localhost; SQLite store (WAL, synchronous=FULL), " +
    "each acknowledgement after a durable group commit; parse + hash + store per report (signatures are checked at epoch close)",
  generatedAt: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    // Shared machine: other jobs' load lowers the figures.
    loadAverage1mAtStart: loadAtStart,
    loadAverage1mAtEnd: Number(os.loadavg()[0]!.toFixed(2)),
  },
  workload: {
    reports: raws.length,
    batchSize: BATCH,
    batches: batches.length,
    concurrentClients: CONCURRENCY,
  },
  seconds: Number(seconds.toFixed(3)),
  reportsPerSecond: Math.round(ackedCount / seconds),
  batchLatencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100) },
  reportLatencyNote: "a report's acknowledgement latency is its batch's latency",
  acknowledged: ackedCount,
  refusedMalformed: raws.length - ackedCount,
  httpErrors: errors,
  storedRows: stored,
  lost,
};
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
if (lost !== 0 || errors !== 0 || stored !== acked.size) {
  console.error(`FAILED: lost ${lost}, HTTP errors ${errors}, stored ${stored} of ${acked.size}`);
  process.exitCode = 1;
}
