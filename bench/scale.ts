/**
 * `npm run bench:scale`: peak memory and time of an epoch close as the epoch grows.
 *
 * For each size (devices; ~27 signed reports per device and day, bench/day.ts) a simulated day is
 * generated once and imported into a SQLite store cached on disk (SCALE_BENCH_CACHE, default
 * $TMPDIR/hexmesh-scale: delete it to regenerate), its reports in receive order as an oracle's ingest
 * stores them (scale-child.ts generate: each signed part sorted into a run on a temp disk file, the
 * runs merged into the store); then epoch 0 is closed in a fresh process per run
 * (bench/scale-child.ts), so each close's peak RSS (its own, worker threads included) is measured
 * alone:
 *
 *   streaming  this checkout's close (closeStoredEpoch: keyset pages, verdicts written in batches)
 *   baseline   the whole-epoch-in-memory close of another checkout's compiled oracle, when
 *              SCALE_BENCH_BASELINE names its packages/oracle/dist (e.g. a build of the commit
 *              before the streaming close); both must give the same root
 *   streaming-before  another checkout's streaming close (SCALE_BENCH_BEFORE: its
 *              packages/oracle/dist), on the same day at the same load: before/after a change
 *
 * With a PostgreSQL server (SCALE_BENCH_PG_URL, else HEXMESH_TEST_PG_URL) the day is also copied
 * into a schema there (cached: kept while it holds the day; the copy is timed as the ingest stage)
 * and closed there:
 *
 *   streaming-pg   the same single-process close on PostgreSQL
 *   partitioned    a partitioned close (service/partitions.ts): a reducer process that only waits
 *                  and reduces, and N `worker` processes (SCALE_BENCH_WORKERS, default "1,2"), each
 *                  verifying on its own thread; every process's peak RSS and the stage times
 *
 * Writes bench/results/scale.json. Options (environment): SCALE_BENCH_DEVICES (comma-separated,
 * default "7500,37000": ~0.2M and ~1M reports; ACTIVE/REGISTERED: a quiet day, see Size), SCALE_BENCH_BASELINE, SCALE_BENCH_BASELINE_COMMIT
 * (recorded with the figures), SCALE_BENCH_BEFORE and SCALE_BENCH_BEFORE_COMMIT (another checkout's
 * packages/oracle/dist: its streaming close runs first on the same day, "streaming-before"), SCALE_BENCH_PG_URL, SCALE_BENCH_WORKERS, SCALE_BENCH_PARTITIONS
 * (default: one per 16,384 reports), SCALE_BENCH_READERS (comma-separated counts of reading threads:
 * one more single-process close each, "streaming-N-threads"; default none: only the default close,
 * one thread per core), SCALE_BENCH_GEN_THREADS (threads signing a day being generated, default one
 * per core), SCALE_BENCH_MODES (comma-separated: which of "streaming" (SQLite, with its READERS and
 * BEFORE/BASELINE closes), "streaming-pg" and "partitioned" run; default all; a mode not run keeps
 * its last figures as `earlierCloses`). A day cached by an older generate, in generation order, is
 * first stored in receive order, once (see scale-child.ts storeInReceiveOrder).
 *
 * Each child process runs with MALLOC_ARENA_MAX=2 (an operator's setting: docs/oracle-service.md,
 * "Running it"), unless the environment sets it: glibc otherwise keeps up to 8 malloc arenas a core,
 * one per thread that allocated, resident after the threads end. The value is recorded in scale.json.
 *
 * SCALE_BENCH_PG_ONLY=1 generates each day straight into its PostgreSQL schema (no SQLite copy: for
 * a day whose two copies do not fit on one disk) and runs only the PostgreSQL closes.
 *
 * SCALE_BENCH_GENERATE_ONLY=1 only generates the days not cached yet (no close, scale.json untouched);
 * each generation's figures also go to bench/results/scale-generation.json: wall and CPU seconds,
 * the seconds of the signing phase (signing, hashing and sorting each part, writing the runs) and
 * of the import (merging the runs into the store), peak temp disk (the runs' bytes), peak RSS (of
 * the whole run and of the signing phase), the store's bytes.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import pg from "pg";

import { git } from "./builds.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** glibc's malloc arenas: read by the C library when a process starts, so it is set for the children. */
const MALLOC_ARENA_MAX = process.env.MALLOC_ARENA_MAX ?? "2";
const childEnv = { ...process.env, MALLOC_ARENA_MAX };
const outFile = path.join(here, "results", "scale.json");
/**
 * A size: the devices that report (~27 signed reports each) and the devices registered on chain (the
 * chain index's), the same unless the size is written ACTIVE/REGISTERED, e.g. "37000/1440000": a
 * quiet day of a large network, whose reports are the ACTIVE-device day's and whose other devices are
 * registered elsewhere and silent (scale-child.ts generate). With such a size, memory that grows with
 * the reports is told apart from memory that grows with the fleet.
 */
