/**
 * Indexes ComputeJobs' events into the compute tables: each job's creation (with its block time), its
 * direction to one device, acceptance and commit (block times: the benchmark outcomes and latencies
 * are derived from them), spot-check draw, dispute, a Verified job's comparison, verdict penalty and
 * end. Reads [cursor, head − confirmations] in chunks, applies the logs in chain order, then moves
 * the cursor (with the block time of the last block read); every write is idempotent, so a crash
 * between the two re-reads a chunk harmlessly.
 */
import type { Log, Provider } from "ethers";

import type { ComputeJobs } from "@hexmesh/contracts";

import type { IndexRun } from "../storage/indexer.js";
import type { ComputeStore } from "./store.js";

export interface ComputeIndexerOptions {
  /** Block ComputeJobs was deployed at (where a fresh index starts). */
  readonly fromBlock: number;
  /** Blocks behind the head left unread (reorg margin). Default 0. */
  readonly confirmations?: number;
  /** Most blocks per getLogs call. Default 5,000. */
  readonly chunkBlocks?: number;
}

export class ComputeIndexer {
  private readonly confirmations: number;
  private readonly chunk: number;
  private readonly times = new Map<number, number>();

  constructor(
    private readonly jobs: ComputeJobs,
    private readonly store: ComputeStore,
    private readonly opts: ComputeIndexerOptions,
  ) {
    this.confirmations = opts.confirmations ?? 0;
    this.chunk = opts.chunkBlocks ?? 5_000;
  }

  private get provider(): Provider {
    const provider = this.jobs.runner?.provider;
    if (!provider) throw new Error("ComputeJobs binding has no provider");
    return provider;
  }

  /** Reads everything up to the head (less confirmations). */
  async run(): Promise<IndexRun> {
    const head = (await this.provider.getBlockNumber()) - this.confirmations;
    const start = (await this.store.cursor())?.nextBlock ?? this.opts.fromBlock;
    let next = start;
    let count = 0;
    const address = await this.jobs.getAddress();
    while (next <= head) {
      const to = Math.min(head, next + this.chunk - 1);
      const logs = await this.provider.getLogs({ address, fromBlock: next, toBlock: to });
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      for (const log of logs) if (await this.apply(log)) count++;
      next = to + 1;
      await this.store.setCursor(next, await this.blockTime(to));
    }
    this.times.clear();
    return { fromBlock: start, nextBlock: next, logs: count };
  }

  private async blockTime(n: number): Promise<number> {
    let t = this.times.get(n);
    if (t === undefined) {
      const block = await this.provider.getBlock(n);
      if (!block) throw new Error(`block ${n} not found`);
      t = block.timestamp;
      this.times.set(n, t);
    }
    return t;
  }

  private async apply(log: Log): Promise<boolean> {
    const parsed = this.jobs.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed) return false;
    const a = parsed.args;
    const s = this.store;
    const id = a.jobId as bigint;
    switch (parsed.name) {
      case "JobCreated":
        await s.jobCreated({
          id,
          customer: a.customer as string,
          specHash: a.specHash as string,
          deviceClass: Number(a.deviceClass as bigint),
          maxUnits: a.maxUnits as bigint,
          pricePerUnit: a.pricePerUnit as bigint,
          deadline: Number(a.deadline as bigint),
          tier: Number(a.tier as bigint),
          createdAt: await this.blockTime(log.blockNumber),
        });
        return true;
      case "JobDirected":
        await s.jobDirected(id, a.deviceId as bigint);
        return true;
      case "JobAccepted":
        await s.jobAccepted(
          id,
          a.provider as string,
          a.deviceId as bigint,
          await this.blockTime(log.blockNumber),
        );
        return true;
      case "ResultCommitted":
        await s.resultCommitted(id, a.resultHash as string, await this.blockTime(log.blockNumber));
        return true;
      case "VerifiedResultsCompared":
        await s.verifiedCompared(id, a.matched as boolean, await this.blockTime(log.blockNumber));
        return true;
      case "SpotCheckRecorded":
        await s.spotCheckRecorded(id, a.selected as boolean);
        return true;
      case "JobDisputed":
        await s.jobDisputed(id);
        return true;
      case "PenaltyScheduled":
        await s.penaltyScheduled(id, Number(a.executableAt as bigint));
        return true;
      case "PenaltyExecuted":
        await s.penaltyEnded(id, "executed");
        return true;
      case "PenaltyVetoed":
        await s.penaltyEnded(id, "vetoed");
        return true;
      case "JobFinalized":
        await s.jobEnded(id, "finalized");
        return true;
      case "JobRefunded":
        await s.jobEnded(id, "refunded");
        return true;
      default:
        return false;
    }
  }
}
