/**
 * The agent's durable outbox: every signed report waits here, once per oracle, until that oracle
 * has answered for it (accepted, duplicate or refused), so nothing signed is lost across crashes,
 * restarts or oracle outages. One SQLite file (Node's built-in `node:sqlite`, as the oracle's store:
 * no native build), WAL journal with synchronous=FULL: enqueue() has reached the disk when it
 * returns, before the beacon goes on the air.
 *
 * Also kept here: the last beacon window (so a restart does not beacon twice in one window) and a
 * log of the oracles' answers (what `hexmesh-hotspot status` shows, refusals with their codes).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

export interface QueuedReport {
  readonly id: number;
  readonly oracle: string;
  readonly report: string;
  readonly attempts: number;
}

export type Outcome = "accepted" | "duplicate" | "refused";

export interface QueueCounts {
  readonly pending: number;
  readonly accepted: number;
  readonly duplicate: number;
  readonly refused: number;
}

export interface RefusedReport {
  readonly oracle: string;
  readonly report: string;
  readonly code: string;
  readonly detail: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  oracle TEXT NOT NULL,
  report TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  UNIQUE (oracle, report)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (oracle, next_at, id);
CREATE TABLE IF NOT EXISTS answers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  oracle TEXT NOT NULL,
  report TEXT NOT NULL,
  outcome TEXT NOT NULL,
  code TEXT,
  detail TEXT,
  answered_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** next_at of a report that is not to be sent yet. */
const HELD = Number.MAX_SAFE_INTEGER;

export class ReportQueue {
  private readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();

  /** Opens (or creates) the queue file; ":memory:" for a throwaway queue. */
  constructor(path: string) {
    this.db = new DatabaseSync(path, { timeout: 5_000 });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    this.db.exec(SCHEMA);
  }

  private stmt(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private transaction<T>(fn: () => T): T {
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

  /**
   * Queues `report` for every oracle, in one transaction with `state` (e.g. the beacon window), so a
   * crash leaves both or neither. The same text twice for one oracle is queued once.
   */
  enqueue(
    report: string,
    oracles: readonly string[],
    now: number,
    options: { readonly state?: Record<string, string>; readonly held?: boolean } = {},
  ): void {
    this.transaction(() => {
      const insert = this.stmt(
        "INSERT OR IGNORE INTO outbox (oracle, report, created_at, next_at) VALUES (?, ?, ?, ?)",
      );
      for (const oracle of oracles) insert.run(oracle, report, now, options.held === true ? HELD : 0);
      for (const [k, v] of Object.entries(options.state ?? {})) this.setState(k, v);
    });
  }

  /** A held report (a beacon before its radio confirmed the transmission) becomes due. */
  release(report: string): void {
    this.stmt("UPDATE outbox SET next_at = 0 WHERE report = ? AND next_at = ?").run(report, HELD);
  }

  /** A held report whose transmission failed is dropped, and `state` restored, atomically. */
  discard(report: string, state: Record<string, string>): void {
    this.transaction(() => {
      this.stmt("DELETE FROM outbox WHERE report = ? AND next_at = ?").run(report, HELD);
      for (const [k, v] of Object.entries(state)) this.setState(k, v);
    });
  }

  /**
   * After a crash: held reports may have gone on the air; submitting them is harmless (a beacon
   * nobody heard earns nothing), losing them is not. Returns how many were released.
   */
  releaseAllHeld(): number {
    return Number(this.stmt("UPDATE outbox SET next_at = 0 WHERE next_at = ?").run(HELD).changes);
  }

  /** Up to `limit` reports for `oracle` due at `now`, oldest first. */
  due(oracle: string, now: number, limit: number): QueuedReport[] {
    return this.stmt(
      "SELECT id, oracle, report, attempts FROM outbox WHERE oracle = ? AND next_at <= ? ORDER BY id LIMIT ?",
    )
      .all(oracle, now, limit)
      .map((r) => ({
        id: Number(r.id),
        oracle: String(r.oracle),
        report: String(r.report),
        attempts: Number(r.attempts),
      }));
  }

  /** The oracle answered for these reports: out of the outbox, into the answer log, atomically. */
  answered(
    answers: readonly {
      readonly item: QueuedReport;
      readonly outcome: Outcome;
      readonly code?: string;
      readonly detail?: string;
    }[],
    now: number,
  ): void {
    this.transaction(() => {
      const del = this.stmt("DELETE FROM outbox WHERE id = ?");
      const log = this.stmt(
        "INSERT INTO answers (oracle, report, outcome, code, detail, answered_at) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const a of answers) {
        del.run(a.item.id);
        log.run(a.item.oracle, a.item.report, a.outcome, a.code ?? null, a.detail ?? null, now);
      }
    });
  }

  /** These reports stay queued; the next attempt waits until `nextAt`. */
  retryLater(items: readonly QueuedReport[], nextAt: number, error: string): void {
    this.transaction(() => {
      const upd = this.stmt(
        "UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?",
      );
      for (const item of items) upd.run(nextAt, error, item.id);
    });
  }

  /** Earliest next attempt among queued reports (null when the outbox is empty). */
  nextDue(): number | null {
    const row = this.stmt("SELECT MIN(next_at) AS t FROM outbox WHERE next_at < ?").get(HELD);
    return row?.t === null || row?.t === undefined ? null : Number(row.t);
  }

  counts(): QueueCounts {
    const pending = Number(this.stmt("SELECT COUNT(*) AS n FROM outbox").get()!.n);
    const by = new Map(
      this.stmt("SELECT outcome, COUNT(*) AS n FROM answers GROUP BY outcome")
        .all()
        .map((r) => [String(r.outcome), Number(r.n)]),
    );
    return {
      pending,
      accepted: by.get("accepted") ?? 0,
      duplicate: by.get("duplicate") ?? 0,
      refused: by.get("refused") ?? 0,
    };
  }

  refused(limit = 100): RefusedReport[] {
    return this.stmt(
      "SELECT oracle, report, code, detail FROM answers WHERE outcome = 'refused' ORDER BY id DESC LIMIT ?",
    )
      .all(limit)
      .map((r) => ({
        oracle: String(r.oracle),
        report: String(r.report),
        code: String(r.code ?? ""),
        detail: String(r.detail ?? ""),
      }));
  }

  /** Report texts an oracle accepted (or already had), oldest first. */
  delivered(oracle: string): string[] {
    return this.stmt(
      "SELECT report FROM answers WHERE oracle = ? AND outcome IN ('accepted', 'duplicate') ORDER BY id",
    )
      .all(oracle)
      .map((r) => String(r.report));
  }

  getState(key: string): string | undefined {
    const row = this.stmt("SELECT value FROM state WHERE key = ?").get(key);
    return row === undefined ? undefined : String(row.value);
  }

  setState(key: string, value: string): void {
    this.stmt(
      "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(key, value);
  }

  close(): void {
    this.db.close();
  }
}
