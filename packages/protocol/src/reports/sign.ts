/**
 * Building and signing reports: the library a device firmware or a simulator uses.
 *
 *   const signer = secp256k1Signer(privateKey);             // or p256Signer(keyObject)
 *   const beacon = signBeacon(signer, domain, { remoteEntropy, localEntropy, frequency, ... });
 *   post(encodeReport(beacon));                              // canonical wire text
 */
import { beaconPayload, payloadHash } from "../entropy/payload.js";
import { toHex, type Hex } from "../hex.js";
import type { DeviceSigner } from "../keys.js";
import { beaconDigest, domainSeparator, witnessDigest } from "./eip712.js";
import type { BeaconFields, BeaconReport, ReportDomain, WitnessFields, WitnessReport } from "./types.js";

const separators = new Map<string, Uint8Array>();

/** Domain separator, memoised per (chain, registry). */
export function separatorOf(domain: ReportDomain): Uint8Array {
  const k = `${domain.chainId}:${domain.verifyingContract}`;
  let sep = separators.get(k);
  if (sep === undefined) {
    sep = domainSeparator(domain);
    separators.set(k, sep);
  }
  return sep;
}

export type BeaconInput = Omit<BeaconFields, "device" | "payload">;
export type WitnessInput = Omit<WitnessFields, "witness" | "beaconPayloadHash"> & {
  /** The payload as received over the air; its hash goes into the report. */
  readonly heardPayload: Hex;
};

export function signBeacon(signer: DeviceSigner, domain: ReportDomain, input: BeaconInput): BeaconReport {
  const fields: BeaconFields = {
    device: signer.keyId,
    remoteEntropy: input.remoteEntropy,
    localEntropy: input.localEntropy,
    payload: beaconPayload(input.remoteEntropy, input.localEntropy, signer.keyId),
    frequency: input.frequency,
    channel: input.channel,
    dataRate: input.dataRate,
    txPower: input.txPower,
    timestamp: input.timestamp,
  };
  return signBeaconFields(signer, domain, fields);
}

/** Signs fields as given (the payload is not recomputed): simulators use it to craft bad reports. */
export function signBeaconFields(
  signer: DeviceSigner,
  domain: ReportDomain,
  fields: BeaconFields,
): BeaconReport {
  const signature = toHex(signer.sign(beaconDigest(separatorOf(domain), fields)));
  return { type: "beacon", ...fields, signature };
}

export function signWitness(signer: DeviceSigner, domain: ReportDomain, input: WitnessInput): WitnessReport {
  const fields: WitnessFields = {
    witness: signer.keyId,
    beaconPayloadHash: payloadHash(input.heardPayload),
    signal: input.signal,
    snr: input.snr,
    frequency: input.frequency,
    dataRate: input.dataRate,
    timestamp: input.timestamp,
  };
  return signWitnessFields(signer, domain, fields);
}

export function signWitnessFields(
  signer: DeviceSigner,
  domain: ReportDomain,
  fields: WitnessFields,
): WitnessReport {
  const signature = toHex(signer.sign(witnessDigest(separatorOf(domain), fields)));
  return { type: "witness", ...fields, signature };
}
