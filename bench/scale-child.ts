/**
 * One process of `npm run bench:scale` (bench/scale.ts), so that each close's peak RSS is its own:
 *
 *   generate DEVICES FILE [REGISTERED]
 *                                a simulated day of signed reports (bench/day.ts streamedDay: signed
 *                                on SCALE_BENCH_GEN_THREADS worker threads, default one per core)
 *                                stored in a fresh SQLite store at FILE in receive order, with the
 *                                epoch's entropy and chain index: each part (1,024 devices, one of
 *                                the day's four windows) is sorted by (receive time, hash) and written
 *                                as runs to unlinked temp files beside FILE, one per hour of receive
 *                                time, then the runs are merged hour by hour into the store
 *                                (receive-order.ts), 50,000 reports a transaction, so rows are appended
 *                                in the order an oracle's ingest appends them, with no rewrite of the
 *                                table (reports_by_device is built at the end). Disk: the runs (~510
 *                                bytes a report), then the store plus the hours not merged yet;
 *                                memory: the fleet's records, the signing threads, one part; while
 *                                merging a read buffer per run being read (64 KiB to 1 MiB) and one
 *                                batch. SCALE_BENCH_P256_NONCE=rfc6979 signs P-256 reports
 *                                deterministically (to compare two generated days row for row).
 *                                With REGISTERED, a quiet day: the same reports, and REGISTERED -
 *                                DEVICES more devices in the chain index, silent (day.ts silentDevices)
 *   chunk-chain-index FILE       stores a day's chain index again in chunks (migration 13) when it
 *                                was written as one value by an older generate
 *   order FILE                   rewrites a day cached by an older generate (in part order) in receive
 *                                order (storeInReceiveOrder)
 *   close streaming FILE         closes epoch 0 of FILE with this checkout's close (closeStoredEpoch:
 *                                keyset pages, verdicts written in batches)
 *   close baseline FILE DIST     the same with the whole-epoch-in-memory close of another checkout's
 *                                compiled @hexmesh/oracle (DIST = its packages/oracle/dist): one read
 *                                of the epoch, one array of verdicts, one write, as EpochService.close did
 *
 *   generate-pg DEVICES URL SCHEMA RUNS [REGISTERED]
 *                                the same day generated straight into the PostgreSQL schema SCHEMA
 *                                (dropped and made afresh; runs at the path RUNS): for a day whose
 *                                SQLite and PostgreSQL copies do not fit on one disk together
 *   copy-pg FILE URL SCHEMA      the day of FILE (reports with their receive times, entropy, chain
 *                                index) copied into the PostgreSQL schema SCHEMA (kept when it holds
 *                                the day already): reports in keyset pages through insertReports
 *   close streaming-pg URL SCHEMA   the single-process close on PostgreSQL
 *   close partitioned URL SCHEMA N  a partitioned close (N partitions) that only waits and reduces:
 *                                `worker` processes verify (service/partitions.ts)
 *   worker URL SCHEMA            one verification worker on epoch 0 (stage 1 on its own thread)
 *
 * Prints one JSON line: reports, seconds (and stage times), peak RSS (MiB), root; generate prints
 * reports, peak RSS (MiB, the whole run and the signing phase), the seconds of the signing phase
 * (signing, hashing, sorting, writing the runs) and of the import (merging the runs into the store,
 * the chain index), the runs and their bytes on disk (the peak of temp disk).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { DatabaseSync } from "node:sqlite";
import pg from "pg";

import {
  closePartitionedEpoch,
  closeStoredEpoch,
  importInputs,
  limitHeapGrowth,
  runPartitionWorker,
  storedChainView,
  storeReportInputs,
  toReportInput,
} from "@hexmesh/oracle";
import { PostgresStore } from "@hexmesh/oracle/store/postgres";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import type { OracleStore, StoredChainIndex } from "@hexmesh/oracle/store/types";

import { DAY_DOMAIN, DAY_END, DAY_START, silentDevices, streamedDay } from "./day.js";
import { ReceiveOrderRuns } from "./receive-order.js";

const [command, ...args] = process.argv.slice(2);
// A close or worker here is the `hexmesh-oracle` bin's: the same heap policy (HEXMESH_HEAP_GROWING_PERCENT).
if (command === "close" || command === "worker") limitHeapGrowth();

/**
 * Rewrites a day cached by an older generate in (receive time, hash) order. That generate stored the
 * day part by part (1,024 devices over one 6-hour window a part), but an oracle's ingest appends
 * reports as they arrive, so in its store rows follow receive time and a close's keyset reads go
 * through the table in order. Read in part order instead, every page of a close touches rows spread
 * over the whole file: measured on the 4M day (5.4 GB), 72 s of system time in reads. Same rows,
 * same indexes (it used to rebuild reports_by_time only, and lost reports_by_device: ingest's
 * per-device index); the table is copied once, then vacuumed (about three times its size on disk
 * meanwhile: too much for a 40M day, which generate now writes in receive order from the start).
 */
