/**
 * SQLite backend (the default: one file per oracle). Uses Node's built-in `node:sqlite`
 * (DatabaseSync): better-sqlite3 is the usual choice but cannot be built on our machines (no
 * Node 22 headers for node-gyp), and node:sqlite needs no native build at all.
 *
 * Durability: WAL journal with synchronous=FULL, so a COMMIT has reached the disk (fsync of the
 * WAL) before insertReports() resolves, and the API acknowledges a report only after that. Many
 * concurrent submissions are group-committed by the Ingestor (one transaction, one fsync).
 * The driver is synchronous: a transaction blocks the event loop while it runs, which is what
 * makes a batch atomic without locks here.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { EntropyEntry, Hex } from "@hexmesh/protocol";

import type { StorageSql } from "../storage/sql.js";
import { chainIndexFromRows, chainIndexRows } from "./chain-index.js";
import { fromJson, toJson } from "./json.js";
import { MIGRATIONS, MIGRATIONS_TABLE } from "./migrations.js";
import {
  closeFromRow,
  DEVICE_VERDICTS,
  DEVICE_VERDICTS_OF_EPOCH,
  entropyFromRow,
  INDEX_VERDICTS_BY_DEVICE,
  ownersOfRow,
  POST_ATTEMPT_COLUMNS,
  postAttemptFromRow,
  postAttemptValues,
  postFromRow,
  PRUNE_COLUMNS,
  pruneFromRow,
  pruneToRow,
  RECEIPT_COLUMNS,
  receiptFromRow,
  RECEIPTS_OF_EPOCH_ORDER,
  receiptToRow,
  reportFromRow,
  RESULT_COLUMNS,
  resultFromRow,
  resultToRow,
  settlementFromRow,
  settlementSignatureFromRow,
  settlementToRow,
  signatureFromRow,
  UPSERT_POST_WHERE,
  VERDICT_COLUMNS,
  verdictDeviceKey,
  verdictFromRow,
  verdictToRow,
} from "./rows.js";
import {
  StoreConflictError,
  type EpochClose,
  type InsertedReport,
  type OracleStore,
  type PostAttempt,
  type PostStatus,
  type PrunedEpoch,
  type ReceiptBudget,
  type ReceiptInput,
  type ReceiptInsert,
  type ReportCursor,
  type ReportInput,
  type StoreConfig,
  type StoreCounts,
  type StoredChainIndex,
  type StoredEpochResult,
  type StoredReceipt,
  type StoredReport,
  type StoredSettlement,
  type StoredSettlementSignature,
  type StoredSignature,
  type VerdictRow,
  type WorkKind,
} from "./types.js";

type Row = Record<string, unknown>;
/** Verdict rows per INSERT statement (10 parameters each, far below SQLite's 32,766). */
const VERDICT_ROWS_PER_INSERT = 200;
type Param = string | number | bigint | null | Uint8Array;

export interface SqliteOptions {
  /** File path (":memory:" for tests). */
  readonly path: string;
  /** Busy timeout for a second process on the same file, ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** SQLite's page cache, MiB (taken only as pages are read). Default 64. */
  readonly cacheMiB?: number;
}

export class SqliteStore implements OracleStore {
  readonly backend = "sqlite" as const;
  private readonly db: DatabaseSync;
  private readonly cache = new Map<string, StatementSync>();
  private readonly path: string;

