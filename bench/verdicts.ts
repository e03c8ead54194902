/**
 * `npm run bench:verdicts`: the time `putEpochResult` takes to store an epoch's verdicts, and the
 * bytes they take on disk, as the epoch grows.
 *
 * For each size N a fresh store is given two epochs of N synthetic verdict rows (the shapes a close
 * writes: a beacon and its witnesses from devices spread over the epoch, witnesses with the detail
 * text of their distance and signal checks, some refused), epoch 1 then epoch 2: the figure is
 * epoch 2's, stored into a store that already holds one earlier epoch of the same size. Then one
 * device's verdicts are read back through `deviceVerdicts` (one epoch, and every epoch).
 *
 *   SQLite      a temp file (WAL, synchronous=FULL: the oracle's settings); bytes from dbstat
 *   PostgreSQL  a fresh schema (VERDICT_BENCH_PG_URL, else SCALE_BENCH_PG_URL, else
 *               HEXMESH_TEST_PG_URL); bytes from pg_total_relation_size after VACUUM
 *
 * Writes (merges into) bench/results/verdicts.json under `runs[LABEL]`. Options (environment):
 * VERDICT_BENCH_SIZES (comma-separated, default "1000000,4000000"), VERDICT_BENCH_LABEL (default
 * "current"), VERDICT_BENCH_DIST (another checkout's packages/oracle/dist: its stores are measured
 * instead, e.g. the code before a change), VERDICT_BENCH_COMMIT (recorded with the figures),
 * VERDICT_BENCH_BACKENDS (default "sqlite,postgres").
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { DatabaseSync } from "node:sqlite";
import pg from "pg";

import type { OracleStore, VerdictRow } from "@hexmesh/oracle";
import type { Hex } from "@hexmesh/protocol";

import { prng } from "../test/helpers/prng.js";
import { bareEpochResult } from "../test/helpers/service.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "verdicts.json");
const SIZES = (process.env.VERDICT_BENCH_SIZES ?? "1000000,4000000").split(",").map(Number);
const LABEL = process.env.VERDICT_BENCH_LABEL ?? "current";
const DIST = process.env.VERDICT_BENCH_DIST;
const BACKENDS = (process.env.VERDICT_BENCH_BACKENDS ?? "sqlite,postgres").split(",");
const PG_URL =
  process.env.VERDICT_BENCH_PG_URL ?? process.env.SCALE_BENCH_PG_URL ?? process.env.HEXMESH_TEST_PG_URL;

/** Reports per device and day (bench/day.ts's simulated day has ~27; a 40M day of 1M devices ~40). */
const REPORTS_PER_DEVICE = 40;
/** Witnesses per beacon in the synthetic day. */
const WITNESSES_PER_BEACON = 8;

const storeModule = (name: string) =>
  DIST === undefined
    ? import(`@hexmesh/oracle/store/${name}`)
    : import(pathToFileURL(path.join(DIST, "store", `${name}.js`)).href);

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, "0");
const deviceOf = (d: number) => `0x${hex(0x9e3779b1 * (d + 1), 4).slice(-8)}${hex(d, 16)}` as Hex;
const REFUSED = ["too_late", "bad_rssi", "below_min_distance", "duplicate", "unknown_beacon"] as const;

/** N verdict rows of `epoch` in canonical order, built one at a time (as a close gives them). */
function* syntheticVerdicts(epoch: bigint, n: number, devices: number): Generator<VerdictRow> {
  const next = prng(Number(epoch) * 7919 + n);
  const f1 = (x: number) => x.toFixed(1);
  for (let seq = 0; seq < n; seq++) {
    const beacon = seq % (WITNESSES_PER_BEACON + 1) === 0;
    const roll = next();
    const malformed = roll < 0.001;
    const reason = malformed ? "malformed" : roll < 0.08 ? REFUSED[Math.floor(roll * 1000) % 5]! : null;
    const distance = 200 + next() * 20_000;
    const bound = -40 - next() * 60;
    const signal = bound - next() * 20;
    yield {
      epoch,
      seq,
      id: `0x${hex(seq, 4)}${hex(Math.floor(next() * 2 ** 32), 4)}${hex(Number(epoch), 24)}` as Hex,
      device: malformed ? null : deviceOf(Math.floor(next() * devices)),
      kind: malformed ? "malformed" : beacon ? "beacon" : "witness",
      receivedAt: 1_760_000_000_000 + Math.floor((seq / n) * 86_400_000),
      reason,
      detail: malformed
        ? "not_json"
        : beacon
          ? null
          : `distance ${f1(distance)} m (maximum 100000 m); grid distance not computed (>= 2000 m); ` +
            `free-space bound ${f1(bound)} dBm at ${f1(distance - 50)} m (distance - 50 m position slack) ` +
            `+ 5.0 dB tolerance = ${f1(bound + 5)} dBm; signal ${f1(signal)} dBm, margin ${f1(bound + 5 - signal)} dB`,
      selected: reason === null,
      units: reason !== null ? 0n : beacon ? 10n ** 18n : BigInt(Math.floor(next() * 1e9)) * 10n ** 9n,
    };
  }
}

const resultOf = (epoch: bigint) =>
  bareEpochResult(epoch, `0x${hex(Number(epoch), 32)}` as Hex, `0x${hex(Number(epoch) + 1, 32)}` as Hex);

