/**
 * Coverage data transfer: a customer's router signs a `PacketReceipt` for each packet a hotspot
 * carried for it; the coverage oracles verify the receipts and settle each epoch's totals on chain
 * with a `DataTransferSettlement` (contracts/credits/DataTransferSettlement.sol). Domain: "Hexmesh
 * DataTransfer", version "1", the chain and the settlement contract, so a receipt for one deployment
 * or chain is worthless on another.
 */
import type { ContractDomain, TypedFields } from "../eip712/typed-data.js";
import type { Hex } from "../hex.js";

export const DATA_TRANSFER_DOMAIN_NAME = "Hexmesh DataTransfer";
export const DATA_TRANSFER_DOMAIN_VERSION = "1";

export function dataTransferDomain(chainId: bigint, settlement: string): ContractDomain {
  return {
    name: DATA_TRANSFER_DOMAIN_NAME,
    version: DATA_TRANSFER_DOMAIN_VERSION,
    chainId,
    verifyingContract: settlement,
  };
}

/**
 * One carried packet, signed by the router that owns the device that sent it: `hotspot` is the
 * carrying hotspot's registry device id, `payloadHash` keccak256 of the packet's bytes, `bytes` their
 * count (1 to 65,535), `time` when the router received it (Unix ms; its epoch is the one this time
 * falls in), `routerNonce` unique per router (a reused nonce is a duplicate).
 */
export const PACKET_RECEIPT_TYPES: { PacketReceipt: TypedFields } = {
  PacketReceipt: [
    { name: "router", type: "address" },
    { name: "hotspot", type: "uint256" },
    { name: "payloadHash", type: "bytes32" },
    { name: "bytes", type: "uint16" },
    { name: "time", type: "uint64" },
    { name: "routerNonce", type: "uint64" },
  ],
};

export interface PacketReceiptFields {
  readonly router: Hex;
  readonly hotspot: bigint;
  readonly payloadHash: Hex;
  readonly bytes: number;
  readonly time: bigint;
  readonly routerNonce: bigint;
}

/** A receipt with the router's 65-byte secp256k1 signature (r ‖ s ‖ v, low s). */
export interface PacketReceipt extends PacketReceiptFields {
  readonly signature: Hex;
}

/** What the coverage oracles sign for `settle`: the epoch's entries under the current oracle set. */
export const DATA_TRANSFER_SETTLEMENT_TYPES: { DataTransferSettlement: TypedFields } = {
  DataTransferSettlement: [
    { name: "epoch", type: "uint64" },
    { name: "entriesHash", type: "bytes32" },
    { name: "oracleSetVersion", type: "uint64" },
  ],
};

/** One settlement entry: `credits` of `router`'s account consumed for `provider` (a hotspot owner). */
export interface SettlementEntry {
  readonly router: Hex;
  readonly provider: Hex;
  readonly credits: bigint;
}

export interface DataTransferSettlement {
  readonly epoch: bigint;
  readonly entriesHash: Hex;
  readonly oracleSetVersion: bigint;
}

/** Payload bytes per charged packet (Helium's Data Credit rule: every started 24 bytes). */
export const BYTES_PER_PACKET = 24;
/** The settlement contract's default price: 1 credit (micro-USD) per started 24-byte packet. */
export const DEFAULT_CREDITS_PER_PACKET = 1n;
/** Largest packet a receipt may state (uint16). */
export const MAX_RECEIPT_BYTES = 65_535;
