/**
 * The storage oracle's tables (migration 7): StorageDeals' data sets, pieces and periods as the
 * indexer saw them, the indexer's cursor, and the retrieval probes' signed results. Every write is
 * idempotent (re-indexing a block range or re-probing a day changes nothing), so a crash between a
 * batch and its cursor is harmless.
 */
import type { SqlRow, StorageSql } from "./sql.js";

export type DataSetStatus = "proposed" | "active" | "terminated";

export interface IndexedDataSet {
  readonly id: bigint;
  readonly client: string;
  readonly provider: string;
  readonly deviceId: bigint;
  readonly status: DataSetStatus;
  /** Why it ended ("ByClient", "ByProvider", "Faults", "Mutual"), once terminated. */
  readonly endReason: string | null;
  /** Set by ProvingStarted (the first pieces). */
  readonly provingStarted: boolean;
}

export interface IndexedPiece {
  readonly dataSetId: bigint;
  readonly pieceIndex: number;
  readonly root: string;
  readonly size: number;
  readonly firstLeaf: bigint;
}

/** A period's on-chain record: its seed, what a proof paid, and how it was settled. */
export interface IndexedPeriod {
  readonly dataSetId: bigint;
  readonly period: bigint;
  readonly seed: string | null;
  /** Leaves the period challenges (ChallengeArmed; null: never armed). */
  readonly challengedLeaves: bigint | null;
  /** Credits paid by PossessionProven (null: not proven). */
  readonly paid: bigint | null;
  /** Block time (Unix s) of the proof (null: not proven). */
  readonly provenAt: number | null;
  /** PeriodSettled's outcome ("Proven", "Rescheduled", "DeclaredFault", "FreeMiss", "Faulted"). */
  readonly outcome: string | null;
  readonly fee: bigint | null;
}

export interface StoredRetrieval {
  readonly dataSetId: bigint;
  readonly day: bigint;
  readonly deviceId: bigint;
  readonly provider: string;
  readonly pieceRoot: string;
  readonly firstLeaf: bigint;
  readonly count: number;
  readonly outcome: string;
  readonly answerHash: string;
  /** Why it failed, in words (empty when ok). */
  readonly detail: string;
  readonly latencyMs: number;
  readonly probedAt: number;
  readonly signer: string;
  readonly signature: string;
}

const RETRIEVAL_COLUMNS =
  "data_set, day, device_id, provider, piece_root, first_leaf, count, outcome, answer_hash, detail, latency_ms, probed_at, signer, signature";

const int = (v: unknown): bigint => BigInt(v as string | number);
const num = (v: unknown): number => Number(v as string | number);

function dataSetFromRow(r: SqlRow): IndexedDataSet {
  return {
    id: int(r.id),
    client: r.client as string,
    provider: r.provider as string,
    deviceId: int(r.device_id),
    status: r.status as DataSetStatus,
    endReason: (r.end_reason as string | null) ?? null,
    provingStarted: num(r.proving_started) === 1,
  };
}

/** A result's values in RETRIEVAL_COLUMNS order. */
function retrievalValues(r: StoredRetrieval): (string | number)[] {
  return [
    Number(r.dataSetId),
    Number(r.day),
    r.deviceId.toString(),
    r.provider.toLowerCase(),
    r.pieceRoot.toLowerCase(),
    r.firstLeaf.toString(),
    r.count,
    r.outcome,
    r.answerHash,
    r.detail,
    r.latencyMs,
    r.probedAt,
    r.signer.toLowerCase(),
    r.signature,
  ];
}

function retrievalFromRow(r: SqlRow): StoredRetrieval {
  return {
    dataSetId: int(r.data_set),
    day: int(r.day),
    deviceId: int(r.device_id),
    provider: r.provider as string,
    pieceRoot: r.piece_root as string,
    firstLeaf: int(r.first_leaf),
    count: num(r.count),
    outcome: r.outcome as string,
    answerHash: r.answer_hash as string,
    detail: r.detail as string,
    latencyMs: num(r.latency_ms),
    probedAt: num(r.probed_at),
    signer: r.signer as string,
    signature: r.signature as string,
  };
}

export interface RetrievalQuery {
  readonly dataSetId?: bigint;
  readonly deviceId?: bigint;
  readonly provider?: string;
  /** Newest first, at most this many (default 100). */
  readonly limit?: number;
}

export class StorageStore {
  constructor(private readonly sql: StorageSql) {}

  /** The first block the indexer has not read (null: never ran). */
  async cursor(): Promise<number | null> {
    const [r] = await this.sql.all("SELECT next_block FROM storage_cursor WHERE name = 'deals'");
    return r === undefined ? null : num(r.next_block);
  }

