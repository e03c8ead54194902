/**
 * The provider agent's durable state: one row per job it holds, so a restart knows what it was doing.
 * One SQLite file (Node's built-in `node:sqlite`, as the hotspot agent's queue), WAL journal with
 * synchronous=FULL: a status change has reached the disk when the call returns.
 *
 *   accepted ─▶ running ─▶ done ─▶ committed
 *       │          │         │
 *       └──────────┴─────────┴──▶ given-up (reason) | closed (the job left Accepted on chain without us)
 *
 * `running` is written (and its attempt counted) before a run starts: a row found `running` at start
 * is a run the agent's crash cut short.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";

import { DatabaseSync } from "node:sqlite";

import type { Hex } from "@hexmesh/protocol";

export type ProviderJobStatus = "accepted" | "running" | "done" | "committed" | "given-up" | "closed";

/** Why the agent gave a job up (it will not commit it: the job expires, the customer is refunded). */
export const GIVE_UP_REASONS = {
  "deadline-too-close": "the deadline is nearer than commitMarginSec: a run could not commit in time",
  "crashed-repeatedly": "maxAttempts runs were cut short by crashes of the agent",
  "job-failed": "the runner refused or stopped the job (its JobError code is in the detail)",
  "content-unavailable":
    "the spec, program or input could not be fetched from any source before the deadline",
} as const;
export type GiveUpReason = keyof typeof GIVE_UP_REASONS;

export interface ProviderJob {
  readonly jobId: bigint;
  readonly deviceId: bigint;
  readonly specHash: Hex;
  readonly maxUnits: number;
  /** Unix seconds. */
  readonly deadline: number;
  readonly status: ProviderJobStatus;
  readonly attempts: number;
  readonly resultHash: Hex | null;
  readonly usedUnits: number | null;
  readonly outputBytes: number | null;
  readonly durationMs: number | null;
  readonly commitTx: string | null;
  readonly reason: string | null;
  readonly detail: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  max_units INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  result_hash TEXT,
  used_units INTEGER,
  output_bytes INTEGER,
  duration_ms INTEGER,
  commit_tx TEXT,
  reason TEXT,
  detail TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface Row {
  job_id: string;
  device_id: string;
  spec_hash: string;
  max_units: number;
  deadline: number;
  status: string;
  attempts: number;
  result_hash: string | null;
  used_units: number | null;
  output_bytes: number | null;
  duration_ms: number | null;
  commit_tx: string | null;
  reason: string | null;
  detail: string | null;
}

const fromRow = (r: Row): ProviderJob => ({
  jobId: BigInt(r.job_id),
  deviceId: BigInt(r.device_id),
  specHash: r.spec_hash as Hex,
  maxUnits: r.max_units,
  deadline: r.deadline,
  status: r.status as ProviderJobStatus,
  attempts: r.attempts,
  resultHash: r.result_hash as Hex | null,
  usedUnits: r.used_units,
  outputBytes: r.output_bytes,
  durationMs: r.duration_ms,
  commitTx: r.commit_tx,
  reason: r.reason,
  detail: r.detail,
});

export class ProviderState {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new DatabaseSync(file);
    // The running agent and the operator's `provider accept` share the file: wait for the other's
    // write instead of failing with "database is locked".
    this.db.exec("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** Records a job the provider holds (once: a known job is left as it is). */
  add(job: { jobId: bigint; deviceId: bigint; specHash: Hex; maxUnits: number; deadline: number }): void {
    this.db
      .prepare(
        `INSERT INTO jobs (job_id, device_id, spec_hash, max_units, deadline, status, updated_at)
         VALUES (?, ?, ?, ?, ?, 'accepted', ?) ON CONFLICT (job_id) DO NOTHING`,
      )
      .run(
        job.jobId.toString(),
        job.deviceId.toString(),
        job.specHash,
        job.maxUnits,
        job.deadline,
        Date.now(),
      );
  }

  get(jobId: bigint): ProviderJob | undefined {
    const row = this.db.prepare("SELECT * FROM jobs WHERE job_id = ?").get(jobId.toString()) as
      | Row
      | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Jobs in the given statuses, by job id. */
  list(statuses?: readonly ProviderJobStatus[]): ProviderJob[] {
    const rows = (statuses === undefined
      ? this.db.prepare("SELECT * FROM jobs").all()
      : this.db
          .prepare(`SELECT * FROM jobs WHERE status IN (${statuses.map(() => "?").join(",")})`)
          .all(...statuses)) as unknown as Row[];
    return rows.map(fromRow).sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
  }

  /** A run starts: counted before it runs, so a crash mid-run is seen at the next start. */
  startRun(jobId: bigint): void {
    this.set(jobId, "status = 'running', attempts = attempts + 1", []);
  }

  /** A run ended with an output held in the agent's blob store. */
  runDone(
    jobId: bigint,
    r: { resultHash: Hex; usedUnits: number; outputBytes: number; durationMs: number },
  ): void {
    this.set(jobId, "status = 'done', result_hash = ?, used_units = ?, output_bytes = ?, duration_ms = ?", [
      r.resultHash,
      r.usedUnits,
      r.outputBytes,
      Math.round(r.durationMs),
    ]);
  }

  committed(jobId: bigint, tx: string): void {
    this.set(jobId, "status = 'committed', commit_tx = ?", [tx]);
  }

  giveUp(jobId: bigint, reason: GiveUpReason, detail: string): void {
    this.set(jobId, "status = 'given-up', reason = ?, detail = ?", [reason, detail]);
  }

  /** The job left Accepted on chain without a commit of ours (expired or resolved elsewhere). */
  closed(jobId: bigint, detail: string): void {
    this.set(jobId, "status = 'closed', detail = ?", [detail]);
  }

  /** A problem worth showing that does not change the status (a failed fetch or transaction, retried). */
  note(jobId: bigint, detail: string): void {
    this.set(jobId, "detail = ?", [detail]);
  }

  getValue(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM state WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  setValue(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }

  private set(jobId: bigint, assignments: string, values: (string | number)[]): void {
    this.db
      .prepare(`UPDATE jobs SET ${assignments}, updated_at = ? WHERE job_id = ?`)
      .run(...values, Date.now(), jobId.toString());
  }
}