function storeInReceiveOrder(file: string): void {
  const db = new DatabaseSync(file);
  try {
    const sqlOf = (name: string) =>
      String(
        (db.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(name) as { sql: string } | undefined)
          ?.sql ?? "",
      );
    const table = sqlOf("reports");
    // Every index of the table (reports_by_time, and reports_by_device from schema version 4 on).
    const indexes = (
      db
        .prepare(
          "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reports' AND sql IS NOT NULL",
        )
        .all() as { sql: string }[]
    ).map((r) => r.sql);
    if (!table.startsWith("CREATE TABLE reports (") || sqlOf("reports_by_time") === "")
      throw new Error(`${file}: not a store with a reports table and its reports_by_time index`);
    db.exec("PRAGMA cache_size = -262144");
    db.exec("BEGIN IMMEDIATE");
    db.exec(table.replace("CREATE TABLE reports (", "CREATE TABLE reports_in_order ("));
    db.exec("INSERT INTO reports_in_order SELECT * FROM reports ORDER BY received_at, hash");
    db.exec("DROP TABLE reports");
    db.exec("ALTER TABLE reports_in_order RENAME TO reports");
    for (const index of indexes) db.exec(index);
    db.exec("COMMIT");
    db.exec("VACUUM");
  } finally {
    db.close();
  }
}
/**
 * Reports per store transaction while importing the merged runs (importInputs commits 5,000). Each
 * commit writes every index page its reports touched, and the hashes land on random pages of the
 * primary key's index: measured at 1M reports (reports_by_device deferred), 77 s of import with
 * 5,000, 47 s with 20,000, 33 s with 50,000 and with 200,000 (peak RSS 232, 279, 372, 585 MiB).
 */
const IMPORT_BATCH = 50_000;
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/**
 * The reports table's indexes other than its primary key and its by-time index (which the merged
 * reports only append to), set aside while a day is imported and built once all reports are in:
 * inserted in receive order, every report would land on a random page of reports_by_device
 * (measured at 1M reports in SQLite: 77 s of import with it deferred, 96 s without), while CREATE
 * INDEX sorts (~2 s at 1M).
 */
interface DeferredIndexes {
  /** Drops them; their names. */
  drop(): Promise<string[]>;
  /** Builds them again. */
  build(): Promise<void>;
}

/**
 * Generates a day into `store` (migrated, empty): signed on worker threads, each part sorted and
 * written as a run (receive-order.ts), the runs merged hour by hour into the store, then the
 * deferred indexes, the entropy and the chain index. Returns generate's figures.
 */
