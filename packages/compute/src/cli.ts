/**
 * hexmesh-compute: run WASI jobs locally with the runner, as a provider or a verifier would.
 *
 *   run --program FILE --input FILE [--out FILE] [limits]   run a job; print its hashes (JSON)
 *   render --out FILE [--width N --height N --samples N --seed N] [limits]
 *                                                          render a frame with the example path tracer
 *   spec --program FILE --input FILE                       print the job's spec and specHash (JSON)
 *
 * Limits: --memory-mib N, --time-ms N, --output-bytes N (defaults: DEFAULT_LIMITS).
 * Exit codes: 0 done; 1 the job failed (its JobError code and message on stderr); 2 bad arguments or files.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { Command, InvalidArgumentError } from "commander";

import { jobSpecOf, toHex } from "@hexmesh/protocol";

import { JobError } from "./errors.js";
import { exampleProgram, pathTracerInput } from "./examples.js";
import { DEFAULT_LIMITS, runJob, type JobLimits, type JobResult } from "./runner.js";

class UsageError extends Error {}

const print = (o: unknown) => console.log(JSON.stringify(o, null, 2));

function positiveInt(v: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new InvalidArgumentError("must be a positive integer");
  return Number(v);
}

function readBytes(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

interface LimitOptions {
  memoryMib?: number;
  timeMs?: number;
  outputBytes?: number;
}

function limitsOf(o: LimitOptions): Partial<JobLimits> {
  return {
    ...(o.memoryMib !== undefined ? { memoryBytes: o.memoryMib * 1024 * 1024 } : {}),
    ...(o.timeMs !== undefined ? { timeMs: o.timeMs } : {}),
    ...(o.outputBytes !== undefined ? { outputBytes: o.outputBytes } : {}),
  };
}

function withLimits(c: Command): Command {
  return c
    .option(
      "--memory-mib <n>",
      `memory limit, MiB (default ${DEFAULT_LIMITS.memoryBytes / 1024 / 1024})`,
      positiveInt,
    )
    .option("--time-ms <n>", `time limit, ms (default ${DEFAULT_LIMITS.timeMs})`, positiveInt)
    .option("--output-bytes <n>", `output limit, bytes (default ${DEFAULT_LIMITS.outputBytes})`, positiveInt);
}

function report(result: JobResult, out: string | undefined) {
  if (out !== undefined) writeFileSync(out, result.output);
  print({
    specHash: result.specHash,
    programHash: result.programHash,
    inputHash: result.inputHash,
    outputHash: result.outputHash,
    outputBytes: result.output.length,
    memoryBytes: result.memoryBytes,
    durationMs: Math.round(result.durationMs),
    ...(out !== undefined ? { out } : {}),
  });
}

export function program(): Command {
  // Set before the subcommands are added: they copy it (commander exits 1 on bad arguments otherwise).
  const p = new Command("hexmesh-compute")
    .description("Hexmesh compute: run WASI jobs with the job runner")
    .configureOutput({ outputError: () => {} }) // main() prints the error once
    .exitOverride((e) => {
      throw e.exitCode === 0 ? e : new UsageError(e.message);
    });

  withLimits(
    p
      .command("run")
      .description("run a job (program on input); write its output to --out; print its hashes")
      .requiredOption("--program <file>", "the WebAssembly (WASI) program")
      .requiredOption("--input <file>", "the input, fed on stdin")
      .option("--out <file>", "where to write the output"),
  ).action(async (o: LimitOptions & { program: string; input: string; out?: string }) => {
    const result = await runJob(readBytes(o.program, "program"), readBytes(o.input, "input"), limitsOf(o));
    report(result, o.out);
  });

  withLimits(
    p
      .command("render")
      .description("render a frame to PNG with the example path tracer")
      .requiredOption("--out <file>", "where to write the PNG")
      .option("--width <n>", "frame width, 1..1024", positiveInt, 320)
      .option("--height <n>", "frame height, 1..1024", positiveInt, 240)
      .option("--samples <n>", "samples per pixel, 1..1024", positiveInt, 16)
      .option("--seed <n>", "the seed", positiveInt, 1),
  ).action(
    async (
      o: LimitOptions & { out: string; width: number; height: number; samples: number; seed: number },
    ) => {
      const result = await runJob(await exampleProgram("pathtracer"), pathTracerInput(o), limitsOf(o));
      report(result, o.out);
    },
  );

  p.command("spec")
    .description("print a job's spec (programHash, inputHash), its 64-byte encoding and its specHash")
    .requiredOption("--program <file>", "the WebAssembly (WASI) program")
    .requiredOption("--input <file>", "the input")
    .action((o: { program: string; input: string }) => {
      const { spec, specBytes, specHash } = jobSpecOf(
        readBytes(o.program, "program"),
        readBytes(o.input, "input"),
      );
      print({ ...spec, spec: toHex(specBytes), specHash });
    });
  return p;
}

/** Runs the CLI: a failed job exits 1 with its code; bad arguments or files exit 2. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode === 0) return; // --help, --version
    if (e instanceof JobError) {
      process.stderr.write(`hexmesh-compute: job failed: ${e.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`hexmesh-compute: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}

await main();
