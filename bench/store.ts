/**
 * `npm run bench:store`: the store's bytes per report. One simulated day of signed reports is
 * imported (the path `pull` and the demo use) into a fresh SQLite file and, when a PostgreSQL server
 * is given (STORE_BENCH_PG_URL, else HEXMESH_TEST_PG_URL), into a fresh schema there.
 *
 *   SQLite      the file's size after VACUUM (WAL checkpointed) / reports
 *   PostgreSQL  pg_total_relation_size('reports') (table, TOAST and indexes) after VACUUM / reports
 *
 * Writes bench/results/store.json. Options (environment): STORE_BENCH_DEVICES (default 7500:
 * ~200,000 reports).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { DatabaseSync } from "node:sqlite";
import pg from "pg";

import { importInputs } from "@hexmesh/oracle";
import { PostgresStore } from "@hexmesh/oracle/store/postgres";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";

import { simulatedDay } from "./day.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "store.json");
const DEVICES = Number(process.env.STORE_BENCH_DEVICES ?? 7_500);
const PG_URL = process.env.STORE_BENCH_PG_URL ?? process.env.HEXMESH_TEST_PG_URL;

const { sim } = simulatedDay(DEVICES, "store bench");
const rawChars = sim.reports.reduce((n, r) => n + r.raw.length, 0);
const per = (bytes: number, n: number) => Math.round(bytes / n);

const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-store-bench-"));
const file = path.join(dir, "oracle.sqlite");
let sqlite: Record<string, number>;
try {
  const store = new SqliteStore({ path: file });
  await store.migrate();
  const reports = await importInputs(store, { reports: sim.reports, entropy: sim.entropy }, "bench");
  await store.close();
  const db = new DatabaseSync(file);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.exec("VACUUM");
  db.close();
  const bytes = statSync(file).size;
  sqlite = { reports, fileBytes: bytes, bytesPerReport: per(bytes, reports) };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log("sqlite", sqlite);

let postgres: Record<string, number | string> | { skipped: string };
if (PG_URL === undefined || PG_URL === "") postgres = { skipped: "no PostgreSQL server given" };
else {
  const schema = `bench_store_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const store = new PostgresStore({ url: PG_URL, schema });
    await store.migrate();
    const reports = await importInputs(store, { reports: sim.reports, entropy: sim.entropy }, "bench");
    await store.close();
    await admin.query(`VACUUM (FULL, ANALYZE) ${schema}.reports`);
    const size = async (sql: string) => Number((await admin.query(sql)).rows[0].n);
    const total = await size(`SELECT pg_total_relation_size('${schema}.reports') AS n`);
    const table = await size(`SELECT pg_table_size('${schema}.reports') AS n`);
    const indexes = await size(`SELECT pg_indexes_size('${schema}.reports') AS n`);
    postgres = {
      reports,
      server: String((await admin.query("SHOW server_version")).rows[0].server_version),
      totalBytes: total,
      bytesPerReport: per(total, reports),
      tableAndToastBytesPerReport: per(table, reports),
      indexBytesPerReport: per(indexes, reports),
    };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}
console.log("postgres", postgres);

writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      what: "bytes per stored report: one simulated day of signed reports imported into a fresh store (the reports table: hash, raw text, receive time, device, kind, with its indexes by time and by device; verdicts, written by close-epoch, are not included)",
      generatedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version },
      reports: sim.reports.length,
      meanRawReportChars: Math.round(rawChars / sim.reports.length),
      sqlite,
      postgres,
    },
    null,
    2,
  )}\n`,
);
