/**
 * The withheld-output detector: a provider that commits a result must serve the output by its hash.
 * Each round the oracle fetches the output of every committed job it has not seen served (from the
 * provider's registered endpoint, config `compute.withheld.endpoints`, then the market's blob servers
 * `compute.sources`, each answer checked against the committed resultHash: a 404, a timeout, an
 * unreachable server or bytes of another hash are failures alike). A fetch that succeeds once ends
 * the probing for good. A failure is counted only `spacingSeconds` (chain time) after the last counted
 * one, so N failures span at least (N - 1) × spacing; once `attempts` failures are counted and
 * `graceSeconds` have passed since the commit, and no re-execution of the job is pending (a Standard
 * job's draw recorded; a selected or disputed job checked without fraud: re-execution's verdict comes
 * first), the job is judged withheld and the oracle signs `FraudReason.OutputWithheld` through the one
 * verdict path (VerdictDesk: sign, gather the quorum, submit, penalty after the veto). Its evidence is
 * keccak256("output-withheld:" jobId ":" resultHash), the same on every oracle; the quorum forms only
 * if enough oracles each failed to fetch the output on their own.
 *
 * A Verified job whose two results matched has one output, committed by both providers: it is
 * fetched from either provider's endpoint (the first's, then the second's), then the sources, and is
 * served if any of them answers, since the customer then has the output. When none does, both
 * withheld it; the contract takes one verdict per job, and it names the job's first provider (the
 * one that accepted first, the same on every oracle); the contract unlocks the other, unpaid. A
 * Verified job whose results differ is not probed: re-execution judges it.
 */
import { fetchBlob, JobError } from "@hexmesh/compute";
import { contentHash, type Hex } from "@hexmesh/protocol";

import type { ComputeStore } from "./store.js";

export interface WithheldOptions {
  /** Failed fetches counted before a job is judged withheld (default 3). */
  readonly attempts: number;
  /** Least chain time between two counted failures, seconds (default 3,600). */
  readonly spacingSeconds: number;
  /** Least chain time from the commit to the verdict, seconds (default 14,400). */
  readonly graceSeconds: number;
  /** One fetch's timeout, ms (default 10,000). */
  readonly timeoutMs: number;
  /** Largest output fetched, bytes (a larger answer is a failure; default the runner's 64 MiB). */
  readonly maxBytes: number;
  /** Each provider's registered output endpoint (its agent's blob server), by lowercase address. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** The market's blob servers, tried after the provider's endpoint. */
  readonly sources: readonly string[];
}

export const DEFAULT_WITHHELD: Omit<WithheldOptions, "endpoints" | "sources"> = {
  attempts: 3,
  spacingSeconds: 3_600,
  graceSeconds: 14_400,
  timeoutMs: 10_000,
  maxBytes: 64 * 1024 * 1024,
};

/** Latest chain time (Unix s) a withheld verdict can be reached by: before anyone may finalize the job. */
export const WITHHELD_HORIZON_SECONDS = 72_000;

/** What a round's probe of one job did. */
export interface ProbeResult {
  readonly jobId: bigint;
  /**
   * served: the output came back by its hash (final); failed: a failure counted; waiting: a failure
   * within the spacing, not counted; withheld: judged withheld (a verdict is signed).
   */
  readonly outcome: "served" | "failed" | "waiting" | "withheld";
  readonly failures: number;
  readonly detail: string;
}

/** The evidence of an OutputWithheld verdict on `jobId` (every oracle derives the same). */
export function withheldEvidence(jobId: bigint, resultHash: string): Hex {
  return contentHash(new TextEncoder().encode(`output-withheld:${jobId}:${resultHash.toLowerCase()}`));
}

export class OutputProber {
  private readonly endpoints: ReadonlyMap<string, string>;

  constructor(
    private readonly store: ComputeStore,
    readonly options: WithheldOptions,
  ) {
    this.endpoints = new Map(Object.entries(options.endpoints).map(([a, url]) => [a.toLowerCase(), url]));
  }

  /** Probes every job due a probe at chain time `nowSec`; the outcomes, by job. */
  async probe(nowSec: number): Promise<ProbeResult[]> {
    const out: ProbeResult[] = [];
    for (const { job, probe, reexecutionPending } of await this.store.jobsToProbe()) {
      const failures = probe?.failures ?? 0;
      const bases = [
        ...[job.provider, job.secondProvider].flatMap((p) => {
          const url = p === null ? undefined : this.endpoints.get(p);
          return url === undefined ? [] : [url];
        }),
        ...this.options.sources,
      ];
      let detail: string;
      try {
        await fetchBlob(bases, job.resultHash as Hex, {
          timeoutMs: this.options.timeoutMs,
          maxBytes: this.options.maxBytes,
        });
        await this.store.probeServed(job.id, nowSec);
        out.push({ jobId: job.id, outcome: "served", failures, detail: "" });
        continue;
      } catch (e) {
        if (!(e instanceof JobError)) throw e;
        detail = e.message;
      }
      const counted =
        probe?.lastFailureAt === null ||
        probe === null ||
        nowSec - probe.lastFailureAt! >= this.options.spacingSeconds;
      if (counted) await this.store.probeFailed(job.id, nowSec, detail);
      const total = failures + (counted ? 1 : 0);
      const due =
        total >= this.options.attempts &&
        nowSec >= (job.committedAt ?? 0) + this.options.graceSeconds &&
        !reexecutionPending;
      if (due) {
        await this.store.probeWithheld(job.id, nowSec, withheldEvidence(job.id, job.resultHash!));
        out.push({ jobId: job.id, outcome: "withheld", failures: total, detail });
      } else out.push({ jobId: job.id, outcome: counted ? "failed" : "waiting", failures: total, detail });
    }
    return out;
  }
}
