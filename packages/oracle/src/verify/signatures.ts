/**
 * Device signature checks (the oracle's side of the protocol's keys.ts):
 * - secp256k1: recover the key with native libsecp256k1 and compare key ids (deterministic: no
 *   cache-dependent path);
 * - P-256: node:crypto (OpenSSL) verify, which hashes the message itself, hence SHA-256 of the
 *   EIP-712 digest (ES256).
 * Both refuse high-s twins.
 */
import crypto, { type KeyObject } from "node:crypto";

import secp256k1 from "secp256k1";

import { fromHex, isLowS, keyIdOfPoint, writeHex, type DeviceKey, type Hex } from "@hexmesh/protocol";

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
    if (!isLowS(sig, "secp256k1")) return false;
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
    if (!isLowS(sig, "p256")) return false;
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
