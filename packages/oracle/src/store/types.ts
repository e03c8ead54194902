/**
 * The oracle's persistent store: one interface, two backends (SQLite by default, PostgreSQL for
 * operators with several ingest processes). It holds what an oracle must never lose or recompute
 * differently: the reports it acknowledged (raw signed text, receive time; stored once per report
 * hash), the entropy it published, the chain index snapshot of each epoch, each epoch's result,
 * the EpochRoot signatures gathered and the post status.
 *
 * Every method is async so the two backends share one contract (test/service/store.test.ts runs
 * the same suite against both).
 */
import type { ChainIndex, EntropyEntry, Hex, ReceivedReport } from "@hexmesh/protocol";

import type { StorageSql } from "../storage/sql.js";
import type { ClosePartitions } from "./partitions.js";

/** Where the store is: the configured backend and its location (config.ts `store`). */
export type StoreConfig =
  | { readonly backend: "sqlite"; readonly path: string }
  | {
      readonly backend: "postgres";
      readonly url: string;
      readonly maxConnections?: number;
      readonly schema?: string;
    };

/** The kinds of work an oracle closes epochs for (each its subnetwork, distributor and verifier). */
export const WORK_KINDS = ["coverage", "storage", "compute"] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

export interface ReportInput {
  /** keccak256 of the raw text: the dedup key. */
  readonly hash: Hex;
  readonly raw: string;
  /** Oracle receive time, Unix ms. */
  readonly receivedAt: number;
  /** Key id the report names. */
  readonly device: Hex;
  readonly kind: "beacon" | "witness";
}

export interface InsertedReport {
  readonly hash: Hex;
  /** The stored receive time (the first one, for a duplicate). */
  readonly receivedAt: number;
  /** Already stored before this call (or earlier in the same batch). */
  readonly duplicate: boolean;
  /**
   * Not stored: its receive time falls before the cutoff of an epoch that is closed or closing
   * (the report would never be verified). Never set on a duplicate: a stored report stays acknowledged.
   */
  readonly closed?: EpochClose;
}

/**
 * An epoch's close has begun (and perhaps finished): reports received before `cutoff` are no longer
 * stored, so the close reads a range that cannot change under it.
 */
export interface EpochClose {
  readonly epoch: bigint;
  /** Unix ms: no report received before this is stored any more. */
  readonly cutoff: number;
  /** When the close began (Unix ms, the closing process's clock). */
  readonly startedAt: number;
}

export interface StoredReport extends ReceivedReport {
  readonly hash: Hex;
  readonly device: Hex;
  readonly kind: "beacon" | "witness";
}

/** A keyset position in the (receive time, hash) order: a page starts after it. */
export interface ReportCursor {
  readonly receivedAt: number;
  readonly hash: Hex;
}

/** An epoch whose raw reports were deleted (retention): the receive times [fromMs, toMs) deleted. */
export interface PrunedEpoch {
  readonly epoch: bigint;
  readonly fromMs: number;
  readonly toMs: number;
  /** Reports deleted by the run that recorded the prune (one cut short deleted the rest before). */
  readonly reports: number;
  readonly prunedAt: number;
}

/** A chain index snapshot as the oracle computed an epoch from it. */
export type StoredChainIndex = ChainIndex & { readonly snapshotBlock: number; readonly funded: bigint };

export interface EpochSummary {
  readonly reports: number;
  readonly valid: number;
  readonly beacons: number;
  readonly witnesses: number;
  /** Refusals by reason code. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly devices: number;
  readonly owners: number;
  readonly pool: string;
  readonly distributed: string;
  readonly dust: string;
  /** Usage rewards (decimal strings), when the epoch has usage records (rewards/usage.ts). */
  readonly usage?: UsageSummary;
}

export interface UsageSummary {
  readonly shareBps: number;
  readonly feeBps: number;
  readonly price: string;
  readonly usagePool: string;
  readonly totalValue: string;
  readonly paid: string;
  /** By ascending address. */
  readonly providers: readonly {
    readonly provider: Hex;
    readonly credits: string;
    readonly value: string;
    readonly reward: string;
  }[];
}

