/**
 * A fleet simulator: devices with real keys (secp256k1 and P-256) on H3 cells, and an epoch of
 * signed beacons and witness reports with physically plausible radio figures. Used by the
 * benchmark and usable by the demo and end-to-end tests. Deterministic for a given seed.
 */

import * as h3 from "h3-js";

import {
  encodeReport,
  ENTROPY_INTERVAL_MS,
  keccak256,
  makeEntropy,
  maxRssiDbm,
  payloadHash,
  signBeacon,
  signWitnessFields,
  toHex,
  type BeaconReport,
  type DeviceRecord,
  type DeviceSigner,
  type EntropyEntry,
  type ReceivedReport,
  type ReportDomain,
  type WitnessReport,
} from "@hexmesh/protocol";
import { p256Signer, secp256k1Signer } from "@hexmesh/protocol/node";

import { mix32 } from "./radio.js";

export interface SimDevice {
  readonly record: DeviceRecord;
  readonly signer: DeviceSigner;
  readonly lat: number;
  readonly lng: number;
}

export interface FleetOptions {
  readonly devices: number;
  /** Share of devices with P-256 keys (the rest secp256k1). */
  readonly p256Share: number;
  /** Grid spacing between devices, metres. */
  readonly spacingM: number;
  /** South-west corner of the grid (degrees). Default: Boulder, Colorado (US915). */
  readonly origin?: readonly [number, number];
  /** Devices per owner. */
  readonly devicesPerOwner?: number;
  readonly seed?: string;
  /**
   * How P-256 devices sign (signerFor): "rfc6979" (default) reproduces every signature byte for
   * byte; "random" signs with OpenSSL and a random nonce, ~10x faster, for days generated once and
   * kept (bench:scale), whose reports then differ from run to run only in their P-256 signatures.
   */
  readonly p256Nonce?: "rfc6979" | "random";
}

const utf8 = new TextEncoder();
const hash = (label: string) => keccak256(utf8.encode(label));

