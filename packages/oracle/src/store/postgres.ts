/**
 * PostgreSQL backend, for operators who outgrow one machine: several ingest processes may write
 * to one database. Every write is a single statement or one transaction, and the dedup rule is the
 * primary key (`INSERT ... ON CONFLICT (hash) DO NOTHING`), so two processes receiving the same
 * report store it once and both see the first receive time. Migrations take a transaction-scoped
 * advisory lock, so processes starting together migrate once.
 *
 * Durability: PostgreSQL's default synchronous_commit=on: COMMIT returns after the WAL is flushed,
 * so insertReports() resolving means the reports survive a crash of this process or of the server.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

import type { EntropyEntry, Hex } from "@hexmesh/protocol";

import { numberPlaceholders, type StorageSql } from "../storage/sql.js";
import { chainIndexFromRowsAsync, chainIndexRows } from "./chain-index.js";
import { fromJson, toJson } from "./json.js";
import { MIGRATIONS, MIGRATIONS_TABLE } from "./migrations.js";
import { PgClosePartitions, type ClosePartitions } from "./partitions.js";
import {
  closeFromRow,
  DEVICE_VERDICTS,
  DEVICE_VERDICTS_OF_EPOCH,
  entropyFromRow,
  INDEX_VERDICTS_BY_DEVICE,
  ownersOfRowAsync,
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
  verdictHexDigits,
  verdictKindCode,
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

async function latestCloseOf(c: pg.Pool | pg.PoolClient): Promise<EpochClose | null> {
  const r = await c.query("SELECT epoch, cutoff, started_at FROM epoch_closes ORDER BY cutoff DESC LIMIT 1");
  return r.rows.length === 0 ? null : closeFromRow(r.rows[0] as Row);
}

/** A text field as COPY's text format spells it (\N is NULL; backslash, tab, newline, CR escaped). */
function copyText(v: string | null): string {
  return v === null ? "\\N" : v.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!);
}
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/**
 * The verdicts as lines of COPY's text format in VERDICT_COLUMNS order, VERDICT_CHUNK rows per
 * string (bytea as \x hex); notes each verdict's epoch in `epochs`.
 */
function* verdictCopyChunks(verdicts: Iterable<VerdictRow>, epochs: Set<string>): Generator<string> {
  let chunk = "";
  let rows = 0;
  for (const v of verdicts) {
    const epoch = v.epoch.toString();
    epochs.add(epoch);
    const device = v.device === null ? "\\N" : `\\\\x${verdictHexDigits(v.device, "device")}`;
    chunk += `${epoch}\t${v.seq}\t\\\\x${verdictHexDigits(v.id, "id")}\t${device}\t${verdictKindCode(v.kind)}\t${v.receivedAt}\t${copyText(v.reason)}\t${copyText(v.detail)}\t${v.selected ? 1 : 0}\t${v.units}\n`;
    if (++rows === VERDICT_CHUNK) {
      yield chunk;
      chunk = "";
      rows = 0;
    }
  }
  if (chunk !== "") yield chunk;
}

/** Arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 0x4845584d; // "HEXM"
const VERDICT_CHUNK = 2_000;

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  readonly url: string;
  /** Pool size. Default 10. */
  readonly maxConnections?: number;
  /** Schema holding the tables (created if missing). Default: the server's search_path (public). */
  readonly schema?: string;
}

export class PostgresStore implements OracleStore {
  readonly backend = "postgres" as const;
  private readonly pool: pg.Pool;
  private readonly options: PostgresOptions;