export interface OwnerAmount {
  readonly owner: Hex;
  /** This epoch. */
  readonly amount: bigint;
  /** Lifetime total: the Merkle leaf. */
  readonly cumulative: bigint;
}

export interface StoredEpochResult {
  readonly epoch: bigint;
  readonly root: Hex;
  readonly totalCumulative: bigint;
  readonly dataHash: Hex;
  readonly snapshotBlock: number;
  readonly summary: EpochSummary;
  /** Owners with a positive cumulative amount, sorted by address. */
  readonly owners: readonly OwnerAmount[];
  readonly computedAt: number;
}

export interface VerdictRow {
  readonly epoch: bigint;
  /** Position in the canonical order. */
  readonly seq: number;
  /** EIP-712 digest of the report. */
  readonly id: Hex;
  readonly device: Hex | null;
  readonly kind: "malformed" | "beacon" | "witness";
  readonly receivedAt: number;
  /** null = valid. */
  readonly reason: string | null;
  readonly detail: string | null;
  readonly selected: boolean;
  /** HIP-15 units, 18 decimals. */
  readonly units: bigint;
}

export interface StoredSignature {
  readonly epoch: bigint;
  readonly oracleSetVersion: bigint;
  readonly signer: Hex;
  readonly signature: Hex;
  /** Root that was signed (a signature of another root for the same epoch is refused). */
  readonly root: Hex;
  readonly receivedAt: number;
}

export type PostState = "pending" | "posted" | "skipped" | "failed";

export interface PostStatus {
  readonly epoch: bigint;
  readonly status: PostState;
  readonly txHash: string | null;
  readonly detail: string | null;
  readonly updatedAt: number;
}

/** One post attempt, as it ended: what `post` sent (or found) and what became of it. */
export interface PostAttempt {
  readonly epoch: bigint;
  /** 1, 2, ... per epoch, in the order the attempts were recorded (assigned by the store). */
  readonly seq: number;
  readonly outcome: Exclude<PostState, "pending">;
  /** The postRoot transaction (posted), null when nothing was sent or it is unknown. */
  readonly txHash: string | null;
  /** Block of the posting transaction (posted). */
  readonly block: number | null;
  /** Receipt gasUsed (posted). */
  readonly gasUsed: bigint | null;
  /** skipped: the epoch's state on chain ("already pending"); failed: the error. */
  readonly detail: string | null;
  readonly attemptedAt: number;
}

/** A verified packet receipt as ingest stores it (priced at the epoch's price per packet). */
export interface ReceiptInput {
  readonly router: Hex;
  readonly routerNonce: bigint;
  /** The epoch its time falls in. */
  readonly epoch: bigint;
  /** The carrying hotspot's device id. */
  readonly hotspot: bigint;
  /** What it costs the router (credits). */
  readonly credits: bigint;
  /** Its wire form as JSON text. */
  readonly raw: string;
  /** Oracle receive time, Unix ms. */
  readonly receivedAt: number;
}

export type StoredReceipt = ReceiptInput;

/**
 * The outcome of one receipt of a batch: stored; a duplicate (its router nonce is stored already);
 * closed (its epoch's receipts are closed here); over_balance (the router's spendable credits cannot
 * cover it together with its stored receipts of the unsettled epochs).
 */
export type ReceiptInsert = "stored" | "duplicate" | "closed" | "over_balance";

/** What insertReceipts checks each router against. */
export interface ReceiptBudget {
  /** The first epoch not settled on chain: stored receipts from it on are still to be paid. */
  readonly unsettledFrom: bigint;
  /** Per router (lowercase): min(credits balance, the settlement's allowance), read from chain. */
  readonly spendable: ReadonlyMap<Hex, bigint>;
}

