/**
 * The daily availability benchmark: one pinned job (the numeric kernel example, `matmul`, with a fixed
 * input) sent once per UTC day to each active compute device as a directed job
 * (`ComputeJobs.createDirectedJob`). A device passes when its provider accepts it and commits the
 * pinned output's hash before the deadline. The expected output is pinned here (tested against the
 * runner), so no oracle has to run it to judge: every oracle derives the outcome from chain events.
 */
import { exampleProgram, matmulInput, putBlob } from "@hexmesh/compute";
import { describeContractError, type ComputeJobs, type DeviceRegistry } from "@hexmesh/contracts";
import { jobSpecOf, type Hex } from "@hexmesh/protocol";

import { queryChunked } from "../chain/indexer.js";
import type { ComputeStore } from "./store.js";

/** The benchmark's input: a 64 x 64 matrix product from a fixed seed. */
export const BENCHMARK_INPUT = { n: 64, seed: 20_261_205 } as const;
/** keccak256 of the benchmark's output (the product of BENCHMARK_INPUT's matrices, mod 2^32). */
export const BENCHMARK_OUTPUT_HASH: Hex =
  "0x602122e6b0afcada83355e0b6c2117920be67a108a39bb7d800136dc126f4a77";
/** Units a benchmark job may use (it runs in well under one unit on any compute class). */
export const BENCHMARK_MAX_UNITS = 1;

export interface BenchmarkJob {
  readonly program: Uint8Array;
  readonly input: Uint8Array;
  readonly specBytes: Uint8Array;
  readonly specHash: Hex;
}

let cached: Promise<BenchmarkJob> | undefined;

/** The benchmark's program, input, spec and spec hash (the compiled `matmul` example). */
export function benchmarkJob(): Promise<BenchmarkJob> {
  cached ??= (async () => {
    const program = await exampleProgram("matmul");
    const input = matmulInput(BENCHMARK_INPUT);
    const { specBytes, specHash } = jobSpecOf(program, input);
    return { program, input, specBytes, specHash };
  })();
  return cached;
}

export interface BenchmarkSend {
  readonly deviceId: bigint;
  readonly outcome: "sent" | "failed";
  /** The job id (sent) or the error (failed). */
  readonly detail: string;
}

export interface BenchmarkSenderOptions {
  /** Block the registry was deployed at (devices are found from DeviceOnboarded from there). */
  readonly registryFromBlock: number;
  /** Registry device classes benchmarked (the compute classes: 4, 5, 6). */
  readonly classes: readonly number[];
  /** Seconds from sending to the benchmark's deadline. */
  readonly deadlineSeconds: number;
  /** Blob servers the benchmark's spec, program and input are uploaded to (the providers' sources). */
  readonly publish: readonly string[];
}

const DAY_SECONDS = 86_400;
const ACTIVE = 1n;

/**
 * The designated sender's daily round: for each active device of a benchmarked class that has no
 * benchmark from this sender yet on the current UTC day (chain time; from the index, so the store
 * must be indexed first), `createDirectedJob(benchmark spec, device, BENCHMARK_MAX_UNITS, now +
 * deadlineSeconds)`. The sender pays the benchmarks' credits (it holds credits and has approved
 * ComputeJobs as a spender in UsageCredits).
 */
export class BenchmarkSender {
  private published = false;

  /** `jobs` connected to the sender's account. */
  constructor(
    private readonly jobs: ComputeJobs,
    private readonly registry: DeviceRegistry,
    private readonly store: ComputeStore,
    private readonly opts: BenchmarkSenderOptions,
  ) {}

  /** Devices of the benchmarked classes onboarded so far, and the first block not scanned yet. */
  private readonly onboarded = new Set<bigint>();
  private scannedTo: number | undefined;

  /** Active devices of the benchmarked classes, by id (new DeviceOnboarded logs read in chunks each call). */
  async devices(): Promise<bigint[]> {
    const head = await this.registry.runner!.provider!.getBlockNumber();
    const from = this.scannedTo ?? this.opts.registryFromBlock;
    const logs = await queryChunked(
      (a, b) => this.registry.queryFilter(this.registry.filters.DeviceOnboarded(), a, b),
      from,
      head,
      10_000,
      undefined,
    );
    for (const log of logs)
      if (this.opts.classes.includes(Number(log.args.deviceClass))) this.onboarded.add(log.args.deviceId);
    this.scannedTo = head + 1;
    const active: bigint[] = [];
    for (const id of [...this.onboarded].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
      if ((await this.registry.statusOf(id)) === ACTIVE) active.push(id);
    return active;
  }

  /**
   * Pays the benchmarks that passed (committed the pinned output) at once, as their customer
   * (`acceptResult`), so the providers' collateral does not wait out the acceptance window; the ids
   * paid. Benchmarks of the last two UTC days in the index; a wrong output is left to the spot check.
   */
  async payPassed(): Promise<bigint[]> {
    const sender = this.store.benchmarkSender;
    if (sender === undefined) throw new Error("the benchmark sender is not configured");
    const latest = await this.jobs.runner!.provider!.getBlock("latest");
    if (!latest) throw new Error("no latest block");
    const dayStart = Math.floor(latest.timestamp / DAY_SECONDS) * DAY_SECONDS;
    const { specHash } = await benchmarkJob();
    const paid: bigint[] = [];
    for (const j of await this.store.directedJobs(
      sender,
      specHash,
      dayStart - DAY_SECONDS,
      dayStart + DAY_SECONDS,
    )) {
      if (j.status !== "committed" || j.resultHash !== BENCHMARK_OUTPUT_HASH) continue;
      try {
        await (await this.jobs.acceptResult(j.id)).wait();
        paid.push(j.id);
      } catch {
        // Paid or finalized by someone else meanwhile: the index says so next round.
      }
    }
    return paid;
  }

  async tick(): Promise<BenchmarkSend[]> {
    const sender = this.store.benchmarkSender;
    if (sender === undefined) throw new Error("the benchmark sender is not configured");
    const latest = await this.jobs.runner!.provider!.getBlock("latest");
    if (!latest) throw new Error("no latest block");
    const dayStart = Math.floor(latest.timestamp / DAY_SECONDS) * DAY_SECONDS;
    const job = await benchmarkJob();
    const sentToday = new Set(
      (await this.store.directedJobs(sender, job.specHash, dayStart, dayStart + DAY_SECONDS)).map((j) =>
        j.directedTo!.toString(),
      ),
    );
    const due = (await this.devices()).filter((id) => !sentToday.has(id.toString()));
    if (due.length === 0) return [];
    if (!this.published) {
      for (const base of this.opts.publish)
        for (const bytes of [job.specBytes, job.program, job.input]) await putBlob(base, bytes);
      this.published = true;
    }
    const out: BenchmarkSend[] = [];
    for (const deviceId of due) {
      try {
        const tx = await this.jobs.createDirectedJob(
          job.specHash,
          deviceId,
          BENCHMARK_MAX_UNITS,
          latest.timestamp + this.opts.deadlineSeconds,
        );
        const receipt = await tx.wait();
        const created = receipt?.logs
          .map((l) => this.jobs.interface.parseLog({ topics: [...l.topics], data: l.data }))
          .find((p) => p?.name === "JobDirected");
        out.push({ deviceId, outcome: "sent", detail: String(created?.args.jobId ?? "") });
      } catch (err) {
        out.push({ deviceId, outcome: "failed", detail: describeContractError(err) });
      }
    }
    return out;
  }
}
