/**
 * The compute oracle's fraud path, after the index (compute/indexer.ts):
 *
 *   spot checks   recordSpotCheck on committed jobs whose draw is not recorded (with a sending account)
 *   checks        re-execute each job to check (selected, disputed, or a Verified job whose results
 *                 differ) with the ComputeChecker; store the outcome; on fraud (a wrong result or
 *                 inflated units) sign the FraudVerdict
 *   probes        fetch committed outputs (compute/withheld.ts); sign OutputWithheld for a job whose
 *                 output was not served after the configured failed fetches and grace
 *   submit        gather peers' signatures of the identical verdict (GET /v1/compute/verdicts/:jobId),
 *                 keep valid ones by members of the current set, send submitVerdict with the threshold
 *   penalties     executePenalty on each scheduled penalty past its veto window
 *
 * Every oracle signs the same verdict for the same job: each field comes from shared state (the
 * job's provider and commit time from the index, the evidence from deterministic re-execution, the
 * oracle set version from the distributor, the prover from config `compute.prover`, the deadline =
 * commit time + the acceptance window + the dispute resolution time). A revert because another
 * oracle got there first is `skipped`, never an error.
 */
import { getAddress, verifyTypedData } from "ethers";

import { decodeContractError, type ComputeJobs, type RewardsDistributor } from "@hexmesh/contracts";
import {
  checkFraudVerdict,
  computeJobsDomain,
  FRAUD_VERDICT_TYPES,
  type FraudVerdict,
} from "@hexmesh/protocol";

import { packSignatures, type OracleKey, type OracleSignature } from "../post/sign.js";
import { collectFromPeers } from "../util/rounds.js";
import {
  signFraudVerdict,
  verdictOf,
  type CheckReason,
  type CheckResult,
  type ComputeChecker,
} from "./check.js";
import type { ComputeStore, IndexedJob, StoredVerdict } from "./store.js";
import type { OutputProber, ProbeResult } from "./withheld.js";

/** ComputeJobs.ACCEPTANCE_WINDOW + DISPUTE_RESOLUTION: a verdict's deadline after the commit. */
export const VERDICT_VALIDITY_SECONDS = 86_400 + 7 * 86_400;

export type StepOutcome = "sent" | "skipped" | "short" | "failed";

export interface ComputeStep {
  readonly jobId: bigint;
  readonly action: "spot-check" | "submit" | "penalty";
  readonly outcome: StepOutcome;
  /** The revert's name (skipped), the signatures counted (sent/short) or the error (failed). */
  readonly detail: string;
}

/** Reverts that mean another oracle (or the customer, or the guardian) moved first: not errors. */
const BENIGN = new Set([
  "ComputeCheckRecorded",
  "ComputeCheckNotReady",
  "ComputeVerdictExists",
  "ComputeWrongStatus",
  "ComputeNoPenalty",
  "ComputePenaltyNotDue",
]);

/** A verdict and one signature as served by GET /v1/compute/verdicts/:jobId (decimal strings). */
export interface VerdictJson {
  readonly jobId: string;
  readonly provider: string;
  readonly reason: number;
  readonly evidenceHash: string;
  readonly prover: string;
  readonly oracleSetVersion: string;
  readonly deadline: string;
  readonly signer: string;
  readonly signature: string;
}

export function verdictToJson(v: StoredVerdict): VerdictJson {
  return {
    jobId: v.jobId.toString(),
    provider: v.provider,
    reason: v.reason,
    evidenceHash: v.evidenceHash,
    prover: v.prover,
    oracleSetVersion: v.oracleSetVersion.toString(),
    deadline: v.deadline.toString(),
    signer: v.signer,
    signature: v.signature,
  };
}

function verdictValue(v: StoredVerdict | VerdictJson): FraudVerdict {
  return checkFraudVerdict({
    jobId: BigInt(v.jobId),
    provider: v.provider,
    reason: v.reason as FraudVerdict["reason"],
    evidenceHash: v.evidenceHash,
    prover: v.prover,
    oracleSetVersion: BigInt(v.oracleSetVersion),
    deadline: BigInt(v.deadline),
  });
}

function sameVerdict(a: FraudVerdict, b: FraudVerdict): boolean {
  return (
    a.jobId === b.jobId &&
    a.provider === b.provider &&
    a.reason === b.reason &&
    a.evidenceHash === b.evidenceHash &&
    a.prover === b.prover &&
    a.oracleSetVersion === b.oracleSetVersion &&
    a.deadline === b.deadline
  );
}

/** Peers' signatures of job `jobId`'s verdicts (a peer that fails or answers nonsense gives none). */
export function peerVerdicts(
  peers: readonly string[],
  jobId: bigint,
  timeoutMs = 10_000,
): Promise<VerdictJson[]> {
  return collectFromPeers(
    peers,
    `/v1/compute/verdicts/${jobId}`,
    (body) => {
      const verdicts = (body as { verdicts?: unknown }).verdicts;
      return Array.isArray(verdicts) ? (verdicts as VerdictJson[]) : [];
    },
    timeoutMs,
  );
}

