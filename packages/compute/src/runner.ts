/**
 * The job runner: runs a WASI program on an input in a worker thread, with a memory limit (the
 * program's memory is created by the runner with that maximum; the worker's JavaScript heap is
 * bounded by resourceLimits) and a time limit (the worker is terminated when it is reached), and
 * returns the output and its hash. The same program and input give the same output, byte for byte:
 * the job sees no clock, no randomness, no arguments, no environment and no files beyond stdin. The
 * program runs metered (meter.ts): the result carries its tick count, the same on every machine.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";

import { contentHash, decodeJobSpec, jobSpecOf, type Hex } from "@hexmesh/protocol";

import { JobError } from "./errors.js";
import { checkProgram } from "./program.js";
import type { ContentStore } from "./store.js";
import { wasm } from "./wasm.js";
import type { WorkerInput, WorkerOutcome } from "./worker.js";

const PAGE = 65_536;
const STDERR_SHOWN = 2_048;

export interface JobLimits {
  /** Largest memory the program may grow to, bytes (rounded down to 64 KiB pages). */
  memoryBytes: number;
  /** Wall-clock time before the job is stopped, milliseconds. */
  timeMs: number;
  /** Largest output accepted, bytes. */
  outputBytes: number;
}

export const DEFAULT_LIMITS: JobLimits = {
  memoryBytes: 256 * 1024 * 1024,
  timeMs: 60_000,
  outputBytes: 64 * 1024 * 1024,
};

/** The worker's own JavaScript heap (the job's memory is not in it), MiB. */
const WORKER_HEAP_MB = 64;

export interface JobResult {
  specHash: Hex;
  programHash: Hex;
  inputHash: Hex;
  output: Uint8Array;
  outputHash: Hex;
  /** Memory the job ended with, bytes. */
  memoryBytes: number;
  durationMs: number;
  /**
   * Function entries and loop iterations executed (meter.ts): deterministic, the basis of the job's
   * units (@hexmesh/protocol `unitsOfTicks`).
   */
  ticks: bigint;
}

/** Runs `program` on `input` under `limits` (each defaulting to DEFAULT_LIMITS). */
export async function runJob(
  program: Uint8Array,
  input: Uint8Array,
  limits: Partial<JobLimits> = {},
): Promise<JobResult> {
  const bounds = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(bounds))
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new RangeError(`limit ${name} must be a positive integer`);
  const maximumPages = Math.floor(bounds.memoryBytes / PAGE);
  const { minimumPages } = checkProgram(program, maximumPages * PAGE);
  // Loaded on first use: binaryen is large, and most importers of this package never run a job.
  const { meterProgram } = await import("./meter.js");
  const module = new wasm.Module(meterProgram(program));
  const { spec, specHash } = jobSpecOf(program, input);

  const dir = await mkdtemp(path.join(tmpdir(), "hexmesh-job-"));
  try {
    const job: WorkerInput = {
      module,
      minimumPages,
      maximumPages,
      inputPath: path.join(dir, "input"),
      outputPath: path.join(dir, "output"),
      stderrPath: path.join(dir, "stderr"),
    };
    await writeFile(job.inputPath, input);
    const started = performance.now();
    const outcome = await runWorker(job, bounds.timeMs);
    const durationMs = performance.now() - started;
    const stderr = async () => {
      const text = (await readFile(job.stderrPath, "utf8")).trim();
      return text.length > STDERR_SHOWN ? text.slice(0, STDERR_SHOWN) + "…" : text;
    };
    if (outcome.kind === "trapped") {
      if (outcome.atMemoryLimit)
        throw new JobError(
          "memory-limit",
          `the job trapped (${outcome.message}) using ${outcome.memoryPages * PAGE} bytes of memory, which cannot double within its limit of ${maximumPages * PAGE} bytes`,
        );
      // Named with its memory: a single allocation larger than the room left under the limit also
      // ends in a trap, and the figures let the caller see it.
      throw new JobError(
        "trap",
        `the job trapped: ${outcome.message} (memory in use ${outcome.memoryPages * PAGE} of a ${maximumPages * PAGE}-byte limit)`,
      );
    }
    if (outcome.exitCode !== 0)
      throw new JobError("exit", `the job exited with code ${outcome.exitCode}: ${await stderr()}`);
    const size = (await stat(job.outputPath)).size;
    if (size > bounds.outputBytes)
      throw new JobError(
        "output-limit",
        `the job wrote ${size} bytes, over the limit of ${bounds.outputBytes}`,
      );
    const output = new Uint8Array(await readFile(job.outputPath));
    return {
      specHash,
      ...spec,
      output,
      outputHash: contentHash(output),
      memoryBytes: outcome.memoryPages * PAGE,
      durationMs,
      ticks: outcome.ticks,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runWorker(job: WorkerInput, timeMs: number): Promise<WorkerOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.js", import.meta.url), {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
      // node:wasi prints an ExperimentalWarning in every worker that loads it; the job's own stderr is a file.
      execArgv: ["--no-warnings=ExperimentalWarning"],
    });
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const timer = setTimeout(() => {
      finish(() => reject(new JobError("time-limit", `the job ran past its time limit of ${timeMs} ms`)));
      void worker.terminate();
    }, timeMs);
    worker.once("message", (outcome: WorkerOutcome) => finish(() => resolve(outcome)));
    worker.once("error", (error) =>
      finish(() => reject(new JobError("worker-crashed", `the job's worker failed: ${error.message}`))),
    );
    worker.once("exit", (code) =>
      finish(() => reject(new JobError("worker-crashed", `the job's worker exited with code ${code}`))),
    );
  });
}

/**
 * Runs the job named by `specHash`: fetches the 64-byte spec, then the program and the input, from
 * `store` (each checked against its hash), and runs it.
 */
export async function runJobBySpec(
  specHash: Hex,
  store: ContentStore,
  limits: Partial<JobLimits> = {},
): Promise<JobResult> {
  const { program, input } = await fetchJobBySpec(specHash, store);
  return runJob(program, input, limits);
}

/** A job's program and input from a content store, by its spec hash (each checked by the store). */
export async function fetchJobBySpec(
  specHash: Hex,
  store: ContentStore,
): Promise<{ program: Uint8Array; input: Uint8Array }> {
  const specBytes = await store.get(specHash);
  let spec;
  try {
    spec = decodeJobSpec(specBytes);
  } catch (e) {
    throw new JobError("malformed-spec", (e as Error).message);
  }
  const [program, input] = await Promise.all([store.get(spec.programHash), store.get(spec.inputHash)]);
  return { program, input };
}
