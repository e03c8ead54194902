/** Row <-> record conversions shared by both backends (column names are the same in both). */
import type { EntropyEntry, Hex } from "@hexmesh/protocol";

import { chunkedList, listFromChunks, listFromChunksAsync, type ChunkedList } from "./chunked.js";
import { fromJson, toJson } from "./json.js";
import type {
  EpochClose,
  OwnerAmount,
  PostAttempt,
  PostStatus,
  PrunedEpoch,
  StoredEpochResult,
  StoredReceipt,
  StoredReport,
  StoredSettlement,
  StoredSettlementSignature,
  StoredSignature,
  VerdictRow,
} from "./types.js";

type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const big = (v: unknown): bigint => BigInt(v as string | number | bigint);
const str = (v: unknown): string => String(v);
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function reportFromRow(r: Row): StoredReport {
  return {
    hash: str(r.hash) as Hex,
    raw: str(r.raw),
    receivedAt: num(r.received_at),
    device: str(r.device) as Hex,
    kind: str(r.kind) as StoredReport["kind"],
  };
}

export function entropyFromRow(r: Row): EntropyEntry {
  return { blockHash: str(r.block_hash) as Hex, timestamp: num(r.published_at), value: str(r.value) as Hex };
}

/**
 * The row an epoch result is stored as (RESULT_COLUMNS) and its owners' chunks, stored beside it in
 * epoch_result_owners (migration 16): the owners column holds "[]".
 */
export function resultToRow(r: StoredEpochResult): { row: (string | number)[]; owners: ChunkedList } {
  const owners = chunkedList(r.owners);
  return {
    row: [
      r.epoch.toString(),
      r.root,
      r.totalCumulative.toString(),
      r.dataHash,
      r.snapshotBlock,
      JSON.stringify(r.summary),
      "[]",
      r.computedAt,
      owners.chunks,
    ],
    owners,
  };
}

/** The result stored as row r, given its owners (ownersOfRow). */
export function resultFromRow(r: Row, owners: OwnerAmount[]): StoredEpochResult {
  return {
    epoch: big(r.epoch),
    root: str(r.root) as Hex,
    totalCumulative: big(r.total_cumulative),
    dataHash: str(r.data_hash) as Hex,
    snapshotBlock: num(r.snapshot_block),
    summary: JSON.parse(str(r.summary)) as StoredEpochResult["summary"],
    owners,
    computedAt: num(r.computed_at),
  };
}

/**
 * Result row r's owners: read from its `owner_chunks` chunks one at a time (text(i): chunk i's, or
 * undefined when missing, an error), or, for a row stored before migration 16 (owner_chunks NULL),
 * parsed from its owners column. A row and its chunks are written in one transaction and never
 * rewritten, so a reader that sees the row sees every chunk.
 */
export function ownersOfRow(r: Row, work: string, text: (i: number) => string | undefined): OwnerAmount[] {
  return r.owner_chunks === null
    ? fromJson<OwnerAmount[]>(str(r.owners))
    : listFromChunks<OwnerAmount>(ownersOf(r, work), num(r.owner_chunks), text);
}

/** The same with chunks read asynchronously (PostgreSQL). */
export async function ownersOfRowAsync(
  r: Row,
  work: string,
  text: (i: number) => Promise<string | undefined>,
): Promise<OwnerAmount[]> {
  return r.owner_chunks === null
    ? fromJson<OwnerAmount[]>(str(r.owners))
    : listFromChunksAsync<OwnerAmount>(ownersOf(r, work), num(r.owner_chunks), text);
}

const ownersOf = (r: Row, work: string) => `${work} epoch ${str(r.epoch)}'s result: owner`;

/** A verdict's kind as stored (migration 12): the verdict record's codes. */
const VERDICT_KINDS = ["malformed", "beacon", "witness"] as const;
const LOWER_HEX = /^0x(?:[0-9a-f]{2})*$/;

/** Hex stored as bytes; only lowercase hex reads back exactly as given, so anything else is refused. */
export function verdictHexDigits(v: string, what: "id" | "device"): string {
  if (!LOWER_HEX.test(v)) throw new Error(`verdict ${what} ${v} is not lowercase hex`);
  return v.slice(2);
}

