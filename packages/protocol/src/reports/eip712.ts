/**
 * EIP-712 hashing of reports, fast: each struct's field list (REPORT_TYPES) is compiled once into
 * word writers over one reused buffer, so hashing a report allocates nothing and builds no
 * per-report encoding object. Equality with ethers' TypedDataEncoder is checked in
 * test/protocol/reports/reports.test.ts.
 */
import { keccak256, keccak256Into } from "../crypto/keccak.js";
import { DOMAIN_FIELDS, encodeType, type ContractDomain, type TypedField } from "../eip712/typed-data.js";
import { fromHex, writeHex, writeInt256, writeSmallUint, writeUint, writeUint256 } from "../hex.js";
import {
  REPORT_DOMAIN_NAME,
  REPORT_DOMAIN_VERSION,
  REPORT_TYPES,
  type BeaconFields,
  type ReportDomain,
  type WitnessFields,
} from "./types.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

export const DOMAIN_TYPE = encodeType("EIP712Domain", DOMAIN_FIELDS);
export const BEACON_TYPE = encodeType("Beacon", REPORT_TYPES.Beacon);
export const WITNESS_TYPE = encodeType("Witness", REPORT_TYPES.Witness);

const DOMAIN_TYPEHASH = keccak256(utf8(DOMAIN_TYPE));
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
  return separatorOfHashes(NAME_HASH, VERSION_HASH, domain.chainId, domain.verifyingContract);
}

/** The EIP-712 domain separator of any Hexmesh contract domain (name, version, chain, contract). */
export function contractDomainSeparator(domain: ContractDomain): Uint8Array {
  return separatorOfHashes(
    keccak256(utf8(domain.name)),
    keccak256(utf8(domain.version)),
    domain.chainId,
    domain.verifyingContract,
  );
}

function separatorOfHashes(
  nameHash: Uint8Array,
  versionHash: Uint8Array,
  chainId: bigint,
  verifyingContract: string,
): Uint8Array {
  const buf = new Uint8Array(160);
  buf.set(DOMAIN_TYPEHASH, 0);
  buf.set(nameHash, 32);
  buf.set(versionHash, 64);
  writeUint(buf, 96, chainId, 32);
  buf.set(fromHex(verifyingContract), 140);
  return keccak256(buf);
}

function writeAddressWord(buf: Uint8Array, offset: number, address: string): void {
  buf.fill(0, offset, offset + 12);
  writeHex(buf, offset + 12, address);
}

function writeUintWord(buf: Uint8Array, offset: number, v: number): void {
  buf.fill(0, offset, offset + 24);
  writeSmallUint(buf, offset + 24, v, 8);
}

const UINT64_LIMIT = 1n << 64n;

/** uint64 word (DataView would wrap out-of-range values silently, hence the check). */
function writeUint64Word(view: DataView, offset: number, v: bigint): void {
  if (v < 0n || v >= UINT64_LIMIT) throw new RangeError(`uint64 out of range: ${v}`);
  for (let i = offset; i < offset + 24; i += 8) view.setBigUint64(i, 0n);
  view.setBigUint64(offset + 24, v);
}

type WordWriter = (buf: Uint8Array, view: DataView, offset: number, value: never) => void;

/** How one field of an EIP-712 struct is encoded as a 32-byte word (the types reports use). */
function wordWriter(type: string): WordWriter {
  if (type === "address") return (buf, _view, offset, v: string) => writeAddressWord(buf, offset, v);
  if (type === "bytes32") return (buf, _view, offset, v: string) => writeHex(buf, offset, v);
  if (type === "uint64") return (_buf, view, offset, v: bigint) => writeUint64Word(view, offset, v);
  if (type === "uint256") return (buf, _view, offset, v: bigint) => writeUint256(buf, offset, v);
  if (/^uint(8|16|32)$/.test(type)) return (buf, _view, offset, v: number) => writeUintWord(buf, offset, v);
  if (/^int(8|16|32)$/.test(type)) return (buf, _view, offset, v: number) => writeInt256(buf, offset, v);
  throw new Error(`no EIP-712 word writer for ${type}`);
}

/**
 * hashStruct for a struct of static fields, compiled from its field list: writes the struct hash of
 * `value` into out[outOffset..+32). Field values are assumed in range (the wire parser ensures it).
 * One scratch buffer per struct: hashing is synchronous, so one per thread is enough. Packet receipts
 * (receipts/receipt.ts) are hashed by the same compiler.
 */
export function structHasher<T>(
  name: string,
  fields: readonly TypedField[],
): (value: T, out: Uint8Array, outOffset: number) => void {
  const typeHash = keccak256(utf8(encodeType(name, fields)));
  const buf = new Uint8Array(32 * (fields.length + 1));
  const view = new DataView(buf.buffer);
  const names = fields.map((f) => f.name);
  const writers = fields.map((f) => wordWriter(f.type));
  return (value, out, outOffset) => {
    buf.set(typeHash, 0);
    const record = value as Record<string, never>;
    for (let i = 0; i < writers.length; i++) writers[i]!(buf, view, 32 * (i + 1), record[names[i]!]!);
    keccak256Into(buf, 0, buf.length, out, outOffset);
  };
}

/** Writes hashStruct(beacon) into out[outOffset..+32). */
export const beaconStructHash = structHasher<BeaconFields>("Beacon", REPORT_TYPES.Beacon);

/** Writes hashStruct(witness) into out[outOffset..+32). */
export const witnessStructHash = structHasher<WitnessFields>("Witness", REPORT_TYPES.Witness);

const digestBuf = new Uint8Array(66);
digestBuf[0] = 0x19;
digestBuf[1] = 0x01;

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