  constructor(options: PostgresOptions) {
    this.options = options;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
    const schema = options.schema;
    if (schema !== undefined) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
      // Queries queue behind this on the new client, so every statement sees the schema.
      this.pool.on("connect", (c) => {
        c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(() => {}); // a concurrent creator won
        c.query(`SET search_path TO ${schema}`).catch(() => {});
      });
    }
  }

  /** The same database and schema, on one connection per reader. */
  readerConfig(): StoreConfig {
    const { url, schema } = this.options;
    return { backend: "postgres", url, maxConnections: 1, ...(schema !== undefined ? { schema } : {}) };
  }

  closePartitions(): ClosePartitions {
    return new PgClosePartitions(this.pool, (fn) => this.tx(fn));
  }

  storageSql(): StorageSql {
    return {
      all: (sql, params = []) => this.all(numberPlaceholders(sql), [...params]),
      run: async (sql, params = []) =>
        (await this.pool.query(numberPlaceholders(sql), [...params])).rowCount ?? 0,
    };
  }

  private async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  private async one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async migrate(): Promise<number> {
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await c.query(MIGRATIONS_TABLE);
      const done = new Set(
        (await c.query("SELECT version FROM schema_migrations")).rows.map((r: Row) => Number(r.version)),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const s of m.postgres ?? m.statements) await c.query(s);
        await c.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          Date.now(),
        ]);
      }
    });
    return this.schemaVersion();
  }

  async schemaVersion(): Promise<number> {
    await this.pool.query(MIGRATIONS_TABLE);
    const r = await this.one("SELECT MAX(version) AS v FROM schema_migrations");
    return r?.v === null || r?.v === undefined ? 0 : Number(r.v);
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  async insertReports(batch: readonly ReportInput[]): Promise<InsertedReport[]> {
    if (batch.length === 0) return [];
    return this.tx(async (c) => {
      // The gate row FOR SHARE: a close that begins (FOR UPDATE) waits for this batch to commit, and a
      // batch that gets here after the close began reads the close's cutoff below.
      await c.query("SELECT id FROM ingest_gate WHERE id = 1 FOR SHARE");
      const close = await latestCloseOf(c);
      const closed = (r: ReportInput) => close !== null && r.receivedAt < close.cutoff;
      const open = batch.filter((r) => !closed(r));
      // One multi-row statement: the new rows come back; the rest were stored before (or by another
      // process, whose committed row we then read).
      const inserted =
        open.length === 0
          ? { rows: [] as Row[] }
          : await c.query(
              `INSERT INTO reports (hash, raw, received_at, device, kind)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])
         ON CONFLICT (hash) DO NOTHING RETURNING hash`,
              [
                open.map((r) => r.hash),
                open.map((r) => r.raw),
                open.map((r) => r.receivedAt),
                open.map((r) => r.device),
                open.map((r) => r.kind),
              ],
            );
      const fresh = new Set(inserted.rows.map((r: Row) => String(r.hash)));
      const others = batch.filter((r) => !fresh.has(r.hash)).map((r) => r.hash);
      const prior = new Map<string, number>();
      if (others.length > 0) {
        const rows = await c.query("SELECT hash, received_at FROM reports WHERE hash = ANY($1::text[])", [
          others,
        ]);
        for (const r of rows.rows as Row[]) prior.set(String(r.hash), Number(r.received_at));
      }
      const seen = new Set<string>();
      return batch.map((r) => {
        const first = fresh.has(r.hash) && !seen.has(r.hash);
        seen.add(r.hash);
        if (first) return { hash: r.hash, receivedAt: r.receivedAt, duplicate: false };
        const stored = prior.get(r.hash);
        // A report in a closed range is refused unless it was stored before (then it is acknowledged).
        if (closed(r) && stored === undefined)
          return { hash: r.hash, receivedAt: r.receivedAt, duplicate: false, closed: close! };
        // Within one batch the first copy won; otherwise the stored row.
        const at = stored ?? batch.find((x) => x.hash === r.hash)!.receivedAt;
        return { hash: r.hash, receivedAt: at, duplicate: true };
      });
    });
  }

  async beginClose(close: EpochClose): Promise<EpochClose> {
    return this.tx(async (c) => {
      await c.query("SELECT id FROM ingest_gate WHERE id = 1 FOR UPDATE");
      await c.query(
        "INSERT INTO epoch_closes (epoch, cutoff, started_at) VALUES ($1, $2, $3) ON CONFLICT (epoch) DO NOTHING",
        [close.epoch.toString(), close.cutoff, close.startedAt],
      );
      const r = await c.query("SELECT epoch, cutoff, started_at FROM epoch_closes WHERE epoch = $1", [
        close.epoch.toString(),
      ]);
      return closeFromRow(r.rows[0] as Row);
    });
  }

  async latestClose(): Promise<EpochClose | null> {
    return latestCloseOf(this.pool);
  }

  async reportsReceivedBetween(
    fromMs: number,
    toMs: number,
    page?: { readonly after?: ReportCursor; readonly limit: number },
  ): Promise<StoredReport[]> {
    const select =
      "SELECT hash, raw, received_at, device, kind FROM reports WHERE received_at >= $1 AND received_at < $2";
    // COLLATE "C" in the order and the cursor, as in reports_by_time_c: one byte order on every server.
    const order = 'ORDER BY received_at, hash COLLATE "C"';
    const rows =
      page === undefined
        ? await this.all(`${select} ${order}`, [fromMs, toMs])
        : page.after === undefined
          ? await this.all(`${select} ${order} LIMIT $3`, [fromMs, toMs, page.limit])
          : await this.all(`${select} AND (received_at, hash COLLATE "C") > ($3, $4) ${order} LIMIT $5`, [
              fromMs,
              toMs,
              page.after.receivedAt,
              page.after.hash,
              page.limit,
            ]);
    return rows.map(reportFromRow);
  }

  async countReports(fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<number> {
    const r = await this.one(
      "SELECT COUNT(*) AS n FROM reports WHERE received_at >= $1 AND received_at < $2",
      [fromMs, toMs],
    );
    return Number(r?.n ?? 0);
  }

  async countDeviceReports(device: Hex, fromMs: number, toMs: number): Promise<number> {
    const r = await this.one(
      "SELECT COUNT(*) AS n FROM reports WHERE device = $1 AND received_at >= $2 AND received_at < $3",
      [device, fromMs, toMs],
    );
    return Number(r?.n ?? 0);
  }

  async getReport(hash: Hex): Promise<StoredReport | null> {
    const r = await this.one("SELECT hash, raw, received_at, device, kind FROM reports WHERE hash = $1", [
      hash,
    ]);
    return r === undefined ? null : reportFromRow(r);
  }

  async deleteReportsBetween(fromMs: number, toMs: number, limit: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM reports WHERE hash IN (SELECT hash FROM reports WHERE received_at >= $1 AND received_at < $2
       ORDER BY received_at, hash COLLATE "C" LIMIT $3)`,
      [fromMs, toMs, limit],
    );
    return r.rowCount ?? 0;
  }

  async recordPrune(pruned: PrunedEpoch): Promise<void> {
    await this.pool.query(
      `INSERT INTO epoch_prunes (${PRUNE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (epoch) DO NOTHING`,
      pruneToRow(pruned),
    );
  }

  async prunedEpochs(): Promise<PrunedEpoch[]> {
    return (await this.all(`SELECT ${PRUNE_COLUMNS} FROM epoch_prunes ORDER BY epoch`)).map(pruneFromRow);
  }

  async prunedOverlapping(fromMs: number, toMs: number): Promise<PrunedEpoch | null> {
    const r = await this.one(
      `SELECT ${PRUNE_COLUMNS} FROM epoch_prunes WHERE from_ms < $1 AND to_ms > $2 ORDER BY epoch LIMIT 1`,
      [toMs, fromMs],
    );
    return r === undefined ? null : pruneFromRow(r);
  }

  async putEntropy(entries: readonly EntropyEntry[]): Promise<void> {
    await this.tx(async (c) => {
      for (const e of entries) {
        await c.query(
          "INSERT INTO entropy (published_at, block_hash, value) VALUES ($1, $2, $3) ON CONFLICT (published_at) DO NOTHING",
          [e.timestamp, e.blockHash, e.value],
        );
        const { rows } = await c.query<{ value: string }>(
          "SELECT value FROM entropy WHERE published_at = $1",
          [e.timestamp],
        );
        if (rows[0]?.value !== e.value) {
          throw new StoreConflictError(
            `entropy at ${e.timestamp} is ${String(rows[0]?.value)}, not ${e.value}`,
          );
        }
      }
    });
  }

  async entropyBetween(fromSec: number, toSec: number): Promise<EntropyEntry[]> {
    const rows = await this.all(
      "SELECT published_at, block_hash, value FROM entropy WHERE published_at >= $1 AND published_at <= $2 ORDER BY published_at",
      [fromSec, toSec],
    );
    return rows.map(entropyFromRow);
  }

  async latestEntropy(): Promise<EntropyEntry | null> {
    const r = await this.one(
      "SELECT published_at, block_hash, value FROM entropy ORDER BY published_at DESC LIMIT 1",
    );
    return r === undefined ? null : entropyFromRow(r);
  }

  async putChainIndex(index: StoredChainIndex, work: WorkKind = "coverage"): Promise<void> {
    const rows = chainIndexRows(index);
    const epoch = index.epoch.toString();
    await this.tx(async (c) => {
      await c.query(
        "INSERT INTO chain_index (epoch, snapshot_block, data, work, device_chunks) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (work, epoch) DO UPDATE SET snapshot_block = excluded.snapshot_block, data = excluded.data, device_chunks = excluded.device_chunks",
        [epoch, index.snapshotBlock, rows.data, work, rows.chunks],
      );
      await c.query("DELETE FROM chain_index_devices WHERE work = $1 AND epoch = $2", [work, epoch]);
      for (let i = 0; i < rows.chunks; i++)
        await c.query("INSERT INTO chain_index_devices (work, epoch, chunk, data) VALUES ($1, $2, $3, $4)", [
          work,
          epoch,
          i,
          rows.chunk(i),
        ]);
    });
  }

  async getChainIndex(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredChainIndex | null> {
    const at = epoch.toString();
    // One snapshot for the row and its chunks, as one putChainIndex left them.
    return this.tx(async (c) => {
      await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const r = (
        await c.query("SELECT data, device_chunks FROM chain_index WHERE epoch = $1 AND work = $2", [
          at,
          work,
        ])
      ).rows[0] as Row | undefined;
      if (r === undefined) return null;
      return chainIndexFromRowsAsync(
        epoch,
        String(r.data),
        r.device_chunks === null ? null : Number(r.device_chunks),
        async (i) => {
          const chunk = (
            await c.query(
              "SELECT data FROM chain_index_devices WHERE work = $1 AND epoch = $2 AND chunk = $3",
              [work, at, i],
            )
          ).rows[0] as Row | undefined;
          return chunk === undefined ? undefined : String(chunk.data);
        },
      );
    });
  }

  async putEpochResult(
    result: StoredEpochResult,
    verdicts: Iterable<VerdictRow>,
    work: WorkKind = "coverage",
  ): Promise<void> {
    await this.tx(async (c) => {
      const { row: values, owners } = resultToRow(result);
      const ins = await c.query(
        `INSERT INTO epoch_results (${RESULT_COLUMNS}, work) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (work, epoch) DO NOTHING RETURNING epoch`,
        [...values, work],
      );
      if (ins.rowCount === 0) {
        const prior = (
          await c.query("SELECT root, data_hash FROM epoch_results WHERE epoch = $1 AND work = $2", [
            result.epoch.toString(),
            work,
          ])
        ).rows[0] as Row;
        if (prior.root !== result.root || prior.data_hash !== result.dataHash) {
          throw new StoreConflictError(
            `${work} epoch ${result.epoch} is stored with root ${String(prior.root)}, not ${result.root}`,
          );
        }
        return;
      }
      const at = result.epoch.toString();
      for (let i = 0; i < owners.chunks; i++)
        await c.query("INSERT INTO epoch_result_owners (work, epoch, chunk, data) VALUES ($1, $2, $3, $4)", [
          work,
          at,
          i,
          owners.chunk(i),
        ]);
      // One COPY of every verdict: the rows stream to the server as text lines while the close
      // builds them (backpressure: a few chunks in memory, never the epoch).
      const epochs = new Set<string>();
      await pipeline(
        Readable.from(verdictCopyChunks(verdicts, epochs)),
        c.query(copyFrom(`COPY verdicts (${VERDICT_COLUMNS}) FROM STDIN`)),
      );
      // Each epoch's index by device in one sorted pass, appended in key order (see migration 12).
      for (const epoch of epochs) await c.query(numberPlaceholders(INDEX_VERDICTS_BY_DEVICE), [epoch]);
      // Fresh statistics (a sample: ~0.1 s) so that a device's verdicts are read through the index
      // right away: with the counts of before the epoch (autovacuum comes later) the planner may
      // choose to scan the whole table (measured: 78 ms instead of 3 ms at 2M verdicts).
      if (epochs.size > 0) await c.query("ANALYZE verdicts, verdicts_by_device");
    });
  }

  async getEpochResult(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredEpochResult | null> {
    const at = epoch.toString();
    const r = await this.one(`SELECT ${RESULT_COLUMNS} FROM epoch_results WHERE epoch = $1 AND work = $2`, [
      at,
      work,
    ]);
    if (r === undefined) return null;
    const owners = await ownersOfRowAsync(r, work, async (i) => {
      const c = await this.one(
        "SELECT data FROM epoch_result_owners WHERE work = $1 AND epoch = $2 AND chunk = $3",
        [work, at, i],
      );
      return c === undefined ? undefined : String(c.data);
    });
    return resultFromRow(r, owners);
  }

  async listEpochs(limit: number, work: WorkKind = "coverage"): Promise<{ epoch: bigint; root: Hex }[]> {
    const rows = await this.all(
      "SELECT epoch, root FROM epoch_results WHERE work = $2 ORDER BY epoch DESC LIMIT $1",
      [limit, work],
    );
    return rows.map((r) => ({ epoch: BigInt(String(r.epoch)), root: String(r.root) as Hex }));
  }

  async deviceVerdicts(device: Hex, epoch: bigint | null, limit: number): Promise<VerdictRow[]> {
    const key = verdictDeviceKey(device);
    if (key === null) return [];
    const rows =
      epoch === null
        ? await this.all(numberPlaceholders(DEVICE_VERDICTS), [key, limit])
        : await this.all(numberPlaceholders(DEVICE_VERDICTS_OF_EPOCH), [epoch.toString(), key, limit]);
    return rows.map(verdictFromRow);
  }

  async putSignature(s: StoredSignature, work: WorkKind = "coverage"): Promise<void> {
    await this.pool.query(
      "INSERT INTO signatures (epoch, oracle_set_version, signer, signature, root, received_at, work) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (work, epoch, oracle_set_version, signer) DO NOTHING",
      [s.epoch.toString(), s.oracleSetVersion.toString(), s.signer, s.signature, s.root, s.receivedAt, work],
    );
  }

  async signatures(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredSignature[]> {
    const rows = await this.all(
      "SELECT epoch, oracle_set_version, signer, signature, root, received_at FROM signatures WHERE epoch = $1 AND work = $2 ORDER BY oracle_set_version, signer",
      [epoch.toString(), work],
    );
    return rows.map(signatureFromRow);
  }

  async setPostStatus(p: PostStatus, work: WorkKind = "coverage"): Promise<void> {
    await this.pool.query(
      `INSERT INTO posts (epoch, status, tx_hash, detail, updated_at, work) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (work, epoch) DO UPDATE SET status = excluded.status, tx_hash = excluded.tx_hash, detail = excluded.detail, updated_at = excluded.updated_at ${UPSERT_POST_WHERE}`,
      [p.epoch.toString(), p.status, p.txHash, p.detail, p.updatedAt, work],
    );
  }

  async getPostStatus(epoch: bigint, work: WorkKind = "coverage"): Promise<PostStatus | null> {
    const r = await this.one(
      "SELECT epoch, status, tx_hash, detail, updated_at FROM posts WHERE epoch = $1 AND work = $2",
      [epoch.toString(), work],
    );
    return r === undefined ? null : postFromRow(r);
  }

  async recordPostAttempt(a: Omit<PostAttempt, "seq">, work: WorkKind = "coverage"): Promise<PostAttempt> {
    // seq is the next one of the epoch in the same statement; two writers racing for the same
    // seq make one of them fail on the primary key, and it retries.
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.one(
          `INSERT INTO post_attempts (${POST_ATTEMPT_COLUMNS}, work) SELECT $1::BIGINT, COALESCE(MAX(seq), 0) + 1, $2::TEXT, $3::TEXT, $4::BIGINT, $5::TEXT, $6::TEXT, $7::BIGINT, $8::TEXT FROM post_attempts WHERE epoch = $1 AND work = $8 RETURNING seq`,
          [a.epoch.toString(), ...postAttemptValues(a), work],
        );
        return { ...a, seq: Number(r!.seq) };
      } catch (e) {
        if ((e as { code?: string }).code !== "23505" || attempt >= 5) throw e;
      }
    }
  }

  async postAttempts(epoch: bigint, work: WorkKind = "coverage"): Promise<PostAttempt[]> {
    const rows = await this.all(
      `SELECT ${POST_ATTEMPT_COLUMNS} FROM post_attempts WHERE epoch = $1 AND work = $2 ORDER BY seq`,
      [epoch.toString(), work],
    );
    return rows.map(postAttemptFromRow);
  }

  async insertReceipts(batch: readonly ReceiptInput[], budget: ReceiptBudget): Promise<ReceiptInsert[]> {
    if (batch.length === 0) return [];
    return this.tx(async (c) => {
      // The gate row FOR UPDATE: receipt batches and receipt closes of every process run one at a
      // time, so two ingest processes cannot both spend a router's last credits.
      await c.query("SELECT id FROM ingest_gate WHERE id = 1 FOR UPDATE");
      const closed = (await c.query("SELECT MAX(epoch) AS e FROM receipt_closes")).rows[0] as Row;
      const closedUpTo = closed.e === null ? null : BigInt(closed.e as string);
      const owed = new Map<Hex, bigint>();
      const out: ReceiptInsert[] = [];
      for (const r of batch) {
        if (closedUpTo !== null && r.epoch <= closedUpTo) {
          out.push("closed");
          continue;
        }
        const dup = await c.query("SELECT 1 FROM receipts WHERE router = $1 AND router_nonce = $2", [
          r.router,
          r.routerNonce.toString(),
        ]);
        if (dup.rows.length > 0) {
          out.push("duplicate");
          continue;
        }
        let before = owed.get(r.router);
        if (before === undefined) {
          const row = (
            await c.query(
              "SELECT COALESCE(SUM(credits), 0) AS owed FROM receipts WHERE router = $1 AND epoch >= $2",
              [r.router, budget.unsettledFrom.toString()],
            )
          ).rows[0] as Row;
          before = BigInt(row.owed as string);
        }
        const total = before + r.credits;
        if (total > (budget.spendable.get(r.router) ?? 0n)) {
          owed.set(r.router, before);
          out.push("over_balance");
          continue;
        }
        await c.query(
          `INSERT INTO receipts (${RECEIPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          receiptToRow(r),
        );
        owed.set(r.router, total);
        out.push("stored");
      }
      return out;
    });
  }

  async closeReceipts(epoch: bigint, at: number): Promise<void> {
    await this.tx(async (c) => {
      await c.query("SELECT id FROM ingest_gate WHERE id = 1 FOR UPDATE");
      await c.query(
        "INSERT INTO receipt_closes (epoch, closed_at) VALUES ($1, $2) ON CONFLICT (epoch) DO NOTHING",
        [epoch.toString(), at],
      );
    });
  }

  async latestReceiptClose(): Promise<bigint | null> {
    const r = await this.one("SELECT MAX(epoch) AS e FROM receipt_closes");
    return r?.e === null || r?.e === undefined ? null : BigInt(r.e as string);
  }

  async receiptsOfEpoch(epoch: bigint): Promise<StoredReceipt[]> {
    return (
      await this.all(`SELECT ${RECEIPT_COLUMNS} FROM receipts WHERE epoch = $1 ${RECEIPTS_OF_EPOCH_ORDER}`, [
        epoch.toString(),
      ])
    ).map(receiptFromRow);
  }

  async putSettlement(settlement: StoredSettlement): Promise<void> {
    await this.tx(async (c) => {
      await c.query(
        "INSERT INTO settlements (epoch, entries_hash, data, tx_hash, computed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (epoch) DO NOTHING",
        settlementToRow(settlement),
      );
      const r = (
        await c.query("SELECT entries_hash FROM settlements WHERE epoch = $1", [settlement.epoch.toString()])
      ).rows[0] as Row;
      if (r.entries_hash !== settlement.entriesHash)
        throw new StoreConflictError(`epoch ${settlement.epoch} already has a settlement with other entries`);
    });
  }

  async getSettlement(epoch: bigint): Promise<StoredSettlement | null> {
    const r = await this.one(
      "SELECT epoch, entries_hash, data, tx_hash, computed_at FROM settlements WHERE epoch = $1",
      [epoch.toString()],
    );
    return r === undefined ? null : settlementFromRow(r);
  }

  async setSettlementTx(epoch: bigint, txHash: string): Promise<void> {
    await this.pool.query("UPDATE settlements SET tx_hash = $1 WHERE epoch = $2", [txHash, epoch.toString()]);
  }

  async putSettlementSignature(s: StoredSettlementSignature): Promise<void> {
    await this.pool.query(
      "INSERT INTO settlement_signatures (epoch, oracle_set_version, signer, signature, entries_hash, received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (epoch, oracle_set_version, signer) DO NOTHING",
      [s.epoch.toString(), s.oracleSetVersion.toString(), s.signer, s.signature, s.entriesHash, s.receivedAt],
    );
  }

  async settlementSignatures(epoch: bigint): Promise<StoredSettlementSignature[]> {
    return (
      await this.all(
        "SELECT epoch, oracle_set_version, signer, signature, entries_hash, received_at FROM settlement_signatures WHERE epoch = $1 ORDER BY oracle_set_version, signer",
        [epoch.toString()],
      )
    ).map(settlementSignatureFromRow);
  }

  async counts(): Promise<StoreCounts> {
    const r = (await this.one(
      "SELECT (SELECT COUNT(*) FROM reports) AS reports, (SELECT COUNT(*) FROM entropy) AS entropy, (SELECT COUNT(*) FROM epoch_results) AS epochs, (SELECT COUNT(*) FROM signatures) AS signatures",
    ))!;
    return {
      reports: Number(r.reports),
      entropy: Number(r.entropy),
      epochs: Number(r.epochs),
      signatures: Number(r.signatures),
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
