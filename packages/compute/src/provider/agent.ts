/**
 * The provider agent: for the devices it operates, finds the jobs its operator accepted on
 * ComputeJobs (and accepts the jobs its auto-accept rules allow), fetches each job's spec, program
 * and input by hash from blob servers, runs it with the runner under the configured limits, keeps the
 * output in its own blob server (served by hash) and commits `commitResult(jobId, resultHash,
 * usedUnits)` before the deadline.
 *
 * Restart safety (provider/state.ts): a job found `running` at start was cut short by a crash; it is
 * run again from the start (jobs are deterministic, so the output is the same) unless `maxAttempts`
 * runs were already cut short, in which case it is given up (`crashed-repeatedly`). A job found
 * `done` is committed (or recognised as committed if the chain already holds its result). A job whose
 * deadline is too near to run and commit is given up (`deadline-too-close`); a given-up job is left to
 * expire on chain (the customer is refunded; the provider takes a strike, never a slash).
 */
import { describeContractError } from "@hexmesh/contracts";
import { usedUnitsOf, type Hex } from "@hexmesh/protocol";

import { HttpContentStore, putBlob } from "../blobs/client.js";
import type { ComputeChain } from "../chain.js";
import { JobError } from "../errors.js";
import { fetchJobBySpec, runJob } from "../runner.js";
import type { FileContentStore } from "../store.js";
import type { ProviderConfig, ProviderDevice } from "./config.js";
import type { ProviderJob, ProviderState } from "./state.js";

const STATUS_OPEN = 1n;
const STATUS_ACCEPTED = 2n;
/** Blocks read per log query. */
const LOG_RANGE = 2_000;

export type AgentLog = (event: string, fields: Record<string, unknown>) => void;

/** What the agent reads of a job on chain. */
interface ChainJob {
  status: bigint;
  deviceClass: bigint;
  specHash: string;
  maxUnits: bigint;
  pricePerUnit: bigint;
  deadline: bigint;
  tier: bigint;
  provider: string;
  resultHash: string;
  /** Before acceptance: the device a directed job is for (0: any device of its class). */
  deviceId: bigint;
}

const ZERO_HASH = `0x${"0".repeat(64)}`;
const TIER_VERIFIED = 1n;

export class ProviderAgent {
  private readonly devices: ReadonlyMap<string, ProviderDevice>;
  private readonly fetcher: HttpContentStore;

  constructor(
    readonly config: ProviderConfig,
    readonly chain: ComputeChain,
    readonly state: ProviderState,
    readonly outputs: FileContentStore,
    private readonly log: AgentLog = () => {},
  ) {
    this.devices = new Map(config.devices.map((d) => [d.id, d]));
    this.fetcher = new HttpContentStore(
      config.sources,
      outputs,
      config.limits.outputBytes + 64 * 1024 * 1024,
    );
  }

  /** One round: new jobs from the chain, then every held job moved on as far as it goes. */
  async tick(): Promise<void> {
    await this.scan();
    for (const job of this.state.list(["accepted", "running", "done"])) await this.advance(job);
  }

  /** Accepts job `jobId` with a device of its class (the operator's decision); records it. */
  async accept(jobId: bigint): Promise<ProviderJob> {
    const job = await this.readJob(jobId);
    if (job.status !== STATUS_OPEN) throw new Error(`job ${jobId} is not open (status ${job.status})`);
    // A directed job (deviceId set while Open, Standard) takes only its device.
    const directed = job.tier !== TIER_VERIFIED && job.deviceId !== 0n;
    const device = directed
      ? this.devices.get(job.deviceId.toString())
      : this.config.devices.find((d) => BigInt(d.class) === job.deviceClass);
    if (device === undefined)
      throw new Error(
        directed
          ? `job ${jobId} is directed to device ${job.deviceId}, which is not one of the configured devices`
          : `job ${jobId} is for device class ${job.deviceClass}; no configured device is of that class`,
      );
    try {
      await (await this.chain.jobs.acceptJob(jobId, BigInt(device.id))).wait();
    } catch (e) {
      throw new Error(`acceptJob(${jobId}) failed: ${describeContractError(e)}`);
    }
    this.hold(jobId, BigInt(device.id), job);
    this.log("accepted", { jobId: jobId.toString(), deviceId: device.id });
    return this.state.get(jobId)!;
  }

