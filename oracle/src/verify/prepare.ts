/**
 * Stage 1 of verification, per report and independent of every other report: parse the wire
 * text, hash the EIP-712 digest, find the device key, check the signature, rebuild the beacon
 * payload. This is where the CPU goes (signature checks), so it runs on worker threads
 * (verify/pool.ts) or inline (InlinePreparer) with identical results.
 */
import type { DeviceKey, ReceivedReport } from "../chain/types.js";
import { keccak256 } from "../crypto/keccak.js";
import { beaconPayload, payloadHash } from "../entropy/payload.js";
import { beaconDigest, witnessDigest } from "../reports/eip712.js";
import { keyIdOf, SignatureChecker } from "../reports/keys.js";
import { separatorOf } from "../reports/sign.js";
import type { ReportDomain } from "../reports/types.js";
import { parseReport, type ParseError } from "../reports/wire.js";
import { toHex, type Hex } from "../util/hex.js";

/** Outcome of the key lookup and signature check. */
export type Auth = "ok" | "unknown_device" | "bad_signature";

export interface PreparedMalformed {
  readonly kind: "malformed";
  /** keccak256 of the UTF-8 text as received. */
  readonly id: Hex;
  readonly receivedAt: number;
  readonly error: ParseError;
}

/**
 * What later stages need of a beacon, flattened (no signature, no local entropy, no device clock):
 * this crosses the thread boundary once per report, so it is kept small.
 */
export interface PreparedBeacon {
  readonly kind: "beacon";
  /** The EIP-712 digest: the report's identity (same content, same id). */
  readonly id: Hex;
  readonly receivedAt: number;
  readonly auth: Auth;
  /** Key id of the beaconing device. */
  readonly device: Hex;
  /** keccak256(payload): what witnesses cite. */
  readonly beacon: Hex;
  /** payload == beaconPayload(remoteEntropy, localEntropy). */
  readonly payloadOk: boolean;
  readonly remoteEntropy: Hex;
  readonly frequency: number;
  readonly channel: number;
  readonly dataRate: number;
  readonly txPower: number;
}

export interface PreparedWitness {
  readonly kind: "witness";
  readonly id: Hex;
  readonly receivedAt: number;
  readonly auth: Auth;
  /** Key id of the witnessing device. */
  readonly device: Hex;
  /** The beacon payload hash it cites. */
  readonly beacon: Hex;
  readonly signal: number;
  readonly snr: number;
  readonly frequency: number;
  readonly dataRate: number;
}

export type Prepared = PreparedMalformed | PreparedBeacon | PreparedWitness;

const utf8 = new TextEncoder();

/** Per-thread stage-1 state: the domain separator, the key table and the signature cache. */
export class ReportPreparation {
  private readonly separator: Uint8Array;
  private readonly keys = new Map<Hex, DeviceKey>();
  private readonly checker = new SignatureChecker();

  constructor(domain: ReportDomain, keys: Iterable<DeviceKey>) {
    this.separator = separatorOf(domain);
    for (const key of keys) this.keys.set(keyIdOf(key), key);
  }

  prepare(raw: string, receivedAt: number): Prepared {
    const parsed = parseReport(raw);
    if (!parsed.ok) {
      const text = typeof raw === "string" ? raw : String(raw);
      return { kind: "malformed", id: toHex(keccak256(utf8.encode(text))), receivedAt, error: parsed.error };
    }
    const report = parsed.report;
    if (report.type === "beacon") {
      const digest = beaconDigest(this.separator, report);
      return {
        kind: "beacon",
        id: toHex(digest),
        receivedAt,
        auth: this.authenticate(report.device, digest, report.signature),
        device: report.device,
        beacon: payloadHash(report.payload),
        payloadOk: beaconPayload(report.remoteEntropy, report.localEntropy) === report.payload,
        remoteEntropy: report.remoteEntropy,
        frequency: report.frequency,
        channel: report.channel,
        dataRate: report.dataRate,
        txPower: report.txPower,
      };
    }
    const digest = witnessDigest(this.separator, report);
    return {
      kind: "witness",
      id: toHex(digest),
      receivedAt,
      auth: this.authenticate(report.witness, digest, report.signature),
      device: report.witness,
      beacon: report.beaconPayloadHash,
      signal: report.signal,
      snr: report.snr,
      frequency: report.frequency,
      dataRate: report.dataRate,
    };
  }

  private authenticate(keyId: Hex, digest: Uint8Array, signature: Hex): Auth {
    const key = this.keys.get(keyId);
    if (key === undefined) return "unknown_device";
    return this.checker.verify(key, digest, signature) ? "ok" : "bad_signature";
  }
}

/** Called as each batch of results is ready (any order); `start` is its index in the input. */
export type BatchListener = (start: number, prepared: readonly Prepared[]) => void;

/** Runs stage 1 over reports; results are in input order. */
export interface ReportPreparer {
  prepare(reports: readonly ReceivedReport[], onBatch?: BatchListener): Promise<Prepared[]>;
  close(): Promise<void>;
}

/** Stage 1 on the calling thread (tests, small epochs). */
export class InlinePreparer implements ReportPreparer {
  private readonly prep: ReportPreparation;

  constructor(domain: ReportDomain, keys: Iterable<DeviceKey>) {
    this.prep = new ReportPreparation(domain, keys);
  }

  prepare(reports: readonly ReceivedReport[], onBatch?: BatchListener): Promise<Prepared[]> {
    const prepared = reports.map((r) => this.prep.prepare(r.raw, r.receivedAt));
    onBatch?.(0, prepared);
    return Promise.resolve(prepared);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