/** An epoch's data-transfer settlement as this oracle built it (immutable once stored). */
export interface StoredSettlement {
  readonly epoch: bigint;
  readonly entriesHash: Hex;
  readonly entries: readonly { readonly router: Hex; readonly provider: Hex; readonly credits: bigint }[];
  /** Receipts read, and those left out because their hotspot has no owner at the epoch's snapshot. */
  readonly receipts: number;
  readonly unknownHotspot: number;
  readonly credits: bigint;
  readonly creditsPerPacket: bigint;
  readonly snapshotBlock: number;
  /** The settle transaction once it landed (or the one found on chain), else null. */
  readonly txHash: string | null;
  readonly computedAt: number;
}

export interface StoredSettlementSignature {
  readonly epoch: bigint;
  readonly oracleSetVersion: bigint;
  readonly signer: Hex;
  readonly signature: Hex;
  readonly entriesHash: Hex;
  readonly receivedAt: number;
}

export interface StoreCounts {
  readonly reports: number;
  readonly entropy: number;
  readonly epochs: number;
  readonly signatures: number;
}

export class StoreConflictError extends Error {
  override readonly name = "StoreConflictError";
}

export interface OracleStore {
  readonly backend: "sqlite" | "postgres";
  /** The storage oracle's SQL runner over this store (storage/store.ts keeps its tables). */
  storageSql(): StorageSql;
  /**
   * The partitions of closes verified by several worker processes (PostgreSQL; store/partitions.ts),
   * or null on a backend that verifies in one process (SQLite: one machine).
   */
  closePartitions(): ClosePartitions | null;
  /**
   * How a worker thread of this process opens its own connection to read this store (a close reads
   * and verifies its reports on worker threads: service/slice-reader.ts), or null when no other
   * connection sees the same data (an in-memory SQLite database).
   */
  readerConfig(): StoreConfig | null;
  /** Applies pending migrations (idempotent, safe from several processes); returns the schema version. */
  migrate(): Promise<number>;
  schemaVersion(): Promise<number>;
  /** A cheap round trip (readiness). */
  ping(): Promise<void>;

  /**
   * Stores a batch of reports in ONE transaction, durable when the promise resolves. A report whose
   * hash is already stored is not stored again: its result says duplicate, with the stored time.
   */
  insertReports(batch: readonly ReportInput[]): Promise<InsertedReport[]>;
  /**
   * Records that `close.epoch` is closing, in a transaction ordered with every insertReports: a batch
   * that commits before it is visible to the close; one that commits after it is refused for receive
   * times before the cutoff. Idempotent: the first record of an epoch stays (and is returned).
   */
  beginClose(close: EpochClose): Promise<EpochClose>;
  /** The close with the latest cutoff, or null if no epoch was ever closed here. */
  latestClose(): Promise<EpochClose | null>;
  /**
   * Reports received in [fromMs, toMs), ordered by (receive time, hash); optionally one page of them:
   * at most `limit` rows after the keyset position `after` (none: from the start). A page is an index
   * range read, so paging through an epoch costs time linear in its size.
   */
  reportsReceivedBetween(
    fromMs: number,
    toMs: number,
    page?: { readonly after?: ReportCursor; readonly limit: number },
  ): Promise<StoredReport[]>;
  countReports(fromMs?: number, toMs?: number): Promise<number>;
  /** Reports naming `device` received in [fromMs, toMs). */
  countDeviceReports(device: Hex, fromMs: number, toMs: number): Promise<number>;
  getReport(hash: Hex): Promise<StoredReport | null>;
  /**
   * Deletes at most `limit` reports received in [fromMs, toMs), oldest first, in one transaction;
   * returns how many. Retention only: callers delete closed epochs past their keep window.
   */
  deleteReportsBetween(fromMs: number, toMs: number, limit: number): Promise<number>;
  /** Records an epoch's prune (idempotent: the first record stays). */
  recordPrune(pruned: PrunedEpoch): Promise<void>;
  /** Pruned epochs, oldest first. */
  prunedEpochs(): Promise<PrunedEpoch[]>;
  /** A pruned epoch whose deleted range meets [fromMs, toMs), or null. */
  prunedOverlapping(fromMs: number, toMs: number): Promise<PrunedEpoch | null>;