export interface VerdictDeskOptions {
  /** Receives 20% of what each penalty takes (config compute.prover; the same on every oracle). */
  readonly prover: string;
  readonly chainId: bigint;
  /** This oracle's peers' API base URLs (config `peers`). */
  readonly peers: readonly string[];
  readonly now?: () => number;
  /** The withheld-output detector (config `compute.withheld`); absent, outputs are not probed. */
  readonly withheld?: OutputProber;
}

export class VerdictDesk {
  private readonly now: () => number;

  /**
   * `jobs` is connected to the sending account when this oracle sends (spot checks, verdicts,
   * penalties); `sends` false: it only checks and signs, for its peers to collect.
   */
  constructor(
    private readonly jobs: ComputeJobs,
    private readonly distributor: RewardsDistributor,
    private readonly store: ComputeStore,
    private readonly checker: ComputeChecker,
    private readonly key: OracleKey,
    private readonly opts: VerdictDeskOptions,
    private readonly sends: boolean,
  ) {
    this.now = opts.now ?? Date.now;
  }

  private async contract(): Promise<string> {
    return (await this.jobs.getAddress()).toLowerCase();
  }

  /** recordSpotCheck on every committed Standard job whose draw is not recorded and whose check block is mined. */
  async recordSpotChecks(): Promise<ComputeStep[]> {
    if (!this.sends) return [];
    const steps: ComputeStep[] = [];
    const head = await this.jobs.runner!.provider!.getBlockNumber();
    for (const j of await this.store.jobsAwaitingDraw()) {
      const onChain = await this.jobs.job(j.id);
      if (onChain.checkRecorded || BigInt(head) < onChain.checkBlock) continue;
      steps.push(await this.send(j.id, "spot-check", () => this.jobs.recordSpotCheck(j.id)));
    }
    return steps;
  }

  /**
   * Re-executes each job due a check, stores the outcome (once: the first stays) and signs a verdict on
   * fraud. A job whose content no source holds yet (`content-unavailable`) is not stored: it is tried
   * again next round.
   */
  async checkJobs(): Promise<CheckResult[]> {
    const out: CheckResult[] = [];
    for (const j of await this.store.jobsToCheck()) {
      const result = await this.checkOne(j);
      out.push(result);
      // Content a source may still receive is tried again next round; every other outcome is final.
      if (result.reason === "content-unavailable") continue;
      await this.store.putCheck({
        jobId: j.id,
        outcome: result.outcome,
        reason: result.reason ?? null,
        provider: result.provider,
        committedHash: result.committedHash,
        evidenceHash: result.evidenceHash ?? null,
        detail: result.detail ?? "",
        checkedAt: this.now(),
      });
    }
    await this.signUnsigned();
    return out;
  }

  /**
   * Signs the verdict of every stored fraud that has none under the distributor's current oracle set:
   * the fraud just found, or one signed under a set that has changed since (the old signatures are
   * dead on chain).
   */
  private async signUnsigned(): Promise<void> {
    const version = await this.distributor.oracleSetVersion();
    for (const { job, check } of await this.store.fraudsUnsigned(version))
      await this.sign(job, version, {
        jobId: check.jobId,
        provider: check.provider,
        specHash: job.specHash as CheckResult["specHash"],
        committedHash: check.committedHash as CheckResult["committedHash"],
        outcome: "fraud",
        ...(check.reason !== null ? { reason: check.reason as CheckReason } : {}),
        ...(check.evidenceHash !== null
          ? { evidenceHash: check.evidenceHash as CheckResult["committedHash"] }
          : {}),
      });
  }

  /**
   * A Verified job whose two results differ: re-executed once; if the first provider's result is
   * the output, the second provider is at fault (the output's hash is the evidence).
   */
  private async checkOne(j: IndexedJob): Promise<CheckResult> {
    const result = await this.checker.check(j.id);
    // The first result is the output (its units aside): the second, which differs, is wrong.
    const firstIsOutput = result.outcome === "match" || result.reason === "units-inflated";
    if (!j.resultsDiffer || !firstIsOutput) return result;
    const second = await this.jobs.secondProvider(j.id);
    return {
      ...result,
      provider: second.provider.toLowerCase(),
      committedHash: second.resultHash as CheckResult["committedHash"],
      outcome: "fraud",
      reason: "wrong-result",
      evidenceHash: result.committedHash,
    };
  }