interface Size {
  readonly devices: number;
  readonly registered: number;
}
const SIZES: Size[] = (process.env.SCALE_BENCH_DEVICES ?? "7500,37000").split(",").map((spec) => {
  const [devices, registered = devices] = spec.split("/").map(Number) as [number, number?];
  if (
    !Number.isSafeInteger(devices) ||
    devices <= 0 ||
    !Number.isSafeInteger(registered) ||
    registered < devices
  )
    throw new Error(
      `SCALE_BENCH_DEVICES: bad size ${spec} (DEVICES or ACTIVE/REGISTERED, REGISTERED >= ACTIVE)`,
    );
  return { devices, registered };
});
/** A recorded size entry's registered devices (entries without `registered` have every device active). */
const registeredOf = (s: Record<string, unknown>) =>
  (s.registered as number | undefined) ?? (s.devices as number);
/** Whether a recorded size entry is `size`. */
const isSize = (s: Record<string, unknown>, size: Size) =>
  s.devices === size.devices && registeredOf(s) === size.registered;
const bySize = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  (a.devices as number) - (b.devices as number) || registeredOf(a) - registeredOf(b);
const CACHE = process.env.SCALE_BENCH_CACHE ?? path.join(os.tmpdir(), "hexmesh-scale");
const BASELINE = process.env.SCALE_BENCH_BASELINE;
/** Another checkout's packages/oracle/dist whose streaming close runs first, on the same day (before/after). */
const BEFORE = process.env.SCALE_BENCH_BEFORE;
const PG_URL = process.env.SCALE_BENCH_PG_URL ?? process.env.HEXMESH_TEST_PG_URL;
const WORKERS = (process.env.SCALE_BENCH_WORKERS ?? "1,2").split(",").map(Number);
const PARTITIONS = process.env.SCALE_BENCH_PARTITIONS ?? "0";
/** Extra single-process closes with this many reading threads each (e.g. "1,2"); default none. */
const READERS = (process.env.SCALE_BENCH_READERS ?? "").split(",").filter(Boolean).map(Number);
const MODE_NAMES = ["streaming", "streaming-pg", "partitioned"] as const;
const MODES = new Set(
  (process.env.SCALE_BENCH_MODES ?? MODE_NAMES.join(",")).split(",").map((m) => {
    if (!(MODE_NAMES as readonly string[]).includes(m))
      throw new Error(`SCALE_BENCH_MODES: unknown mode ${m} (${MODE_NAMES.join(", ")})`);
    return m;
  }),
);

/**
 * bench/results/scale.json as it was when this run started: read once, since the file is rewritten
 * after each size (an earlier size's rewrite must not hide what a later size measured before).
 */
const previous = existsSync(outFile)
  ? (JSON.parse(readFileSync(outFile, "utf8")) as {
      generatedAt: string;
      machine: { loadAverage: number[]; mallocArenaMax?: string };
      baseline?: unknown;
      sizes: (Record<string, unknown> & {
        devices: number;
        closes?: Record<string, unknown>[];
        earlierCloses?: Record<string, unknown>[];
      })[];
    })
  : null;

/**
 * Sizes measured by earlier runs and not run now, kept (each with when and at what load it was
 * measured) so that the file shows how time and memory grow across sizes.
 */
const earlier: Record<string, unknown>[] = (() => {
  if (previous === null) return [];
  return previous.sizes
    .filter((s) => !SIZES.some((size) => isSize(s, size)))
    .map((s) => ({
      measuredAt: previous.generatedAt,
      loadAverageThen: previous.machine.loadAverage,
      // null: glibc's own arenas (runs before the bench set MALLOC_ARENA_MAX).
      mallocArenaMaxThen: previous.machine.mallocArenaMax ?? null,
      ...(previous.baseline !== undefined ? { baselineThen: previous.baseline } : {}),
      ...s,
    }));
})();