/** A small deterministic PRNG (xorshift32) so simulations are reproducible. */
export class Rng {
  private s: number;
  constructor(seed: string) {
    const h = hash(`rng:${seed}`);
    this.s = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0 || 1;
  }
  /** The generator's whole state: `Rng.at(state)` continues exactly where this one is. */
  get state(): number {
    return this.s;
  }
  static at(state: number): Rng {
    const rng = new Rng("");
    rng.s = state >>> 0 || 1;
    return rng;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.s = s;
    return s / 0x1_0000_0000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box-Muller, one draw per call). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * The device key the simulators derive for device `index` of a seed (secp256k1 or P-256). P-256
 * signatures are deterministic unless `nonce` is "random" (see p256Signer).
 */
export function signerFor(
  seed: string,
  index: number,
  isP256: boolean,
  nonce: "rfc6979" | "random" = "rfc6979",
): DeviceSigner {
  const secret = hash(`${seed}:device:${index}`);
  if (!isP256) return secp256k1Signer(secret);
  return p256Signer(secret, { nonce });
}

export function makeFleet(o: FleetOptions): SimDevice[] {
  return Array.from({ length: o.devices }, (_, i) => fleetDevice(o, i));
}

/** Device `i` of makeFleet(o), made alone (a large fleet's records without every signer held). */
export function fleetDevice(o: FleetOptions, i: number): SimDevice {
  const seed = o.seed ?? "hexmesh";
  const [lat0, lng0] = o.origin ?? [40.015, -105.2705];
  const side = Math.ceil(Math.sqrt(o.devices));
  const perOwner = o.devicesPerOwner ?? 1;
  const row = Math.floor(i / side);
  const col = i % side;
  const lat = lat0 + (row * o.spacingM) / 111_320;
  const lng = lng0 + (col * o.spacingM) / (111_320 * Math.cos((lat0 * Math.PI) / 180));
  const signer = signerFor(seed, i, (i * 7919) % 1000 < o.p256Share * 1000, o.p256Nonce);
  return {
    signer,
    lat,
    lng,
    record: {
      id: BigInt(i + 1),
      onboardOrder: BigInt(i + 1),
      owner: toHex(hash(`${seed}:owner:${Math.floor(i / perOwner)}`), 12, 20),
      key: signer.key,
      status: "active",
      location: BigInt(`0x${h3.latLngToCell(lat, lng, 12)}`),
      gain: 30,
      elevation: 10,
    },
  };
}

export interface EpochSimOptions {
  readonly domain: ReportDomain;
  readonly epochStart: number;
  readonly epochEnd: number;
  /** Beacons per device in the epoch (at most one per 6-hour window). */
  readonly beaconsPerDevice: number;
  /** Mean witnesses per beacon (links are drawn per neighbour pair, so the count varies). */
  readonly witnessesPerBeacon: number;
  /** Witnesses are drawn from devices within this many grid steps. */
  readonly witnessRadiusSteps?: number;
  /** Share of reports deliberately spoiled (bad signature, malformed text, late witness). */
  readonly invalidShare?: number;
  readonly seed?: string;
}

export interface SimulatedEpoch {
  readonly reports: ReceivedReport[];
  readonly entropy: EntropyEntry[];
  readonly beacons: number;
  readonly witnesses: number;
}

const WINDOW_MS = 6 * 60 * 60 * 1000;

export function simulateEpoch(fleet: readonly SimDevice[], o: EpochSimOptions): SimulatedEpoch {
  const plan = planEpoch(fleet.length, o, Math.max(1, fleet.length));
  const reports: ReceivedReport[] = [];
  for (const chunk of plan.chunks) reports.push(...simulateChunk(fleet, o, plan, chunk));
  if ((o.invalidShare ?? 0) > 0) spoil(reports, o.invalidShare!, Rng.at(plan.finalState));
  return { reports, entropy: plan.entropy, beacons: plan.beacons, witnesses: plan.witnesses };
}

/**
 * A part of an epoch's simulation: the beacons of devices [from, to) in 6-hour window `window`, with
 * their witnesses, drawn from the random state `rngState` (the state simulateEpoch's one generator
 * has when it reaches the part). Parts simulated apart (on other threads) and concatenated in plan
 * order give simulateEpoch's reports, byte for byte.
 */
export interface EpochChunk {
  readonly window: number;
  readonly from: number;
  readonly to: number;
  readonly rngState: number;
  /** Reports the part yields (its beacons and their witnesses). */
  readonly reports: number;
}

/** An epoch's entropy, counts and parts (planEpoch), found without signing anything. */
export interface EpochPlan {
  readonly entropy: EntropyEntry[];
  readonly chunks: EpochChunk[];
  readonly beacons: number;
  readonly witnesses: number;
  /** The random state after the last part (spoiling draws from it). */
  readonly finalState: number;
}

/** Random draws per beacon (slot, receive time, local entropy) and per witness (signal, receive time). */
const DRAWS_PER_BEACON = 3;
const DRAWS_PER_WITNESS = 2;

/**
 * The parts of simulateEpoch's epoch of a fleet of `devices`, `devicesPerChunk` beaconers each: one pass that only advances
 * the random generator (the draws per beacon and witness are fixed), so it costs no signature.
 */
export function planEpoch(devices: number, o: EpochSimOptions, devicesPerChunk: number): EpochPlan {
  if (!Number.isSafeInteger(devicesPerChunk) || devicesPerChunk < 1)
    throw new RangeError(`devicesPerChunk must be a positive integer, not ${devicesPerChunk}`);
  const rng = new Rng(o.seed ?? "epoch");
  const links = linksOf(devices, o);
  const entropy: EntropyEntry[] = [];
  for (let t = o.epochStart; t < o.epochEnd; t += ENTROPY_INTERVAL_MS) {
    entropy.push(makeEntropy(toHex(hash(`${o.seed ?? "epoch"}:block:${t}`)), t / 1000));
  }
  const chunks: EpochChunk[] = [];
  let beacons = 0;
  let witnesses = 0;
  for (let k = 0; k < windowsOf(o); k++) {
    for (let from = 0; from < devices; from += devicesPerChunk) {
      const to = Math.min(devices, from + devicesPerChunk);
      const rngState = rng.state;
      let reports = 0;
      for (let i = from; i < to; i++) {
        const n = links.of(i).length;
        for (let d = 0; d < DRAWS_PER_BEACON + DRAWS_PER_WITNESS * n; d++) rng.next();
        reports += 1 + n;
        beacons++;
        witnesses += n;
      }
      chunks.push({ window: k, from, to, rngState, reports });
    }
  }
  return { entropy, chunks, beacons, witnesses, finalState: rng.state };
}

/** The reports of one part of the plan (EpochChunk), as simulateEpoch gives them. */
export function simulateChunk(
  fleet: readonly SimDevice[],
  o: EpochSimOptions,
  plan: Pick<EpochPlan, "entropy">,
  chunk: EpochChunk,
): ReceivedReport[] {
  const rng = Rng.at(chunk.rngState);
  const links = linksOf(fleet.length, o);
  const reports: ReceivedReport[] = [];
  const windowStart = o.epochStart + chunk.window * WINDOW_MS;
  for (let i = chunk.from; i < chunk.to; i++) {
    const beaconer = fleet[i]!;
    const slot =
      Math.floor(windowStart / ENTROPY_INTERVAL_MS) + 1 + rng.int(WINDOW_MS / ENTROPY_INTERVAL_MS - 4);
    const e = plan.entropy[slot - Math.floor(o.epochStart / ENTROPY_INTERVAL_MS)]!;
    const at = e.timestamp * 1000 + 1_000 + rng.int(60_000);
    const beacon = signBeacon(beaconer.signer, o.domain, {
      remoteEntropy: e.value,
      localEntropy: toHex(hash(`${i}:${chunk.window}:${rng.next()}`)),
      frequency: 903_900_000,
      channel: 8,
      dataRate: 2,
      txPower: 270,
      timestamp: BigInt(at - 150),
    });
    reports.push({ raw: encodeReport(beacon), receivedAt: at });
    for (const j of links.of(i)) {
      const report = plausibleWitness(beaconer, fleet[j]!, beacon, o.domain, rng, at + 50);
      reports.push({ raw: encodeReport(report), receivedAt: at + 20 + rng.int(1_500) });
    }
  }
  return reports;
}

const linksOf = (devices: number, o: EpochSimOptions) =>
  new GridLinks(devices, o.seed ?? "epoch", o.witnessesPerBeacon, o.witnessRadiusSteps ?? 3);

const windowsOf = (o: EpochSimOptions) =>
  Math.min(o.beaconsPerDevice, Math.max(1, Math.floor((o.epochEnd - o.epochStart) / WINDOW_MS)));

/**
 * Who hears whom on the fleet's grid: each pair of devices within `radius` grid steps is linked
 * with the probability that gives `meanLinks` links per device. Links are symmetric (path loss is
 * reciprocal): j hears i iff i hears j, so each link is seen from both ends, as the one-way rule
 * expects of honest devices.
 */
export class GridLinks {
  private readonly side: number;
  private readonly seed: number;
  private readonly share: number;
  constructor(
    private readonly count: number,
    seed: string,
    meanLinks: number,
    private readonly radius: number,
  ) {
    this.side = Math.ceil(Math.sqrt(count));
    const h = hash(`links:${seed}`);
    this.seed = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    this.share = Math.min(1, meanLinks / ((2 * radius + 1) ** 2 - 1));
  }

