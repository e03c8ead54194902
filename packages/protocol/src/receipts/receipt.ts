/**
 * Packet receipts: hashing, signing, the wire form, pricing, and the epoch's settlement entries.
 *
 *   const receipt = signPacketReceipt(routerSigner, domain, { hotspot, payloadHash, bytes, time, routerNonce });
 *   post("/v1/receipts", { receipts: [encodePacketReceipt(receipt)] });
 *
 * The oracle and the router use these same functions: one field list (PACKET_RECEIPT_TYPES), one hasher
 * compiled from it, one price rule, one entry order.
 */
import { keccak256, keccak256Into } from "../crypto/keccak.js";
import type { ContractDomain } from "../eip712/typed-data.js";
import { compareHex, isHexBytes, toHex, writeHex, writeUint256, type Hex } from "../hex.js";
import type { DeviceSigner } from "../keys.js";
import { contractDomainSeparator, structHasher } from "../reports/eip712.js";
import type { ParseErrorCode } from "../reports/wire.js";
import {
  BYTES_PER_PACKET,
  DATA_TRANSFER_SETTLEMENT_TYPES,
  MAX_RECEIPT_BYTES,
  PACKET_RECEIPT_TYPES,
  type DataTransferSettlement,
  type PacketReceipt,
  type PacketReceiptFields,
  type SettlementEntry,
} from "./types.js";

const receiptStructHash = structHasher<PacketReceiptFields>(
  "PacketReceipt",
  PACKET_RECEIPT_TYPES.PacketReceipt,
);
const settlementStructHash = structHasher<DataTransferSettlement>(
  "DataTransferSettlement",
  DATA_TRANSFER_SETTLEMENT_TYPES.DataTransferSettlement,
);

function typedDigest(
  separator: Uint8Array,
  writeStruct: (out: Uint8Array, offset: number) => void,
): Uint8Array {
  const buf = new Uint8Array(66);
  buf[0] = 0x19;
  buf[1] = 0x01;
  buf.set(separator, 2);
  writeStruct(buf, 34);
  const out = new Uint8Array(32);
  keccak256Into(buf, 0, 66, out, 0);
  return out;
}

const separators = new Map<string, Uint8Array>();

/** The data-transfer domain's separator, memoised per (chain, settlement contract). */
export function dataTransferSeparator(domain: ContractDomain): Uint8Array {
  const key = `${domain.name}:${domain.version}:${domain.chainId}:${domain.verifyingContract.toLowerCase()}`;
  let sep = separators.get(key);
  if (sep === undefined) {
    sep = contractDomainSeparator({ ...domain, verifyingContract: domain.verifyingContract.toLowerCase() });
    separators.set(key, sep);
  }
  return sep;
}

/** The EIP-712 digest a router signs for one packet. */
export function packetReceiptDigest(domain: ContractDomain, fields: PacketReceiptFields): Uint8Array {
  return typedDigest(dataTransferSeparator(domain), (out, offset) => receiptStructHash(fields, out, offset));
}

/** The EIP-712 digest each oracle signs for `settle`. */
export function settlementDigest(domain: ContractDomain, settlement: DataTransferSettlement): Uint8Array {
  return typedDigest(dataTransferSeparator(domain), (out, offset) =>
    settlementStructHash(settlement, out, offset),
  );
}

export type PacketReceiptInput = Omit<PacketReceiptFields, "router">;

/** Signs a receipt with the router's secp256k1 key (`secp256k1Signer` of `@hexmesh/protocol/node`). */
export function signPacketReceipt(
  router: DeviceSigner,
  domain: ContractDomain,
  input: PacketReceiptInput,
): PacketReceipt {
  if (router.key.type !== "secp256k1") throw new Error("a router signs with a secp256k1 (Ethereum) key");
  const fields: PacketReceiptFields = { router: router.keyId, ...input };
  const problem = receiptFieldProblem(fields);
  if (problem !== null) throw new RangeError(`${problem.field}: ${problem.detail}`);
  return { ...fields, signature: toHex(router.sign(packetReceiptDigest(domain, fields))) };
}

/** The wire form of a receipt: JSON with hex bytes, a number for `bytes`, decimal strings for the rest. */
export interface PacketReceiptJson {
  readonly router: string;
  readonly hotspot: string;
  readonly payloadHash: string;
  readonly bytes: number;
  readonly time: string;
  readonly routerNonce: string;
  readonly signature: string;
}

export function encodePacketReceipt(r: PacketReceipt): PacketReceiptJson {
  return {
    router: r.router,
    hotspot: r.hotspot.toString(),
    payloadHash: r.payloadHash,
    bytes: r.bytes,
    time: r.time.toString(),
    routerNonce: r.routerNonce.toString(),
    signature: r.signature,
  };
}

export interface ReceiptParseError {
  readonly code: ParseErrorCode;
  readonly field?: string;
  readonly detail: string;
}

export type ReceiptParseResult =
  | { readonly ok: true; readonly receipt: PacketReceipt }
  | { readonly ok: false; readonly error: ReceiptParseError };

const RECEIPT_KEYS = [
  "router",
  "hotspot",
  "payloadHash",
  "bytes",
  "time",
  "routerNonce",
  "signature",
] as const;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

const refuse = (code: ParseErrorCode, field: string | undefined, detail: string): ReceiptParseResult => ({
  ok: false,
  error: field === undefined ? { code, detail } : { code, field, detail },
});

