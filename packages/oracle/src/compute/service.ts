/**
 * The compute oracle's round, run every `compute.intervalMs` by `serve` when `compute` is configured:
 * index ComputeJobs; (with a sending account) record the spot-check draws; re-execute the jobs due a
 * check and sign verdicts on fraud; probe committed outputs and sign verdicts on withheld ones; (with a sending account) submit the verdicts that gather the
 * threshold from the peers and execute the penalties past their veto window; and, on the designated
 * benchmark sender, pay the benchmarks that passed and send the day's availability benchmarks. Each step is idempotent; a failing round
 * is logged and the next one tries again.
 */
import type { IndexRun } from "../storage/indexer.js";
import { RoundTimer } from "../util/rounds.js";
import type { BenchmarkSend, BenchmarkSender } from "./benchmark.js";
import type { CheckResult } from "./check.js";
import type { ComputeIndexer } from "./indexer.js";
import type { ComputeStep, VerdictDesk } from "./verdicts.js";
import type { ProbeResult } from "./withheld.js";

export interface ComputeRound {
  readonly indexed: IndexRun;
  readonly spotChecks: readonly ComputeStep[];
  readonly checks: readonly CheckResult[];
  /** Output probes (withheld outputs), when `compute.withheld` is configured. */
  readonly probes: readonly ProbeResult[];
  readonly submits: readonly ComputeStep[];
  readonly penalties: readonly ComputeStep[];
  readonly benchmarks: readonly BenchmarkSend[];
  /** Benchmark jobs that passed, paid at once by the sender (acceptResult). */
  readonly benchmarksPaid: readonly bigint[];
}

export class ComputeOracle {
  private readonly rounds = new RoundTimer(() => this.round());

  constructor(
    readonly indexer: ComputeIndexer,
    readonly desk: VerdictDesk,
    /** Present on the designated benchmark sender only. */
    readonly benchmarks: BenchmarkSender | undefined,
  ) {}

  async round(): Promise<ComputeRound> {
    const indexed = await this.indexer.run();
    const spotChecks = await this.desk.recordSpotChecks();
    if (spotChecks.length > 0) await this.indexer.run();
    const checks = await this.desk.checkJobs();
    const probes = await this.desk.probeOutputs();
    const submits = await this.desk.submitVerdicts();
    const penalties = await this.desk.executePenalties();
    const benchmarksPaid = this.benchmarks ? await this.benchmarks.payPassed() : [];
    const benchmarks = this.benchmarks ? await this.benchmarks.tick() : [];
    return { indexed, spotChecks, checks, probes, submits, penalties, benchmarks, benchmarksPaid };
  }

  /** Runs a round every `intervalMs` (never two at once); errors go to `onError`. */
  start(intervalMs: number, onRound: (r: ComputeRound) => void, onError: (e: unknown) => void): void {
    this.rounds.start(intervalMs, onRound, onError);
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
