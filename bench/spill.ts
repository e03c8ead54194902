/**
 * One pass over a spilled table (verify/spill.ts) beside a large heap: what each epoch-wide stage of
 * a close does at 40M reports (a 6.4 GB spill, read in order through the page cache, beside ~1.5 GB
 * of chain records, view and state).
 *
 *   npm run bench:spill
 *
 * SPILL_BENCH_ROWS rows (default 10,000,000: 1.6 GB in the temp dir) are spilled, SPILL_BENCH_HEAP_MIB
 * of objects (default 1,500) are held, then every row's kind and device are read in order. Each
 * build runs in its own process; the time of the pass and the garbage collections during it
 * (count and time, by kind: PerformanceObserver "gc") are written to bench/results/spill.json. With
 * SPILL_BENCH_BEFORE=<another checkout's packages/oracle/src or dist> that build runs too.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

import { runBuilds } from "./builds.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.SPILL_BENCH_ROWS ?? 10_000_000);
const HEAP_MIB = Number(process.env.SPILL_BENCH_HEAP_MIB ?? 1_500);
const BEFORE = process.env.SPILL_BENCH_BEFORE;

if (process.argv[2] === "child") await child(process.argv[3]);
else main();

function main(): void {
  const builds = runBuilds(fileURLToPath(import.meta.url), [], BEFORE);
  const out = {
    bench: "spill",
    note: "One in-order pass over a spilled table (kind and device of every row) beside a held heap of objects; garbage collections during the pass.",
    rows: ROWS,
    heldHeapMiB: HEAP_MIB,
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg(),
    builds,
  };
  const file = path.join(here, "results", "spill.json");
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  for (const b of builds) console.log(JSON.stringify(b));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function child(dir?: string): Promise<void> {
  const base = dir ?? path.join(here, "..", "packages", "oracle", "src");
  const { SpillWriter } = (await import(
    path.join(base, "verify", "spill.js")
  )) as typeof import("@hexmesh/oracle/verify/spill");
  const { ReportTable } = (await import(
    path.join(base, "verify", "table.js")
  )) as typeof import("@hexmesh/oracle/verify/table");

  // The held heap: small objects, as the chain records and view are.
  const held: { n: number; s: string }[] = [];
  for (let i = 0; i < (HEAP_MIB * 2 ** 20) / 80; i++) held.push({ n: i, s: `device-${i}` });

  // Rows in receive-time order (the spill keeps them as given), 32,768 at a time.
  const writer = new SpillWriter(ROWS);
  const chunk = 32_768;
  for (let at = 0; at < ROWS; at += chunk) {
    const n = Math.min(chunk, ROWS - at);
    const t = new ReportTable(n);
    for (let k = 0; k < n; k++) t.setHeader(k, 2, 0, true, 0, (at + k) % 100_000, 1_700_000_000_000 + at + k);
    writer.add(t, 0, n);
  }
  const spilled = writer.finish();

  const gcs = new Map<string, { count: number; ms: number }>();
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak callbacks",
  };
  let passing = false;
  const observer = new PerformanceObserver((list) => {
    if (!passing) return;
    for (const e of list.getEntries()) {
      const kind = kinds[(e as unknown as { detail: { kind: number } }).detail.kind] ?? "other";
      const g = gcs.get(kind) ?? { count: 0, ms: 0 };
      g.count++;
      g.ms += e.duration;
      gcs.set(kind, g);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  passing = true;
  const t0 = performance.now();
  let sum = 0;
  for (let i = 0; i < ROWS; i++) sum += spilled.kind(i) + spilled.deviceIndex(i);
  const seconds = (performance.now() - t0) / 1000;
  // The observer is called back after the pass (the pass never yields): let it run, then stop.
  await new Promise((r) => setTimeout(r, 100));
  passing = false;
  observer.disconnect();
  spilled.close();
  console.log(
    JSON.stringify({
      seconds: Math.round(seconds * 100) / 100,
      rowsPerSecond: Math.round(ROWS / seconds),
      pageReads: spilled.reads,
      gc: Object.fromEntries([...gcs].map(([k, g]) => [k, { count: g.count, ms: Math.round(g.ms) }])),
      held: held.length,
      check: sum,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
