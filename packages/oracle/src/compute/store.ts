/**
 * The compute oracle's tables (migrations 9, 11 and 14): ComputeJobs' jobs as the indexer saw them (with
 * the block times of their creation, acceptance and commit, from which every oracle derives the same
 * epoch inputs), this oracle's re-execution checks, its output probes (withheld outputs), and the
 * fraud verdicts it signed. Every write is
 * idempotent (re-indexing a block range changes nothing), so a crash between a batch of logs and the
 * cursor is harmless. Runs on either backend through the store's SQL runner (storage/sql.ts).
 */
import type { SqlRow, SqlValue, StorageSql } from "../storage/sql.js";

export type JobStatus = "open" | "accepted" | "committed" | "disputed" | "finalized" | "refunded";
export type PenaltyState = "scheduled" | "executed" | "vetoed";

export interface IndexedJob {
  readonly id: bigint;
  readonly customer: string;
  readonly specHash: string;
  readonly deviceClass: number;
  readonly maxUnits: bigint;
  readonly pricePerUnit: bigint;
  /** Unix s. */
  readonly deadline: number;
  /** 0 Standard, 1 Verified. */
  readonly tier: number;
  /** Block time (Unix s) of JobCreated. */
  readonly createdAt: number;
  /** The only device that may accept it (JobDirected), or null. */
  readonly directedTo: bigint | null;
  readonly status: JobStatus;
  /** The (first) accepting provider and device, and the block time of its JobAccepted. */
  readonly provider: string | null;
  readonly deviceId: bigint | null;
  readonly acceptedAt: number | null;
  /** A Verified job's second accepting provider, or null. */
  readonly secondProvider: string | null;
  /**
   * The committed result and its block time (a Verified job's: when its two results were compared).
   * A Verified job holds its first commit's hash until the comparison, and keeps it only if the two
   * matched: a job whose results differ has no result.
   */
  readonly resultHash: string | null;
  readonly committedAt: number | null;
  /** SpotCheckRecorded's draw (null: not recorded yet). */
  readonly checkSelected: boolean | null;
  /** A Verified job whose two results differed (VerifiedResultsCompared(false)). */
  readonly resultsDiffer: boolean;
  readonly disputed: boolean;
  readonly penalty: PenaltyState | null;
  readonly penaltyExecutableAt: number | null;
}

/** What JobCreated (and its block time) says of a job. */
export type NewJob = Pick<
  IndexedJob,
  | "id"
  | "customer"
  | "specHash"
  | "deviceClass"
  | "maxUnits"
  | "pricePerUnit"
  | "deadline"
  | "tier"
  | "createdAt"
>;

/** One re-execution check by this oracle (compute/check.ts's CheckResult, stored). */
export interface StoredCheck {
  readonly jobId: bigint;
  readonly outcome: "match" | "fraud" | "inconclusive";
  readonly reason: string | null;
  readonly provider: string;
  readonly committedHash: string;
  readonly evidenceHash: string | null;
  readonly detail: string;
  /** Unix ms. */
  readonly checkedAt: number;
}

/** This oracle's probes of a committed job's output (compute/withheld.ts). */
export interface StoredProbe {
  readonly jobId: bigint;
  /** Failed fetches counted (each at least the configured spacing after the last). */
  readonly failures: number;
  /** Chain time (Unix s) of the last counted failure, or null. */
  readonly lastFailureAt: number | null;
  /** Chain time the output was served by hash (final: never probed again), or null. */
  readonly servedAt: number | null;
  /** Chain time the job was judged withheld (final: a fraud to sign), or null. */
  readonly withheldAt: number | null;
  readonly evidenceHash: string | null;
  /** The last failure's reasons, per server. */
  readonly detail: string;
}

/** A FraudVerdict this oracle signed (one per job and oracle set). */
export interface StoredVerdict {
  readonly jobId: bigint;
  readonly oracleSetVersion: bigint;
  readonly provider: string;
  readonly reason: number;
  readonly evidenceHash: string;
  readonly prover: string;
  readonly deadline: bigint;
  readonly signer: string;
  readonly signature: string;
  /** Unix ms. */
  readonly signedAt: number;
  /** What this oracle's submitter did with it ("sent", "skipped: <revert>"), null before. */
  readonly submitted: string | null;
}

