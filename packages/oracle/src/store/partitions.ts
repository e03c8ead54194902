/**
 * The partitions of a close verified by several worker processes on one PostgreSQL database
 * (service/partitions.ts). A partition is a slice [fromMs, toMs) of the epoch's read range of
 * receive times; a worker claims one with a lease (`SELECT … FOR UPDATE SKIP LOCKED`: two workers
 * never take the same row, and a claimer never waits behind another), renews the lease while it
 * verifies, and completes it by writing the partition's stage-1 records in the transaction that
 * marks it done, which succeeds only while its claim is the partition's current one. A worker that
 * dies (SIGKILL, lost machine) writes nothing: its lease runs out and the partition is claimed again.
 * Leases are on the database's clock, so workers on machines with skewed clocks agree on them.
 */
import { randomUUID } from "node:crypto";

import type pg from "pg";

/** A slice of an epoch's read range of receive times (Unix ms, [fromMs, toMs)). */
export interface PartitionSlice {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface PartitionClaim extends PartitionSlice {
  readonly epoch: bigint;
  readonly part: number;
  /** This claim's token: completing or renewing needs it to still be the partition's current claim. */
  readonly claim: string;
  readonly worker: string;
  /** Claims of this partition so far, this one included (more than 1: a worker before lost it). */
  readonly attempts: number;
}

export interface PartitionCounts {
  readonly partitions: number;
  readonly done: number;
  /** Claimed under a lease that has not run out. */
  readonly claimed: number;
  /** Reports verified in the done partitions. */
  readonly reports: number;
}

/** Thrown when a worker completes or renews a claim it no longer holds (its lease ran out and the partition was claimed again). */
export class StaleClaimError extends Error {
  override readonly name = "StaleClaimError";
}

export interface ClosePartitions {
  /**
   * Records the partitions of an epoch's close; idempotent: an epoch whose partitions exist keeps
   * them (a re-run of the close continues the same work). Returns the number of partitions.
   */
  open(epoch: bigint, slices: readonly PartitionSlice[]): Promise<number>;
  /** The epoch's partitions, or none when no partitioned close of it was opened here. */
  slices(epoch: bigint): Promise<PartitionSlice[]>;
  /**
   * Claims the first partition (of `epoch`, or of any epoch, oldest first) that is not done and not
   * under a live lease, for `leaseMs`; null when there is none to claim right now.
   */
  claim(worker: string, leaseMs: number, epoch?: bigint): Promise<PartitionClaim | null>;
  /** Extends the claim's lease; StaleClaimError when it is no longer this claim's. */
  renew(claim: PartitionClaim, leaseMs: number): Promise<void>;
  /**
   * Stores the partition's records (`reports` of them, in (receive time, hash) order) and marks it
   * done, in one transaction; StaleClaimError (nothing written) when the claim is no longer current.
   */
  complete(claim: PartitionClaim, reports: number, records: Uint8Array): Promise<void>;
  counts(epoch: bigint): Promise<PartitionCounts>;
  /** Epochs with a partition not done yet, oldest first. */
  openEpochs(): Promise<bigint[]>;
  /** The done partitions' records in partition order, one partition at a time. */
  records(
    epoch: bigint,
  ): AsyncGenerator<{ readonly part: number; readonly reports: number; readonly records: Uint8Array }>;
  /** Drops the records once the epoch's result is stored (the partitions stay, as a record of who did what). */
  release(epoch: bigint): Promise<void>;
}

type Row = Record<string, unknown>;

/** The database's clock, Unix ms. */
const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** One transaction on a client of the pool (PostgresStore's). */
export type PgTransaction = <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>;

export class PgClosePartitions implements ClosePartitions {
  constructor(
    private readonly pool: pg.Pool,
    private readonly tx: PgTransaction,
  ) {}

  async open(epoch: bigint, slices: readonly PartitionSlice[]): Promise<number> {
    if (slices.length === 0) throw new RangeError("a partitioned close needs at least one partition");
    await this.pool.query(
      `INSERT INTO close_partitions (epoch, part, from_ms, to_ms)
       SELECT $1, p, f, t FROM unnest($2::int[], $3::bigint[], $4::bigint[]) AS s(p, f, t)
       WHERE NOT EXISTS (SELECT 1 FROM close_partitions WHERE epoch = $1)
       ON CONFLICT DO NOTHING`,
      [epoch.toString(), slices.map((_, i) => i), slices.map((s) => s.fromMs), slices.map((s) => s.toMs)],
    );
    return (await this.slices(epoch)).length;
  }

  async slices(epoch: bigint): Promise<PartitionSlice[]> {
    const r = await this.pool.query(
      "SELECT from_ms, to_ms FROM close_partitions WHERE epoch = $1 ORDER BY part",
      [epoch.toString()],
    );
    return (r.rows as Row[]).map((x) => ({ fromMs: Number(x.from_ms), toMs: Number(x.to_ms) }));
  }

  async claim(worker: string, leaseMs: number, epoch?: bigint): Promise<PartitionClaim | null> {
    const claim = randomUUID();
    const r = await this.pool.query(
      `UPDATE close_partitions p
         SET claim = $1, worker = $2, lease_until = ${NOW_MS} + $3, attempts = p.attempts + 1
       FROM (
         SELECT epoch, part FROM close_partitions
         WHERE done_at IS NULL AND (lease_until IS NULL OR lease_until < ${NOW_MS})
           AND ($4::bigint IS NULL OR epoch = $4::bigint)
         ORDER BY epoch, part
         LIMIT 1
         FOR UPDATE SKIP LOCKED
       ) free
       WHERE p.epoch = free.epoch AND p.part = free.part
       RETURNING p.epoch, p.part, p.from_ms, p.to_ms, p.attempts`,
      [claim, worker, Math.round(leaseMs), epoch === undefined ? null : epoch.toString()],
    );
    const row = r.rows[0] as Row | undefined;
    if (row === undefined) return null;
    return {
      epoch: BigInt(row.epoch as string),
      part: Number(row.part),
      fromMs: Number(row.from_ms),
      toMs: Number(row.to_ms),
      claim,
      worker,
      attempts: Number(row.attempts),
    };
  }

  /** Locks the claim's row; StaleClaimError unless the claim is still current and the partition not done. */
  private async hold(c: pg.PoolClient, claim: PartitionClaim): Promise<void> {
    const r = await c.query(
      "SELECT claim, worker, done_at FROM close_partitions WHERE epoch = $1 AND part = $2 FOR UPDATE",
      [claim.epoch.toString(), claim.part],
    );
    const row = r.rows[0] as Row | undefined;
    if (row === undefined || row.claim !== claim.claim || row.done_at !== null)
      throw new StaleClaimError(
        `partition ${claim.part} of epoch ${claim.epoch} is no longer claimed by ${claim.worker} ` +
          (row === undefined
            ? "(the partition is gone)"
            : row.done_at !== null
              ? `(done by ${String(row.worker)})`
              : `(claimed again by ${String(row.worker)} after this claim's lease ran out)`) +
          ": its work is dropped",
      );
  }

  async renew(claim: PartitionClaim, leaseMs: number): Promise<void> {
    await this.tx(async (c) => {
      await this.hold(c, claim);
      await c.query(
        `UPDATE close_partitions SET lease_until = ${NOW_MS} + $3 WHERE epoch = $1 AND part = $2`,
        [claim.epoch.toString(), claim.part, Math.round(leaseMs)],
      );
    });
  }

  async complete(claim: PartitionClaim, reports: number, records: Uint8Array): Promise<void> {
    await this.tx(async (c) => {
      await this.hold(c, claim);
      await c.query(
        `UPDATE close_partitions SET done_at = ${NOW_MS}, lease_until = NULL, reports = $3, records = $4
         WHERE epoch = $1 AND part = $2`,
        [
          claim.epoch.toString(),
          claim.part,
          reports,
          Buffer.from(records.buffer, records.byteOffset, records.byteLength),
        ],
      );
    });
  }

  async counts(epoch: bigint): Promise<PartitionCounts> {
    const r = await this.pool.query(
      `SELECT COUNT(*) AS partitions,
              COUNT(done_at) AS done,
              COUNT(*) FILTER (WHERE done_at IS NULL AND lease_until >= ${NOW_MS}) AS claimed,
              COALESCE(SUM(reports), 0) AS reports
       FROM close_partitions WHERE epoch = $1`,
      [epoch.toString()],
    );
    const row = r.rows[0] as Row;
    return {
      partitions: Number(row.partitions),
      done: Number(row.done),
      claimed: Number(row.claimed),
      reports: Number(row.reports),
    };
  }

  async openEpochs(): Promise<bigint[]> {
    const r = await this.pool.query(
      "SELECT DISTINCT epoch FROM close_partitions WHERE done_at IS NULL ORDER BY epoch",
    );
    return (r.rows as Row[]).map((x) => BigInt(x.epoch as string));
  }

  async *records(
    epoch: bigint,
  ): AsyncGenerator<{ readonly part: number; readonly reports: number; readonly records: Uint8Array }> {
    const parts = await this.pool.query("SELECT part FROM close_partitions WHERE epoch = $1 ORDER BY part", [
      epoch.toString(),
    ]);
    for (const { part } of parts.rows as Row[]) {
      const r = await this.pool.query(
        "SELECT reports, records, done_at FROM close_partitions WHERE epoch = $1 AND part = $2",
        [epoch.toString(), part],
      );
      const row = r.rows[0] as Row;
      if (row.done_at === null || row.records === null)
        throw new Error(`partition ${String(part)} of epoch ${epoch} has no records (not done, or released)`);
      yield { part: Number(part), reports: Number(row.reports), records: row.records as Buffer };
    }
  }

  async release(epoch: bigint): Promise<void> {
    await this.pool.query("UPDATE close_partitions SET records = NULL WHERE epoch = $1", [epoch.toString()]);
  }
}