function decimal(v: unknown, field: string, max: bigint): bigint | ReceiptParseResult {
  if (typeof v !== "string" || !DECIMAL.test(v))
    return refuse("bad_type", field, `${field} must be a canonical decimal string`);
  const n = BigInt(v);
  return n > max ? refuse("out_of_range", field, `${field} is out of range`) : n;
}

/** Strictly parses a receipt's wire form (exactly its keys, lowercase hex, canonical decimals). Never throws. */
export function parsePacketReceipt(value: unknown): ReceiptParseResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refuse("not_object", undefined, "a receipt is a JSON object");
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(RECEIPT_KEYS as readonly string[]).includes(key))
      return refuse("unknown_field", key, `unknown field ${key}`);
  }
  for (const key of RECEIPT_KEYS) {
    if (!Object.hasOwn(o, key)) return refuse("missing_field", key, `missing ${key}`);
  }
  for (const [key, size] of [
    ["router", 20],
    ["payloadHash", 32],
    ["signature", 65],
  ] as const) {
    const v = o[key];
    if (typeof v !== "string") return refuse("bad_type", key, `${key} must be a hex string`);
    if (!isHexBytes(v, size))
      return refuse("bad_hex", key, `${key} must be 0x + ${2 * size} lowercase hex digits`);
  }
  const hotspot = decimal(o.hotspot, "hotspot", UINT256_MAX);
  if (typeof hotspot !== "bigint") return hotspot;
  const time = decimal(o.time, "time", UINT64_MAX);
  if (typeof time !== "bigint") return time;
  const routerNonce = decimal(o.routerNonce, "routerNonce", UINT64_MAX);
  if (typeof routerNonce !== "bigint") return routerNonce;
  if (typeof o.bytes !== "number" || !Number.isInteger(o.bytes))
    return refuse("bad_type", "bytes", "bytes must be an integer");
  const receipt: PacketReceipt = {
    router: o.router as Hex,
    hotspot,
    payloadHash: o.payloadHash as Hex,
    bytes: o.bytes,
    time,
    routerNonce,
    signature: o.signature as Hex,
  };
  const problem = receiptFieldProblem(receipt);
  if (problem !== null) return refuse("out_of_range", problem.field, problem.detail);
  return { ok: true, receipt };
}

function receiptFieldProblem(f: PacketReceiptFields): { field: string; detail: string } | null {
  if (!Number.isInteger(f.bytes) || f.bytes < 1 || f.bytes > MAX_RECEIPT_BYTES) {
    return { field: "bytes", detail: `bytes must be in [1, ${MAX_RECEIPT_BYTES}]` };
  }
  if (f.hotspot <= 0n || f.hotspot > UINT256_MAX)
    return { field: "hotspot", detail: "hotspot must be a device id" };
  if (f.time < 0n || f.time > UINT64_MAX) return { field: "time", detail: "time must be a uint64 (Unix ms)" };
  if (f.routerNonce < 0n || f.routerNonce > UINT64_MAX)
    return { field: "routerNonce", detail: "routerNonce must be a uint64" };
  return null;
}

/** Packets a payload of `bytes` is charged as: every started 24 bytes. */
export function packetsOf(bytes: number): bigint {
  return BigInt(Math.ceil(bytes / BYTES_PER_PACKET));
}

/** Credits a receipt costs at `creditsPerPacket` (the settlement contract's `creditsPerPacketAt(epoch)`). */
export function receiptCredits(bytes: number, creditsPerPacket: bigint): bigint {
  return packetsOf(bytes) * creditsPerPacket;
}

/** The epoch a receipt's time (Unix ms) falls in, on the controller's clock; null before genesis. */
export function receiptEpoch(timeMs: bigint, genesisTime: bigint, epochLength: bigint): bigint | null {
  const seconds = timeMs / 1000n;
  if (seconds < genesisTime) return null;
  return (seconds - genesisTime) / epochLength;
}

/** What one accepted receipt contributes to its epoch's settlement. */
export interface SettledReceipt {
  readonly router: Hex;
  /** The carrying hotspot's owner: the payout account of its rewards. */
  readonly provider: Hex;
  readonly credits: bigint;
}

/** The order `settle` requires: ascending by router, then by provider. */
export function compareSettlementEntries(a: SettlementEntry, b: SettlementEntry): number {
  return compareHex(a.router, b.router) || compareHex(a.provider, b.provider);
}

/**
 * The epoch's settlement entries: credits summed per (router, provider), ascending by router then
 * provider (the order `settle` requires). Same receipts in any order, same entries.
 */
export function settlementEntries(receipts: Iterable<SettledReceipt>): SettlementEntry[] {
  const sums = new Map<string, SettlementEntry>();
  for (const r of receipts) {
    const router = r.router.toLowerCase() as Hex;
    const provider = r.provider.toLowerCase() as Hex;
    const key = `${router}${provider}`;
    const prev = sums.get(key);
    sums.set(key, { router, provider, credits: (prev?.credits ?? 0n) + r.credits });
  }
  return [...sums.values()].filter((e) => e.credits > 0n).sort(compareSettlementEntries);
}

/** keccak256 of the entries' ABI words (router, provider, credits: 96 bytes each), as `settle` hashes them. */
export function settlementEntriesHash(entries: readonly SettlementEntry[]): Hex {
  const buf = new Uint8Array(96 * entries.length);
  entries.forEach((e, i) => {
    writeHex(buf, 96 * i + 12, e.router);
    writeHex(buf, 96 * i + 44, e.provider);
    writeUint256(buf, 96 * i + 64, e.credits);
  });
  return toHex(keccak256(buf));
}
