/**
 * EIP-712 hashing of reports, written out by hand for speed (no per-report object encoding):
 * one reused buffer per struct, fields written in place, then keccak256. Equality with ethers'
 * TypedDataEncoder is checked in test/oracle/reports.test.ts.
 */
import { keccak256, keccak256Into } from "../crypto/keccak.js";
import { fromHex, writeHex, writeInt256, writeSmallUint, writeUint } from "../hex.js";
import {
  REPORT_DOMAIN_NAME,
  REPORT_DOMAIN_VERSION,
  type BeaconFields,
  type ReportDomain,
  type WitnessFields,
} from "./types.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

export const DOMAIN_TYPE =
  "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
export const BEACON_TYPE =
  "Beacon(address device,bytes32 remoteEntropy,bytes32 localEntropy,bytes32 payload," +
  "uint32 frequency,uint8 channel,uint8 dataRate,int16 txPower,uint64 timestamp)";
export const WITNESS_TYPE =
  "Witness(address witness,bytes32 beaconPayloadHash,int16 signal,int16 snr," +
  "uint32 frequency,uint8 dataRate,uint64 timestamp)";

/** The same types in the shape ethers' signTypedData / TypedDataEncoder take. */
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
} as const;

const DOMAIN_TYPEHASH = keccak256(utf8(DOMAIN_TYPE));
const BEACON_TYPEHASH = keccak256(utf8(BEACON_TYPE));
const WITNESS_TYPEHASH = keccak256(utf8(WITNESS_TYPE));
const NAME_HASH = keccak256(utf8(REPORT_DOMAIN_NAME));
const VERSION_HASH = keccak256(utf8(REPORT_DOMAIN_VERSION));

/** The ethers-style domain object, for signTypedData. */
export function ethersDomain(domain: ReportDomain) {
  return {
    name: REPORT_DOMAIN_NAME,
    version: REPORT_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  };
}

export function domainSeparator(domain: ReportDomain): Uint8Array {
  const buf = new Uint8Array(160);
  buf.set(DOMAIN_TYPEHASH, 0);
  buf.set(NAME_HASH, 32);
  buf.set(VERSION_HASH, 64);
  writeUint(buf, 96, domain.chainId, 32);
  buf.set(fromHex(domain.verifyingContract), 140);
  return keccak256(buf);
}

// Reused scratch buffers: hashing is synchronous, so one set per thread is enough.
const beaconBuf = new Uint8Array(32 * 10);
const witnessBuf = new Uint8Array(32 * 8);
const digestBuf = new Uint8Array(66);
digestBuf[0] = 0x19;
digestBuf[1] = 0x01;

function writeAddressWord(buf: Uint8Array, offset: number, address: string): void {
  buf.fill(0, offset, offset + 12);
  writeHex(buf, offset + 12, address);
}

function writeUintWord(buf: Uint8Array, offset: number, v: number): void {
  buf.fill(0, offset, offset + 24);
  writeSmallUint(buf, offset + 24, v, 8);
}

const beaconView = new DataView(beaconBuf.buffer);
const witnessView = new DataView(witnessBuf.buffer);

const UINT64_LIMIT = 1n << 64n;

/** uint64 word (DataView would wrap out-of-range values silently, hence the check). */
function writeUint64Word(view: DataView, offset: number, v: bigint): void {
  if (v < 0n || v >= UINT64_LIMIT) throw new RangeError(`uint64 out of range: ${v}`);
  for (let i = offset; i < offset + 24; i += 8) view.setBigUint64(i, 0n);
  view.setBigUint64(offset + 24, v);
}

/**
 * Caller-validated fields (ranges per type) are assumed: the wire parser guarantees them.
 * Writes hashStruct(beacon) into out[outOffset..+32).
 */
export function beaconStructHash(b: BeaconFields, out: Uint8Array, outOffset: number): void {
  const buf = beaconBuf;
  buf.set(BEACON_TYPEHASH, 0);
  writeAddressWord(buf, 32, b.device);
  writeHex(buf, 64, b.remoteEntropy);
  writeHex(buf, 96, b.localEntropy);
  writeHex(buf, 128, b.payload);
  writeUintWord(buf, 160, b.frequency);
  writeUintWord(buf, 192, b.channel);
  writeUintWord(buf, 224, b.dataRate);
  writeInt256(buf, 256, b.txPower);
  writeUint64Word(beaconView, 288, b.timestamp);
  keccak256Into(buf, 0, buf.length, out, outOffset);
}

export function witnessStructHash(w: WitnessFields, out: Uint8Array, outOffset: number): void {
  const buf = witnessBuf;
  buf.set(WITNESS_TYPEHASH, 0);
  writeAddressWord(buf, 32, w.witness);
  writeHex(buf, 64, w.beaconPayloadHash);
  writeInt256(buf, 96, w.signal);
  writeInt256(buf, 128, w.snr);
  writeUintWord(buf, 160, w.frequency);
  writeUintWord(buf, 192, w.dataRate);
  writeUint64Word(witnessView, 224, w.timestamp);
  keccak256Into(buf, 0, buf.length, out, outOffset);
}

/** keccak256(0x1901 ‖ domainSeparator ‖ structHash): what the device key signs. */
export function beaconDigest(separator: Uint8Array, b: BeaconFields): Uint8Array {
  const out = new Uint8Array(32);
  beaconDigestInto(separator, b, out, 0);
  return out;
}

export function witnessDigest(separator: Uint8Array, w: WitnessFields): Uint8Array {
  const out = new Uint8Array(32);
  witnessDigestInto(separator, w, out, 0);
  return out;
}

/** beaconDigest written into out[offset..+32). */
export function beaconDigestInto(
  separator: Uint8Array,
  b: BeaconFields,
  out: Uint8Array,
  offset: number,
): void {
  digestBuf.set(separator, 2);
  beaconStructHash(b, digestBuf, 34);
  keccak256Into(digestBuf, 0, 66, out, offset);
}

/** witnessDigest written into out[offset..+32). */
export function witnessDigestInto(
  separator: Uint8Array,
  w: WitnessFields,
  out: Uint8Array,
  offset: number,
): void {
  digestBuf.set(separator, 2);
  witnessStructHash(w, digestBuf, 34);
  keccak256Into(digestBuf, 0, 66, out, offset);
}
