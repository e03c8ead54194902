/**
 * The compute oracle's re-execution check: a committed job the contract selected for a spot check
 * (`SpotCheckRecorded(selected = true)`) or the customer disputed (`JobDisputed`) is run again from
 * its spec with the same runner a provider uses, and the output's hash compared with the committed
 * `resultHash`. A difference is fraud (`FraudReason.WrongResult`, evidence = the re-executed output's
 * hash), for which the oracle signs the FraudVerdict of @hexmesh/protocol. The same output with more
 * committed `usedUnits` than the run metered (plus `unitsToleranceBps`) is fraud too
 * (`FraudReason.UnitsInflated`): units are ticks counted from the program, the same on every machine
 * (@hexmesh/protocol compute/units.ts). Every other negative outcome has a reason code
 * (CHECK_REASONS) and signs nothing. The withheld-output detector is compute/withheld.ts.
 */
import {
  fetchJobBySpec,
  FileContentStore,
  HttpContentStore,
  JobError,
  runJob,
  type JobLimits,
} from "@hexmesh/compute";
import type { ComputeJobs } from "@hexmesh/contracts";
import {
  computeJobsDomain,
  contentHash,
  FraudReason,
  fraudVerdictDigest,
  unitsInflated,
  unitsOfTicks,
  type FraudVerdict,
  type Hex,
} from "@hexmesh/protocol";

import type { OracleKey, OracleSignature } from "../post/sign.js";

/** Why a check did not confirm the committed result. */
export const CHECK_REASONS = {
  "wrong-result": "re-execution gave an output whose hash differs from the committed resultHash (fraud)",
  "units-inflated":
    "the output matches, but the committed usedUnits exceed the units re-execution metered by more than the tolerance (fraud)",
  "output-withheld":
    "the provider did not serve the committed output by its hash: failed fetches past the grace period (fraud; compute/withheld.ts)",
  "fails-on-reexecution":
    "the job fails deterministically on re-execution (bad program, trap, exit, bad spec) yet a result was committed (fraud)",
  "reexecution-limit":
    "re-execution hit the oracle's time, memory or output limit, or its worker died: inconclusive, nothing signed",
  "content-unavailable": "the spec, program or input could not be fetched from any source: inconclusive",
  "not-committed": "the job has no committed result to check",
} as const;
export type CheckReason = keyof typeof CHECK_REASONS;

/** Runner failures that any engine reproduces (the job's own fault), as opposed to resource limits. */
const DETERMINISTIC_FAILURES = new Set(["malformed-program", "malformed-spec", "trap", "exit"]);

export interface CheckResult {
  readonly jobId: bigint;
  readonly provider: string;
  readonly specHash: Hex;
  readonly committedHash: Hex;
  /** match: the committed result is the output; fraud: a verdict is due; inconclusive: nothing to sign. */
  readonly outcome: "match" | "fraud" | "inconclusive";
  readonly reason?: CheckReason;
  /** For fraud: keccak256 of the re-executed output, or of the runner's error code for a failing job. */
  readonly evidenceHash?: Hex;
  readonly detail?: string;
}

export interface ComputeCheckerOptions {
  /** Blob servers the job's spec, program and input are fetched from, in order. */
  readonly sources: readonly string[];
  /** Where fetched blobs are cached (checked on every read). */
  readonly cacheDir: string;
  readonly limits?: Partial<JobLimits>;
  /** Committed units above measured + ceil(measured × this / 10,000) are inflated (default 0). */
  readonly unitsToleranceBps?: number;
}

const ZERO_HASH = `0x${"0".repeat(64)}`;

export class ComputeChecker {
  private readonly store: HttpContentStore;

  constructor(
    readonly jobs: ComputeJobs,
    readonly options: ComputeCheckerOptions,
  ) {
    this.store = new HttpContentStore(options.sources, new FileContentStore(options.cacheDir));
  }

