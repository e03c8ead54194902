/**
 * Device keys: ids, signing (for firmware and simulators) and verification (for the oracle).
 *
 * Every device is named in reports by a 20-byte key id:
 * - secp256k1: its Ethereum address, last 20 bytes of keccak256(x ‖ y);
 * - P-256: the same construction over the P-256 point, last 20 bytes of keccak256(x ‖ y)
 *   (in Solidity: address(uint160(uint256(keccak256(abi.encodePacked(qx, qy)))))).
 *
 * Signatures:
 * - secp256k1: 65 bytes r ‖ s ‖ v over the EIP-712 digest, v in {27, 28}, low s (as OZ ECDSA).
 *   Checked by recovering the key with native libsecp256k1 (deterministic: no cache-dependent path).
 * - P-256: 64 bytes r ‖ s, ECDSA with SHA-256 over the 32-byte digest (ES256, what secure elements,
 *   TPMs and WebCrypto produce; on chain: P256.verify(sha256(digest), r, s, qx, qy)), low s.
 *   Checked with node:crypto (OpenSSL); it hashes the message itself, hence SHA-256 of the digest.
 */
import crypto, { type KeyObject } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import secp256k1 from "secp256k1";

import type { DeviceKey } from "../chain/types.js";
import { keccak256Into } from "../crypto/keccak.js";
import { fromHex, isHexBytes, toHex, writeHex, type Hex } from "../util/hex.js";

// Half the group orders, big-endian: s must be <= these (low-s rule, no malleable twins).
const SECP256K1_HALF_N = fromHex("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
const P256_HALF_N = fromHex("0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8");

function lessOrEqual(a: Uint8Array, aOffset: number, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    const x = a[aOffset + i]!;
    const y = b[i]!;
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

// ---------------------------------------------------------------------------------------------
// Signing (firmware / simulators)

export interface DeviceSigner {
  readonly key: DeviceKey;
  readonly keyId: Hex;
  /** Signature over a 32-byte EIP-712 digest in the wire format of the key type. */
  sign(digest: Uint8Array): Uint8Array;
}

export function secp256k1Signer(privateKey: Uint8Array): DeviceSigner {
  if (!secp256k1.privateKeyVerify(privateKey)) throw new Error("invalid secp256k1 private key");
  const pub = secp256k1.publicKeyCreate(privateKey, false);
  const keyId = keyIdOfPoint(pub, 1);
  return {
    key: { type: "secp256k1", address: keyId },
    keyId,
    sign(digest) {
      // libsecp256k1 signs deterministically (RFC 6979) and always returns low s.
      const { signature, recid } = secp256k1.ecdsaSign(digest, privateKey);
      const out = new Uint8Array(65);
      out.set(signature, 0);
      out[64] = 27 + recid;
      return out;
    },
  };
}

/**
 * A P-256 signer from a 32-byte secret. By default it signs deterministically (RFC 6979, with
 * @noble/curves): the same key and digest always give the same signature, so a simulated run is
 * reproducible byte for byte. `nonce: "random"` signs with OpenSSL and a random k, as secure
 * elements do, about ten times faster: for bulk simulations whose output does not contain the
 * signatures. The verifier accepts both.
 */
export function p256Signer(
  secret: Uint8Array,
  options: { readonly nonce?: "rfc6979" | "random" } = {},
): DeviceSigner {
  if (secret.length !== 32 || !p256.utils.isValidSecretKey(secret))
    throw new Error("invalid P-256 secret key");
  const pub = p256.getPublicKey(secret, false);
  const key: DeviceKey = { type: "p256", x: toHex(pub, 1, 32), y: toHex(pub, 33, 32) };
  const keyId = keyIdOf(key);
  if (options.nonce === "random") {
    const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
    const privateKey = crypto.createPrivateKey({
      key: { kty: "EC", crv: "P-256", d: b64(secret), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33)) },
      format: "jwk",
    });
    return {
      key,
      keyId,
      sign: (digest) =>
        toLowS(new Uint8Array(crypto.sign("sha256", digest, { key: privateKey, dsaEncoding: "ieee-p1363" }))),
    };
  }
  // ES256 over the 32-byte digest: SHA-256 of it, then ECDSA; low s, as the verifier requires.
  return {
    key,
    keyId,
    sign: (digest) => p256.sign(digest, secret, { prehash: true, lowS: true, format: "compact" }),
  };
}

