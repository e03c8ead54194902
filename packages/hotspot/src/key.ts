/**
 * The device key: what a hotspot is. Two forms on disk:
 *
 * - a key file, JSON `{"curve":"secp256k1"|"p256","secret":"0x<32 bytes>"}` (mode 0600), made by
 *   `hexmesh-hotspot keygen`;
 * - a P-256 private key in PEM (PKCS#8 or SEC1 "EC PRIVATE KEY"), standing in for a secure element
 *   (ATECC608, TPM) that would hold the same key and sign with it.
 *
 * Report signatures come from @hexmesh/protocol's signers; the one signature made here is the proof
 * of possession the registry checks at onboarding (possessionSignature).
 */
import crypto from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

import { p256 } from "@noble/curves/nist.js";

import {
  fromHex,
  isHexBytes,
  registryKeyHash,
  registryKeyOf,
  toHex,
  type DeviceSigner,
  type Hex,
  type RegistryKey,
} from "@hexmesh/protocol";
import { p256Signer, secp256k1Signer } from "@hexmesh/protocol/node";

export type Curve = "secp256k1" | "p256";

export interface DeviceKeyPair {
  readonly curve: Curve;
  /** The 32-byte private scalar. */
  readonly secret: Uint8Array;
  /** Signs reports (EIP-712 digests) in the wire format of the curve. */
  readonly signer: DeviceSigner;
}

export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
}

export function deviceKeyFrom(curve: Curve, secret: Uint8Array): DeviceKeyPair {
  const signer = curve === "secp256k1" ? secp256k1Signer(secret) : p256Signer(secret);
  return { curve, secret, signer };
}

/** A new random key (node:crypto's CSPRNG; rejection of out-of-range scalars is the signer's). */
export function generateDeviceKey(curve: Curve): DeviceKeyPair {
  for (;;) {
    const secret = new Uint8Array(crypto.randomBytes(32));
    try {
      return deviceKeyFrom(curve, secret);
    } catch {
      // zero or >= n: astronomically rare, draw again
    }
  }
}

export function writeKeyFile(file: string, key: DeviceKeyPair): void {
  const body = JSON.stringify({ curve: key.curve, secret: toHex(key.secret) });
  writeFileSync(file, `${body}\n`, { mode: 0o600, flag: "wx" });
}

/** A P-256 key as PEM (PKCS#8), for a file that stands in for a secure element. */
export function p256Pem(key: DeviceKeyPair): string {
  if (key.curve !== "p256") throw new KeyFileError("only P-256 keys are written as PEM");
  const pub = p256.getPublicKey(key.secret, false);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  return crypto
    .createPrivateKey({
      key: {
        kty: "EC",
        crv: "P-256",
        d: b64(key.secret),
        x: b64(pub.subarray(1, 33)),
        y: b64(pub.subarray(33)),
      },
      format: "jwk",
    })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
}

/** Loads a key file, or a P-256 PEM file (detected by its "-----BEGIN"). */
export function loadDeviceKey(file: string): DeviceKeyPair {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KeyFileError(`cannot read device key ${file}: ${(e as Error).message}`);
  }
  if (text.trimStart().startsWith("-----BEGIN")) return fromPem(file, text);
  let json: { curve?: unknown; secret?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new KeyFileError(`${file} is neither a key file (JSON) nor a PEM private key`);
  }
  if (json.curve !== "secp256k1" && json.curve !== "p256")
    throw new KeyFileError(`${file}: "curve" must be "secp256k1" or "p256"`);
  if (typeof json.secret !== "string" || !isHexBytes(json.secret, 32))
    throw new KeyFileError(`${file}: "secret" must be 0x + 64 lowercase hex digits`);
  try {
    return deviceKeyFrom(json.curve, fromHex(json.secret));
  } catch (e) {
    throw new KeyFileError(`${file}: ${(e as Error).message}`);
  }
}

function fromPem(file: string, pem: string): DeviceKeyPair {
  let jwk: crypto.JsonWebKey;
  try {
    jwk = crypto.createPrivateKey(pem).export({ format: "jwk" });
  } catch (e) {
    throw new KeyFileError(`${file}: not a readable PEM private key: ${(e as Error).message}`);
  }
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.d !== "string")
    throw new KeyFileError(
      `${file}: the PEM key must be an EC P-256 private key (got ${jwk.kty} ${jwk.crv ?? ""})`,
    );
  return deviceKeyFrom("p256", new Uint8Array(Buffer.from(jwk.d, "base64url")));
}

/**
 * The proof of possession over a DeviceRegistry EIP-712 digest, as DeviceKeys.sol verifies it:
 * secp256k1 65 bytes r ‖ s ‖ v (ecrecover); P-256 64 bytes r ‖ s over the digest itself (no SHA-256
 * prehash, unlike reports), low s.
 */
export function possessionSignature(key: DeviceKeyPair, digest: Uint8Array): Hex {
  if (key.curve === "secp256k1") return toHex(key.signer.sign(digest));
  return toHex(p256.sign(digest, key.secret, { prehash: false, lowS: true, format: "compact" }));
}

/** What identifies the device on chain and in reports. */
export interface DeviceIdentity {
  readonly curve: Curve;
  /** The key as the registry takes it: (keyType, x, y). */
  readonly key: RegistryKey;
  /** keccak256(abi.encode(keyType, x, y)): what the maker attests, and the device's ERC-721 id in hex. */
  readonly keyId: Hex;
  /** The same id in decimal (what `hexmesh status --device` shows). */
  readonly deviceId: string;
  /** The 20-byte key id reports carry (`device` / `witness`). */
  readonly reportKeyId: Hex;
}

export function identityOf(key: DeviceKeyPair): DeviceIdentity {
  const keyId = registryKeyHash(key.signer.key);
  return {
    curve: key.curve,
    key: registryKeyOf(key.signer.key),
    keyId,
    deviceId: BigInt(keyId).toString(),
    reportKeyId: key.signer.keyId,
  };
}