const int = (v: unknown): bigint => BigInt(v as string | number);
const num = (v: unknown): number => Number(v as string | number);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const optInt = (v: unknown): bigint | null => (v === null || v === undefined ? null : int(v));
const optText = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

function jobFromRow(r: SqlRow): IndexedJob {
  return {
    id: int(r.id),
    customer: r.customer as string,
    specHash: r.spec_hash as string,
    deviceClass: num(r.device_class),
    maxUnits: int(r.max_units),
    pricePerUnit: int(r.price_per_unit),
    deadline: num(r.deadline),
    tier: num(r.tier),
    createdAt: num(r.created_at),
    directedTo: optInt(r.directed_to),
    status: r.status as JobStatus,
    provider: optText(r.provider),
    deviceId: optInt(r.device_id),
    acceptedAt: optNum(r.accepted_at),
    secondProvider: optText(r.second_provider),
    resultHash: optText(r.result_hash),
    committedAt: optNum(r.committed_at),
    checkSelected:
      r.check_selected === null || r.check_selected === undefined ? null : num(r.check_selected) === 1,
    resultsDiffer: num(r.results_differ) === 1,
    disputed: num(r.disputed) === 1,
    penalty: optText(r.penalty_status) as PenaltyState | null,
    penaltyExecutableAt: optNum(r.penalty_executable_at),
  };
}

function checkFromRow(r: SqlRow): StoredCheck {
  return {
    jobId: int(r.job_id),
    outcome: r.outcome as StoredCheck["outcome"],
    reason: optText(r.reason),
    provider: r.provider as string,
    committedHash: r.committed_hash as string,
    evidenceHash: optText(r.evidence_hash),
    detail: r.detail as string,
    checkedAt: num(r.checked_at),
  };
}

function probeFromRow(r: SqlRow): StoredProbe {
  return {
    jobId: int(r.job_id),
    failures: num(r.failures),
    lastFailureAt: optNum(r.last_failure_at),
    servedAt: optNum(r.served_at),
    withheldAt: optNum(r.withheld_at),
    evidenceHash: optText(r.evidence_hash),
    detail: r.detail as string,
  };
}

function verdictFromRow(r: SqlRow): StoredVerdict {
  return {
    jobId: int(r.job_id),
    oracleSetVersion: int(r.oracle_set_version),
    provider: r.provider as string,
    reason: num(r.reason),
    evidenceHash: r.evidence_hash as string,
    prover: r.prover as string,
    deadline: int(r.deadline),
    signer: r.signer as string,
    signature: r.signature as string,
    signedAt: num(r.signed_at),
    submitted: optText(r.submitted),
  };
}

export interface JobQuery {
  /** Either of the job's providers (a Verified job has two). */
  readonly provider?: string;
  readonly deviceId?: bigint;
  readonly status?: JobStatus;
  /** Newest first, at most this many (default 100, at most 1,000). */
  readonly limit?: number;
}

export interface ComputeStoreOptions {
  /**
   * The account that sends the daily availability benchmarks (config `compute.benchmark.sender`):
   * only its directed jobs of the pinned benchmark count (computeEpochInputs). Every oracle of the set
   * must name the same one.
   */
  readonly benchmarkSender?: string;
}

export class ComputeStore {
  readonly benchmarkSender: string | undefined;

  constructor(
    private readonly sql: StorageSql,
    options: ComputeStoreOptions = {},
  ) {
    this.benchmarkSender = options.benchmarkSender?.toLowerCase();
  }

  /** The first block the indexer has not read and the block time of the last one read (null: never ran). */
  async cursor(): Promise<{ nextBlock: number; blockTime: number } | null> {
    const [r] = await this.sql.all("SELECT next_block, block_time FROM compute_cursor WHERE name = 'jobs'");
    return r === undefined ? null : { nextBlock: num(r.next_block), blockTime: num(r.block_time) };
  }

