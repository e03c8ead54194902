/**
 * An epoch of signed reports for the demo and the end-to-end test: the simulator's plausible
 * beacons and witnesses (with a share spoiled: forged signature, truncated text, late arrival),
 * plus hand-made bad ones so every kind of refusal shows: a device witnessing itself, a signal
 * stronger than free space allows, a report sent twice, a report from an unregistered key.
 * No top-level side effects.
 */
import { keccak256, toUtf8Bytes, getBytes } from "ethers";

import {
  type BeaconReport,
  encodeReport,
  parseReport,
  type ReceivedReport,
  type ReportDomain,
  signWitness,
  signWitnessFields,
  type WitnessReport,
} from "@hexmesh/protocol";
import { secp256k1Signer } from "@hexmesh/protocol/node";
import { simulateEpoch, type SimDevice, type SimulatedEpoch } from "@hexmesh/sim/fleet";

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

export function epochReports(fleet: readonly SimDevice[], o: EpochReportsOptions): SimulatedEpoch {
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
  if (o.crafted === false) return sim;

  const beacons: Parsed<BeaconReport>[] = [];
  const witnesses: Parsed<WitnessReport>[] = [];
  for (const r of sim.reports) {
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
  // duplicate: the same witness report and the same beacon delivered twice.
  const b2 = beacons[2];
  const w2 = b2 && witnessesOf(b2.report)[0];
  if (w2) extra.push({ raw: w2.raw, receivedAt: w2.at + 1 });
  if (b2) extra.push({ raw: b2.raw, receivedAt: b2.at + 2_000 });
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
  return { ...sim, reports: [...sim.reports, ...extra] };
}