  private hold(jobId: bigint, deviceId: bigint, job: ChainJob): void {
    this.state.add({
      jobId,
      deviceId,
      specHash: job.specHash as Hex,
      maxUnits: Number(job.maxUnits),
      deadline: Number(job.deadline),
    });
  }

  private async readJob(jobId: bigint): Promise<ChainJob> {
    return (await this.chain.jobs.job(jobId)) as unknown as ChainJob;
  }

  private async now(): Promise<number> {
    const block = await this.chain.provider.getBlock("latest");
    if (block === null) throw new Error("the node returned no latest block");
    return block.timestamp;
  }

  /** Reads JobAccepted (ours) and JobCreated (auto-accept) logs since the last scanned block. */
  private async scan(): Promise<void> {
    const latest = await this.chain.provider.getBlockNumber();
    let from = Number(this.state.getValue("scannedBlock") ?? this.config.fromBlock - 1) + 1;
    const jobs = this.chain.jobs;
    while (from <= latest) {
      const to = Math.min(latest, from + LOG_RANGE - 1);
      const accepted = await jobs.queryFilter(
        jobs.filters.JobAccepted(undefined, this.chain.address),
        from,
        to,
      );
      for (const ev of accepted) {
        const { jobId, deviceId } = ev.args;
        if (!this.devices.has(deviceId.toString()) || this.state.get(jobId) !== undefined) continue;
        this.hold(jobId, deviceId, await this.readJob(jobId));
        this.log("holding", { jobId: jobId.toString(), deviceId: deviceId.toString() });
      }
      if (this.config.acceptDirected)
        for (const ev of await jobs.queryFilter(jobs.filters.JobDirected(), from, to))
          if (this.devices.has(ev.args.deviceId.toString())) await this.acceptDirected(ev.args.jobId);
      if (this.config.autoAccept.length > 0)
        for (const ev of await jobs.queryFilter(jobs.filters.JobCreated(), from, to))
          await this.maybeAutoAccept(ev.args.jobId);
      this.state.setValue("scannedBlock", String(to));
      from = to + 1;
    }
  }

  /** Accepts a job directed to one of our devices (still open, with time left to run and commit). */
  private async acceptDirected(jobId: bigint): Promise<void> {
    if (this.state.get(jobId) !== undefined) return;
    const job = await this.readJob(jobId);
    if (job.status !== STATUS_OPEN) return;
    if (Number(job.deadline) - (await this.now()) <= this.config.commitMarginSec) return;
    try {
      await this.accept(jobId);
    } catch (e) {
      // Collateral short, or the device suspended: logged, never fatal (the job expires unaccepted).
      this.log("directed-accept-failed", { jobId: jobId.toString(), error: (e as Error).message });
    }
  }

  private async maybeAutoAccept(jobId: bigint): Promise<void> {
    if (this.state.get(jobId) !== undefined) return;
    const job = await this.readJob(jobId);
    if (job.status !== STATUS_OPEN) return;
    // Directed jobs are the directed path's (acceptDirected), whatever the auto-accept rules say.
    if (job.tier !== TIER_VERIFIED && job.deviceId !== 0n) return;
    const rule = this.config.autoAccept.find(
      (r) =>
        BigInt(r.class) === job.deviceClass &&
        job.pricePerUnit >= BigInt(r.minPricePerUnit) &&
        job.maxUnits <= BigInt(r.maxUnits),
    );
    if (rule === undefined) return;
    if (Number(job.deadline) - (await this.now()) <= this.config.commitMarginSec) return;
    try {
      await this.accept(jobId);
    } catch (e) {
      // Another provider may have taken it first, or collateral is short: logged, never fatal.
      this.log("auto-accept-failed", { jobId: jobId.toString(), error: (e as Error).message });
    }
  }