/**
 * Closes of a size measured again whose modes this run does not repeat (e.g. PostgreSQL when no
 * server is given): kept beside the new ones as `earlierCloses`, with when and at what load.
 */
const earlierCloses = (size: Size, modes: readonly unknown[]): Record<string, unknown>[] => {
  const entry = previous?.sizes.find((s) => isSize(s, size));
  if (entry === undefined) return [];
  // An entry carried over from an earlier run has its own measuredAt; the file's is later.
  const measuredAt = (entry.measuredAt as string | undefined) ?? previous!.generatedAt;
  return [...(entry.closes ?? []).map((c) => ({ measuredAt, ...c })), ...(entry.earlierCloses ?? [])].filter(
    (c: Record<string, unknown>) => !modes.includes(c.mode),
  );
};

/** Writes what is measured so far (after each size: a long run cut short keeps its smaller sizes). */
function write(measured: unknown[]): void {
  const sizes = [...earlier, ...(measured as Record<string, unknown>[])].sort(bySize);
  const out = {
    what: "an epoch close over a SQLite store and, with a server, a PostgreSQL store (simulated day, ~27 signed reports per device): wall time, stage times, peak RSS of each process (worker threads included) and, where a close has stagePeaksMiB, of each stage of the closing process (stagePeaksMiB: Linux's VmHWM read and reset at each stage's end; stageEndMiB: what the RSS was made of at each stage's end, see bench/scale-child.ts), per close mode (single process; partitioned with 1 and 2 worker processes); each close in fresh processes, reading a store generated once and cached",
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      node: process.version,
      loadAverage: os.loadavg(),
      mallocArenaMax: MALLOC_ARENA_MAX,
    },
    ...(BASELINE !== undefined
      ? { baseline: { dist: BASELINE, commit: process.env.SCALE_BENCH_BASELINE_COMMIT ?? null } }
      : {}),
    ...(BEFORE !== undefined
      ? { before: { dist: BEFORE, commit: process.env.SCALE_BENCH_BEFORE_COMMIT ?? null } }
      : {}),
    sizes,
  };
  writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
}

