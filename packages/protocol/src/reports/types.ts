/**
 * Device reports: what a hotspot signs with its device key.
 *
 * Beacon: the device transmitted a radio beacon whose payload is derived from the oracle's remote
 * entropy, the device's local entropy and its key id (entropy/payload.ts), so the oracle can
 * rebuild it and nobody else can claim it.
 * Witness: another device heard that beacon and reports the payload's hash and the radio metadata.
 */
import type { TypedField } from "../eip712/typed-data.js";
import type { Hex } from "../hex.js";

/**
 * The EIP-712 field list of each report: the one definition of a report's fields, their order and
 * their types. The EIP-712 type strings and struct hashes (eip712.ts), the canonical wire format,
 * its encoder and its parser (wire.ts) are all derived from it; devices sign exactly these.
 */
export const REPORT_TYPES = {
  Beacon: [
    { name: "device", type: "address" },
    { name: "remoteEntropy", type: "bytes32" },
    { name: "localEntropy", type: "bytes32" },
    { name: "payload", type: "bytes32" },
    { name: "frequency", type: "uint32" },
    { name: "channel", type: "uint8" },
    { name: "dataRate", type: "uint8" },
    { name: "txPower", type: "int16" },
    { name: "timestamp", type: "uint64" },
  ],
  Witness: [
    { name: "witness", type: "address" },
    { name: "beaconPayloadHash", type: "bytes32" },
    { name: "signal", type: "int16" },
    { name: "snr", type: "int16" },
    { name: "frequency", type: "uint32" },
    { name: "dataRate", type: "uint8" },
    { name: "timestamp", type: "uint64" },
  ],
} as const satisfies Record<string, readonly TypedField[]>;

export interface BeaconFields {
  /** Key id of the beaconing device (secp256k1: its address; P-256: see reports/keys.ts). */
  readonly device: Hex;
  /** Entropy the oracle published (entropy/entropy.ts), bytes32. */
  readonly remoteEntropy: Hex;
  /** Entropy the device drew itself, bytes32. */
  readonly localEntropy: Hex;
  /** beaconPayload(remoteEntropy, localEntropy, device), bytes32: what went over the air. */
  readonly payload: Hex;
  /** Transmit frequency in Hz (uint32). */
  readonly frequency: number;
  /** Channel index in the region's channel plan (uint8). */
  readonly channel: number;
  /** LoRaWAN data rate index of the region (uint8). */
  readonly dataRate: number;
  /** Conducted transmit power in tenths of dBm (int16). */
  readonly txPower: number;
  /** Device clock, Unix ms (uint64). Signed, not trusted: timing rules use receive times. */
  readonly timestamp: bigint;
}

export interface WitnessFields {
  /** Key id of the witnessing device. */
  readonly witness: Hex;
  /** keccak256 of the beacon payload heard over the air. */
  readonly beaconPayloadHash: Hex;
  /** Received signal strength in tenths of dBm (int16). */
  readonly signal: number;
  /** Signal-to-noise ratio in tenths of dB (int16). */
  readonly snr: number;
  /** Frequency the packet was received on, Hz (uint32). */
  readonly frequency: number;
  /** Data rate index the packet was received at (uint8). */
  readonly dataRate: number;
  /** Device clock, Unix ms (uint64). */
  readonly timestamp: bigint;
}

/**
 * Signature over the report's EIP-712 digest:
 * - secp256k1 devices: 65 bytes r ‖ s ‖ v (v = 27 or 28), s in the lower half of the order;
 * - P-256 devices: 64 bytes r ‖ s, ECDSA-P256-SHA256 over the 32-byte digest (ES256), low s.
 */
export interface Signed {
  readonly signature: Hex;
}

// The interfaces above document each field; these checks keep them and the field list identical.
type FieldNames<L extends readonly TypedField[]> = L[number]["name"];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const beaconFieldsMatch: Same<FieldNames<typeof REPORT_TYPES.Beacon>, keyof BeaconFields> = true;
const witnessFieldsMatch: Same<FieldNames<typeof REPORT_TYPES.Witness>, keyof WitnessFields> = true;
void beaconFieldsMatch;
void witnessFieldsMatch;

export type BeaconReport = { readonly type: "beacon" } & BeaconFields & Signed;
export type WitnessReport = { readonly type: "witness" } & WitnessFields & Signed;
export type Report = BeaconReport | WitnessReport;

/** The EIP-712 domain of reports: "Hexmesh PoC", version "1", the chain and the DeviceRegistry. */
export interface ReportDomain {
  readonly chainId: bigint;
  readonly verifyingContract: Hex;
}

export const REPORT_DOMAIN_NAME = "Hexmesh PoC";
export const REPORT_DOMAIN_VERSION = "1";