  private async advance(held: ProviderJob): Promise<void> {
    const id = held.jobId;
    const onChain = await this.readJob(id);
    const part = await this.ourPart(id, onChain);
    if (part.committedHash !== null) {
      if (part.committedHash === held.resultHash) this.state.committed(id, held.commitTx ?? "found on chain");
      else this.state.closed(id, `the chain holds ${part.committedHash} for our part, not a result of ours`);
      return;
    }
    // Ours to run: a Standard job we accepted, or our half of a Verified one (Open until both accepted).
    const runnable = onChain.status === STATUS_ACCEPTED || (onChain.status === STATUS_OPEN && part.ours);
    if (!runnable || !part.ours) {
      this.state.closed(
        id,
        part.ours
          ? `the job left Accepted on chain (status ${onChain.status}) without our commit`
          : `the job's provider is ${onChain.provider}`,
      );
      this.log("closed", { jobId: id.toString(), status: onChain.status.toString() });
      return;
    }
    if (held.status === "done") return this.commit(held);
    if (held.status === "running" && held.attempts >= this.config.maxAttempts) {
      this.state.giveUp(id, "crashed-repeatedly", `${held.attempts} runs were cut short`);
      this.log("given-up", { jobId: id.toString(), reason: "crashed-repeatedly" });
      return;
    }
    const left = held.deadline - (await this.now()) - this.config.commitMarginSec;
    if (left <= 0) {
      this.state.giveUp(
        id,
        "deadline-too-close",
        `deadline ${held.deadline}, margin ${this.config.commitMarginSec} s`,
      );
      this.log("given-up", { jobId: id.toString(), reason: "deadline-too-close" });
      return;
    }
    if (held.status === "running") this.log("resuming", { jobId: id.toString(), attempts: held.attempts });
    let content: { program: Uint8Array; input: Uint8Array };
    try {
      content = await fetchJobBySpec(held.specHash, this.fetcher);
    } catch (e) {
      if (e instanceof JobError && e.code === "malformed-spec") {
        this.state.giveUp(id, "job-failed", e.message);
        return;
      }
      // Not there yet (or a source is down): tried again next round, until the deadline is too close.
      this.state.note(id, `fetch: ${(e as Error).message}`);
      this.log("fetch-failed", { jobId: id.toString(), error: (e as Error).message });
      return;
    }
    this.state.startRun(id);
    this.log("running", { jobId: id.toString() });
    let result;
    try {
      result = await runJob(content.program, content.input, {
        ...this.config.limits,
        timeMs: Math.min(this.config.limits.timeMs, left * 1000),
      });
    } catch (e) {
      if (!(e instanceof JobError)) throw e;
      this.state.giveUp(id, "job-failed", e.message);
      this.log("given-up", { jobId: id.toString(), reason: "job-failed", error: e.message });
      return;
    }
    await this.outputs.put(result.output);
    for (const base of this.config.publish) {
      try {
        await putBlob(base, result.output);
      } catch (e) {
        this.log("publish-failed", { jobId: id.toString(), server: base, error: (e as Error).message });
      }
    }
    // Metered from the program (ticks), so a re-executing oracle measures the same units.
    const usedUnits = usedUnitsOf(result.ticks, held.maxUnits);
    this.state.runDone(id, {
      resultHash: result.outputHash,
      usedUnits,
      outputBytes: result.output.length,
      durationMs: result.durationMs,
    });
    this.log("ran", {
      jobId: id.toString(),
      resultHash: result.outputHash,
      usedUnits,
      ticks: result.ticks.toString(),
      durationMs: Math.round(result.durationMs),
    });
    await this.commit(this.state.get(id)!);
  }

  /**
   * Whether we are the job's provider (a Verified job's first or second), and the result the chain
   * holds for our part (null before our commit).
   */
  private async ourPart(
    jobId: bigint,
    job: ChainJob,
  ): Promise<{ ours: boolean; committedHash: string | null }> {
    const me = this.chain.address.toLowerCase();
    if (job.provider.toLowerCase() === me)
      return { ours: true, committedHash: job.resultHash === ZERO_HASH ? null : job.resultHash };
    if (job.tier === TIER_VERIFIED) {
      const second = await this.chain.jobs.secondProvider(jobId);
      if (second.provider.toLowerCase() === me)
        return { ours: true, committedHash: second.committed ? second.resultHash : null };
    }
    return { ours: false, committedHash: null };
  }

  private async commit(held: ProviderJob): Promise<void> {
    try {
      const tx = await this.chain.jobs.commitResult(held.jobId, held.resultHash!, held.usedUnits!);
      await tx.wait();
      this.state.committed(held.jobId, tx.hash);
      this.log("committed", { jobId: held.jobId.toString(), resultHash: held.resultHash, tx: tx.hash });
    } catch (e) {
      // Left `done`: the next round reads the chain again and commits or closes it.
      const error = describeContractError(e);
      this.state.note(held.jobId, `commit: ${error}`);
      this.log("commit-failed", { jobId: held.jobId.toString(), error });
    }
  }
}