  /**
   * Stores entries in ONE transaction. Idempotent per publication time; a different entry at a
   * stored time is a conflict (StoreConflictError), and then none of the batch is stored.
   */
  putEntropy(entries: readonly EntropyEntry[]): Promise<void>;
  /** Entropy published in [fromSec, toSec], oldest first. */
  entropyBetween(fromSec: number, toSec: number): Promise<EntropyEntry[]>;
  latestEntropy(): Promise<EntropyEntry | null>;

  /** Per (work, epoch); `work` defaults to coverage in every method below that takes it. */
  putChainIndex(index: StoredChainIndex, work?: WorkKind): Promise<void>;
  getChainIndex(epoch: bigint, work?: WorkKind): Promise<StoredChainIndex | null>;

  /**
   * Stores an epoch's result and its verdicts in one transaction. A result is immutable: storing
   * the same root again is a no-op, a different root for a stored epoch throws StoreConflictError.
   * The verdicts are taken from the iterable in batches as they are written (a close builds them one
   * at a time: an epoch's verdicts are never all in memory).
   */
  putEpochResult(result: StoredEpochResult, verdicts: Iterable<VerdictRow>, work?: WorkKind): Promise<void>;
  getEpochResult(epoch: bigint, work?: WorkKind): Promise<StoredEpochResult | null>;
  /** Newest first. */
  listEpochs(limit: number, work?: WorkKind): Promise<{ epoch: bigint; root: Hex }[]>;
  deviceVerdicts(device: Hex, epoch: bigint | null, limit: number): Promise<VerdictRow[]>;

  /** Idempotent per (epoch, oracle set version, signer). */
  putSignature(sig: StoredSignature, work?: WorkKind): Promise<void>;
  signatures(epoch: bigint, work?: WorkKind): Promise<StoredSignature[]>;

  /**
   * Sets an epoch's post status. A "posted" status is the record of the post that landed: once
   * stored, only another "posted" replaces it (a later pending, skipped or failed attempt does not).
   */
  setPostStatus(status: PostStatus, work?: WorkKind): Promise<void>;
  getPostStatus(epoch: bigint, work?: WorkKind): Promise<PostStatus | null>;
  /** Appends an attempt to the epoch's history (its seq is the next one); returns it as stored. */
  recordPostAttempt(attempt: Omit<PostAttempt, "seq">, work?: WorkKind): Promise<PostAttempt>;
  /** Every recorded attempt of the epoch, oldest first. */
  postAttempts(epoch: bigint, work?: WorkKind): Promise<PostAttempt[]>;

  /**
   * Stores verified receipts in ONE transaction, in order: a receipt of an epoch at or before the
   * latest receipt close is "closed", a stored router nonce "duplicate", one the router's budget
   * cannot cover (counting its stored receipts from `budget.unsettledFrom` on and those stored
   * earlier in the batch) "over_balance"; the rest "stored".
   */
  insertReceipts(batch: readonly ReceiptInput[], budget: ReceiptBudget): Promise<ReceiptInsert[]>;
  /** Closes receipts of every epoch up to `epoch` (ordered with insertReceipts). Idempotent. */
  closeReceipts(epoch: bigint, at: number): Promise<void>;
  /** The latest epoch whose receipts are closed, or null. */
  latestReceiptClose(): Promise<bigint | null>;
  /** An epoch's stored receipts, by (router, router nonce). */
  receiptsOfEpoch(epoch: bigint): Promise<StoredReceipt[]>;
  /** Immutable: the same entries again is a no-op, other entries for a stored epoch throw StoreConflictError. */
  putSettlement(settlement: StoredSettlement): Promise<void>;
  getSettlement(epoch: bigint): Promise<StoredSettlement | null>;
  setSettlementTx(epoch: bigint, txHash: string): Promise<void>;
  /** Idempotent per (epoch, oracle set version, signer). */
  putSettlementSignature(sig: StoredSettlementSignature): Promise<void>;
  settlementSignatures(epoch: bigint): Promise<StoredSettlementSignature[]>;

  counts(): Promise<StoreCounts>;
  close(): Promise<void>;
}
