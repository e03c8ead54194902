/**
 * `npm run bench:pull`: `pull` of one seeded epoch from an ingest peer on localhost, as
 * `hexmesh-oracle pull` runs it (service/inputs.ts pullInputs: GET /v1/inputs/reports page after
 * page, each page imported into the puller's store). The peer is a service in this process with a
 * SQLite store seeded with a simulated day of signed reports; the puller writes a fresh SQLite store.
 *
 * Measures the copy's wall time, reports per second, and the time of the first and the last tenth
 * of the pages (a page: fetch and import); then the route alone, every page read again without
 * importing: with keyset pages a page costs the same wherever it lies, with offsets its position.
 * Writes bench/results/pull.json, one entry per PULL_BENCH_LABEL (default "keyset"), so the same
 * script run against an older build records the "offset" figures beside it.
 *
 * Options (environment): PULL_BENCH_DEVICES (default 7500: ~200,000 reports), PULL_BENCH_LABEL,
 * PULL_BENCH_PEER_PG_URL (the peer's store on PostgreSQL, a fresh schema, instead of SQLite; the run
 * is then recorded as "<label>, postgres peer").
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import pg from "pg";

import { importInputs, pullInputs, startService, validateConfig } from "@hexmesh/oracle";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";

import { freePort } from "../scripts/demo/rpc.js";
import { writeDevicesFile } from "../test/helpers/service.js";
import { DAY_DOMAIN, DAY_END, DAY_START, simulatedDay } from "./day.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "pull.json");
const DEVICES = Number(process.env.PULL_BENCH_DEVICES ?? 7_500);
const PAGING = process.env.PULL_BENCH_LABEL ?? "keyset";
const PEER_PG = process.env.PULL_BENCH_PEER_PG_URL;
const LABEL = PEER_PG === undefined ? PAGING : `${PAGING}, postgres peer`;
const PEER_SCHEMA = `bench_pull_${process.pid}`;
const loadAtStart = Number(os.loadavg()[0]!.toFixed(2));

const { fleet, sim } = simulatedDay(DEVICES, "pull bench");
const start = DAY_START;
const end = DAY_END;
const domain = DAY_DOMAIN;

const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-pull-bench-"));
const devicesFile = writeDevicesFile(path.join(dir, "devices.json"), fleet, domain);
const peer = await startService(
  validateConfig({
    listen: { host: "127.0.0.1", port: await freePort() },
    store:
      PEER_PG === undefined
        ? { backend: "sqlite", path: path.join(dir, "peer.sqlite") }
        : { backend: "postgres", url: PEER_PG, schema: PEER_SCHEMA },
    ingest: { devicesFile, signatureThreads: 0 },
    log: { level: "silent" },
  }),
);
const mine = new SqliteStore({ path: path.join(dir, "mine.sqlite") });
try {
  const seeded = await importInputs(peer.store, { reports: sim.reports, entropy: sim.entropy }, "seed");
  await mine.migrate();
  const pageAt: number[] = [];
  const began = performance.now();
  const copied = await pullInputs(
    mine,
    peer.url,
    { from: start - 60_000, to: end + 60_000, entropyFrom: 0, entropyTo: Math.ceil(end / 1000) },
    () => pageAt.push(performance.now()),
  );
  const seconds = (performance.now() - began) / 1000;
  const pageMs = pageAt.map((t, i) => t - (i === 0 ? began : pageAt[i - 1]!));
  const tenth = Math.max(1, Math.floor(pageMs.length / 10));
  const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1));
  // The route alone (no import): every page read as this build pages (offset: the earlier build).
  const readMs: number[] = [];
  const query = `from=${start - 60_000}&to=${end + 60_000}&limit=5000`;
  for (let next: string | null = "", offset = 0; next !== null; ) {
    const t = performance.now();
    const paging = PAGING === "offset" ? `&offset=${offset}` : next === "" ? "" : `&after=${next}`;
    const page = (await (await fetch(`${peer.url}/v1/inputs/reports?${query}${paging}`)).json()) as {
      reports: unknown[];
      next?: string | null;
    };
    readMs.push(performance.now() - t);
    offset += page.reports.length;
    next = PAGING === "offset" ? (page.reports.length < 5000 ? null : "") : (page.next ?? null);
  }
  if (copied !== seeded || (await mine.countReports()) !== seeded)
    throw new Error(`copied ${copied} of ${seeded} reports`);
  const run = {
    generatedAt: new Date().toISOString(),
    loadAverage1mAtStart: loadAtStart,
    loadAverage1mAtEnd: Number(os.loadavg()[0]!.toFixed(2)),
    reports: seeded,
    pages: pageMs.length,
    seconds: Number(seconds.toFixed(2)),
    reportsPerSecond: Math.round(seeded / seconds),
    firstTenthPageMs: mean(pageMs.slice(0, tenth)),
    lastTenthPageMs: mean(pageMs.slice(-tenth)),
    routeOnly: {
      pages: readMs.length,
      seconds: Number((readMs.reduce((a, b) => a + b, 0) / 1000).toFixed(2)),
      firstTenthPageMs: mean(readMs.slice(0, tenth)),
      lastTenthPageMs: mean(readMs.slice(-tenth)),
    },
  };
  console.log(LABEL, run);
  const previous = existsSync(outFile)
    ? (JSON.parse(readFileSync(outFile, "utf8")) as { runs?: object })
    : {};
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        what: "hexmesh-oracle pull of one simulated day from a peer service on localhost (the puller on SQLite; the peer on SQLite, or on PostgreSQL where the label says so; pages of 5,000, each imported in one transaction); keyset: pages after a (receivedAt, hash) cursor; offset: the earlier LIMIT/OFFSET pages with a count per page",
        machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? "", node: process.version },
        runs: { ...(previous.runs ?? {}), [LABEL]: run },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await mine.close();
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
  if (PEER_PG !== undefined) {
    const admin = new pg.Client({ connectionString: PEER_PG });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${PEER_SCHEMA} CASCADE`);
    await admin.end();
  }
}
