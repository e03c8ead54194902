/**
 * `npm run bench:compute`: the example jobs through the runner (a worker thread, node:wasi, default
 * limits): wall time per run including the worker's start and the program's metering (binaryen
 * instrumentation, packages/compute/src/meter.ts), the memory each ended with, the output hash and the
 * metered ticks and units (each the same on every run, or the bench fails). Writes
 * bench/results/compute.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { exampleProgram, matmulInput, pathTracerInput, runJob } from "@hexmesh/compute";
import { unitsOfTicks } from "@hexmesh/protocol";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.join(here, "results", "compute.json");
const RUNS = 5;

const cases = [
  { job: "pathtracer" as const, params: { width: 96, height: 64, samples: 16, seed: 7 } },
  { job: "pathtracer" as const, params: { width: 320, height: 240, samples: 8, seed: 7 } },
  { job: "matmul" as const, params: { n: 256, seed: 1 } },
];

const loadAverage1mAtStart = Number(os.loadavg()[0]!.toFixed(2));
const results = [];
for (const c of cases) {
  const program = await exampleProgram(c.job);
  const input = c.job === "pathtracer" ? pathTracerInput(c.params as never) : matmulInput(c.params as never);
  const times: number[] = [];
  const hashes = new Set<string>();
  const ticks = new Set<bigint>();
  let memoryBytes = 0;
  let outputBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await runJob(program, input);
    times.push(r.durationMs);
    hashes.add(r.outputHash);
    ticks.add(r.ticks);
    memoryBytes = r.memoryBytes;
    outputBytes = r.output.length;
  }
  if (hashes.size !== 1) throw new Error(`${c.job}: ${hashes.size} different outputs over ${RUNS} runs`);
  if (ticks.size !== 1) throw new Error(`${c.job}: ${ticks.size} different tick counts over ${RUNS} runs`);
  const [metered] = [...ticks] as [bigint];
  times.sort((a, b) => a - b);
  const row = {
    job: c.job,
    params: c.params,
    runs: RUNS,
    medianMs: Math.round(times[Math.floor(RUNS / 2)]!),
    bestMs: Math.round(times[0]!),
    memoryBytes,
    outputBytes,
    outputHash: [...hashes][0],
    ticks: metered.toString(),
    units: Number(unitsOfTicks(metered)),
  };
  console.log(row);
  results.push(row);
}
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(
  outFile,
  JSON.stringify(
    {
      machine: { cores: os.availableParallelism(), node: process.version, loadAverage1mAtStart },
      results,
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
