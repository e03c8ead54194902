/**
 * Device signature checks (the oracle's side of the protocol's keys.ts):
 * - secp256k1: recover the key with native libsecp256k1 and compare key ids;
 * - P-256: node:crypto (OpenSSL) verify, which hashes the message itself, hence SHA-256 of the
 *   EIP-712 digest (ES256).
 * Both refuse high-s twins.
 */
import crypto, { type KeyObject } from "node:crypto";

import secp256k1 from "secp256k1";

import { isLowS, keccak256Into, writeHex, type DeviceKey, type Hex } from "@hexmesh/protocol";

/**
 * Verifies signatures against registered device keys. It keeps nothing per key (KeyRing caches a
 * bounded number of P-256 key objects): a cache of every key grows with the fleet on every thread.
 */
export class SignatureChecker {
  private readonly sig64 = new Uint8Array(64);
  private readonly sigBuf = new Uint8Array(65);
  private readonly id = new Uint8Array(20);
  private readonly point = new Uint8Array(64);
  private readonly hash = new Uint8Array(32);

  /** True when `signature` (canonical hex) is a valid low-s signature of `digest` by `key`. */
  verify(key: DeviceKey, digest: Uint8Array, signature: Hex): boolean {
    if (key.type === "secp256k1") {
      writeHex(this.id, 0, key.address);
      return this.verifySecp256k1Id(this.id, 0, digest, signature);
    }
    writeHex(this.point, 0, key.x);
    writeHex(this.point, 32, key.y);
    return this.verifyP256(p256PublicKey(this.point, 0), digest, signature);
  }

  /** The same for a secp256k1 key given by its address (20 bytes of `id` at `at`). */
  verifySecp256k1Id(id: Uint8Array, at: number, digest: Uint8Array, signature: Hex): boolean {
    if (signature.length !== 132) return false;
    const sig = this.sigBuf;
    writeHex(sig, 0, signature);
    const v = sig[64]!;
    if (v !== 27 && v !== 28) return false;
    if (!isLowS(sig, "secp256k1")) return false;
    this.sig64.set(sig.subarray(0, 64));
    let recovered: Uint8Array;
    try {
      recovered = secp256k1.ecdsaRecover(this.sig64, v - 27, digest, false);
    } catch {
      return false; // r or s out of range, or no point with that r
    }
    // key id = last 20 bytes of keccak256(x ‖ y)
    keccak256Into(recovered, 1, 64, this.hash, 0);
    for (let k = 0; k < 20; k++) if (this.hash[12 + k] !== id[at + k]) return false;
    return true;
  }

  /** The same for a P-256 key (p256PublicKey; null: not a point on the curve, nothing verifies). */
  verifyP256(publicKey: KeyObject | null, digest: Uint8Array, signature: Hex): boolean {
    if (signature.length !== 130 || publicKey === null) return false;
    const sig = this.sig64;
    writeHex(sig, 0, signature);
    if (!isLowS(sig, "p256")) return false;
    try {
      return crypto.verify("sha256", digest, { key: publicKey, dsaEncoding: "ieee-p1363" }, sig);
    } catch {
      return false;
    }
  }
}

/**
 * The OpenSSL key object of a P-256 point (x ‖ y: 64 bytes of `point` at `at`), or null if it is not
 * on the curve. Made from a JWK: measured here, ~15 µs, a third of what OpenSSL spends decoding a
 * DER key handed to crypto.verify instead.
 */
export function p256PublicKey(point: Uint8Array, at: number): KeyObject | null {
  try {
    return crypto.createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: Buffer.from(point.buffer, point.byteOffset + at, 32).toString("base64url"),
        y: Buffer.from(point.buffer, point.byteOffset + at + 32, 32).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    return null;
  }
}
