/**
 * `npm run bench:ingest`: batched report submission against the oracle service on localhost, with
 * every report's signature checked at ingest (on the service's worker threads, against the
 * registered keys: a key file of the fleet).
 *
 * Two scenarios, each against a fresh service process (`hexmesh-oracle serve`, SQLite store in a
 * temp dir, WAL + synchronous=FULL: every acknowledgement follows an fsync'd commit):
 *
 *   honest  CONCURRENCY clients submit a simulated epoch of signed reports in batches of BATCH over
 *           keep-alive HTTP as fast as the service acknowledges them, batch i from local address
 *           127.0.0.(1 + i mod HONEST_ADDRESSES) (gateways of the fleet, each its own client address).
 *   flood   the same, while FLOOD_CLIENTS other clients (127.0.1.x) send junk at FLOOD_RATE reports/s
 *           in all: canonical reports naming registered devices with forged signatures (the junk that
 *           costs the most: it passes the parser and needs a signature check).
 *
 * The limits are the service's defaults except the per-client budget (both scenarios), set to
 * CLIENT_BUDGET reports a minute: what an operator sets for one address of its fleet.
 *
 * Measures the sustained rate (acknowledged honest reports per second of wall time), batch latency
 * percentiles, lost reports (acknowledged but not in the store afterwards: must be 0), honest reports
 * not acknowledged (must be 0 but for the simulation's spoiled ones, refused with their code), and
 * the flood's answers by code. Bounded: a fixed number of reports, localhost only. Writes
 * bench/results/ingest.json with the load average (the machine is shared).
 *
 * Options (environment): INGEST_BENCH_DEVICES (default 3000: ~84,000 reports),
 * INGEST_BENCH_BATCH (500), INGEST_BENCH_CONCURRENCY (8), INGEST_BENCH_FLOOD_RATE (20000),
 * INGEST_BENCH_FLOOD_CLIENTS (4), INGEST_BENCH_CLIENT_BUDGET (6000),
 * INGEST_BENCH_HONEST_ADDRESSES (64).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { OracleClient } from "@hexmesh/oracle/api/client";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import type { Hex } from "@hexmesh/protocol";
import { makeFleet, simulateEpoch } from "@hexmesh/sim/fleet";

import { freePort } from "../scripts/demo/rpc.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "ingest.json");
const DEVICES = Number(process.env.INGEST_BENCH_DEVICES ?? 3_000);
const BATCH = Number(process.env.INGEST_BENCH_BATCH ?? 500);
const CONCURRENCY = Number(process.env.INGEST_BENCH_CONCURRENCY ?? 8);
const FLOOD_RATE = Number(process.env.INGEST_BENCH_FLOOD_RATE ?? 20_000);
const FLOOD_CLIENTS = Number(process.env.INGEST_BENCH_FLOOD_CLIENTS ?? 4);
const CLIENT_BUDGET = Number(process.env.INGEST_BENCH_CLIENT_BUDGET ?? 6_000);
const HONEST_ADDRESSES = Number(process.env.INGEST_BENCH_HONEST_ADDRESSES ?? 64);
const loadAtStart = Number(os.loadavg()[0]!.toFixed(2));

const t0 = performance.now();
const fleet = makeFleet({ devices: DEVICES, p256Share: 0.2, spacingM: 400, seed: "ingest bench" });
const start = Date.UTC(2026, 0, 1);
const domain = { chainId: 31337n, verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex };
const sim = simulateEpoch(fleet, {
  domain,
  epochStart: start,
  epochEnd: start + 86_400_000,
  beaconsPerDevice: 4,
  witnessesPerBeacon: 6,
  seed: "ingest bench",
});
const raws = sim.reports.map((r) => r.raw);
console.log(`simulated ${raws.length} signed reports in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** Forged copies: the same canonical text with a signature byte changed (names a registered device). */
const junk = raws.map((raw, i) =>
  raw.replace(/"signature":"0x([0-9a-f]{2})/, (_, b: string) => {
    const v = (parseInt(b, 16) + 1 + (i % 200)) % 256;
    return `"signature":"0x${v.toString(16).padStart(2, "0")}`;
  }),
);

interface Answer {
  readonly status: number;
  readonly body: { results?: { status: string; hash?: string; code?: string }[]; code?: string };
}

/** POST a batch (or its prebuilt JSON body) over a keep-alive agent bound to one local address. */
function postBatch(agent: http.Agent, port: number, reports: string[] | string): Promise<Answer> {
  const body = typeof reports === "string" ? reports : JSON.stringify({ reports });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/reports/batch",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
            });
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** One keep-alive agent per honest address, shared by the honest clients. */
const honestAgents = Array.from(
  { length: HONEST_ADDRESSES },
  (_, i) => new http.Agent({ keepAlive: true, localAddress: `127.0.0.${1 + i}` }),
);

