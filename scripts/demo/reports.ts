/**
 * An epoch of signed reports for the demo and the end-to-end test, as an oracle's store holds them:
 * the simulator's plausible beacons and witnesses (with a share spoiled: forged signature, late
 * arrival; its truncated texts are refused at ingest and only counted), plus hand-made bad ones so
 * every kind of refusal shows: a device witnessing itself, a signal stronger than free space allows,
 * a beacon and a witness report sent again, a report from an unregistered key.
 * No top-level side effects.
 */
import { getBytes, keccak256, toUtf8Bytes } from "ethers";

import {
  encodeReport,
  parseReport,
  signBeaconFields,
  signWitness,
  signWitnessFields,
  type BeaconReport,
  type ReceivedReport,
  type ReportDomain,
  type WitnessReport,
} from "@hexmesh/protocol";
import { secp256k1Signer } from "@hexmesh/protocol/node";
import { simulateEpoch, type SimDevice, type SimulatedEpoch } from "@hexmesh/sim";

export interface EpochReportsOptions {
  readonly domain: ReportDomain;
  readonly epochStart: number;
  readonly epochEnd: number;
  readonly seed: string;
  readonly beaconsPerDevice?: number;
  readonly witnessesPerBeacon?: number;
  readonly invalidShare?: number;
  /** Add the hand-made bad reports (default true). */
  readonly crafted?: boolean;
  /** Key ids not to build crafted reports from (e.g. a suspended device, refused for another reason). */
  readonly avoid?: ReadonlySet<string>;
}

interface Parsed<R> {
  readonly at: number;
  readonly raw: string;
  readonly report: R;
}

export interface DemoEpoch extends SimulatedEpoch {
  /** Simulated texts that are not reports: an oracle refuses them at ingest (HTTP 400, malformed). */
  readonly refusedAtIngest: number;
}

export function epochReports(fleet: readonly SimDevice[], o: EpochReportsOptions): DemoEpoch {
  const sim = simulateEpoch(fleet, {
    domain: o.domain,
    epochStart: o.epochStart,
    epochEnd: o.epochEnd,
    beaconsPerDevice: o.beaconsPerDevice ?? 4,
    witnessesPerBeacon: o.witnessesPerBeacon ?? 8,
    witnessRadiusSteps: 3,
    invalidShare: o.invalidShare ?? 0.02,
    seed: o.seed,
  });
  // Texts that are not reports (the simulator truncates some) are refused at ingest and never stored.
  const storable = sim.reports.filter((r) => parseReport(r.raw).ok);
  const refusedAtIngest = sim.reports.length - storable.length;
  if (o.crafted === false) return { ...sim, reports: storable, refusedAtIngest };

  const beacons: Parsed<BeaconReport>[] = [];
  const witnesses: Parsed<WitnessReport>[] = [];
  for (const r of storable) {
    const p = parseReport(r.raw);
    if (!p.ok) continue;
    if (p.report.type === "beacon" && o.avoid?.has(p.report.device)) continue;
    if (p.report.type === "beacon") beacons.push({ at: r.receivedAt, raw: r.raw, report: p.report });
    else witnesses.push({ at: r.receivedAt, raw: r.raw, report: p.report });
  }
  const signerOf = (keyId: string) => fleet.find((d) => d.signer.keyId === keyId)?.signer;
  const extra: ReceivedReport[] = [];
  const hashOf = (b: BeaconReport) => keccak256(b.payload);
  const avoid = o.avoid ?? new Set<string>();
  const witnessesOf = (b: BeaconReport) =>
    witnesses.filter((w) => w.report.beaconPayloadHash === hashOf(b) && !avoid.has(w.report.witness));

  // self_witness: a beaconer reporting that it heard its own beacon.
  const b0 = beacons[0];
  const s0 = b0 && signerOf(b0.report.device);
  if (b0 && s0) {
    const w = signWitness(s0, o.domain, {
      heardPayload: b0.report.payload,
      signal: -800,
      snr: 50,
      frequency: b0.report.frequency,
      dataRate: b0.report.dataRate,
      timestamp: b0.report.timestamp + 100n,
    });
    extra.push({ raw: encodeReport(w), receivedAt: b0.at + 120 });
  }
  // bad_rssi: a real witness claiming a signal 30 dB stronger than free-space loss allows.
  const b1 = beacons[1];
  const w1 = b1 && witnessesOf(b1.report)[0];
  const s1 = w1 && signerOf(w1.report.witness);
  if (w1 && s1) {
    const { type: _type, signature: _sig, ...fields } = w1.report;
    const loud = signWitnessFields(s1, o.domain, { ...fields, signal: fields.signal + 300, snr: 95 });
    extra.push({ raw: encodeReport(loud), receivedAt: w1.at + 3 });
  }
  // duplicate: a beacon sent again and a witness reporting it twice, each as a new text (a later
  // timestamp, signed again: the same text twice is stored once at ingest). Both from reports the
  // simulator signed genuinely (signing is deterministic, so signing the fields again gives the
  // same signature), so the second copy is refused as a duplicate and not for another reason.
  const genuineBeacon = (b: Parsed<BeaconReport>) => {
    const signer = signerOf(b.report.device);
    const { type: _type, signature, ...fields } = b.report;
    return signer !== undefined && encodeReport(signBeaconFields(signer, o.domain, fields)) === b.raw
      ? { signer, fields, signature }
      : undefined;
  };
  const genuineWitness = (w: Parsed<WitnessReport>) => {
    const signer = signerOf(w.report.witness);
    const { type: _type, signature, ...fields } = w.report;
    return signer !== undefined && encodeReport(signWitnessFields(signer, o.domain, fields)) === w.raw
      ? { signer, fields, signature }
      : undefined;
  };
  const b2 = beacons.slice(2).find((b) => genuineBeacon(b) !== undefined);
  if (b2) {
    const w2 = witnessesOf(b2.report).find((w) => genuineWitness(w) !== undefined);
    if (w2) {
      const { signer, fields } = genuineWitness(w2)!;
      const again = signWitnessFields(signer, o.domain, { ...fields, timestamp: fields.timestamp + 1n });
      extra.push({ raw: encodeReport(again), receivedAt: w2.at + 1 });
    }
    const { signer, fields } = genuineBeacon(b2)!;
    const again = signBeaconFields(signer, o.domain, { ...fields, timestamp: fields.timestamp + 2_000n });
    extra.push({ raw: encodeReport(again), receivedAt: b2.at + 2_000 });
  }
  // gateway_not_found: a key no maker ever attested.
  const b3 = beacons[3];
  if (b3) {
    const rogue = secp256k1Signer(getBytes(keccak256(toUtf8Bytes(`${o.seed}:rogue`))));
    const w = signWitness(rogue, o.domain, {
      heardPayload: b3.report.payload,
      signal: -900,
      snr: 20,
      frequency: b3.report.frequency,
      dataRate: b3.report.dataRate,
      timestamp: b3.report.timestamp + 80n,
    });
    extra.push({ raw: encodeReport(w), receivedAt: b3.at + 90 });
  }
  return { ...sim, reports: [...storable, ...extra], refusedAtIngest };
}
