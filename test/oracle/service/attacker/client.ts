/**
 * An outsider's client of the oracle API: it imports nothing from @hexmesh/oracle or
 * @hexmesh/protocol. Reports are built, encoded and signed here from the published formats (EIP-712
 * domain "Hexmesh PoC" v1 over the chain id and the registry; canonical wire text; secp256k1
 * r ‖ s ‖ v and P-256 r ‖ s over the digest, low s) with ethers and @noble/curves, and sent over
 * plain HTTP (node:http), optionally from a chosen local address (127.0.0.x) to act as many clients.
 */
import http from "node:http";

import { p256 } from "@noble/curves/nist.js";
import { secp256k1 as k1 } from "@noble/curves/secp256k1.js";
import { concat, getBytes, hexlify, keccak256, randomBytes, TypedDataEncoder } from "ethers";

export type Curve = "secp256k1" | "p256";

export interface Domain {
  readonly chainId: bigint;
  readonly registry: string;
}

const TYPES = {
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

/** A device key pair of the attacker's own making. */
export class Device {
  readonly keyId: string;
  /** As a key file lists it: {type: "secp256k1", address} or {type: "p256", x, y}. */
  readonly publicKey: { type: "secp256k1"; address: string } | { type: "p256"; x: string; y: string };

  constructor(
    readonly curve: Curve,
    private readonly secret: Uint8Array,
  ) {
    const pub = (curve === "secp256k1" ? k1 : p256).getPublicKey(secret, false).slice(1);
    this.keyId = `0x${keccak256(pub).slice(26)}`;
    this.publicKey =
      curve === "secp256k1"
        ? { type: "secp256k1", address: this.keyId }
        : { type: "p256", x: hexlify(pub.slice(0, 32)), y: hexlify(pub.slice(32)) };
  }

  static random(curve: Curve): Device {
    return new Device(
      curve,
      curve === "secp256k1" ? k1.utils.randomSecretKey() : p256.utils.randomSecretKey(),
    );
  }

  /** Signature over a 32-byte digest in the wire format of the curve. */
  sign(digest: Uint8Array): string {
    if (this.curve === "secp256k1") {
      // recovered format: recovery byte first, then r ‖ s
      const sig = k1.sign(digest, this.secret, { prehash: false, lowS: true, format: "recovered" });
      return hexlify(concat([sig.slice(1), new Uint8Array([27 + sig[0]!])]));
    }
    // ES256: ECDSA P-256 with SHA-256 over the digest (prehash), low s
    return hexlify(p256.sign(digest, this.secret, { prehash: true, lowS: true }));
  }
}

export interface BeaconFields {
  readonly remoteEntropy: string;
  readonly localEntropy?: string;
  readonly frequency: number;
  readonly channel: number;
  readonly dataRate: number;
  readonly txPower: number;
  readonly timestamp: bigint;
}

export interface WitnessFields {
  readonly payload: string;
  readonly signal: number;
  readonly snr: number;
  readonly frequency: number;
  readonly dataRate: number;
  readonly timestamp: bigint;
}

function ethersDomain(d: Domain) {
  return { name: "Hexmesh PoC", version: "1", chainId: d.chainId, verifyingContract: d.registry };
}

/** The canonical wire text: {"type":…, then the EIP-712 fields in order, then the signature}. */
function encode(
  type: "beacon" | "witness",
  fields: readonly { name: string; type: string }[],
  v: Record<string, unknown>,
  signature: string,
): string {
  let out = `{"type":"${type}"`;
  for (const f of fields) {
    const value = v[f.name];
    const quoted = !/^u?int(8|16|32)$/.test(f.type);
    out += quoted ? `,"${f.name}":"${String(value).toLowerCase()}"` : `,"${f.name}":${String(value)}`;
  }
  return `${out},"signature":"${signature}"}`;
}

export function beacon(
  device: Device,
  domain: Domain,
  f: BeaconFields,
  signer: Device = device,
): { raw: string; payload: string } {
  const localEntropy = f.localEntropy ?? hexlify(randomBytes(32));
  const payload = keccak256(concat([f.remoteEntropy, localEntropy, device.keyId]));
  const value = {
    device: device.keyId,
    remoteEntropy: f.remoteEntropy,
    localEntropy,
    payload,
    frequency: f.frequency,
    channel: f.channel,
    dataRate: f.dataRate,
    txPower: f.txPower,
    timestamp: f.timestamp,
  };
  const digest = TypedDataEncoder.hash(ethersDomain(domain), { Beacon: [...TYPES.Beacon] }, value);
  return { raw: encode("beacon", TYPES.Beacon, value, signer.sign(getBytes(digest))), payload };
}

export function witness(device: Device, domain: Domain, f: WitnessFields): string {
  const value = {
    witness: device.keyId,
    beaconPayloadHash: keccak256(f.payload),
    signal: f.signal,
    snr: f.snr,
    frequency: f.frequency,
    dataRate: f.dataRate,
    timestamp: f.timestamp,
  };
  const digest = TypedDataEncoder.hash(ethersDomain(domain), { Witness: [...TYPES.Witness] }, value);
  return encode("witness", TYPES.Witness, value, device.sign(getBytes(digest)));
}

export interface Answer {
  readonly status: number;
  readonly body: any;
}

/** One HTTP request; `from` picks the local address (each 127.0.0.x is another client to the service). */
export function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: string | Buffer,
  options: { contentType?: string; from?: string } = {},
): Promise<Answer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        ...(options.from !== undefined ? { localAddress: options.from } : {}),
        headers:
          body === undefined
            ? {}
            : {
                "content-type": options.contentType ?? "application/json",
                "content-length": Buffer.byteLength(body),
              },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const submit = (url: string, report: unknown, from?: string) =>
  request(url, "POST", "/v1/reports", JSON.stringify({ report }), from === undefined ? {} : { from });

export const submitBatch = (url: string, reports: unknown[], from?: string) =>
  request(url, "POST", "/v1/reports/batch", JSON.stringify({ reports }), from === undefined ? {} : { from });