  /** Jobs to re-execute from blocks [from, to]: selected by a spot check, or disputed; ascending, once each. */
  async jobsToCheck(from: number, to: number): Promise<bigint[]> {
    const selected = await this.jobs.queryFilter(this.jobs.filters.SpotCheckRecorded(), from, to);
    const disputed = await this.jobs.queryFilter(this.jobs.filters.JobDisputed(), from, to);
    const ids = new Set<bigint>();
    for (const ev of selected) if (ev.args.selected) ids.add(ev.args.jobId);
    for (const ev of disputed) ids.add(ev.args.jobId);
    return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Re-executes job `jobId` from its spec and compares with its committed result. */
  async check(jobId: bigint): Promise<CheckResult> {
    const j = await this.jobs.job(jobId);
    const base = {
      jobId,
      provider: j.provider.toLowerCase(),
      specHash: j.specHash as Hex,
      committedHash: j.resultHash as Hex,
    };
    if (j.resultHash === ZERO_HASH) return { ...base, outcome: "inconclusive", reason: "not-committed" };
    let content;
    try {
      content = await fetchJobBySpec(j.specHash as Hex, this.store);
    } catch (e) {
      if (e instanceof JobError && e.code === "malformed-spec") return this.failed(base, e);
      return {
        ...base,
        outcome: "inconclusive",
        reason: "content-unavailable",
        detail: (e as Error).message,
      };
    }
    try {
      const run = await runJob(content.program, content.input, this.options.limits);
      if (run.outputHash !== j.resultHash)
        return { ...base, outcome: "fraud", reason: "wrong-result", evidenceHash: run.outputHash };
      const measured = unitsOfTicks(run.ticks);
      const used = BigInt(j.usedUnits);
      const detail = `committed ${used} units, metered ${measured} (${run.ticks} ticks)`;
      if (!unitsInflated(used, measured, this.options.unitsToleranceBps ?? 0))
        return { ...base, outcome: "match", detail };
      return {
        ...base,
        outcome: "fraud",
        reason: "units-inflated",
        evidenceHash: unitsEvidence(run.outputHash, run.ticks),
        detail,
      };
    } catch (e) {
      if (!(e instanceof JobError)) throw e;
      return this.failed(base, e);
    }
  }

  private failed(base: Omit<CheckResult, "outcome">, e: JobError): CheckResult {
    if (!DETERMINISTIC_FAILURES.has(e.code))
      return { ...base, outcome: "inconclusive", reason: "reexecution-limit", detail: e.message };
    return {
      ...base,
      outcome: "fraud",
      reason: "fails-on-reexecution",
      evidenceHash: contentHashOfText(`job-error:${e.code}`),
      detail: e.message,
    };
  }
}

function contentHashOfText(text: string): Hex {
  return contentHash(new TextEncoder().encode(text));
}

/** The evidence of an UnitsInflated verdict: the output and the ticks re-execution metered for it. */
export function unitsEvidence(outputHash: Hex, ticks: bigint): Hex {
  return contentHashOfText(`units-metered:${outputHash}:${ticks}`);
}

/** The verdict reason of each fraud a check can find. */
const VERDICT_REASON: Partial<Record<CheckReason, FraudVerdict["reason"]>> = {
  "wrong-result": FraudReason.WrongResult,
  // The committed hash is not the job's output: a wrong result on chain too.
  "fails-on-reexecution": FraudReason.WrongResult,
  "units-inflated": FraudReason.UnitsInflated,
  "output-withheld": FraudReason.OutputWithheld,
};

/** The FraudVerdict for a fraud found by `check` or the withheld-output detector. */
export function verdictOf(
  result: CheckResult,
  terms: { prover: string; oracleSetVersion: bigint; deadline: bigint },
): FraudVerdict {
  const reason = result.reason === undefined ? undefined : VERDICT_REASON[result.reason];
  if (result.outcome !== "fraud" || result.evidenceHash === undefined || reason === undefined)
    throw new Error(
      `job ${result.jobId}: no fraud to sign (${result.outcome}${result.reason ? `, ${result.reason}` : ""})`,
    );
  return {
    jobId: result.jobId,
    provider: result.provider,
    reason,
    evidenceHash: result.evidenceHash,
    prover: terms.prover,
    oracleSetVersion: terms.oracleSetVersion,
    deadline: terms.deadline,
  };
}

/** One oracle's signature of `verdict` for the ComputeJobs contract at `computeJobs` on `chainId`. */
export function signFraudVerdict(
  key: OracleKey,
  chainId: bigint,
  computeJobs: string,
  verdict: FraudVerdict,
): OracleSignature {
  return key.signDigest(fraudVerdictDigest(computeJobsDomain(chainId, computeJobs), verdict));
}
