/**
 * Runs one job in a worker thread (started by runner.ts): WASI preview1 with the input file as stdin,
 * the output file as stdout, a file for stderr, no arguments, no environment, no preopened
 * directories, and the memory the runner bounds. Posts how the job ended; the runner enforces time.
 */
import { closeSync, openSync } from "node:fs";
import { WASI } from "node:wasi";
import { parentPort, workerData } from "node:worker_threads";

import { TICKS_EXPORT, wasm, type WasmModule } from "./wasm.js";

export interface WorkerInput {
  module: WasmModule;
  minimumPages: number;
  maximumPages: number;
  inputPath: string;
  outputPath: string;
  stderrPath: string;
}

export type WorkerOutcome =
  | { kind: "exited"; exitCode: number; memoryPages: number; ticks: bigint }
  | { kind: "trapped"; message: string; memoryPages: number; atMemoryLimit: boolean };

const job = workerData as WorkerInput;
const stdin = openSync(job.inputPath, "r");
const stdout = openSync(job.outputPath, "w");
const stderr = openSync(job.stderrPath, "w");
const memory = new wasm.Memory({ initial: job.minimumPages, maximum: job.maximumPages });
const wasi = new WASI({
  version: "preview1",
  args: ["job"],
  env: {},
  stdin,
  stdout,
  stderr,
  returnOnExit: true,
});
let outcome: WorkerOutcome;
try {
  const instance = new wasm.Instance(job.module, {
    ...wasi.getImportObject(),
    env: { memory },
  });
  const exitCode = wasi.start(instance);
  const counter = instance.exports[TICKS_EXPORT] as { value: bigint } | undefined;
  outcome = {
    kind: "exited",
    exitCode,
    memoryPages: memory.buffer.byteLength / 65_536,
    ticks: counter?.value ?? 0n,
  };
} catch (error) {
  const pages = memory.buffer.byteLength / 65_536;
  // A trap when the memory can no longer double is reported as the memory limit: allocators
  // (AssemblyScript's, and most WASI toolchains' mallocs) grow memory by doubling, then by what the
  // allocation needs, and trap when both fail. A trap with room to double is some other fault.
  const atMemoryLimit = pages * 2 > job.maximumPages;
  outcome = { kind: "trapped", message: (error as Error).message, memoryPages: pages, atMemoryLimit };
}
closeSync(stdin);
closeSync(stdout);
closeSync(stderr);
parentPort!.postMessage(outcome);