  /** Devices linked to device i, in grid order. */
  of(i: number): number[] {
    const row = Math.floor(i / this.side);
    const col = i % this.side;
    const out: number[] = [];
    for (let r = row - this.radius; r <= row + this.radius; r++) {
      for (let c = col - this.radius; c <= col + this.radius; c++) {
        const j = r * this.side + c;
        if (r < 0 || c < 0 || c >= this.side || j >= this.count || j === i) continue;
        const pair = Math.imul(Math.min(i, j) + 1, 0x9e37_79b1) ^ Math.imul(Math.max(i, j) + 1, 0x85eb_ca77);
        if (mix32(this.seed ^ pair) / 0x1_0000_0000 < this.share) out.push(j);
      }
    }
    return out;
  }
}

/** A witness report of `beacon` by `witness` (US915 channel 8), 8-28 dB under the free-space bound. */
export function plausibleWitness(
  beaconer: SimDevice,
  witness: SimDevice,
  beacon: BeaconReport,
  domain: ReportDomain,
  rng: Rng,
  timestampMs: number,
): WitnessReport {
  const distance = h3.greatCircleDistance(
    h3.cellToLatLng(beaconer.record.location!.toString(16)),
    h3.cellToLatLng(witness.record.location!.toString(16)),
    "m",
  );
  const bound = maxRssiDbm(27, beaconer.record.gain / 10, distance, 903_900_000, witness.record.gain / 10);
  const signal = Math.floor((bound - 8 - 20 * rng.next()) * 10);
  return signWitnessFields(witness.signer, domain, {
    witness: witness.signer.keyId,
    beaconPayloadHash: payloadHash(beacon.payload),
    signal,
    snr: Math.max(-60, Math.min(95, signal + 1170 - 40)),
    frequency: 903_900_000,
    dataRate: 2,
    timestamp: BigInt(timestampMs),
  });
}

/** Spoils a share of reports in three ways: forged signature, truncated text, late arrival. */
function spoil(reports: ReceivedReport[], share: number, rng: Rng): void {
  for (let i = 0; i < reports.length; i++) {
    if (rng.next() >= share) continue;
    const r = reports[i]!;
    const kind = rng.int(3);
    if (kind === 0) {
      // flip a hex digit inside r
      const at = r.raw.indexOf(`"signature":"0x`) + 20;
      const digit = r.raw[at] === "0" ? "1" : "0";
      reports[i] = { raw: r.raw.slice(0, at) + digit + r.raw.slice(at + 1), receivedAt: r.receivedAt };
    } else if (kind === 1) {
      reports[i] = { raw: r.raw.slice(0, r.raw.length - 7), receivedAt: r.receivedAt };
    } else {
      reports[i] = { raw: r.raw, receivedAt: r.receivedAt + 10_000 };
    }
  }
}