  async setCursor(nextBlock: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO storage_cursor (name, next_block) VALUES ('deals', ?)
       ON CONFLICT (name) DO UPDATE SET next_block = excluded.next_block`,
      [nextBlock],
    );
  }

  async dataSetCreated(id: bigint, client: string, provider: string, deviceId: bigint): Promise<void> {
    await this.sql.run(
      `INSERT INTO storage_data_sets (id, client, provider, device_id, status, end_reason, proving_started)
       VALUES (?, ?, ?, ?, 'proposed', NULL, 0) ON CONFLICT (id) DO NOTHING`,
      [Number(id), client.toLowerCase(), provider.toLowerCase(), deviceId.toString()],
    );
  }

  async dataSetAccepted(id: bigint): Promise<void> {
    await this.sql.run(
      "UPDATE storage_data_sets SET status = 'active' WHERE id = ? AND status = 'proposed'",
      [Number(id)],
    );
  }

  async provingStarted(id: bigint): Promise<void> {
    await this.sql.run("UPDATE storage_data_sets SET proving_started = 1 WHERE id = ?", [Number(id)]);
  }

  async dataSetTerminated(id: bigint, reason: string): Promise<void> {
    await this.sql.run("UPDATE storage_data_sets SET status = 'terminated', end_reason = ? WHERE id = ?", [
      reason,
      Number(id),
    ]);
  }

  async pieceAdded(p: IndexedPiece): Promise<void> {
    await this.sql.run(
      `INSERT INTO storage_pieces (data_set, piece_index, root, size, first_leaf) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (data_set, piece_index) DO NOTHING`,
      [Number(p.dataSetId), p.pieceIndex, p.root.toLowerCase(), p.size, p.firstLeaf.toString()],
    );
  }

  private async touchPeriod(id: bigint, period: bigint): Promise<void> {
    await this.sql.run(
      "INSERT INTO storage_periods (data_set, period) VALUES (?, ?) ON CONFLICT (data_set, period) DO NOTHING",
      [Number(id), Number(period)],
    );
  }

  async seedRecorded(id: bigint, period: bigint, seed: string): Promise<void> {
    await this.touchPeriod(id, period);
    await this.sql.run("UPDATE storage_periods SET seed = ? WHERE data_set = ? AND period = ?", [
      seed.toLowerCase(),
      Number(id),
      Number(period),
    ]);
  }

  async challengeArmed(id: bigint, period: bigint, challengedLeaves: bigint): Promise<void> {
    await this.touchPeriod(id, period);
    await this.sql.run("UPDATE storage_periods SET challenged_leaves = ? WHERE data_set = ? AND period = ?", [
      challengedLeaves.toString(),
      Number(id),
      Number(period),
    ]);
  }

  async possessionProven(id: bigint, period: bigint, paid: bigint, provenAt: number): Promise<void> {
    await this.touchPeriod(id, period);
    await this.sql.run(
      "UPDATE storage_periods SET paid = ?, proven_at = ? WHERE data_set = ? AND period = ?",
      [paid.toString(), provenAt, Number(id), Number(period)],
    );
  }

  /** Periods proven with block time in [fromSec, toSec), with their data set's device, by data set and period. */
  async provenBetween(
    fromSec: number,
    toSec: number,
  ): Promise<
    { dataSetId: bigint; deviceId: bigint; provider: string; period: bigint; challengedLeaves: bigint }[]
  > {
    const rows = await this.sql.all(
      `SELECT p.data_set, p.period, p.challenged_leaves, d.device_id, d.provider
       FROM storage_periods p JOIN storage_data_sets d ON d.id = p.data_set
       WHERE p.proven_at >= ? AND p.proven_at < ? ORDER BY p.data_set, p.period`,
      [fromSec, toSec],
    );
    return rows.map((r) => ({
      dataSetId: int(r.data_set),
      deviceId: int(r.device_id),
      provider: r.provider as string,
      period: int(r.period),
      challengedLeaves: r.challenged_leaves === null ? 0n : int(r.challenged_leaves),
    }));
  }

  async periodSettled(id: bigint, period: bigint, outcome: string, fee: bigint): Promise<void> {
    await this.touchPeriod(id, period);
    await this.sql.run("UPDATE storage_periods SET outcome = ?, fee = ? WHERE data_set = ? AND period = ?", [
      outcome,
      fee.toString(),
      Number(id),
      Number(period),
    ]);
  }

  async dataSet(id: bigint): Promise<IndexedDataSet | null> {
    const [r] = await this.sql.all("SELECT * FROM storage_data_sets WHERE id = ?", [Number(id)]);
    return r === undefined ? null : dataSetFromRow(r);
  }

  /** Active data sets whose proving clock runs (they have pieces), by id. */
  async liveDataSets(): Promise<IndexedDataSet[]> {
    const rows = await this.sql.all(
      "SELECT * FROM storage_data_sets WHERE status = 'active' AND proving_started = 1 ORDER BY id",
    );
    return rows.map(dataSetFromRow);
  }

  async dataSets(): Promise<IndexedDataSet[]> {
    return (await this.sql.all("SELECT * FROM storage_data_sets ORDER BY id")).map(dataSetFromRow);
  }

  /** A data set's pieces in the order they were added. */
  async pieces(id: bigint): Promise<IndexedPiece[]> {
    const rows = await this.sql.all("SELECT * FROM storage_pieces WHERE data_set = ? ORDER BY piece_index", [
      Number(id),
    ]);
    return rows.map((r) => ({
      dataSetId: int(r.data_set),
      pieceIndex: num(r.piece_index),
      root: r.root as string,
      size: num(r.size),
      firstLeaf: int(r.first_leaf),
    }));
  }

  async periods(id: bigint): Promise<IndexedPeriod[]> {
    const rows = await this.sql.all("SELECT * FROM storage_periods WHERE data_set = ? ORDER BY period", [
      Number(id),
    ]);
    return rows.map((r) => ({
      dataSetId: int(r.data_set),
      period: int(r.period),
      seed: (r.seed as string | null) ?? null,
      challengedLeaves:
        r.challenged_leaves === null || r.challenged_leaves === undefined ? null : int(r.challenged_leaves),
      provenAt: r.proven_at === null || r.proven_at === undefined ? null : num(r.proven_at),
      paid: r.paid === null || r.paid === undefined ? null : int(r.paid),
      outcome: (r.outcome as string | null) ?? null,
      fee: r.fee === null || r.fee === undefined ? null : int(r.fee),
    }));
  }

  /** Stores a day's result; false when that data set's day was already probed (the first stays). */
  async putRetrieval(r: StoredRetrieval): Promise<boolean> {
    const changed = await this.sql.run(
      `INSERT INTO storage_retrievals (${RETRIEVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (data_set, day) DO NOTHING`,
      retrievalValues(r),
    );
    return changed > 0;
  }

  async retrieval(dataSetId: bigint, day: bigint): Promise<StoredRetrieval | null> {
    const [r] = await this.sql.all(
      `SELECT ${RETRIEVAL_COLUMNS} FROM storage_retrievals WHERE data_set = ? AND day = ?`,
      [Number(dataSetId), Number(day)],
    );
    return r === undefined ? null : retrievalFromRow(r);
  }

  /** Results, newest first (day, then data set, descending). */
  async retrievals(q: RetrievalQuery = {}): Promise<StoredRetrieval[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.dataSetId !== undefined) (where.push("data_set = ?"), params.push(Number(q.dataSetId)));
    if (q.deviceId !== undefined) (where.push("device_id = ?"), params.push(q.deviceId.toString()));
    if (q.provider !== undefined) (where.push("provider = ?"), params.push(q.provider.toLowerCase()));
    const limit = Math.max(1, Math.min(q.limit ?? 100, 1000));
    const rows = await this.sql.all(
      `SELECT ${RETRIEVAL_COLUMNS} FROM storage_retrievals ${where.length ? "WHERE " + where.join(" AND ") : ""}
       ORDER BY day DESC, data_set DESC LIMIT ${limit}`,
      params,
    );
    return rows.map(retrievalFromRow);
  }

  /** Stores a peer's signed result (agree.ts); false when that signer's result of the day is held. */
  async putPeerRetrieval(r: StoredRetrieval): Promise<boolean> {
    const changed = await this.sql.run(
      `INSERT INTO storage_peer_retrievals (${RETRIEVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (data_set, day, signer) DO NOTHING`,
      retrievalValues(r),
    );
    return changed > 0;
  }

  /**
   * Marks every signed result of days up to `lastDay` not yet folded by an epoch, own and peers', as
   * first folded by `epoch`'s close (migration 15). A result that arrives later is never read for
   * that epoch (setRetrievalsThrough), so its result set rebuilds and its usage reconciles from the
   * same results after the close; the next close folds it. One statement per table: a result stored
   * while the close runs is either marked or left for the next. Returns the results marked.
   */
  async foldRetrievals(lastDay: bigint, epoch: bigint): Promise<number> {
    let marked = 0;
    for (const table of ["storage_retrievals", "storage_peer_retrievals"])
      marked += await this.sql.run(`UPDATE ${table} SET folded_in = ? WHERE folded_in IS NULL AND day <= ?`, [
        Number(epoch),
        Number(lastDay),
      ]);
    return marked;
  }

  /**
   * Every signed result of days up to `lastDay` this oracle holds, its own and its peers' (agree.ts
   * picks one rule over them), by day, data set and signer: those folded by `epoch`'s close or an
   * earlier one (foldRetrievals).
   */
  async setRetrievalsThrough(lastDay: bigint, epoch: bigint): Promise<StoredRetrieval[]> {
    const folded = "day <= ? AND folded_in <= ?"; // NULL (not folded yet) compares as unknown: not read
    const rows = await this.sql.all(
      `SELECT ${RETRIEVAL_COLUMNS} FROM storage_retrievals WHERE ${folded}
       UNION SELECT ${RETRIEVAL_COLUMNS} FROM storage_peer_retrievals WHERE ${folded}
       ORDER BY day, data_set, signer`,
      [Number(lastDay), Number(epoch), Number(lastDay), Number(epoch)],
    );
    return rows.map(retrievalFromRow);
  }

  /** Every result of days up to `lastDay`, in score order: day, then data set, ascending. */
  async retrievalsThrough(lastDay: bigint): Promise<StoredRetrieval[]> {
    const rows = await this.sql.all(
      `SELECT ${RETRIEVAL_COLUMNS} FROM storage_retrievals WHERE day <= ?
       ORDER BY day, data_set`,
      [Number(lastDay)],
    );
    return rows.map(retrievalFromRow);
  }
}