/** Runs bench/scale-child.ts under this Node with tsx (Hardhat's own TypeScript loader); its last JSON line. */
function child(args: string[]): Record<string, unknown> {
  const run = spawnSync(process.execPath, ["--import", "tsx", path.join(here, "scale-child.ts"), ...args], {
    encoding: "utf8",
    env: childEnv,
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`bench/scale-child.ts ${args.join(" ")} exited with ${run.status}`);
  const lines = run.stdout.trim().split("\n");
  process.stdout.write(
    lines
      .slice(0, -1)
      .map((l) => `  ${l}\n`)
      .join(""),
  );
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** The same, started now: its JSON line once it exits. */
function childAsync(args: string[]): Promise<Record<string, unknown>> {
  const run = spawn(process.execPath, ["--import", "tsx", path.join(here, "scale-child.ts"), ...args], {
    env: childEnv,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  run.stdout.on("data", (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) =>
    run.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench/scale-child.ts ${args.join(" ")} exited with ${code}`));
      const lines = out.trim().split("\n");
      resolve(JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>);
    }),
  );
}

/** A partitioned close on PostgreSQL: the reducer, then `workers` worker processes once its partitions are open. */
async function partitionedClose(schema: string, workers: number): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const reducer = childAsync(["close", "partitioned", PG_URL!, schema, PARTITIONS]);
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  try {
    // The reducer first clears the epoch's previous run, then opens the partitions.
    for (;;) {
      const open = await db.query(
        `SELECT COUNT(*) AS n FROM ${schema}.close_partitions WHERE epoch = 0 AND done_at IS NULL`,
      );
      if (Number(open.rows[0].n) > 0) break;
      await sleep(100);
    }
  } finally {
    await db.end();
  }
  const started = Array.from({ length: workers }, () => childAsync(["worker", PG_URL!, schema]));
  const [close, ...done] = await Promise.all([reducer, ...started]);
  const seconds = (performance.now() - t0) / 1000;
  return {
    ...close!,
    mode: `partitioned, ${workers} worker${workers === 1 ? "" : "s"}`,
    workers: done,
    seconds,
    peakRssMiBAnyProcess: Math.max(close!.peakRssMiB as number, ...done.map((w) => w.peakRssMiB as number)),
  };
}

/**
 * SCALE_BENCH_PG_ONLY=1 (with a server): the days generated straight into PostgreSQL (scale-child.ts
 * generate-pg; cached while the schema's generation figures are kept beside the SQLite days), no
 * SQLite copy and no SQLite close: for a day whose two copies do not fit on one disk.
 */
const PG_ONLY = process.env.SCALE_BENCH_PG_ONLY === "1";
if (PG_ONLY && (PG_URL === undefined || PG_URL === ""))
  throw new Error("SCALE_BENCH_PG_ONLY=1 needs a server (SCALE_BENCH_PG_URL or HEXMESH_TEST_PG_URL)");
/** SCALE_BENCH_GENERATE_ONLY=1: generate (and cache) the days, close none. */
const GENERATE_ONLY = process.env.SCALE_BENCH_GENERATE_ONLY === "1";
const generationOut = path.join(here, "results", "scale-generation.json");
/** The checkout that generates (read at the start: a long run outlives later commits). */
const COMMIT =
  git("rev-parse", "HEAD") + (git("status", "--porcelain", "--untracked-files=no") ? "+dirty" : "");

/** The store a day was generated into; entries recorded before `store` was kept are SQLite's. */
type GeneratedStore = "sqlite" | "postgresql";
const storeOf = (s: Record<string, unknown>) => (s.store as GeneratedStore | undefined) ?? "sqlite";

/**
 * Adds a day's generation figures to bench/results/scale-generation.json (one entry per size and
 * store, the latest run of each kept), with the commit that generated it.
 */
function recordGeneration(
  size: Size,
  store: GeneratedStore,
  generated: Record<string, unknown>,
  file: string,
  storeBytes: number,
): void {
  const old = existsSync(generationOut)
    ? (JSON.parse(readFileSync(generationOut, "utf8")) as { sizes: Record<string, unknown>[] })
    : { sizes: [] };
  const entry = {
    devices: size.devices,
    ...(size.registered !== size.devices ? { registered: size.registered } : {}),
    store,
    ...generated,
    reportsPerSecond: Math.round((generated.reports as number) / (generated.seconds as number)),
    ...(generated.cpuSeconds !== undefined
      ? {
          cpuMicrosecondsPerReport: Math.round(
            (1e6 * (generated.cpuSeconds as number)) / (generated.reports as number),
          ),
        }
      : {}),
    file,
    storeBytes,
    storeBytesPerReport: Math.round(storeBytes / (generated.reports as number)),
    generatedAt: new Date().toISOString(),
    commit: COMMIT,
    machine: { cpus: os.cpus().length, node: process.version },
  };
  const sizes = [...old.sizes.filter((s) => !isSize(s, size) || storeOf(s) !== store), entry].sort(
    (a, b) => bySize(a, b) || storeOf(a).localeCompare(storeOf(b)),
  );
  const out = {
    what: "generating a bench day (bench/scale-child.ts generate: simulated, signed on worker threads, stored in receive order in a SQLite store, or with SCALE_BENCH_PG_ONLY straight into a PostgreSQL schema, generate-pg): reports, wall seconds, peak RSS of the process (its threads included), store bytes, load average before and after; one entry per size and store (store: sqlite or postgresql; sqlite where absent). Entries with runBytes: each signed part sorted into a run on a temp file, then the runs merged into the store (signSeconds: the signing phase, importSeconds: the merge, the import and the deferred indexes' build, indexSeconds of it, runBytes: peak temp disk, signPeakRssMiB: peak RSS of the signing phase); entries without: streamed into the store part by part, then the reports table rewritten in receive order",
    sizes,
  };
  writeFileSync(generationOut, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), generationOut)}`);
}

/**
 * CPU seconds (user + system, all threads) of this process's finished children, from Linux's
 * /proc/self/stat (cutime, cstime, in the kernel's fixed 100 ticks per second); null elsewhere.
 * Unlike wall time, it hardly depends on how loaded the machine is.
 */
function childrenCpuSeconds(): number | null {
  if (!existsSync("/proc/self/stat")) return null;
  const { fields } = procStat("self")!;
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * A process's /proc/PID/stat: its command name and the fields after it (fields[0] is the state;
 * utime, stime, cutime, cstime at 11-14, in 100 ticks a second); null once it has exited.
 */
function procStat(pid: string): { comm: string; fields: string[] } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The name may hold spaces and parentheses: it ends at the last ")".
  const end = stat.lastIndexOf(")");
  return { comm: stat.slice(stat.indexOf("(") + 1, end), fields: stat.slice(end + 2).split(" ") };
}

/**
 * CPU seconds used so far by this machine's PostgreSQL server: every `postgres` process's own time
 * and its reaped children's (a backend that exits moves its time into the postmaster's), from /proc;
 * null when no server process is visible here (a server on another machine).
 */
function postgresCpuSeconds(): number | null {
  if (!existsSync("/proc/self/stat")) return null;
  let ticks = 0;
  let seen = false;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = procStat(pid); // null: exited since the listing
    if (stat?.comm !== "postgres") continue;
    seen = true;
    const f = stat.fields;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return seen ? ticks / 100 : null;
}

/** A generate child's figures with its wall and CPU seconds, threads and load average. */
function timedGeneration(args: string[]): Record<string, unknown> {
  const t0 = performance.now();
  const loadBefore = os.loadavg();
  const cpuBefore = childrenCpuSeconds();
  return {
    ...child(args),
    seconds: (performance.now() - t0) / 1000,
    ...(cpuBefore !== null
      ? { cpuSeconds: Math.round((childrenCpuSeconds()! - cpuBefore) * 100) / 100 }
      : {}),
    threads: Number(process.env.SCALE_BENCH_GEN_THREADS ?? os.cpus().length),
    loadAverage: { before: loadBefore, after: os.loadavg() },
    order: "received",
  };
}

mkdirSync(CACHE, { recursive: true });
const sizes: unknown[] = [];
for (const size of SIZES) {
  const { devices, registered } = size;
  const quiet = registered !== devices;
  const label = quiet ? `${devices}-of-${registered}` : `${devices}`;
  const file = path.join(CACHE, `day-${label}.sqlite`);
  const pgSchema = `scale_${label.replaceAll("-", "_")}`;
  // What generating the cached day cost, kept beside it (generation is timed apart from the close).
  const generationFile = PG_ONLY ? path.join(CACHE, `day-${label}.${pgSchema}.json`) : `${file}.json`;
  let generated = existsSync(generationFile)
    ? (JSON.parse(readFileSync(generationFile, "utf8")) as Record<string, unknown>)
    : null;
  if (PG_ONLY && generated === null) {
    console.log(`generating ${label} devices' day into PostgreSQL schema ${pgSchema}`);
    const registeredArg = quiet ? [String(registered)] : [];
    generated = timedGeneration([
      "generate-pg",
      String(devices),
      PG_URL!,
      pgSchema,
      `${file}.runs`,
      ...registeredArg,
    ]);
    writeFileSync(generationFile, JSON.stringify(generated));
    console.log("generated", generated);
    recordGeneration(
      size,
      "postgresql",
      generated,
      `postgres schema ${pgSchema}`,
      generated.storeBytes as number,
    );
  }
  if (!PG_ONLY && !existsSync(file)) {
    console.log(`generating ${label} devices' day into ${file}`);
    generated = timedGeneration(["generate", String(devices), file, ...(quiet ? [String(registered)] : [])]);
    writeFileSync(generationFile, JSON.stringify(generated));
    console.log("generated", generated);
    recordGeneration(size, "sqlite", generated, file, statSync(file).size);
  }
  if (!PG_ONLY && generated !== null && generated.order !== "received") {
    // Cached by an earlier generate, in part order: stored once in receive order, as ingest stores.
    console.log(`storing ${file} in receive order`, child(["order", file]));
    generated = { ...generated, order: "received" };
    writeFileSync(generationFile, JSON.stringify(generated));
  }
  if (!PG_ONLY && generated !== null && generated.chainIndex !== "chunked") {
    // Generated before migration 13: its chain index stored again in chunks, once, as a close reads it.
    console.log(`storing ${file}'s chain index in chunks`, child(["chunk-chain-index", file]));
    generated = { ...generated, chainIndex: "chunked" };
    writeFileSync(generationFile, JSON.stringify(generated));
  }
  if (GENERATE_ONLY) continue;
  const runs: Record<string, unknown>[] = [];
  let postgres: Record<string, unknown> | null = null;
  if (PG_ONLY)
    postgres = { schema: pgSchema, generatedThere: true, storeBytes: generated!.storeBytes as number };
  else if (PG_URL !== undefined && PG_URL !== "") {
    console.log(`copying ${label} devices' day into PostgreSQL schema ${pgSchema}`);
    postgres = { schema: pgSchema, ingest: child(["copy-pg", file, PG_URL, pgSchema]) };
    console.log("copied", postgres.ingest);
  }
  const modes: (() => Promise<Record<string, unknown>>)[] = [
    ...(MODES.has("streaming") && !PG_ONLY
      ? [
          ...(BASELINE !== undefined ? [async () => child(["close", "baseline", file, BASELINE])] : []),
          ...(BEFORE !== undefined ? [async () => child(["close", "streaming-before", file, BEFORE])] : []),
          async () => child(["close", "streaming", file]),
          ...READERS.map((n) => async () => child(["close", "streaming", file, String(n)])),
        ]
      : []),
    ...(postgres !== null && MODES.has("streaming-pg")
      ? [async () => child(["close", "streaming-pg", PG_URL!, pgSchema])]
      : []),
    ...(postgres !== null && MODES.has("partitioned")
      ? WORKERS.map((n) => () => partitionedClose(pgSchema, n))
      : []),
  ];
  if (modes.length === 0)
    throw new Error(
      `no close to run at ${label}: SCALE_BENCH_MODES names PostgreSQL modes only, and no server is given`,
    );
  for (const mode of modes) {
    const loadBefore = os.loadavg();
    const cpuBefore = childrenCpuSeconds();
    const serverBefore = postgres !== null ? postgresCpuSeconds() : null;
    const closed = await mode();
    // The server's share of a close on PostgreSQL: on one machine it competes with the workers.
    const onServer = closed.mode === "streaming-pg" || String(closed.mode).startsWith("partitioned");
    const r: Record<string, unknown> = {
      ...closed,
      ...(cpuBefore !== null
        ? { cpuSeconds: Math.round((childrenCpuSeconds()! - cpuBefore) * 100) / 100 }
        : {}),
      ...(serverBefore !== null && onServer
        ? { postgresCpuSeconds: Math.round((postgresCpuSeconds()! - serverBefore) * 100) / 100 }
        : {}),
      loadAverage: { before: loadBefore, after: os.loadavg() },
    };
    const reports = r.reports as number;
    const seconds = r.seconds as number;
    runs.push({
      ...r,
      seconds: Math.round(seconds * 100) / 100,
      reportsPerSecond: Math.round(reports / seconds),
      bytesPerReportAtPeak: Math.round(((r.peakRssMiB as number) * 1024 * 1024) / reports),
    });
    console.log(label, runs[runs.length - 1]);
  }
  if (new Set(runs.map((r) => r.root)).size !== 1) throw new Error(`roots differ at ${label} devices`);
  const kept = earlierCloses(
    size,
    runs.map((r) => r.mode),
  );
  // A run without a server keeps the PostgreSQL copy's figures its kept closes read.
  const before = previous?.sizes.find((s) => isSize(s, size));
  const earlierPostgres = kept.length > 0 ? before?.postgres : undefined;
  const earlierStoreBytes = before?.storeBytes as number | undefined;
  sizes.push({
    devices,
    ...(quiet ? { registered } : {}),
    reports: runs[0]!.reports,
    // The SQLite store's bytes (a PostgreSQL-only run keeps an earlier run's; its own are postgres's).
    ...(PG_ONLY
      ? earlierStoreBytes !== undefined
        ? { storeBytes: earlierStoreBytes }
        : {}
      : { storeBytes: statSync(file).size }),
    ...(postgres !== null
      ? { postgres }
      : earlierPostgres !== undefined
        ? { postgres: earlierPostgres }
        : {}),
    ...(generated !== null ? { generation: generated } : {}),
    closes: runs,
    ...(kept.length > 0 ? { earlierCloses: kept } : {}),
  });
  write(sizes);
}