  constructor(options: SqliteOptions) {
    this.path = options.path;
    this.db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5_000 });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec("PRAGMA foreign_keys = ON");
    // 64 MiB of page cache (SQLite's default is 2 MiB), taken only as pages are read: a close reads
    // a day of reports, and sorts an epoch's verdicts by device (the sorter's memory is the cache's).
    this.db.exec(`PRAGMA cache_size = -${Math.round((options.cacheMiB ?? 64) * 1024)}`);
  }

  private stmt(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** One machine: the close verifies in one process (worker threads), never in partitions. */
  closePartitions(): null {
    return null;
  }

  /** The same file (WAL: readers on other connections see every committed write); none in memory. */
  readerConfig(): StoreConfig | null {
    const p = this.path;
    return p === "" || p === ":memory:" || p.includes("mode=memory") || p.startsWith("file::memory:")
      ? null
      : { backend: "sqlite", path: p };
  }

  storageSql(): StorageSql {
    return {
      all: async (sql, params = []) => this.all(sql, ...params),
      run: async (sql, params = []) => this.run(sql, ...params),
    };
  }

  private all(sql: string, ...params: Param[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  private get(sql: string, ...params: Param[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  private run(sql: string, ...params: Param[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  /** Runs `fn` in one IMMEDIATE transaction (takes the write lock up front: no upgrade deadlock). */
  private tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  async migrate(): Promise<number> {
    this.db.exec(MIGRATIONS_TABLE);
    for (const m of MIGRATIONS) {
      this.tx(() => {
        if (this.get("SELECT 1 FROM schema_migrations WHERE version = ?", m.version) !== undefined) return;
        for (const s of m.statements) this.db.exec(s);
        this.run(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          m.version,
          m.name,
          Date.now(),
        );
      });
    }
    return this.schemaVersion();
  }

  async schemaVersion(): Promise<number> {
    this.db.exec(MIGRATIONS_TABLE);
    const r = this.get("SELECT MAX(version) AS v FROM schema_migrations");
    return r?.v === null || r?.v === undefined ? 0 : Number(r.v);
  }

  async ping(): Promise<void> {
    this.get("SELECT 1 AS one");
  }

  async insertReports(batch: readonly ReportInput[]): Promise<InsertedReport[]> {
    if (batch.length === 0) return [];
    // One synchronous transaction: no close can begin between reading the cutoff and the commit.
    return this.tx(() => {
      const close = this.closeRow();
      return batch.map((r) => {
        if (close !== null && r.receivedAt < close.cutoff) {
          // A report stored before the close stays acknowledged (duplicate); a new one is refused.
          const prior = this.get("SELECT received_at FROM reports WHERE hash = ?", r.hash);
          return prior !== undefined
            ? { hash: r.hash, receivedAt: Number(prior.received_at), duplicate: true }
            : { hash: r.hash, receivedAt: r.receivedAt, duplicate: false, closed: close };
        }
        const inserted = this.run(
          "INSERT INTO reports (hash, raw, received_at, device, kind) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
          r.hash,
          r.raw,
          r.receivedAt,
          r.device,
          r.kind,
        );
        if (inserted === 1) return { hash: r.hash, receivedAt: r.receivedAt, duplicate: false };
        const prior = this.get("SELECT received_at FROM reports WHERE hash = ?", r.hash)!;
        return { hash: r.hash, receivedAt: Number(prior.received_at), duplicate: true };
      });
    });
  }

  private closeRow(): EpochClose | null {
    const row = this.get("SELECT epoch, cutoff, started_at FROM epoch_closes ORDER BY cutoff DESC LIMIT 1");
    return row === undefined ? null : closeFromRow(row);
  }

  async beginClose(close: EpochClose): Promise<EpochClose> {
    return this.tx(() => {
      this.run(
        "INSERT INTO epoch_closes (epoch, cutoff, started_at) VALUES (?, ?, ?) ON CONFLICT (epoch) DO NOTHING",
        close.epoch,
        close.cutoff,
        close.startedAt,
      );
      return closeFromRow(
        this.get("SELECT epoch, cutoff, started_at FROM epoch_closes WHERE epoch = ?", close.epoch)!,
      );
    });
  }

  async latestClose(): Promise<EpochClose | null> {
    return this.closeRow();
  }

  async reportsReceivedBetween(
    fromMs: number,
    toMs: number,
    page?: { readonly after?: ReportCursor; readonly limit: number },
  ): Promise<StoredReport[]> {
    const select =
      "SELECT hash, raw, received_at, device, kind FROM reports WHERE received_at >= ? AND received_at < ?";
    const order = "ORDER BY received_at, hash";
    if (page === undefined) return this.all(`${select} ${order}`, fromMs, toMs).map(reportFromRow);
    // A row-value comparison: SQLite seeks reports_by_time (received_at, hash) to the cursor.
    const rows =
      page.after === undefined
        ? this.all(`${select} ${order} LIMIT ?`, fromMs, toMs, page.limit)
        : this.all(
            `${select} AND (received_at, hash) > (?, ?) ${order} LIMIT ?`,
            fromMs,
            toMs,
            page.after.receivedAt,
            page.after.hash,
            page.limit,
          );
    return rows.map(reportFromRow);
  }

  async countReports(fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<number> {
    const r = this.get(
      "SELECT COUNT(*) AS n FROM reports WHERE received_at >= ? AND received_at < ?",
      fromMs,
      toMs,
    );
    return Number(r?.n ?? 0);
  }

  async countDeviceReports(device: Hex, fromMs: number, toMs: number): Promise<number> {
    const r = this.get(
      "SELECT COUNT(*) AS n FROM reports WHERE device = ? AND received_at >= ? AND received_at < ?",
      device,
      fromMs,
      toMs,
    );
    return Number(r?.n ?? 0);
  }

  async getReport(hash: Hex): Promise<StoredReport | null> {
    const r = this.get("SELECT hash, raw, received_at, device, kind FROM reports WHERE hash = ?", hash);
    return r === undefined ? null : reportFromRow(r);
  }

  async deleteReportsBetween(fromMs: number, toMs: number, limit: number): Promise<number> {
    return this.tx(() =>
      this.run(
        "DELETE FROM reports WHERE hash IN (SELECT hash FROM reports WHERE received_at >= ? AND received_at < ? ORDER BY received_at, hash LIMIT ?)",
        fromMs,
        toMs,
        limit,
      ),
    );
  }

  async recordPrune(pruned: PrunedEpoch): Promise<void> {
    this.run(
      `INSERT INTO epoch_prunes (${PRUNE_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (epoch) DO NOTHING`,
      ...pruneToRow(pruned),
    );
  }

  async prunedEpochs(): Promise<PrunedEpoch[]> {
    return this.all(`SELECT ${PRUNE_COLUMNS} FROM epoch_prunes ORDER BY epoch`).map(pruneFromRow);
  }

  async prunedOverlapping(fromMs: number, toMs: number): Promise<PrunedEpoch | null> {
    const r = this.get(
      `SELECT ${PRUNE_COLUMNS} FROM epoch_prunes WHERE from_ms < ? AND to_ms > ? ORDER BY epoch LIMIT 1`,
      toMs,
      fromMs,
    );
    return r === undefined ? null : pruneFromRow(r);
  }

  async putEntropy(entries: readonly EntropyEntry[]): Promise<void> {
    this.tx(() => {
      for (const e of entries) {
        this.run(
          "INSERT INTO entropy (published_at, block_hash, value) VALUES (?, ?, ?) ON CONFLICT (published_at) DO NOTHING",
          e.timestamp,
          e.blockHash,
          e.value,
        );
        const stored = this.get("SELECT value FROM entropy WHERE published_at = ?", e.timestamp);
        if (stored?.value !== e.value) {
          throw new StoreConflictError(
            `entropy at ${e.timestamp} is ${String(stored?.value)}, not ${e.value}`,
          );
        }
      }
    });
  }

  async entropyBetween(fromSec: number, toSec: number): Promise<EntropyEntry[]> {
    return this.all(
      "SELECT published_at, block_hash, value FROM entropy WHERE published_at >= ? AND published_at <= ? ORDER BY published_at",
      fromSec,
      toSec,
    ).map(entropyFromRow);
  }

  async latestEntropy(): Promise<EntropyEntry | null> {
    const r = this.get(
      "SELECT published_at, block_hash, value FROM entropy ORDER BY published_at DESC LIMIT 1",
    );
    return r === undefined ? null : entropyFromRow(r);
  }

  async putChainIndex(index: StoredChainIndex, work: WorkKind = "coverage"): Promise<void> {
    const rows = chainIndexRows(index);
    const epoch = index.epoch.toString();
    this.tx(() => {
      this.run(
        "INSERT INTO chain_index (work, epoch, snapshot_block, data, device_chunks) VALUES (?, ?, ?, ?, ?) ON CONFLICT (work, epoch) DO UPDATE SET snapshot_block = excluded.snapshot_block, data = excluded.data, device_chunks = excluded.device_chunks",
        work,
        epoch,
        index.snapshotBlock,
        rows.data,
        rows.chunks,
      );
      this.run("DELETE FROM chain_index_devices WHERE work = ? AND epoch = ?", work, epoch);
      for (let i = 0; i < rows.chunks; i++)
        this.run(
          "INSERT INTO chain_index_devices (work, epoch, chunk, data) VALUES (?, ?, ?, ?)",
          work,
          epoch,
          i,
          rows.chunk(i),
        );
    });
  }

  async getChainIndex(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredChainIndex | null> {
    const at = epoch.toString();
    // One read transaction: the row and its chunks as one putChainIndex left them.
    this.db.exec("BEGIN");
    try {
      const r = this.get(
        "SELECT data, device_chunks FROM chain_index WHERE work = ? AND epoch = ?",
        work,
        at,
      );
      if (r === undefined) return null;
      return chainIndexFromRows(
        epoch,
        String(r.data),
        r.device_chunks === null ? null : Number(r.device_chunks),
        (i) => {
          const c = this.get(
            "SELECT data FROM chain_index_devices WHERE work = ? AND epoch = ? AND chunk = ?",
            work,
            at,
            i,
          );
          return c === undefined ? undefined : String(c.data);
        },
      );
    } finally {
      this.db.exec("COMMIT");
    }
  }

  async putEpochResult(
    result: StoredEpochResult,
    verdicts: Iterable<VerdictRow>,
    work: WorkKind = "coverage",
  ): Promise<void> {
    this.tx(() => {
      const prior = this.get(
        "SELECT root, data_hash FROM epoch_results WHERE work = ? AND epoch = ?",
        work,
        result.epoch.toString(),
      );
      if (prior !== undefined) {
        if (prior.root !== result.root || prior.data_hash !== result.dataHash) {
          throw new StoreConflictError(
            `${work} epoch ${result.epoch} is stored with root ${String(prior.root)}, not ${result.root}`,
          );
        }
        return;
      }
      const { row: values, owners } = resultToRow(result);
      this.run(
        `INSERT INTO epoch_results (work, ${RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        work,
        ...(values as Param[]),
      );
      const at = result.epoch.toString();
      for (let i = 0; i < owners.chunks; i++)
        this.run(
          "INSERT INTO epoch_result_owners (work, epoch, chunk, data) VALUES (?, ?, ?, ?)",
          work,
          at,
          i,
          owners.chunk(i),
        );
      // Many rows per statement: one native call (and one statement step) per VERDICT_ROWS_PER_INSERT
      // verdicts instead of one per verdict. Rows arrive in canonical order, so (epoch, seq) grows.
      const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      const insertOf = (n: number) =>
        this.stmt(`INSERT INTO verdicts (${VERDICT_COLUMNS}) VALUES ${Array(n).fill(row).join(", ")}`);
      const full = insertOf(VERDICT_ROWS_PER_INSERT);
      const epochs = new Set<string>();
      let params: Param[] = [];
      for (const v of verdicts) {
        const values = verdictToRow(v);
        epochs.add(values[0]);
        params.push(...values);
        if (params.length === VERDICT_ROWS_PER_INSERT * 10) {
          full.run(...params);
          params = [];
        }
      }
      if (params.length > 0) insertOf(params.length / 10).run(...params);
      // Then each epoch's index by device in one sorted pass (SQLite's external sorter: bounded
      // memory), appended in key order instead of one random insert per verdict.
      for (const epoch of epochs) this.run(INDEX_VERDICTS_BY_DEVICE, epoch);
    });
  }

  async getEpochResult(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredEpochResult | null> {
    const at = epoch.toString();
    const r = this.get(`SELECT ${RESULT_COLUMNS} FROM epoch_results WHERE work = ? AND epoch = ?`, work, at);
    if (r === undefined) return null;
    const owners = ownersOfRow(r, work, (i) => {
      const c = this.get(
        "SELECT data FROM epoch_result_owners WHERE work = ? AND epoch = ? AND chunk = ?",
        work,
        at,
        i,
      );
      return c === undefined ? undefined : String(c.data);
    });
    return resultFromRow(r, owners);
  }

  async listEpochs(limit: number, work: WorkKind = "coverage"): Promise<{ epoch: bigint; root: Hex }[]> {
    return this.all(
      "SELECT epoch, root FROM epoch_results WHERE work = ? ORDER BY epoch DESC LIMIT ?",
      work,
      limit,
    ).map((r) => ({
      epoch: BigInt(r.epoch as number),
      root: String(r.root) as Hex,
    }));
  }

  async deviceVerdicts(device: Hex, epoch: bigint | null, limit: number): Promise<VerdictRow[]> {
    const key = verdictDeviceKey(device);
    if (key === null) return [];
    const rows =
      epoch === null
        ? this.all(DEVICE_VERDICTS, key, limit)
        : this.all(DEVICE_VERDICTS_OF_EPOCH, epoch.toString(), key, limit);
    return rows.map(verdictFromRow);
  }

  async putSignature(s: StoredSignature, work: WorkKind = "coverage"): Promise<void> {
    this.run(
      "INSERT INTO signatures (work, epoch, oracle_set_version, signer, signature, root, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (work, epoch, oracle_set_version, signer) DO NOTHING",
      work,
      s.epoch.toString(),
      s.oracleSetVersion.toString(),
      s.signer,
      s.signature,
      s.root,
      s.receivedAt,
    );
  }

  async signatures(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredSignature[]> {
    return this.all(
      "SELECT epoch, oracle_set_version, signer, signature, root, received_at FROM signatures WHERE work = ? AND epoch = ? ORDER BY oracle_set_version, signer",
      work,
      epoch.toString(),
    ).map(signatureFromRow);
  }

  async setPostStatus(p: PostStatus, work: WorkKind = "coverage"): Promise<void> {
    this.run(
      `INSERT INTO posts (work, epoch, status, tx_hash, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (work, epoch) DO UPDATE SET status = excluded.status, tx_hash = excluded.tx_hash, detail = excluded.detail, updated_at = excluded.updated_at ${UPSERT_POST_WHERE}`,
      work,
      p.epoch.toString(),
      p.status,
      p.txHash,
      p.detail,
      p.updatedAt,
    );
  }

  async getPostStatus(epoch: bigint, work: WorkKind = "coverage"): Promise<PostStatus | null> {
    const r = this.get(
      "SELECT epoch, status, tx_hash, detail, updated_at FROM posts WHERE work = ? AND epoch = ?",
      work,
      epoch.toString(),
    );
    return r === undefined ? null : postFromRow(r);
  }

  async recordPostAttempt(a: Omit<PostAttempt, "seq">, work: WorkKind = "coverage"): Promise<PostAttempt> {
    return this.tx(() => {
      const seq =
        Number(
          this.get(
            "SELECT MAX(seq) AS n FROM post_attempts WHERE work = ? AND epoch = ?",
            work,
            a.epoch.toString(),
          )?.n ?? 0,
        ) + 1;
      this.run(
        `INSERT INTO post_attempts (work, ${POST_ATTEMPT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        work,
        a.epoch.toString(),
        seq,
        ...postAttemptValues(a),
      );
      return { ...a, seq };
    });
  }

  async postAttempts(epoch: bigint, work: WorkKind = "coverage"): Promise<PostAttempt[]> {
    return this.all(
      `SELECT ${POST_ATTEMPT_COLUMNS} FROM post_attempts WHERE work = ? AND epoch = ? ORDER BY seq`,
      work,
      epoch.toString(),
    ).map(postAttemptFromRow);
  }

  async insertReceipts(batch: readonly ReceiptInput[], budget: ReceiptBudget): Promise<ReceiptInsert[]> {
    if (batch.length === 0) return [];
    // One synchronous transaction: no receipt close and no other batch interleaves.
    return this.tx(() => {
      const closedUpTo = this.latestReceiptCloseSync();
      const owed = new Map<Hex, bigint>();
      const owedBy = (router: Hex): bigint => {
        let v = owed.get(router);
        if (v === undefined) {
          const r = this.get(
            "SELECT COALESCE(SUM(credits), 0) AS owed FROM receipts WHERE router = ? AND epoch >= ?",
            router,
            budget.unsettledFrom.toString(),
          );
          v = BigInt(r?.owed as number | bigint);
          owed.set(router, v);
        }
        return v;
      };
      return batch.map((r): ReceiptInsert => {
        if (closedUpTo !== null && r.epoch <= closedUpTo) return "closed";
        if (
          this.get(
            "SELECT 1 FROM receipts WHERE router = ? AND router_nonce = ?",
            r.router,
            r.routerNonce.toString(),
          ) !== undefined
        )
          return "duplicate";
        const total = owedBy(r.router) + r.credits;
        if (total > (budget.spendable.get(r.router) ?? 0n)) return "over_balance";
        this.run(
          `INSERT INTO receipts (${RECEIPT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          ...receiptToRow(r),
        );
        owed.set(r.router, total);
        return "stored";
      });
    });
  }

  private latestReceiptCloseSync(): bigint | null {
    const r = this.get("SELECT MAX(epoch) AS e FROM receipt_closes");
    return r?.e === null || r?.e === undefined ? null : BigInt(r.e as number | bigint);
  }

  async closeReceipts(epoch: bigint, at: number): Promise<void> {
    this.run(
      "INSERT INTO receipt_closes (epoch, closed_at) VALUES (?, ?) ON CONFLICT (epoch) DO NOTHING",
      epoch.toString(),
      at,
    );
  }

  async latestReceiptClose(): Promise<bigint | null> {
    return this.latestReceiptCloseSync();
  }

  async receiptsOfEpoch(epoch: bigint): Promise<StoredReceipt[]> {
    return this.all(
      `SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE epoch = ? ${RECEIPTS_OF_EPOCH_ORDER}`,
      epoch.toString(),
    ).map(receiptFromRow);
  }

  async putSettlement(settlement: StoredSettlement): Promise<void> {
    this.tx(() => {
      const prev = this.get(
        "SELECT entries_hash FROM settlements WHERE epoch = ?",
        settlement.epoch.toString(),
      );
      if (prev !== undefined) {
        if (prev.entries_hash !== settlement.entriesHash)
          throw new StoreConflictError(
            `epoch ${settlement.epoch} already has a settlement with other entries`,
          );
        return;
      }
      this.run(
        "INSERT INTO settlements (epoch, entries_hash, data, tx_hash, computed_at) VALUES (?, ?, ?, ?, ?)",
        ...settlementToRow(settlement),
      );
    });
  }

  async getSettlement(epoch: bigint): Promise<StoredSettlement | null> {
    const r = this.get(
      "SELECT epoch, entries_hash, data, tx_hash, computed_at FROM settlements WHERE epoch = ?",
      epoch.toString(),
    );
    return r === undefined ? null : settlementFromRow(r);
  }

  async setSettlementTx(epoch: bigint, txHash: string): Promise<void> {
    this.run("UPDATE settlements SET tx_hash = ? WHERE epoch = ?", txHash, epoch.toString());
  }

  async putSettlementSignature(s: StoredSettlementSignature): Promise<void> {
    this.run(
      "INSERT INTO settlement_signatures (epoch, oracle_set_version, signer, signature, entries_hash, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (epoch, oracle_set_version, signer) DO NOTHING",
      s.epoch.toString(),
      s.oracleSetVersion.toString(),
      s.signer,
      s.signature,
      s.entriesHash,
      s.receivedAt,
    );
  }

  async settlementSignatures(epoch: bigint): Promise<StoredSettlementSignature[]> {
    return this.all(
      "SELECT epoch, oracle_set_version, signer, signature, entries_hash, received_at FROM settlement_signatures WHERE epoch = ? ORDER BY oracle_set_version, signer",
      epoch.toString(),
    ).map(settlementSignatureFromRow);
  }

  async counts(): Promise<StoreCounts> {
    const n = (table: string) => Number(this.get(`SELECT COUNT(*) AS n FROM ${table}`)?.n ?? 0);
    return {
      reports: n("reports"),
      entropy: n("entropy"),
      epochs: n("epoch_results"),
      signatures: n("signatures"),
    };
  }

  async close(): Promise<void> {
    this.cache.clear();
    if (this.db.isOpen) this.db.close();
  }
}
