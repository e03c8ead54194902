/**
 * Device signers for Node programs (hotspot firmware agents, simulators): secp256k1 with native
 * libsecp256k1 (RFC 6979, always low s) and P-256 (ES256). Browsers never sign device reports, so
 * this entry (`@hexmesh/protocol/node`) is the only part of the package that needs Node.
 */
import crypto from "node:crypto";

import { p256 } from "@noble/curves/nist.js";
import secp256k1 from "secp256k1";

import type { DeviceKey } from "../chain/types.js";
import { toHex, writeHex } from "../hex.js";
import { isLowS, keyIdOf, keyIdOfPoint, type DeviceSigner } from "../keys.js";

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
  // The public point from OpenSSL (the same bytes as @noble/curves' getPublicKey, ~10x faster: a
  // bench fleet of 150,000 devices is built once per thread).
  const ecdh = crypto.createECDH("prime256v1");
  ecdh.setPrivateKey(secret);
  const pub = new Uint8Array(ecdh.getPublicKey());
  const key: DeviceKey = { type: "p256", x: toHex(pub, 1, 32), y: toHex(pub, 33, 32) };
  const keyId = keyIdOf(key);
  if (options.nonce === "random") {
    const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
    // Made on first signature, so that building a large fleet stays cheap.
    let privateKey: crypto.KeyObject | undefined;
    return {
      key,
      keyId,
      sign: (digest) => {
        privateKey ??= crypto.createPrivateKey({
          key: {
            kty: "EC",
            crv: "P-256",
            d: b64(secret),
            x: b64(pub.subarray(1, 33)),
            y: b64(pub.subarray(33)),
          },
          format: "jwk",
        });
        return toLowS(
          new Uint8Array(crypto.sign("sha256", digest, { key: privateKey, dsaEncoding: "ieee-p1363" })),
        );
      },
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
  if (isLowS(sig, "p256")) return sig;
  const s = BigInt(toHex(sig, 32, 32));
  writeHex(sig, 32, `0x${(P256_N - s).toString(16).padStart(64, "0")}`);
  return sig;
}
