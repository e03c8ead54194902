/**
 * `npm run bench:scale`: peak memory and time of an epoch close as the epoch grows.
 *
 * For each size (devices; ~27 signed reports per device and day, bench/day.ts) a simulated day is
 * generated once and imported into a SQLite store cached on disk (SCALE_BENCH_CACHE, default
 * $TMPDIR/hexmesh-scale: delete it to regenerate); then epoch 0 is closed in a fresh process per run
 * (bench/scale-child.ts), so each close's peak RSS (its own, worker threads included) is measured
 * alone:
 *
 *   streaming  this checkout's close (closeStoredEpoch: keyset pages, verdicts written in batches)
 *   baseline   the whole-epoch-in-memory close of another checkout's compiled oracle, when
 *              SCALE_BENCH_BASELINE names its packages/oracle/dist (e.g. a build of the commit
 *              before the streaming close); both must give the same root
 *
 * Writes bench/results/scale.json. Options (environment): SCALE_BENCH_DEVICES (comma-separated,
 * default "7500,37000": ~0.2M and ~1M reports), SCALE_BENCH_BASELINE, SCALE_BENCH_BASELINE_COMMIT
 * (recorded with the figures).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "scale.json");
const SIZES = (process.env.SCALE_BENCH_DEVICES ?? "7500,37000").split(",").map(Number);
const CACHE = process.env.SCALE_BENCH_CACHE ?? path.join(os.tmpdir(), "hexmesh-scale");
const BASELINE = process.env.SCALE_BENCH_BASELINE;

/** Writes what is measured so far (after each size: a long run cut short keeps its smaller sizes). */
function write(sizes: unknown[]): void {
  const out = {
    what: "an epoch close over a SQLite store (simulated day, ~27 signed reports per device): wall time and peak RSS of the closing process (worker threads included), per close mode; each close in a fresh process, reading a store generated once and cached",
    generatedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
    ...(BASELINE !== undefined
      ? { baseline: { dist: BASELINE, commit: process.env.SCALE_BENCH_BASELINE_COMMIT ?? null } }
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

mkdirSync(CACHE, { recursive: true });
const sizes: unknown[] = [];
for (const devices of SIZES) {
  const file = path.join(CACHE, `day-${devices}.sqlite`);
  // What generating the cached day cost, kept beside it (generation is timed apart from the close).
  const generationFile = `${file}.json`;
  let generated = existsSync(generationFile)
    ? (JSON.parse(readFileSync(generationFile, "utf8")) as Record<string, unknown>)
    : null;
  if (!existsSync(file)) {
    console.log(`generating ${devices} devices' day into ${file}`);
    const t0 = performance.now();
    generated = { ...child(["generate", String(devices), file]), seconds: (performance.now() - t0) / 1000 };
    writeFileSync(generationFile, JSON.stringify(generated));
    console.log("generated", generated);
  }
  const runs: Record<string, unknown>[] = [];
  for (const mode of BASELINE !== undefined ? ["baseline", "streaming"] : ["streaming"]) {
    const r = child(["close", mode, file, ...(BASELINE !== undefined ? [BASELINE] : [])]);
    const reports = r.reports as number;
    const seconds = r.seconds as number;
    runs.push({
      ...r,
      seconds: Math.round(seconds * 100) / 100,
      reportsPerSecond: Math.round(reports / seconds),
      bytesPerReportAtPeak: Math.round(((r.peakRssMiB as number) * 1024 * 1024) / reports),
    });
    console.log(devices, runs[runs.length - 1]);
  }
  if (new Set(runs.map((r) => r.root)).size !== 1) throw new Error(`roots differ at ${devices} devices`);
  sizes.push({
    devices,
    reports: runs[0]!.reports,
    storeBytes: statSync(file).size,
    ...(generated !== null ? { generation: generated } : {}),
    closes: runs,
  });
  write(sizes);
}