async function startService(dir: string, clientBudget: number) {
  const port = await freePort();
  const dbFile = path.join(dir, "oracle.sqlite");
  const devicesFile = path.join(dir, "devices.json");
  writeFileSync(
    devicesFile,
    JSON.stringify({
      chainId: domain.chainId.toString(),
      registry: domain.verifyingContract,
      keys: fleet.map((d) => d.signer.key),
    }),
  );
  const configFile = path.join(dir, "config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      listen: { host: "127.0.0.1", port },
      store: { backend: "sqlite", path: dbFile },
      ingest: { devicesFile },
      limits: {
        batchMax: Math.max(BATCH, 1),
        bodyBytes: 8 * 1024 * 1024,
        clientReportsPerMinute: clientBudget,
      },
      log: { level: "warn" },
    }),
  );
  const oracle = new OracleClient(`http://127.0.0.1:${port}`);
  // The oracle package's compiled CLI, as an operator runs it.
  const service = spawn(
    process.execPath,
    [path.resolve("packages/oracle/bin/hexmesh-oracle.js"), "-c", configFile, "serve"],
    { stdio: ["ignore", "inherit", "inherit"] },
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
  return { port, dbFile, service };
}

const pct = (sorted: number[], p: number) =>
  Number(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1));

async function scenario(name: "honest" | "flood") {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hexmesh-ingest-bench-${name}-`));
  const flooding = name === "flood";
  const { port, dbFile, service } = await startService(dir, CLIENT_BUDGET);
  const batches: string[][] = [];
  for (let i = 0; i < raws.length; i += BATCH) batches.push(raws.slice(i, i + BATCH));
  const latencies: number[] = [];
  const acked = new Map<string, number>();
  const refusedHonest = new Map<string, number>();
  let next = 0;
  let errors = 0;
  let done = false;
  const loadStart = Number(os.loadavg()[0]!.toFixed(2));
  const began = performance.now();

  async function honestClient(): Promise<void> {
    for (;;) {
      const i = next++;
      const batch = batches[i];
      if (batch === undefined) break;
      const agent = honestAgents[i % HONEST_ADDRESSES]!;
      const t = performance.now();
      const a = await postBatch(agent, port, batch);
      latencies.push(performance.now() - t);
      if (a.status !== 200 || a.body.results === undefined) {
        errors++;
        continue;
      }
      for (const r of a.body.results)
        if (r.status !== "refused") acked.set(r.hash!, (acked.get(r.hash!) ?? 0) + 1);
        else refusedHonest.set(r.code!, (refusedHonest.get(r.code!) ?? 0) + 1);
    }
  }

  const flood = {
    sent: 0,
    /** Not sent: 32 requests of that client were still unanswered. */
    skipped: 0,
    answers: new Map<string, number>(),
    httpStatus: new Map<number, number>(),
  };
  /**
   * One flooding address: a batch of 500 forged reports every 500 / (FLOOD_RATE / FLOOD_CLIENTS) s,
   * without waiting for the answers (up to 32 requests in flight), so the offered rate does not
   * slow down when the service does.
   */
  async function floodClient(k: number): Promise<void> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32, localAddress: `127.0.1.${k + 1}` });
    const size = 500;
    const interval = (size / (FLOOD_RATE / FLOOD_CLIENTS)) * 1000;
    const inFlight = new Set<Promise<void>>();
    // Bodies built once: the flood's own CPU cost on this shared machine should be sending, not JSON.
    const bodies = Array.from({ length: 40 }, (_, b) =>
      JSON.stringify({
        reports: Array.from({ length: size }, (_, i) => junk[(k * 997 + b * size + i) % junk.length]!),
      }),
    );
    let sentBatches = 0;
    let due = performance.now();
    while (!done) {
      if (inFlight.size < 32) {
        flood.sent += size;
        const p: Promise<void> = postBatch(agent, port, bodies[sentBatches++ % bodies.length]!).then(
          (a) => {
            flood.httpStatus.set(a.status, (flood.httpStatus.get(a.status) ?? 0) + 1);
            if (a.body.results !== undefined)
              for (const r of a.body.results)
                flood.answers.set(r.code ?? r.status, (flood.answers.get(r.code ?? r.status) ?? 0) + 1);
            else
              flood.answers.set(
                `request ${a.body.code}`,
                (flood.answers.get(`request ${a.body.code}`) ?? 0) + size,
              );
          },
          () => void flood.httpStatus.set(0, (flood.httpStatus.get(0) ?? 0) + 1),
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      } else flood.skipped += size;
      due += interval;
      while (!done && performance.now() < due)
        await new Promise((r) => setTimeout(r, Math.min(50, due - performance.now())));
    }
    await Promise.all(inFlight);
    agent.destroy();
  }

  const floods = flooding ? Array.from({ length: FLOOD_CLIENTS }, (_, k) => floodClient(k)) : [];
  await Promise.all(Array.from({ length: CONCURRENCY }, () => honestClient()));
  const seconds = (performance.now() - began) / 1000;
  done = true;
  await Promise.all(floods);
  service.kill("SIGTERM");
  await new Promise((r) => service.once("exit", r));

  const store = new SqliteStore({ path: dbFile });
  const stored = await store.countReports();
  let lost = 0;
  for (const hash of acked.keys()) if ((await store.getReport(hash as Hex)) === null) lost++;
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const ackedCount = [...acked.values()].reduce((a, b) => a + b, 0);
  return {
    loadAverage1mAtStart: loadStart,
    loadAverage1mAtEnd: Number(os.loadavg()[0]!.toFixed(2)),
    seconds: Number(seconds.toFixed(3)),
    reportsPerSecond: Math.round(ackedCount / seconds),
    batchLatencyMs: {
      p50: pct(latencies, 50),
      p90: pct(latencies, 90),
      p99: pct(latencies, 99),
      max: pct(latencies, 100),
    },
    acknowledged: ackedCount,
    refusedHonest: Object.fromEntries(refusedHonest),
    httpErrors: errors,
    storedRows: stored,
    distinctAcknowledged: acked.size,
    lost,
    ...(flooding
      ? {
          flood: {
            clients: FLOOD_CLIENTS,
            targetReportsPerSecond: FLOOD_RATE,
            sent: flood.sent,
            sentPerSecond: Math.round(flood.sent / seconds),
            notSentBecause32InFlight: flood.skipped,
            answers: Object.fromEntries(flood.answers),
            httpStatus: Object.fromEntries(flood.httpStatus),
          },
        }
      : {}),
  };
}

const honest = await scenario("honest");
console.log("honest", JSON.stringify(honest));
const flooded = await scenario("flood");
console.log("flood", JSON.stringify(flooded));
for (const a of honestAgents) a.destroy();
// The simulation spoils ~2% of reports on purpose; of those, ingest refuses the mis-signed ones
// (bad_signature) and texts that are no report; the rest are acknowledged and judged at close.
const LIMIT_CODES = new Set([
  "client_rate_limited",
  "device_rate_limited",
  "window_cap",
  "rate_limited",
  "epoch_closed",
]);
const spoiled = (r: typeof honest) =>
  Object.entries(r.refusedHonest).reduce((a, [code, n]) => a + (LIMIT_CODES.has(code) ? 0 : n), 0);
const result = {
  what:
    "batched POST /v1/reports/batch to one service process on localhost; SQLite store (WAL, synchronous=FULL), " +
    "each acknowledgement after a durable group commit; parse, signature check on the worker pool (native libsecp256k1, " +
    "node:crypto P-256) against the registered keys, limits, hash and store per report. flood: the same honest load while " +
    "other clients send forged reports naming registered devices",
  generatedAt: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    note: "the load averages below show what else ran on the machine during each phase",
    loadAverage1mAtStart: loadAtStart,
    loadAverage1mAtEnd: Number(os.loadavg()[0]!.toFixed(2)),
  },
  workload: {
    reports: raws.length,
    batchSize: BATCH,
    batches: Math.ceil(raws.length / BATCH),
    concurrentClients: CONCURRENCY,
    honestClientAddresses: `127.0.0.1-127.0.0.${HONEST_ADDRESSES}`,
    clientReportsPerMinute: CLIENT_BUDGET,
  },
  honest,
  flood: flooded,
  honestAllAcknowledged: {
    honest: honest.acknowledged + spoiled(honest) === raws.length && honest.httpErrors === 0,
    flood: flooded.acknowledged + spoiled(flooded) === raws.length && flooded.httpErrors === 0,
  },
};
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
for (const [name, r] of [
  ["honest", honest],
  ["flood", flooded],
] as const) {
  if (r.lost !== 0 || r.httpErrors !== 0 || r.storedRows !== r.distinctAcknowledged) {
    console.error(
      `FAILED (${name}): lost ${r.lost}, HTTP errors ${r.httpErrors}, stored ${r.storedRows} of ${r.distinctAcknowledged}`,
    );
    process.exitCode = 1;
  }
}