async function generateDay(
  devices: number,
  registered: number,
  runsAt: string,
  store: OracleStore,
  deferred: DeferredIndexes,
): Promise<Record<string, unknown>> {
  const threads = Number(process.env.SCALE_BENCH_GEN_THREADS ?? os.cpus().length);
  const nonce = process.env.SCALE_BENCH_P256_NONCE === "rfc6979" ? "rfc6979" : "random";
  const { fleet, day } = streamedDay(devices, `scale ${devices}`, threads, nonce);
  const t0 = performance.now();
  // One bucket of runs per hour of the day (receive time): merged hour by hour, each hour's runs freed
  // once merged, so the disk holds about the store plus an hour of runs at the end, not plus all.
  const hours = Array.from({ length: 23 }, (_, h) => DAY_START + (h + 1) * 3_600_000);
  const runs = new ReceiveOrderRuns(runsAt, hours);
  let reports = 0;
  try {
    for await (const part of day.parts)
      runs.add(
        part.map((r, i) => {
          const c = toReportInput(r.raw, r.receivedAt);
          if (!c.ok)
            throw new Error(
              `generated report ${runs.reports + i} is malformed (${c.error.code}: ${c.error.detail})`,
            );
          return c.input;
        }),
      );
    const signSeconds = (performance.now() - t0) / 1000;
    const signPeakRssMiB = peakRssMiB();
    const runBytes = runs.bytes;
    const dropped = await deferred.drop();
    reports = await importInputs(store, { reports: [], entropy: day.entropy }, "bench");
    // The merged runs into the store as importInputs stores reports, IMPORT_BATCH a transaction.
    for (const batch of runs.merged(IMPORT_BATCH)) reports += await storeReportInputs(store, batch, "bench");
    if (reports !== day.reports) throw new Error(`generated ${reports} reports, the plan has ${day.reports}`);
    const t1 = performance.now();
    await deferred.build();
    const indexSeconds = (performance.now() - t1) / 1000;
    const records = fleet.map((d) => d.record);
    for (const record of silentDevices(devices, registered - devices, `scale ${devices}`))
      records.push(record);
    const pool = 10n ** 24n;
    const index: StoredChainIndex = {
      chainId: DAY_DOMAIN.chainId,
      registry: DAY_DOMAIN.verifyingContract,
      epoch: 0n,
      epochStart: DAY_START,
      epochEnd: DAY_END,
      pool,
      devices: records,
      bonds: [...new Set(records.map((d) => d.owner))].map((owner) => ({ owner, bondedDevices: 4 })),
      previousCumulative: [],
      snapshotBlock: 1,
      funded: pool,
    };
    await store.putChainIndex(index);
    return {
      reports,
      devices,
      ...(registered !== devices ? { registered } : {}),
      signSeconds,
      signPeakRssMiB,
      importSeconds: (performance.now() - t0) / 1000 - signSeconds,
      indexSeconds,
      deferredIndexes: dropped,
      importBatch: IMPORT_BATCH,
      runs: runs.runCount,
      runBytes,
      runBytesPerReport: Math.round(runBytes / reports),
      p256Nonce: nonce,
      chainIndex: "chunked",
    };
  } finally {
    runs.close();
  }
}

/** REGISTERED (optional, >= DEVICES): a quiet day, the other devices registered and silent (silentDevices). */
function registeredOf(devices: number, arg: string | undefined): number {
  const registered = Number(arg ?? devices);
  if (!Number.isSafeInteger(registered) || registered < devices)
    throw new Error(`generate: REGISTERED (${arg}) must be an integer >= DEVICES (${devices})`);
  return registered;
}

/** The bytes of a PostgreSQL schema's reports, verdicts and results (tables with their indexes and TOAST). */
async function pgStoreBytes(admin: pg.Client, schema: string): Promise<number> {
  let bytes = 0;
  for (const rel of ["reports", "verdicts", "epoch_results", "epoch_result_owners"])
    bytes += Number((await admin.query(`SELECT pg_total_relation_size('${schema}.${rel}') AS n`)).rows[0].n);
  return bytes;
}

