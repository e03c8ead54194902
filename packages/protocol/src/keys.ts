/**
 * Device keys and how they are named.
 *
 * Every device is named in reports by a 20-byte key id:
 * - secp256k1: its Ethereum address, last 20 bytes of keccak256(x ‖ y);
 * - P-256: the same construction over the P-256 point, last 20 bytes of keccak256(x ‖ y)
 *   (in Solidity: address(uint160(uint256(keccak256(abi.encodePacked(qx, qy)))))).
 * The registry stores a key as (keyType, x, y) (secp256k1: the address left-padded in x, y = 0), and
 * a device's ERC-721 id is uint256(keccak256(abi.encode(uint8 keyType, bytes32 x, bytes32 y))).
 *
 * Signatures (made by node/signers.ts, checked by the oracle):
 * - secp256k1: 65 bytes r ‖ s ‖ v over the EIP-712 digest, v in {27, 28}, low s (as OZ ECDSA).
 * - P-256: 64 bytes r ‖ s, ECDSA with SHA-256 over the 32-byte digest (ES256, what secure elements,
 *   TPMs and WebCrypto produce; on chain: P256.verify(sha256(digest), r, s, qx, qy)), low s.
 */
import type { DeviceKey } from "./chain/types.js";
import { keccak256, keccak256Into } from "./crypto/keccak.js";
import { fromHex, isHexBytes, toHex, writeHex, type Hex } from "./hex.js";

// Half the group orders, big-endian: s must be <= these (low-s rule, no malleable twins).
const HALF_N = {
  secp256k1: fromHex("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"),
  p256: fromHex("0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8"),
} as const;

/** Whether the s half of an r ‖ s (‖ v) signature is in the lower half of the curve's order. */
export function isLowS(signature: Uint8Array, curve: DeviceKey["type"]): boolean {
  const half = HALF_N[curve];
  for (let i = 0; i < 32; i++) {
    const x = signature[32 + i]!;
    const y = half[i]!;
    if (x !== y) return x < y;
  }
  return true;
}

const pointBuf = new Uint8Array(64);
const idBuf = new Uint8Array(32);

/** Key id of a 64-byte point x ‖ y (both curves). */
export function keyIdOfPoint(point: Uint8Array, offset = 0): Hex {
  keccak256Into(point, offset, 64, idBuf, 0);
  return toHex(idBuf, 12, 20);
}

export function keyIdOf(key: DeviceKey): Hex {
  if (key.type === "secp256k1") return key.address;
  writeHex(pointBuf, 0, key.x);
  writeHex(pointBuf, 32, key.y);
  return keyIdOfPoint(pointBuf);
}

/** Whether a DeviceKey is well-formed (canonical hex of the right sizes). */
export function isWellFormedKey(key: DeviceKey): boolean {
  return key.type === "secp256k1"
    ? isHexBytes(key.address, 20)
    : key.type === "p256" && isHexBytes(key.x, 32) && isHexBytes(key.y, 32);
}

/** A key as the registry takes and stores it: secp256k1 = (0, address left-padded, 0); P-256 = (1, x, y). */
export interface RegistryKey {
  readonly keyType: 0 | 1;
  readonly x: Hex;
  readonly y: Hex;
}

const ZERO_WORD = `0x${"00".repeat(32)}` as Hex;

export function registryKeyOf(key: DeviceKey): RegistryKey {
  return key.type === "secp256k1"
    ? { keyType: 0, x: `0x${"00".repeat(12)}${key.address.slice(2)}` as Hex, y: ZERO_WORD }
    : { keyType: 1, x: key.x, y: key.y };
}

/** keccak256(abi.encode(uint8 keyType, bytes32 x, bytes32 y)): the registry's key hash. */
export function registryKeyHash(key: DeviceKey): Hex {
  const k = registryKeyOf(key);
  const buf = new Uint8Array(96);
  buf[31] = k.keyType;
  writeHex(buf, 32, k.x);
  writeHex(buf, 64, k.y);
  return toHex(keccak256(buf));
}

/** The device's ERC-721 id in the registry: its key hash as a uint256. */
export function deviceIdOf(key: DeviceKey): bigint {
  return BigInt(registryKeyHash(key));
}

export interface DeviceSigner {
  readonly key: DeviceKey;
  readonly keyId: Hex;
  /** Signature over a 32-byte EIP-712 digest in the wire format of the key type. */
  sign(digest: Uint8Array): Uint8Array;
}
