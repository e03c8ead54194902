/**
 * hexmesh-compute: run WASI jobs locally with the runner, as a provider or a verifier would.
 *
 *   run --program FILE --input FILE [--out FILE] [limits]   run a job; print its hashes (JSON)
 *   render --out FILE [--width N --height N --samples N --seed N] [limits]
 *                                                          render a frame with the example path tracer
 *   spec --program FILE --input FILE                       print the job's spec and specHash (JSON)
 *
 *
 * The market (docs/compute.md "Provider agent" and "Client commands"):
 *   blobs serve --dir DIR [--host H --port N --max-bytes N]  a content-addressed blob server
 *   provider start --config FILE                             the provider agent, until SIGINT/SIGTERM
 *   provider accept <jobId> --config FILE                    accept an open job with a configured device
 *   provider status --config FILE                            the jobs in the agent's state (JSON)
 *   submit <program> --input FILE (--class N | --device ID) --max-units N --deadline D --blobs URL... [--tier verified]
 *   job <id>                                                 a job's status (JSON)
 *   fetch <id> --out FILE --blobs URL...                     its output, checked against the commitment
 * Chain options (submit, job, fetch): --rpc URL (HEXMESH_RPC), --compute-jobs ADDRESS
 * (HEXMESH_COMPUTE_JOBS), --key FILE (HEXMESH_KEY, submit only); --blobs also from HEXMESH_BLOBS
 * (comma-separated).
 *
 * Limits: --memory-mib N, --time-ms N, --output-bytes N (defaults: DEFAULT_LIMITS).
 * Exit codes: 0 done; 1 the job failed (its JobError code and message on stderr), or a chain,
 * blob-server or contract failure; 2 bad arguments, files or configuration.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { Command, InvalidArgumentError } from "commander";

import { jobSpecOf, toHex, unitsOfTicks } from "@hexmesh/protocol";

import { DEFAULT_BLOB_MAX_BYTES, startBlobServer } from "./blobs/server.js";
import { connectCompute, KeyFileError, readCompute } from "./chain.js";
import { fetchOutput, parseDeadline, readJob, submitJob } from "./client.js";
import { JobError } from "./errors.js";
import { exampleProgram, pathTracerInput } from "./examples.js";
import { ProviderAgent } from "./provider/agent.js";
import { loadProviderConfig, ProviderConfigError } from "./provider/config.js";
import { startProvider } from "./provider/service.js";
import { ProviderState } from "./provider/state.js";
import { DEFAULT_LIMITS, runJob, type JobLimits, type JobResult } from "./runner.js";
import { FileContentStore } from "./store.js";

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
    ticks: result.ticks.toString(),
    units: Number(unitsOfTicks(result.ticks)),
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
  addMarketCommands(p);
  return p;
}

function jobIdArg(v: string): bigint {
  if (!/^[1-9][0-9]{0,77}$/.test(v) || BigInt(v) >= 2n ** 256n)
    throw new InvalidArgumentError("must be a job id (a positive integer)");
  return BigInt(v);
}

const jsonLine = (event: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ at: new Date().toISOString(), event, ...fields }));

interface ChainOptions {
  rpc?: string;
  computeJobs?: string;
  key?: string;
  blobs?: string[];
}

function required(value: string | undefined, option: string, env: string): string {
  if (value === undefined || value === "") throw new UsageError(`${option} is required (or set ${env})`);
  return value;
}

const rpcOf = (o: ChainOptions) => required(o.rpc ?? process.env.HEXMESH_RPC, "--rpc", "HEXMESH_RPC");
function jobsOf(o: ChainOptions): string {
  const address = required(
    o.computeJobs ?? process.env.HEXMESH_COMPUTE_JOBS,
    "--compute-jobs",
    "HEXMESH_COMPUTE_JOBS",
  );
  if (!/^0x[0-9a-fA-F]{40}$/.test(address))
    throw new UsageError(`--compute-jobs is not an address: ${address}`);
  return address;
}
function blobsOf(o: ChainOptions): string[] {
  const list = o.blobs ?? (process.env.HEXMESH_BLOBS ?? "").split(",").filter((u) => u !== "");
  if (list.length === 0) throw new UsageError("--blobs is required (or set HEXMESH_BLOBS)");
  for (const u of list)
    if (!/^https?:\/\//.test(u)) throw new UsageError(`--blobs is not an http(s) URL: ${u}`);
  return list;
}

function withChain(c: Command): Command {
  return c
    .option("--rpc <url>", "JSON-RPC URL of the chain (HEXMESH_RPC)")
    .option("--compute-jobs <address>", "the ComputeJobs contract (HEXMESH_COMPUTE_JOBS)");
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

function loadConfig(file: string) {
  try {
    return loadProviderConfig(file);
  } catch (e) {
    if (e instanceof ProviderConfigError) throw new UsageError(e.message);
    throw e;
  }
}

function addMarketCommands(p: Command): void {
  const blobs = p.command("blobs").description("the content-addressed blob server (PUT/GET /v1/blobs/:hash)");
  blobs
    .command("serve")
    .description("serve blobs from a directory until SIGINT/SIGTERM")
    .requiredOption("--dir <dir>", "where blobs are kept")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", (v) => (v === "0" ? 0 : positiveInt(v)), 8790)
    .option("--max-bytes <n>", "largest blob accepted", positiveInt, DEFAULT_BLOB_MAX_BYTES)
    .action(async (o: { dir: string; host: string; port: number; maxBytes: number }) => {
      const server = await startBlobServer(o);
      jsonLine("listening", { url: server.url, dir: o.dir });
      await untilSignal();
      await server.close();
    });

  const provider = p.command("provider").description("the provider agent: run the jobs its devices accepted");
  provider
    .command("start")
    .description("run the agent (and its blob server) until SIGINT/SIGTERM")
    .requiredOption("--config <file>", "the agent's configuration (JSON)")
    .action(async (o: { config: string }) => {
      const running = await startProvider(loadConfig(o.config), jsonLine);
      await untilSignal();
      await running.stop();
      jsonLine("stopped", {});
    });
  provider
    .command("accept")
    .description("accept an open job with a configured device of its class (locks collateral)")
    .argument("<jobId>", "the job", jobIdArg)
    .requiredOption("--config <file>", "the agent's configuration (JSON)")
    .action(async (jobId: bigint, o: { config: string }) => {
      const config = loadConfig(o.config);
      const chain = await connectCompute(config.rpc, config.key, config.computeJobs);
      const state = new ProviderState(config.state);
      try {
        const agent = new ProviderAgent(config, chain, state, new FileContentStore(config.blobs.dir));
        print(jsonSafe(await agent.accept(jobId)));
      } finally {
        state.close();
        chain.close();
      }
    });
  provider
    .command("status")
    .description("the jobs the agent holds, from its state file")
    .requiredOption("--config <file>", "the agent's configuration (JSON)")
    .action((o: { config: string }) => {
      const state = new ProviderState(loadConfig(o.config).state);
      try {
        print(state.list().map(jsonSafe));
      } finally {
        state.close();
      }
    });

  withChain(
    p
      .command("submit")
      .description("upload a job's program and input, create it on ComputeJobs and lock its credits")
      .argument("<program>", "the WebAssembly (WASI) program")
      .requiredOption("--input <file>", "the input, fed on stdin")
      .option("--class <n>", "the device class (a priced compute class; required without --device)", (v) => {
        if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError("must be 0..65535");
        return Number(v);
      })
      .option("--device <id>", "direct the job to this device: only it may accept (Standard tier)", (v) => {
        if (!/^[1-9][0-9]{0,77}$/.test(v)) throw new InvalidArgumentError("must be a device id (decimal)");
        return BigInt(v);
      })
      .requiredOption(
        "--max-units <n>",
        "most units paid for (credits locked: max-units × price)",
        positiveInt,
      )
      .requiredOption("--deadline <when>", "a duration from now (90s, 30m, 2h, 3d) or an ISO 8601 time")
      .option("--blobs <url>", "blob server to upload to (repeatable; HEXMESH_BLOBS)", collect)
      .option("--tier <tier>", "standard, or verified (two providers, results compared; 2× credits)", (v) => {
        if (v !== "standard" && v !== "verified")
          throw new InvalidArgumentError("must be standard or verified");
        return v;
      })
      .option("--key <file>", "the customer's key file (HEXMESH_KEY)"),
  ).action(
    async (
      programFile: string,
      o: ChainOptions & {
        input: string;
        class?: number;
        device?: bigint;
        maxUnits: number;
        deadline: string;
        tier?: "standard" | "verified";
      },
    ) => {
      if (o.class === undefined && o.device === undefined)
        throw new UsageError("give --class, or --device for a job directed to one device");
      const program = readBytes(programFile, "program");
      const input = readBytes(o.input, "input");
      const servers = blobsOf(o);
      const key = required(o.key ?? process.env.HEXMESH_KEY, "--key", "HEXMESH_KEY");
      const chain = await connectCompute(rpcOf(o), key, jobsOf(o));
      try {
        const block = await chain.provider.getBlock("latest");
        const deadline = parseDeadline(o.deadline, block!.timestamp);
        print(
          await submitJob(chain, {
            program,
            input,
            deviceClass: o.class ?? 0,
            ...(o.device !== undefined ? { device: o.device } : {}),
            maxUnits: o.maxUnits,
            deadline,
            blobs: servers,
            ...(o.tier !== undefined ? { tier: o.tier } : {}),
          }),
        );
      } finally {
        chain.close();
      }
    },
  );

  withChain(
    p
      .command("job")
      .description("a job's status on ComputeJobs (JSON)")
      .argument("<id>", "the job", jobIdArg),
  ).action(async (id: bigint, o: ChainOptions) => {
    const chain = await readCompute(rpcOf(o), jobsOf(o));
    try {
      print(await readJob(chain.jobs, id));
    } finally {
      chain.close();
    }
  });

  withChain(
    p
      .command("fetch")
      .description("download a job's output and check it against the committed result hash")
      .argument("<id>", "the job", jobIdArg)
      .requiredOption("--out <file>", "where to write the output")
      .option(
        "--blobs <url>",
        "blob server to fetch from (repeatable, tried in order; HEXMESH_BLOBS)",
        collect,
      ),
  ).action(async (id: bigint, o: ChainOptions & { out: string }) => {
    const servers = blobsOf(o);
    const chain = await readCompute(rpcOf(o), jobsOf(o));
    try {
      print(await fetchOutput(chain.jobs, id, servers, o.out));
    } finally {
      chain.close();
    }
  });
}

const jsonSafe = (o: object) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
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
    process.exit(e instanceof UsageError || e instanceof KeyFileError ? 2 : 1);
  }
}

await main();