if (command === "generate") {
  const [devices, file] = [Number(args[0]), args[1]!];
  const registered = registeredOf(devices, args[2]);
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true });
  const store = new SqliteStore({ path: tmp });
  await store.migrate();
  const db = new DatabaseSync(tmp, { timeout: 5_000 });
  const deferred = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reports' AND sql IS NOT NULL AND name <> 'reports_by_time' ORDER BY name",
    )
    .all() as { name: string; sql: string }[];
  const generated = await generateDay(devices, registered, `${file}.runs`, store, {
    drop: async () => {
      for (const index of deferred) db.exec(`DROP INDEX ${index.name}`);
      return deferred.map((index) => index.name);
    },
    build: async () => {
      db.exec("PRAGMA cache_size = -65536"); // the store's own (64 MiB), which bounds the index sorter's memory
      for (const index of deferred) db.exec(index.sql);
    },
  });
  db.close();
  await store.close();
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
  renameSync(tmp, file);
  for (const suffix of ["-wal", "-shm"]) rmSync(`${tmp}${suffix}`, { force: true });
  console.log(JSON.stringify({ ...generated, peakRssMiB: peakRssMiB() }));
} else if (command === "generate-pg") {
  // The day straight into a PostgreSQL schema (made afresh), for a day whose SQLite copy and
  // PostgreSQL copy do not fit on one disk together (the 40M day: ~34 and ~38 GB).
  const [devices, url, schema, runsAt] = [Number(args[0]), args[1]!, args[2]!, args[3]!];
  const registered = registeredOf(devices, args[4]);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const store = new PostgresStore({ url, schema, maxConnections: 2 });
  await store.migrate();
  const deferred = (
    await admin.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'reports'
       AND indexname NOT IN ('reports_pkey', 'reports_by_time_c') ORDER BY indexname`,
      [schema],
    )
  ).rows as { indexname: string; indexdef: string }[];
  const generated = await generateDay(devices, registered, runsAt, store, {
    drop: async () => {
      for (const index of deferred) await admin.query(`DROP INDEX ${schema}.${index.indexname}`);
      return deferred.map((index) => index.indexname);
    },
    build: async () => {
      await admin.query("SET maintenance_work_mem = '256MB'");
      for (const index of deferred) await admin.query(index.indexdef);
    },
  });
  await store.close();
  const storeBytes = await pgStoreBytes(admin, schema);
  await admin.end();
  console.log(JSON.stringify({ ...generated, storeBytes, peakRssMiB: peakRssMiB() }));
} else if (command === "order") {
  // A day cached before generate stored it in receive order (bench/scale.ts runs this once).
  const t0 = performance.now();
  storeInReceiveOrder(args[0]!);
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, peakRssMiB: peakRssMiB() }));
} else if (command === "chunk-chain-index") {
  // A day generated before migration 13 holds its chain index as one JSON value: stored again, in
  // chunks, as this build's putChainIndex stores it (bench/scale.ts runs this once per cached day).
  const file = args[0]!;
  const store = new SqliteStore({ path: file });
  await store.migrate();
  const db = new DatabaseSync(file, { readOnly: true });
  const legacy = db.prepare("SELECT 1 FROM chain_index WHERE device_chunks IS NULL").get() !== undefined;
  db.close();
  const t0 = performance.now();
  if (legacy) await store.putChainIndex((await store.getChainIndex(0n))!);
  await store.close();
  console.log(
    JSON.stringify({ rewritten: legacy, seconds: (performance.now() - t0) / 1000, peakRssMiB: peakRssMiB() }),
  );
} else if (command === "copy-pg") {
  const [file, url, schema] = [args[0]!, args[1]!, args[2]!];
  const from = new SqliteStore({ path: file });
  await from.migrate(); // a store cached by an earlier build
  const index = (await from.getChainIndex(0n))!;
  const to = new PostgresStore({ url, schema, maxConnections: 2 });
  await to.migrate();
  const want = await from.countReports();
  const t0 = performance.now();
  let copied = 0;
  if ((await to.countReports()) !== want) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`TRUNCATE ${schema}.reports, ${schema}.entropy`);
    await admin.end();
    let after: { receivedAt: number; hash: `0x${string}` } | undefined;
    for (;;) {
      const page = await from.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER, {
        ...(after ? { after } : {}),
        limit: 5_000,
      });
      if (page.length === 0) break;
      await to.insertReports(page);
      copied += page.length;
      const last = page[page.length - 1]!;
      after = { receivedAt: last.receivedAt, hash: last.hash };
    }
    await to.putEntropy(await from.entropyBetween(0, Number.MAX_SAFE_INTEGER));
    await to.putChainIndex(index);
  }
  const seconds = (performance.now() - t0) / 1000;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const storeBytes = await pgStoreBytes(admin, schema);
  await admin.end();
  await from.close();
  await to.close();
  console.log(JSON.stringify({ reports: want, copied, seconds, storeBytes, peakRssMiB: peakRssMiB() }));
} else if (command === "worker") {
  const [url, schema] = [args[0]!, args[1]!];
  const store = new PostgresStore({ url, schema, maxConnections: 2 });
  const t0 = performance.now();
  // The epoch's context (its chain index's keys, the boundary ownership) is a cost each worker pays once.
  let contextSeconds: number | null = null;
  const stats = await runPartitionWorker(store, {
    epoch: 0n,
    threads: 0,
    pollMs: 200,
    log: (msg, fields) => {
      if (msg === "epoch context ready") contextSeconds = (fields.ms as number) / 1000;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      mode: "worker",
      ...stats,
      seconds,
      contextSeconds,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      peakRssMiB: peakRssMiB(),
    }),
  );
} else if (command === "close" && (args[0] === "streaming-pg" || args[0] === "partitioned")) {
  const [mode, url, schema, partitions] = [args[0], args[1]!, args[2]!, Number(args[3] ?? 0)];
  const store = new PostgresStore({ url, schema, maxConnections: 4 });
  await store.migrate(); // a store cached by an earlier build
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(
    ["verdicts", "verdicts_by_device", "epoch_results", "epoch_result_owners", "close_partitions"]
      .map((table) => `DELETE FROM ${schema}.${table}`)
      .join("; "),
  );
  await admin.end();
  // The view, not the plain index: a close holds the devices once (results.ts storedChainView).
  const chain = (await storedChainView(store, 0n))!;
  const stages = stageClock();
  const out =
    mode === "streaming-pg"
      ? await closeStoredEpoch(store, chain, {}, stages.progress)
      : await closePartitionedEpoch(store, chain, {
          ...(partitions > 0 ? { partitions } : {}),
          verify: false,
          pollMs: 200,
          progress: stages.progress,
        });
  await store.close();
  const seconds = stages.elapsed();
  console.log(
    JSON.stringify({
      mode,
      reports: out.summary.reports,
      seconds,
      stages: stages.stages,
      stagePeaksMiB: stages.stagePeaksMiB,
      stageEndMiB: stages.stageEndMiB,
      peakRssMiB: stages.peakMiB(),
      root: out.root,
    }),
  );
} else if (command === "close") {
  const [mode, file, dist] = [args[0], args[1]!, args[2]];
  // Each run closes epoch 0 afresh.
  const db = new DatabaseSync(file);
  for (const table of ["verdicts", "verdicts_by_device", "epoch_results", "epoch_result_owners"])
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined)
      db.exec(`DELETE FROM ${table}`); // verdicts_by_device: schema version 12 on, the store is migrated below
  db.close();
  const t0 = performance.now();
  const stages = stageClock();
  let reports: number;
  let root: string;
  if (mode === "streaming" || (mode === "streaming-before" && dist !== undefined)) {
    // streaming-before: the same close as compiled in another checkout (SCALE_BENCH_BEFORE).
    const before = mode === "streaming-before";
    const close: typeof closeStoredEpoch = before
      ? (await import(path.join(path.resolve(dist!), "index.js"))).closeStoredEpoch
      : closeStoredEpoch;
    const Store: typeof SqliteStore = before
      ? (await import(path.join(path.resolve(dist!), "store", "sqlite.js"))).SqliteStore
      : SqliteStore;
    const store = new Store({ path: file });
    await store.migrate(); // a store cached by an earlier build
    // This build is given the view (it holds the devices once); another build, the index it takes.
    const chain = before ? (await store.getChainIndex(0n))! : (await storedChainView(store, 0n))!;
    // `close streaming FILE N`: N reading threads (slice-reader.ts) instead of one per core.
    const threads = before || dist === undefined ? undefined : Number(dist);
    const out = await close(store, chain, {}, stages.progress, threads !== undefined ? { threads } : {});
    await store.close();
    reports = out.summary.reports;
    root = out.root;
  } else if (mode === "baseline" && dist !== undefined) {
    ({ reports, root } = await baselineClose(file, path.resolve(dist)));
  } else throw new Error(`unknown close mode ${mode}`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      mode: mode === "streaming" && dist !== undefined ? `streaming-${dist}-threads` : mode,
      reports,
      seconds,
      ...(mode !== "baseline"
        ? { stages: stages.stages, stagePeaksMiB: stages.stagePeaksMiB, stageEndMiB: stages.stageEndMiB }
        : {}),
      peakRssMiB: stages.peakMiB(),
      root,
    }),
  );
} else throw new Error(`unknown command ${command}`);

/**
 * Seconds from the start to the end of each stage the close reports (its progress callback: the
 * first time a stage reports done = total), each stage timed from the end of the one before:
 *   streaming:   prepare (read, stages 1-2), beacons, witnesses, reciprocity, one-way, selection
 *                (stages 3-5), payout, commit, load (~0), verify (summary), store (verdicts written)
 *   partitioned: partitions (waiting for the workers), prepare (records read back, stage 2), the
 *                same stages 3-5, payout and commit, reduce (~0), verify, store
 * and the peak RSS of each (the process's, its threads included) where Linux gives it: the kernel's
 * high-water mark read and reset at each stage's end (/proc/self/status VmHWM, /proc/self/clear_refs).
 * The reset also resets getrusage's maxRSS: the process's peak is then `peakMiB()`. At each stage's
 * end, what the RSS is made of (stageEndMiB): anonymous, file-backed and shared memory (SQLite's
 * WAL index) from /proc/self/status, the V8 heap's used and committed bytes, and the memory of
 * JavaScript objects held outside the heap (typed arrays, Buffers), from process.memoryUsage().
 */
function stageClock() {
  const t0 = performance.now();
  let last = t0;
  const stages: Record<string, number> = {};
  const stagePeaksMiB: Record<string, number> = {};
  const stageEndMiB: Record<string, Record<string, number>> = {};
  let peak = 0;
  return {
    stages,
    stagePeaksMiB,
    stageEndMiB,
    elapsed: () => (performance.now() - t0) / 1000,
    /** The process's peak RSS so far, MiB (the stages' peaks and the RSS since the last reset). */
    peakMiB: () => Math.max(peak, peakRssMiB()),
    progress: (step: string, done: number, total: number) => {
      if (done !== total || step in stages) return;
      const now = performance.now();
      stages[step] = Math.round(now - last) / 1000;
      last = now;
      const made = rssMadeOfMiB();
      if (made !== null) stageEndMiB[step] = made;
      const stagePeak = readAndResetPeakRssMiB();
      if (stagePeak !== null) {
        stagePeaksMiB[step] = stagePeak;
        peak = Math.max(peak, stagePeak);
      }
    },
  };
}

/** What the RSS is made of now (MiB); null where Linux's /proc is not. */
function rssMadeOfMiB(): Record<string, number> | null {
  const mib = (bytes: number) => Math.round(bytes / 1048576);
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? NaN);
    const m = process.memoryUsage();
    return {
      anon: Math.round(kib("RssAnon") / 1024),
      file: Math.round(kib("RssFile") / 1024),
      shmem: Math.round(kib("RssShmem") / 1024),
      heapUsed: mib(m.heapUsed),
      heapTotal: mib(m.heapTotal),
      external: mib(m.external),
    };
  } catch {
    return null;
  }
}

/** The peak RSS since the last reset (MiB), then reset to the current RSS; null where Linux's /proc is not. */
function readAndResetPeakRssMiB(): number | null {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm === null) return null;
    writeFileSync("/proc/self/clear_refs", "5");
    return Math.round(Number(hwm[1]) / 1024);
  } catch {
    return null;
  }
}

/** The close as another checkout's EpochService.close ran it: everything of the epoch in memory at once. */
async function baselineClose(file: string, dist: string): Promise<{ reports: number; root: string }> {
  const oracle: any = await import(path.join(dist, "index.js"));
  const { SqliteStore: BaselineStore }: any = await import(path.join(dist, "store", "sqlite.js"));
  const store = new BaselineStore({ path: file });
  const index = await store.getChainIndex(0n);
  const times = { epoch: 0n, start: index.epochStart, end: index.epochEnd };
  const range = oracle.inputRangeOf(index.epochStart, index.epochEnd);
  const owned = await oracle.ownedReports(store, times, oracle.SLACK_MS);
  const entropy = await store.entropyBetween(range.entropyFrom, range.entropyTo);
  const result = await oracle.runCoverageEpoch(index, { reports: owned, entropy });
  const verdicts: any[] = result.work.verdicts;
  const root = result.commit.epochRoot;
  const rows = verdicts.map((v, seq) => ({ ...v, epoch: 0n, seq }));
  await store.putEpochResult(
    {
      epoch: 0n,
      root: root.root,
      totalCumulative: root.totalCumulative,
      dataHash: root.dataHash,
      snapshotBlock: index.snapshotBlock,
      summary: { reports: verdicts.length },
      owners: result.payout.owners,
      computedAt: Date.now(),
    },
    rows,
  );
  await store.close();
  return { reports: verdicts.length, root: root.root };
}