/** A verdict kind's stored code. */
export function verdictKindCode(kind: VerdictRow["kind"]): number {
  const code = VERDICT_KINDS.indexOf(kind);
  if (code < 0) throw new Error(`verdict kind ${String(kind)} is not one of ${VERDICT_KINDS.join(", ")}`);
  return code;
}

/** A device as verdicts_by_device keys it; null when no stored verdict can name it (not lowercase hex). */
export function verdictDeviceKey(device: Hex): Buffer | null {
  return LOWER_HEX.test(device) ? Buffer.from(device.slice(2), "hex") : null;
}

const bytesHex = (v: unknown): Hex => {
  const b = v as Uint8Array;
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}`;
};

/** A verdict's values in VERDICT_COLUMNS order (id and device as bytes, kind as its code). */
export function verdictToRow(
  v: VerdictRow,
): [string, number, Buffer, Buffer | null, number, number, string | null, string | null, number, string] {
  const kind = verdictKindCode(v.kind);
  return [
    v.epoch.toString(),
    v.seq,
    Buffer.from(verdictHexDigits(v.id, "id"), "hex"),
    v.device === null ? null : Buffer.from(verdictHexDigits(v.device, "device"), "hex"),
    kind,
    v.receivedAt,
    v.reason,
    v.detail,
    v.selected ? 1 : 0,
    v.units.toString(),
  ];
}

export function verdictFromRow(r: Row): VerdictRow {
  return {
    epoch: big(r.epoch),
    seq: num(r.seq),
    id: bytesHex(r.id),
    device: r.device === null || r.device === undefined ? null : bytesHex(r.device),
    kind: VERDICT_KINDS[num(r.kind)]!,
    receivedAt: num(r.received_at),
    reason: optStr(r.reason),
    detail: optStr(r.detail),
    selected: num(r.selected) === 1,
    units: big(r.units),
  };
}

export function signatureFromRow(r: Row): StoredSignature {
  return {
    epoch: big(r.epoch),
    oracleSetVersion: big(r.oracle_set_version),
    signer: str(r.signer) as Hex,
    signature: str(r.signature) as Hex,
    root: str(r.root) as Hex,
    receivedAt: num(r.received_at),
  };
}

export function postFromRow(r: Row): PostStatus {
  return {
    epoch: big(r.epoch),
    status: str(r.status) as PostStatus["status"],
    txHash: optStr(r.tx_hash),
    detail: optStr(r.detail),
    updatedAt: num(r.updated_at),
  };
}

export function postAttemptFromRow(r: Row): PostAttempt {
  return {
    epoch: big(r.epoch),
    seq: num(r.seq),
    outcome: str(r.outcome) as PostAttempt["outcome"],
    txHash: optStr(r.tx_hash),
    block: r.block === null || r.block === undefined ? null : num(r.block),
    gasUsed: r.gas_used === null || r.gas_used === undefined ? null : big(r.gas_used),
    detail: optStr(r.detail),
    attemptedAt: num(r.attempted_at),
  };
}

/** An attempt's columns after (epoch, seq): outcome, tx_hash, block, gas_used, detail, attempted_at. */
export function postAttemptValues(a: Omit<PostAttempt, "seq" | "epoch">): (string | number | null)[] {
  return [
    a.outcome,
    a.txHash,
    a.block,
    a.gasUsed === null ? null : a.gasUsed.toString(),
    a.detail,
    a.attemptedAt,
  ];
}

/** Only another landed post replaces a landed post (SQLite and PostgreSQL share the syntax). */
export const UPSERT_POST_WHERE = "WHERE posts.status <> 'posted' OR excluded.status = 'posted'";
export const POST_ATTEMPT_COLUMNS =
  "epoch, seq, outcome, tx_hash, block, gas_used, detail, attempted_at" as const;

export const VERDICT_COLUMNS =
  "epoch, seq, id, device, kind, received_at, reason, detail, selected, units" as const;
/** VERDICT_COLUMNS of `verdicts v` (joined with verdicts_by_device d). */
export const VERDICT_COLUMNS_V = VERDICT_COLUMNS.split(", ")
  .map((column) => `v.${column}`)
  .join(", ");

/**
 * A device's verdicts: one epoch (parameters epoch, device, limit), or every epoch, newest first
 * (device, limit). The epochs holding verdicts are found by skipping through verdicts_by_device
 * (one probe per epoch: a loose index scan neither engine does by itself), each epoch's rows of
 * the device are then one range of its key.
 */
export const DEVICE_VERDICTS_OF_EPOCH = `SELECT ${VERDICT_COLUMNS_V} FROM verdicts_by_device d
  JOIN verdicts v ON v.epoch = d.epoch AND v.seq = d.seq
  WHERE d.epoch = ? AND d.device = ? ORDER BY d.seq LIMIT ?`;
export const DEVICE_VERDICTS = `WITH RECURSIVE epochs (epoch) AS (
    SELECT MAX(epoch) FROM verdicts_by_device
    UNION ALL
    SELECT (SELECT MAX(epoch) FROM verdicts_by_device WHERE epoch < epochs.epoch) FROM epochs
    WHERE epochs.epoch IS NOT NULL
  )
  SELECT ${VERDICT_COLUMNS_V} FROM epochs
  JOIN verdicts_by_device d ON d.epoch = epochs.epoch AND d.device = ?
  JOIN verdicts v ON v.epoch = d.epoch AND v.seq = d.seq
  ORDER BY d.epoch DESC, d.seq LIMIT ?`;

/** Fills verdicts_by_device for one epoch (parameter: epoch) from its stored verdicts, in key order. */
export const INDEX_VERDICTS_BY_DEVICE = `INSERT INTO verdicts_by_device (epoch, device, seq)
  SELECT epoch, device, seq FROM verdicts WHERE epoch = ? AND device IS NOT NULL ORDER BY device, seq
  ON CONFLICT DO NOTHING`;
export const RESULT_COLUMNS =
  "epoch, root, total_cumulative, data_hash, snapshot_block, summary, owners, computed_at, owner_chunks" as const;

export function closeFromRow(r: Row): EpochClose {
  return {
    epoch: BigInt(r.epoch as string | number | bigint),
    cutoff: Number(r.cutoff),
    startedAt: Number(r.started_at),
  };
}

export const PRUNE_COLUMNS = "epoch, from_ms, to_ms, reports, pruned_at";

export function pruneToRow(p: PrunedEpoch): (string | number)[] {
  return [p.epoch.toString(), p.fromMs, p.toMs, p.reports, p.prunedAt];
}

export function pruneFromRow(r: Row): PrunedEpoch {
  return {
    epoch: big(r.epoch),
    fromMs: num(r.from_ms),
    toMs: num(r.to_ms),
    reports: num(r.reports),
    prunedAt: num(r.pruned_at),
  };
}

export const RECEIPT_COLUMNS = "router, router_nonce, epoch, hotspot, credits, raw, received_at";

export function receiptToRow(r: StoredReceipt): (string | number)[] {
  return [
    r.router,
    r.routerNonce.toString(),
    r.epoch.toString(),
    r.hotspot.toString(),
    r.credits.toString(),
    r.raw,
    r.receivedAt,
  ];
}

export function receiptFromRow(r: Row): StoredReceipt {
  return {
    router: str(r.router) as Hex,
    routerNonce: big(r.router_nonce),
    epoch: big(r.epoch),
    hotspot: big(r.hotspot),
    credits: big(r.credits),
    raw: str(r.raw),
    receivedAt: num(r.received_at),
  };
}

/** Receipts stored from `unsettledFrom` on count against a router's budget; nonces sort as numbers. */
export const RECEIPTS_OF_EPOCH_ORDER = "ORDER BY router, LENGTH(router_nonce), router_nonce";

export function settlementToRow(s: StoredSettlement): [string, string, string, string | null, number] {
  const { txHash: _tx, ...data } = s;
  return [s.epoch.toString(), s.entriesHash, toJson(data), s.txHash, s.computedAt];
}

export function settlementFromRow(r: Row): StoredSettlement {
  return { ...fromJson<Omit<StoredSettlement, "txHash">>(str(r.data)), txHash: optStr(r.tx_hash) };
}

export function settlementSignatureFromRow(r: Row): StoredSettlementSignature {
  return {
    epoch: big(r.epoch),
    oracleSetVersion: big(r.oracle_set_version),
    signer: str(r.signer) as Hex,
    signature: str(r.signature) as Hex,
    entriesHash: str(r.entries_hash) as Hex,
    receivedAt: num(r.received_at),
  };
}