const P256_N = p256.Point.CURVE().n;

/** OpenSSL does not normalise s: replace it by n - s when it is in the upper half. */
function toLowS(sig: Uint8Array): Uint8Array {
  if (lessOrEqual(sig, 32, P256_HALF_N)) return sig;
  const s = BigInt(toHex(sig, 32, 32));
  writeHex(sig, 32, `0x${(P256_N - s).toString(16).padStart(64, "0")}`);
  return sig;
}

// ---------------------------------------------------------------------------------------------
// Verification (oracle)

/**
 * Verifies signatures against registered device keys, caching per-key state (recovered secp256k1
 * points, P-256 KeyObjects). The cache only saves work: results never depend on it.
 */
export class SignatureChecker {
  private readonly p256Keys = new Map<Hex, KeyObject | null>();
  private readonly secpPoints = new Map<Hex, Uint8Array>();
  private readonly sig64 = new Uint8Array(64);
  private readonly sigBuf = new Uint8Array(65);

  /** True when `signature` (canonical hex) is a valid low-s signature of `digest` by `key`. */
  verify(key: DeviceKey, digest: Uint8Array, signature: Hex): boolean {
    return key.type === "secp256k1"
      ? this.verifySecp256k1(key.address, digest, signature)
      : this.verifyP256(key, digest, signature);
  }

  private verifySecp256k1(address: Hex, digest: Uint8Array, signature: Hex): boolean {
    if (signature.length !== 132) return false;
    const sig = this.sigBuf;
    writeHex(sig, 0, signature);
    const v = sig[64]!;
    if (v !== 27 && v !== 28) return false;
    if (!lessOrEqual(sig, 32, SECP256K1_HALF_N)) return false;
    this.sig64.set(sig.subarray(0, 64));
    let recovered: Uint8Array;
    try {
      recovered = secp256k1.ecdsaRecover(this.sig64, v - 27, digest, false);
    } catch {
      return false; // r or s out of range, or no point with that r
    }
    const known = this.secpPoints.get(address);
    if (known !== undefined) return equalBytes(known, recovered);
    if (keyIdOfPoint(recovered, 1) !== address) return false;
    this.secpPoints.set(address, recovered);
    return true;
  }

  private verifyP256(key: { x: Hex; y: Hex }, digest: Uint8Array, signature: Hex): boolean {
    if (signature.length !== 130) return false;
    const sig = this.sig64;
    writeHex(sig, 0, signature);
    if (!lessOrEqual(sig, 32, P256_HALF_N)) return false;
    const publicKey = this.p256Key(key);
    if (publicKey === null) return false;
    try {
      return crypto.verify("sha256", digest, { key: publicKey, dsaEncoding: "ieee-p1363" }, sig);
    } catch {
      return false;
    }
  }

  private p256Key(key: { x: Hex; y: Hex }): KeyObject | null {
    const id = `${key.x}${key.y.slice(2)}` as Hex;
    let k = this.p256Keys.get(id);
    if (k === undefined) {
      try {
        k = crypto.createPublicKey({
          key: {
            kty: "EC",
            crv: "P-256",
            x: Buffer.from(fromHex(key.x)).toString("base64url"),
            y: Buffer.from(fromHex(key.y)).toString("base64url"),
          },
          format: "jwk",
        });
      } catch {
        k = null; // not a point on the curve: nothing verifies against it
      }
      this.p256Keys.set(id, k);
    }
    return k;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