interface Measured {
  verdicts: number;
  devices: number;
  /** Building the synthetic rows alone (part of every figure below: the close builds its rows too). */
  generateUsPerVerdict: number;
  /** Epoch 1 into an empty store, epoch 2 into the store holding epoch 1: seconds and µs per verdict. */
  firstEpochSeconds: number;
  secondEpochSeconds: number;
  usPerVerdict: number;
  usPerVerdictFirstEpoch: number;
  bytesOnDisk: number;
  bytesPerVerdict: number;
  /** One device's verdicts of epoch 2, then of every epoch, ms (each the median of 5 reads). */
  readOneEpochMs: number;
  readAllEpochsMs: number;
  rowsRead: number;
}

async function measure(
  store: OracleStore,
  n: number,
  bytes: () => Promise<number>,
): Promise<Omit<Measured, "bytesOnDisk" | "bytesPerVerdict"> & { bytes: number }> {
  const devices = Math.max(1, Math.round(n / REPORTS_PER_DEVICE));
  await store.migrate();
  const g0 = performance.now();
  for (const _ of syntheticVerdicts(3n, n, devices));
  const generate = (performance.now() - g0) / 1000;
  const timed = async (epoch: bigint) => {
    const t0 = performance.now();
    await store.putEpochResult(resultOf(epoch), syntheticVerdicts(epoch, n, devices));
    return (performance.now() - t0) / 1000;
  };
  const first = await timed(1n);
  console.log(`  epoch 1: ${first.toFixed(1)} s`);
  const second = await timed(2n);
  console.log(`  epoch 2: ${second.toFixed(1)} s (${((second * 1e6) / n).toFixed(2)} µs per verdict)`);
  const device = deviceOf(7);
  const median = async (read: () => Promise<VerdictRow[]>) => {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      rows = (await read()).length;
      times.push(performance.now() - t0);
    }
    return { ms: times.sort((a, b) => a - b)[2]!, rows };
  };
  const one = await median(() => store.deviceVerdicts(device, 2n, 1_000));
  const all = await median(() => store.deviceVerdicts(device, null, 1_000));
  return {
    verdicts: n,
    devices,
    generateUsPerVerdict: Number(((generate * 1e6) / n).toFixed(2)),
    firstEpochSeconds: Number(first.toFixed(2)),
    secondEpochSeconds: Number(second.toFixed(2)),
    usPerVerdict: Number(((second * 1e6) / n).toFixed(2)),
    usPerVerdictFirstEpoch: Number(((first * 1e6) / n).toFixed(2)),
    readOneEpochMs: Number(one.ms.toFixed(2)),
    readAllEpochsMs: Number(all.ms.toFixed(2)),
    rowsRead: all.rows,
    bytes: await bytes(),
  };
}

const withBytes = (m: Awaited<ReturnType<typeof measure>>, extra: object = {}): Measured => {
  const { bytes, ...rest } = m;
  return { ...rest, bytesOnDisk: bytes, bytesPerVerdict: Math.round(bytes / (2 * m.verdicts)), ...extra };
};

async function sqliteRun(n: number): Promise<Measured> {
  const { SqliteStore } = await storeModule("sqlite");
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-verdict-bench-"));
  const file = path.join(dir, "oracle.sqlite");
  try {
    const store: OracleStore = new SqliteStore({ path: file });
    try {
      const m = await measure(store, n, async () => {
        const db = new DatabaseSync(file);
        try {
          // Every table and index holding verdicts (their pages, whatever the schema calls them).
          const r = db
            .prepare(
              "SELECT COALESCE(SUM(pgsize), 0) AS n FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name LIKE 'verdict%')",
            )
            .get() as { n: number };
          return Number(r.n);
        } finally {
          db.close();
        }
      });
      return withBytes(m);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresRun(url: string, n: number): Promise<Measured> {
  const { PostgresStore } = await storeModule("postgres");
  const schema = `bench_verdicts_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const store: OracleStore = new PostgresStore({ url, schema });
    try {
      const m = await measure(store, n, async () => {
        const tables = (
          await admin.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'verdict%'",
            [schema],
          )
        ).rows.map((r: { tablename: string }) => `${schema}.${r.tablename}`);
        let total = 0;
        for (const t of tables) {
          await admin.query(`VACUUM ${t}`);
          total += Number((await admin.query(`SELECT pg_total_relation_size('${t}') AS n`)).rows[0].n);
        }
        return total;
      });
      const server = String((await admin.query("SHOW server_version")).rows[0].server_version);
      return withBytes(m, { server });
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

const sqlite: Measured[] = [];
const postgres: Measured[] = [];
for (const n of SIZES) {
  if (BACKENDS.includes("sqlite")) {
    console.log(`sqlite, ${n} verdicts per epoch`);
    sqlite.push(await sqliteRun(n));
    console.log(sqlite.at(-1));
  }
  if (BACKENDS.includes("postgres") && PG_URL !== undefined && PG_URL !== "") {
    console.log(`postgres, ${n} verdicts per epoch`);
    postgres.push(await postgresRun(PG_URL, n));
    console.log(postgres.at(-1));
  }
}

const prior = existsSync(outFile)
  ? (JSON.parse(readFileSync(outFile, "utf8")) as { runs?: Record<string, unknown> })
  : {};
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      what: "putEpochResult: time to store an epoch's verdict rows (synthetic, the shapes a close writes) into a store that already holds one earlier epoch of the same size; bytes on disk of every verdict table and index after both epochs, per verdict; one device's verdicts read back (deviceVerdicts, limit 1000)",
      runs: {
        ...prior.runs,
        [LABEL]: {
          generatedAt: new Date().toISOString(),
          commit: process.env.VERDICT_BENCH_COMMIT ?? null,
          machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
          reportsPerDevice: REPORTS_PER_DEVICE,
          sqlite,
          postgres:
            PG_URL === undefined || PG_URL === "" ? { skipped: "no PostgreSQL server given" } : postgres,
        },
      },
    },
    null,
    2,
  )}\n`,
);