  /**
   * Probes committed outputs at chain time (compute/withheld.ts) and signs the verdict of each job
   * judged withheld; nothing without a configured detector.
   */
  async probeOutputs(): Promise<ProbeResult[]> {
    if (this.opts.withheld === undefined) return [];
    const latest = await this.jobs.runner!.provider!.getBlock("latest");
    if (!latest) throw new Error("no latest block");
    const out = await this.opts.withheld.probe(latest.timestamp);
    await this.signUnsigned();
    return out;
  }

  private async sign(j: IndexedJob, oracleSetVersion: bigint, result: CheckResult): Promise<void> {
    const verdict = verdictOf(result, {
      prover: this.opts.prover.toLowerCase(),
      oracleSetVersion,
      deadline: BigInt((j.committedAt ?? 0) + VERDICT_VALIDITY_SECONDS),
    });
    const sig = signFraudVerdict(this.key, this.opts.chainId, await this.contract(), verdict);
    const v = checkFraudVerdict(verdict);
    await this.store.putVerdict({
      jobId: v.jobId,
      oracleSetVersion: v.oracleSetVersion,
      provider: v.provider,
      reason: v.reason,
      evidenceHash: v.evidenceHash,
      prover: v.prover,
      deadline: v.deadline,
      signer: sig.signer,
      signature: sig.signature,
      signedAt: this.now(),
      submitted: null,
    });
  }

  /**
   * Sends each of this oracle's unsubmitted verdicts (current oracle set) that gathers the threshold:
   * its own signature plus the peers' signatures of the identical verdict (each recovered, and its
   * signer a member of the set; others ignored), `threshold` of them ascending.
   */
  async submitVerdicts(): Promise<ComputeStep[]> {
    if (!this.sends) return [];
    const version = await this.distributor.oracleSetVersion();
    const threshold = Number(await this.distributor.threshold());
    const domain = computeJobsDomain(this.opts.chainId, await this.contract());
    const steps: ComputeStep[] = [];
    for (const own of await this.store.verdictsToSubmit(version)) {
      const value = verdictValue(own);
      const bySigner = new Map<string, OracleSignature>();
      for (const s of [verdictToJson(own), ...(await peerVerdicts(this.opts.peers, own.jobId))]) {
        let other: FraudVerdict;
        try {
          other = verdictValue(s);
        } catch {
          continue;
        }
        if (!sameVerdict(value, other)) continue;
        let signer: string;
        try {
          signer = verifyTypedData(
            { ...domain },
            FRAUD_VERDICT_TYPES,
            { ...value },
            s.signature,
          ).toLowerCase();
        } catch {
          continue;
        }
        if (signer !== s.signer.toLowerCase() || bySigner.has(signer)) continue;
        if (!(await this.distributor.isOracle(getAddress(signer)))) continue;
        bySigner.set(signer, {
          signer: signer as OracleSignature["signer"],
          signature: s.signature as OracleSignature["signature"],
        });
      }
      if (bySigner.size < threshold) {
        steps.push({
          jobId: own.jobId,
          action: "submit",
          outcome: "short",
          detail: `${bySigner.size} of ${threshold} signatures`,
        });
        continue;
      }
      const packed = packSignatures([...bySigner.values()], threshold);
      const step = await this.send(own.jobId, "submit", () =>
        this.jobs.submitVerdict(
          {
            jobId: value.jobId,
            provider: getAddress(value.provider),
            reason: value.reason,
            evidenceHash: value.evidenceHash,
            prover: getAddress(value.prover),
            oracleSetVersion: value.oracleSetVersion,
            deadline: value.deadline,
          },
          packed,
        ),
      );
      const detail = step.outcome === "sent" ? `${threshold} of ${bySigner.size} signatures` : step.detail;
      if (step.outcome !== "failed")
        await this.store.markSubmitted(own.jobId, own.oracleSetVersion, `${step.outcome}: ${detail}`);
      steps.push({ ...step, detail });
    }
    return steps;
  }

  /** executePenalty on every indexed penalty whose veto window has closed (chain time). */
  async executePenalties(): Promise<ComputeStep[]> {
    if (!this.sends) return [];
    const latest = await this.jobs.runner!.provider!.getBlock("latest");
    if (!latest) throw new Error("no latest block");
    const steps: ComputeStep[] = [];
    for (const j of await this.store.penaltiesDue(latest.timestamp))
      steps.push(await this.send(j.id, "penalty", () => this.jobs.executePenalty(j.id)));
    return steps;
  }

  private async send(
    jobId: bigint,
    action: ComputeStep["action"],
    call: () => Promise<{ wait(): Promise<unknown> }>,
  ): Promise<ComputeStep> {
    try {
      await (await call()).wait();
      return { jobId, action, outcome: "sent", detail: "" };
    } catch (err) {
      const decoded = decodeContractError(err);
      if (decoded && BENIGN.has(decoded.name))
        return { jobId, action, outcome: "skipped", detail: decoded.name };
      return { jobId, action, outcome: "failed", detail: decoded?.text ?? String(err) };
    }
  }
}