  async setCursor(nextBlock: number, blockTime: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO compute_cursor (name, next_block, block_time) VALUES ('jobs', ?, ?)
       ON CONFLICT (name) DO UPDATE SET next_block = excluded.next_block, block_time = excluded.block_time`,
      [nextBlock, blockTime],
    );
  }

  async jobCreated(j: NewJob): Promise<void> {
    await this.sql.run(
      `INSERT INTO compute_jobs (id, customer, spec_hash, device_class, max_units, price_per_unit, deadline,
         tier, created_at, status, results_differ, disputed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 0, 0) ON CONFLICT (id) DO NOTHING`,
      [
        Number(j.id),
        j.customer.toLowerCase(),
        j.specHash.toLowerCase(),
        j.deviceClass,
        j.maxUnits.toString(),
        j.pricePerUnit.toString(),
        j.deadline,
        j.tier,
        j.createdAt,
      ],
    );
  }

  async jobDirected(id: bigint, deviceId: bigint): Promise<void> {
    await this.update(id, "directed_to = ?", [deviceId.toString()]);
  }

  /**
   * The first acceptance names the job's provider, a Verified job's other one its second provider; a
   * Standard job (or a Verified one at its second) is then accepted.
   */
  async jobAccepted(id: bigint, provider: string, deviceId: bigint, at: number): Promise<void> {
    await this.sql.run(
      `UPDATE compute_jobs SET provider = ?, device_id = ?, accepted_at = ? WHERE id = ? AND provider IS NULL`,
      [provider.toLowerCase(), deviceId.toString(), at, Number(id)],
    );
    await this.sql.run(
      `UPDATE compute_jobs SET second_provider = ?
       WHERE id = ? AND tier = 1 AND second_provider IS NULL AND provider <> ?`,
      [provider.toLowerCase(), Number(id), provider.toLowerCase()],
    );
    await this.sql.run(
      `UPDATE compute_jobs SET status = 'accepted' WHERE id = ? AND status = 'open'
         AND (tier = 0 OR provider <> ?)`,
      [Number(id), provider.toLowerCase()],
    );
  }

  /**
   * A commit: a Standard job's result; a Verified job's first commit only keeps its hash (the job
   * stays accepted until VerifiedResultsCompared: when the two match, that hash is the result).
   */
  async resultCommitted(id: bigint, resultHash: string, at: number): Promise<void> {
    await this.sql.run(
      `UPDATE compute_jobs SET result_hash = ?, committed_at = ?, status = 'committed'
       WHERE id = ? AND tier = 0 AND status = 'accepted'`,
      [resultHash.toLowerCase(), at, Number(id)],
    );
    await this.sql.run(
      `UPDATE compute_jobs SET result_hash = ?
       WHERE id = ? AND tier = 1 AND status = 'accepted' AND result_hash IS NULL`,
      [resultHash.toLowerCase(), Number(id)],
    );
  }

  /** A Verified job's two results compared: matched, the job is committed; else disputed, with no result. */
  async verifiedCompared(id: bigint, matched: boolean, at: number): Promise<void> {
    await this.sql.run(
      `UPDATE compute_jobs SET status = ?, results_differ = ?, committed_at = ?,
         result_hash = ${matched ? "result_hash" : "NULL"}
       WHERE id = ? AND status = 'accepted'`,
      [matched ? "committed" : "disputed", matched ? 0 : 1, at, Number(id)],
    );
  }

  async spotCheckRecorded(id: bigint, selected: boolean): Promise<void> {
    await this.update(id, "check_selected = ?", [selected ? 1 : 0]);
  }

  async jobDisputed(id: bigint): Promise<void> {
    await this.update(id, "status = 'disputed', disputed = 1", []);
  }

  async penaltyScheduled(id: bigint, executableAt: number): Promise<void> {
    await this.update(id, "penalty_status = 'scheduled', penalty_executable_at = ?", [executableAt]);
  }

  async penaltyEnded(id: bigint, state: "executed" | "vetoed"): Promise<void> {
    await this.update(id, "penalty_status = ?", [state]);
  }

  async jobEnded(id: bigint, status: "finalized" | "refunded"): Promise<void> {
    await this.update(id, "status = ?", [status]);
  }

  private async update(id: bigint, set: string, params: SqlValue[]): Promise<void> {
    await this.sql.run(`UPDATE compute_jobs SET ${set} WHERE id = ?`, [...params, Number(id)]);
  }

  async job(id: bigint): Promise<IndexedJob | null> {
    const [r] = await this.sql.all("SELECT * FROM compute_jobs WHERE id = ?", [Number(id)]);
    return r === undefined ? null : jobFromRow(r);
  }

  /** Jobs, newest first. */
  async jobs(q: JobQuery = {}): Promise<IndexedJob[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (q.provider !== undefined) {
      const provider = q.provider.toLowerCase();
      where.push("(provider = ? OR second_provider = ?)");
      params.push(provider, provider);
    }
    if (q.deviceId !== undefined) (where.push("device_id = ?"), params.push(q.deviceId.toString()));
    if (q.status !== undefined) (where.push("status = ?"), params.push(q.status));
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const rows = await this.sql.all(
      `SELECT * FROM compute_jobs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ${limit}`,
      params,
    );
    return rows.map(jobFromRow);
  }

  /**
   * Jobs to re-execute, by id: selected by a spot check, disputed, or a Verified job whose results
   * differ; still awaiting a verdict (Committed or Disputed on chain) and not checked by this oracle.
   */
  async jobsToCheck(): Promise<IndexedJob[]> {
    const rows = await this.sql.all(
      `SELECT j.* FROM compute_jobs j LEFT JOIN compute_checks c ON c.job_id = j.id
       WHERE c.job_id IS NULL AND j.status IN ('committed', 'disputed') AND j.penalty_status IS NULL
         AND (j.check_selected = 1 OR j.disputed = 1 OR j.results_differ = 1)
       ORDER BY j.id`,
    );
    return rows.map(jobFromRow);
  }

  /** Committed Standard jobs whose spot-check draw is not indexed yet, by id (at most `limit`). */
  async jobsAwaitingDraw(limit = 1000): Promise<IndexedJob[]> {
    const rows = await this.sql.all(
      `SELECT * FROM compute_jobs WHERE status = 'committed' AND tier = 0 AND check_selected IS NULL
       ORDER BY id LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
    );
    return rows.map(jobFromRow);
  }

  /**
   * Frauds of jobs still awaiting a verdict (Committed or Disputed, no penalty) that have no verdict
   * signed under `oracleSetVersion` (the set changed since, or the signing was cut short): each fraud
   * check, and each job judged withheld that has no fraud check (re-execution's verdict comes first).
   */
  async fraudsUnsigned(oracleSetVersion: bigint): Promise<{ job: IndexedJob; check: StoredCheck }[]> {
    const rows = await this.sql.all(
      `SELECT j.*, c.outcome AS c_outcome, c.reason AS c_reason, c.provider AS c_provider,
         c.committed_hash AS c_committed_hash, c.evidence_hash AS c_evidence_hash, c.detail AS c_detail,
         c.checked_at AS c_checked_at
       FROM compute_checks c JOIN compute_jobs j ON j.id = c.job_id
       LEFT JOIN compute_verdicts v ON v.job_id = c.job_id AND v.oracle_set_version = ?
       WHERE c.outcome = 'fraud' AND v.job_id IS NULL AND j.penalty_status IS NULL
         AND j.status IN ('committed', 'disputed')
       UNION ALL
       SELECT j.*, 'fraud' AS c_outcome, 'output-withheld' AS c_reason, j.provider AS c_provider,
         j.result_hash AS c_committed_hash, p.evidence_hash AS c_evidence_hash, p.detail AS c_detail,
         p.withheld_at * 1000 AS c_checked_at
       FROM compute_output_probes p JOIN compute_jobs j ON j.id = p.job_id
       LEFT JOIN compute_checks c ON c.job_id = p.job_id AND c.outcome = 'fraud'
       LEFT JOIN compute_verdicts v ON v.job_id = p.job_id AND v.oracle_set_version = ?
       WHERE p.withheld_at IS NOT NULL AND c.job_id IS NULL AND v.job_id IS NULL
         AND j.penalty_status IS NULL AND j.status IN ('committed', 'disputed')
       ORDER BY id`,
      [Number(oracleSetVersion), Number(oracleSetVersion)],
    );
    return rows.map((r) => ({
      job: jobFromRow(r),
      check: checkFromRow({
        job_id: r.id,
        outcome: r.c_outcome,
        reason: r.c_reason,
        provider: r.c_provider,
        committed_hash: r.c_committed_hash,
        evidence_hash: r.c_evidence_hash,
        detail: r.c_detail,
        checked_at: r.c_checked_at,
      }),
    }));
  }

  /**
   * Jobs whose output is to be probed, by id: committed (or disputed) with a result (a Standard job's,
   * or a Verified job's two matching ones), no penalty, no fraud found by re-execution, and neither
   * served nor judged withheld yet; with their probe row (null before the first failure) and whether
   * a re-execution is still due (a withheld verdict waits for it): a Standard job's draw not recorded,
   * or a job selected or disputed and not checked yet (a Verified job is never drawn: the comparison
   * was its check).
   */
  async jobsToProbe(
    limit = 1000,
  ): Promise<{ job: IndexedJob; probe: StoredProbe | null; reexecutionPending: boolean }[]> {
    const rows = await this.sql.all(
      `SELECT j.*, p.job_id AS p_job_id, p.failures AS p_failures, p.last_failure_at AS p_last_failure_at,
         p.detail AS p_detail, c.job_id AS c_job_id
       FROM compute_jobs j
       LEFT JOIN compute_output_probes p ON p.job_id = j.id
       LEFT JOIN compute_checks c ON c.job_id = j.id
       WHERE j.status IN ('committed', 'disputed') AND j.result_hash IS NOT NULL
         AND (j.tier = 0 OR j.results_differ = 0) AND j.penalty_status IS NULL
         AND (c.job_id IS NULL OR c.outcome <> 'fraud')
         AND (p.job_id IS NULL OR (p.served_at IS NULL AND p.withheld_at IS NULL))
       ORDER BY j.id LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
    );
    return rows.map((r) => {
      const job = jobFromRow(r);
      return {
        job,
        probe:
          r.p_job_id === null || r.p_job_id === undefined
            ? null
            : probeFromRow({
                job_id: r.p_job_id,
                failures: r.p_failures,
                last_failure_at: r.p_last_failure_at,
                served_at: null,
                withheld_at: null,
                evidence_hash: null,
                detail: r.p_detail,
              }),
        reexecutionPending:
          (job.tier === 0 && job.checkSelected === null) ||
          ((job.checkSelected === true || job.disputed) && (r.c_job_id === null || r.c_job_id === undefined)),
      };
    });
  }

  /** The output of job `jobId` was served by hash at chain time `at` (final). */
  async probeServed(jobId: bigint, at: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO compute_output_probes (job_id, failures, served_at, detail) VALUES (?, 0, ?, '')
       ON CONFLICT (job_id) DO UPDATE SET served_at = excluded.served_at
       WHERE compute_output_probes.served_at IS NULL AND compute_output_probes.withheld_at IS NULL`,
      [Number(jobId), at],
    );
  }

  /** One more failed fetch of job `jobId`'s output, counted at chain time `at`. */
  async probeFailed(jobId: bigint, at: number, detail: string): Promise<void> {
    await this.sql.run(
      `INSERT INTO compute_output_probes (job_id, failures, last_failure_at, detail) VALUES (?, 1, ?, ?)
       ON CONFLICT (job_id) DO UPDATE SET failures = compute_output_probes.failures + 1,
         last_failure_at = excluded.last_failure_at, detail = excluded.detail
       WHERE compute_output_probes.served_at IS NULL AND compute_output_probes.withheld_at IS NULL`,
      [Number(jobId), at, detail],
    );
  }

  /** Job `jobId` judged withheld at chain time `at` (final: its verdict is signed next). */
  async probeWithheld(jobId: bigint, at: number, evidenceHash: string): Promise<void> {
    await this.sql.run(
      `UPDATE compute_output_probes SET withheld_at = ?, evidence_hash = ?
       WHERE job_id = ? AND served_at IS NULL AND withheld_at IS NULL`,
      [at, evidenceHash.toLowerCase(), Number(jobId)],
    );
  }

  async probe(jobId: bigint): Promise<StoredProbe | null> {
    const [r] = await this.sql.all("SELECT * FROM compute_output_probes WHERE job_id = ?", [Number(jobId)]);
    return r === undefined ? null : probeFromRow(r);
  }

  /** Scheduled penalties executable at chain time `nowSec`, by job. */
  async penaltiesDue(nowSec: number): Promise<IndexedJob[]> {
    const rows = await this.sql.all(
      `SELECT * FROM compute_jobs WHERE penalty_status = 'scheduled' AND penalty_executable_at <= ? ORDER BY id`,
      [nowSec],
    );
    return rows.map(jobFromRow);
  }

  /** Directed jobs created by `customer` for `specHash` with block time in [fromSec, toSec), by id. */
  async directedJobs(
    customer: string,
    specHash: string,
    fromSec: number,
    toSec: number,
  ): Promise<IndexedJob[]> {
    const rows = await this.sql.all(
      `SELECT * FROM compute_jobs WHERE customer = ? AND spec_hash = ? AND directed_to IS NOT NULL
         AND created_at >= ? AND created_at < ? ORDER BY id`,
      [customer.toLowerCase(), specHash.toLowerCase(), fromSec, toSec],
    );
    return rows.map(jobFromRow);
  }

  /** Stores a check; false when this job was already checked (the first stays). */
  async putCheck(c: StoredCheck): Promise<boolean> {
    return (
      (await this.sql.run(
        `INSERT INTO compute_checks (job_id, outcome, reason, provider, committed_hash, evidence_hash, detail, checked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING`,
        [
          Number(c.jobId),
          c.outcome,
          c.reason,
          c.provider.toLowerCase(),
          c.committedHash.toLowerCase(),
          c.evidenceHash?.toLowerCase() ?? null,
          c.detail,
          c.checkedAt,
        ],
      )) > 0
    );
  }

  async check(jobId: bigint): Promise<StoredCheck | null> {
    const [r] = await this.sql.all("SELECT * FROM compute_checks WHERE job_id = ?", [Number(jobId)]);
    return r === undefined ? null : checkFromRow(r);
  }

  /** Checks, newest job first; `outcome` filters. */
  async checks(q: { outcome?: string; limit?: number } = {}): Promise<StoredCheck[]> {
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const rows = await this.sql.all(
      `SELECT * FROM compute_checks ${q.outcome !== undefined ? "WHERE outcome = ?" : ""} ORDER BY job_id DESC LIMIT ${limit}`,
      q.outcome !== undefined ? [q.outcome] : [],
    );
    return rows.map(checkFromRow);
  }

  /** Stores a signed verdict; false when one for the job and oracle set exists (the first stays). */
  async putVerdict(v: StoredVerdict): Promise<boolean> {
    return (
      (await this.sql.run(
        `INSERT INTO compute_verdicts (job_id, oracle_set_version, provider, reason, evidence_hash, prover,
           deadline, signer, signature, signed_at, submitted)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (job_id, oracle_set_version) DO NOTHING`,
        [
          Number(v.jobId),
          Number(v.oracleSetVersion),
          v.provider.toLowerCase(),
          v.reason,
          v.evidenceHash.toLowerCase(),
          v.prover.toLowerCase(),
          v.deadline.toString(),
          v.signer.toLowerCase(),
          v.signature.toLowerCase(),
          v.signedAt,
        ],
      )) > 0
    );
  }

  /** This oracle's verdicts on a job, newest oracle set first. */
  async verdicts(jobId: bigint): Promise<StoredVerdict[]> {
    const rows = await this.sql.all(
      "SELECT * FROM compute_verdicts WHERE job_id = ? ORDER BY oracle_set_version DESC",
      [Number(jobId)],
    );
    return rows.map(verdictFromRow);
  }

  /** Verdicts not yet submitted on jobs still awaiting one (no penalty indexed), by job. */
  async verdictsToSubmit(oracleSetVersion: bigint): Promise<StoredVerdict[]> {
    const rows = await this.sql.all(
      `SELECT v.* FROM compute_verdicts v JOIN compute_jobs j ON j.id = v.job_id
       WHERE v.oracle_set_version = ? AND v.submitted IS NULL AND j.penalty_status IS NULL
         AND j.status IN ('committed', 'disputed')
       ORDER BY v.job_id`,
      [Number(oracleSetVersion)],
    );
    return rows.map(verdictFromRow);
  }

  async markSubmitted(jobId: bigint, oracleSetVersion: bigint, outcome: string): Promise<void> {
    await this.sql.run(
      "UPDATE compute_verdicts SET submitted = ? WHERE job_id = ? AND oracle_set_version = ?",
      [outcome, Number(jobId), Number(oracleSetVersion)],
    );
  }
}
