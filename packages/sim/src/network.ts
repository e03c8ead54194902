/**
 * One epoch of a simulated network: every device beacons once per 6-hour window; who hears a beacon
 * follows the radio model (radio.ts) from the devices' real positions and hardware; every device
 * that hears it files a signed witness report (the same EIP-712 wire format firmware uses); the
 * adversaries add what they add. Each report carries its ground truth (who sent it, what kind of
 * device that is, whether the report is genuine, and whether the published rules should refuse it
 * even on the true geometry), so the oracle's verdicts can be scored.
 *
 * Deterministic from the world's seed and the epoch options: same inputs, same reports, same bytes,
 * except P-256 signatures (node:crypto draws a random ECDSA nonce, as secure elements do); their
 * signed content, digests and every verdict are the same.
 */
import * as h3 from "h3-js";

import { DEFAULT_COVERAGE_PARAMS } from "@hexmesh/oracle";
import {
  beaconDigest,
  beaconPayload,
  encodeReport,
  ENTROPY_INTERVAL_MS,
  fsplDb,
  haversineM,
  keccak256,
  loraSnrFloorDb,
  makeEntropy,
  noiseFloorDbm,
  payloadHash,
  separatorOf,
  toHex,
  witnessDigest,
  type BeaconFields,
  type EntropyEntry,
  type Hex,
  type ReceivedReport,
  type WitnessFields,
} from "@hexmesh/protocol";

import { Rng } from "./fleet.js";
import {
  INDOOR_LOSS_DB,
  linkEnvironment,
  linkShadowDb,
  maxRangeM,
  medianPathLossDb,
  mix32,
  NOISE_FIGURE_DB,
  radioHorizonM,
  sigmaDb,
  SNR_SATURATION_DB,
} from "./radio.js";
import { HARDWARE, type World, type WorldDevice } from "./world.js";

export const WINDOW_MS = 6 * 60 * 60 * 1000;
/**
 * Packet-to-packet variation of a fixed link (small-scale fading, people and vehicles moving), dB.
 * Narrowband LoRa links between fixed stations vary by a few dB between packets.
 */
export const FADING_SIGMA_DB = 2;

/** What a report is, in truth. */
export const ACTS = [
  "genuine", // the radio event it describes happened as reported (location lies aside)
  "fabricated", // a witness of a beacon the device never heard (wallet ring)
  "relayed", // a witness of a beacon heard by an accomplice elsewhere, forwarded over the internet
  "stale_beacon", // a beacon citing entropy that expired before it was sent
  "stolen_beacon", // another device's beacon re-signed as the thief's own
  "old_witness", // a witness report of a beacon from an earlier epoch
] as const;
export type Act = (typeof ACTS)[number];
const ACT = Object.fromEntries(ACTS.map((a, i) => [a, i])) as Record<Act, number>;

export interface EpochSimulationOptions {
  readonly epochStart: number;
  readonly epochEnd: number;
  /** Beacon windows simulated (default: every 6-hour window of the epoch). */
  readonly windows?: number;
  /** Seed of the epoch's randomness (default: the world's seed). */
  readonly seed?: string;
}

/** Ground truth of every report, column-wise (index = position in `reports`). */
export interface ReportTruth {
  /** Sending device (index in world.devices). */
  readonly device: Int32Array;
  /** 0 beacon, 1 witness. */
  readonly type: Uint8Array;
  /** Index in ACTS. */
  readonly act: Uint8Array;
  /** Witness: the beaconer it cites (-1 if none in this epoch); stolen beacon: the victim. */
  readonly counterpart: Int32Array;
  /** 1 if the published rules refuse this report even on the devices' true positions. */
  readonly policy: Uint8Array;
  /** EIP-712 digest of each report (32 bytes each): the verdict id. */
  readonly ids: Uint8Array;
}

export interface SimulatedNetworkEpoch {
  readonly reports: ReceivedReport[];
  readonly entropy: EntropyEntry[];
  readonly truth: ReportTruth;
  /** Links evaluated by the radio model, and links that were heard. */
  readonly linksEvaluated: number;
  readonly linksHeard: number;
}

/** A simulated beacon: the signed fields but the device and timestamp, and how it went on air. */
interface Beacon extends Omit<BeaconFields, "device" | "timestamp"> {
  /** Index of the beaconing device in the world. */
  readonly device: number;
  readonly tx: number;
  readonly sf: number;
  readonly bandwidth: number;
}

/** Region radio settings of a device's beacons. */
function beaconRadio(d: WorldDevice, rng: Rng) {
  const gain = d.record.gain;
  if (d.region === "US915") {
    const channel = rng.int(64);
    // 27 dBm conducted, EIRP within 36 dBm (47 CFR 15.247)
    return {
      channel,
      frequency: 902_300_000 + 200_000 * channel,
      dataRate: 2,
      sf: 8,
      bandwidth: 125_000,
      txPower: Math.min(270, 360 - gain),
    };
  }
  const channel = rng.int(8);
  const frequencies = [
    868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000,
  ];
  return {
    channel,
    frequency: frequencies[channel]!,
    dataRate: 3,
    sf: 9,
    bandwidth: 125_000,
    // 16 dBm EIRP (ETSI EN 300 220-2): conducted power = 16 dBm - antenna gain, at most 14 dBm
    txPower: Math.min(140, 160 - gain),
  };
}

/** Spatial index of device positions: buckets of BUCKET_DEG degrees. */
const BUCKET_DEG = 0.05;
class Buckets {
  private readonly map = new Map<number, number[]>();
  constructor(devices: readonly WorldDevice[], filter: (d: WorldDevice) => boolean) {
    for (const d of devices) {
      if (!filter(d)) continue;
      const key = Buckets.key(Math.floor(d.lat / BUCKET_DEG), Math.floor(d.lng / BUCKET_DEG));
      let list = this.map.get(key);
      if (list === undefined) this.map.set(key, (list = []));
      list.push(d.index);
    }
  }
  private static key(a: number, b: number): number {
    return (a + 4000) * 10_000 + (b + 4000);
  }
  /** Device indexes in the box around (lat, lng) of half size rangeM, in a fixed order. */
  near(lat: number, lng: number, rangeM: number, out: number[]): void {
    out.length = 0;
    const dLat = rangeM / 111_320;
    const dLng = rangeM / (111_320 * Math.max(0.05, Math.cos((lat * Math.PI) / 180)));
    const a0 = Math.floor((lat - dLat) / BUCKET_DEG);
    const a1 = Math.floor((lat + dLat) / BUCKET_DEG);
    const b0 = Math.floor((lng - dLng) / BUCKET_DEG);
    const b1 = Math.floor((lng + dLng) / BUCKET_DEG);
    for (let a = a0; a <= a1; a++) {
      for (let b = b0; b <= b1; b++) {
        const list = this.map.get(Buckets.key(a, b));
        if (list !== undefined) for (const i of list) out.push(i);
      }
    }
  }
}

/** Growable column store for the truth. */
class TruthBuilder {
  device: number[] = [];
  type: number[] = [];
  act: number[] = [];
  counterpart: number[] = [];
  policy: number[] = [];
  ids: Uint8Array[] = [];
  push(device: number, type: number, act: number, counterpart: number, policy: boolean, id: Uint8Array) {
    this.device.push(device);
    this.type.push(type);
    this.act.push(act);
    this.counterpart.push(counterpart);
    this.policy.push(policy ? 1 : 0);
    this.ids.push(id);
  }
  finish(): ReportTruth {
    const ids = new Uint8Array(this.ids.length * 32);
    this.ids.forEach((id, i) => ids.set(id, i * 32));
    return {
      device: Int32Array.from(this.device),
      type: Uint8Array.from(this.type),
      act: Uint8Array.from(this.act),
      counterpart: Int32Array.from(this.counterpart),
      policy: Uint8Array.from(this.policy),
      ids,
    };
  }
}

const utf8 = new TextEncoder();
const seedHash = (s: string) => keccak256(utf8.encode(s));

export function simulateNetworkEpoch(world: World, o: EpochSimulationOptions): SimulatedNetworkEpoch {
  const seed = o.seed ?? world.seed;
  const rng = new Rng(`epoch:${seed}`);
  const h = seedHash(`shadow:${seed}`);
  const shadowSeed = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  const devices = world.devices;
  const sep = separatorOf(world.domain);
  const params = DEFAULT_COVERAGE_PARAMS;

  // Entropy: published every minute from an hour before the epoch (old beacons cite those).
  const entropy: EntropyEntry[] = [];
  const firstSlot = Math.floor(o.epochStart / ENTROPY_INTERVAL_MS) - 60;
  for (let t = firstSlot * ENTROPY_INTERVAL_MS; t < o.epochEnd; t += ENTROPY_INTERVAL_MS) {
    entropy.push(makeEntropy(toHex(seedHash(`${seed}:block:${t}`)), t / 1000));
  }
  const entropyAt = (ms: number): EntropyEntry => entropy[Math.floor(ms / ENTROPY_INTERVAL_MS) - firstSlot]!;

  const reports: ReceivedReport[] = [];
  const truth = new TruthBuilder();
  const latency = (d: WorldDevice) => Math.round(d.latencyMedianMs * Math.exp(d.latencySigma * rng.normal()));

  const emitBeacon = (d: WorldDevice, b: Beacon, receivedAt: number, act: Act, counterpart: number) => {
    const fields: BeaconFields = {
      device: d.signer.keyId,
      remoteEntropy: b.remoteEntropy,
      localEntropy: b.localEntropy,
      payload: b.payload,
      frequency: b.frequency,
      channel: b.channel,
      dataRate: b.dataRate,
      txPower: b.txPower,
      timestamp: BigInt(b.tx),
    };
    const digest = beaconDigest(sep, fields);
    const signature = toHex(d.signer.sign(digest));
    reports.push({ raw: encodeReport({ type: "beacon", ...fields, signature }), receivedAt });
    truth.push(d.index, 0, ACT[act], counterpart, false, digest);
  };
  const emitWitness = (
    w: WorldDevice,
    payload: Hex,
    signalDbm: number,
    snrDb: number,
    frequency: number,
    dataRate: number,
    heardAt: number,
    receivedAt: number,
    act: Act,
    beaconer: number,
    policy: boolean,
  ) => {
    const fields: WitnessFields = {
      witness: w.signer.keyId,
      beaconPayloadHash: payloadHash(payload),
      signal: Math.max(-32_768, Math.min(32_767, Math.round(signalDbm * 10))),
      snr: Math.max(-32_768, Math.min(32_767, Math.round(snrDb * 10))),
      frequency,
      dataRate,
      timestamp: BigInt(heardAt),
    };
    const digest = witnessDigest(sep, fields);
    const signature = toHex(w.signer.sign(digest));
    reports.push({ raw: encodeReport({ type: "witness", ...fields, signature }), receivedAt });
    truth.push(w.index, 1, ACT[act], beaconer, policy, digest);
  };

  /**
   * A witness report of beacon b that no radio of w's heard, with a plausible made-up signal
   * minDb-maxDb above the demodulation floor; `receivedAt` maps the claimed hearing time.
   */
  const emitMadeUpWitness = (
    w: WorldDevice,
    b: Beacon,
    minDb: number,
    maxDb: number,
    receivedAt: (heardAt: number) => number,
    act: Act,
  ) => {
    const tx = devices[b.device]!;
    const nf = noiseFloorDbm(b.bandwidth, NOISE_FIGURE_DB);
    const signal = nf + loraSnrFloorDb(b.sf) + rng.range(minDb, maxDb);
    const snr = Math.min(signal - nf - rng.range(0.5, 3), SNR_SATURATION_DB);
    const heardAt = b.tx + 150;
    emitWitness(
      w,
      b.payload,
      signal,
      snr,
      b.frequency,
      b.dataRate,
      heardAt,
      receivedAt(heardAt),
      act,
      tx.index,
      refusedByPolicy(tx, w, trueDistance(tx, w)),
    );
  };

  // True res-11 cells (min-distance rule on the true geometry), lazily.
  const trueGrid: (string | undefined)[] = [];
  const gridOf = (d: WorldDevice) =>
    (trueGrid[d.index] ??= h3.latLngToCell(d.lat, d.lng, params.minDistanceResolution));
  const rad = Math.PI / 180;
  const trueDistance = (a: WorldDevice, b: WorldDevice) =>
    haversineM(a.lat * rad, a.lng * rad, b.lat * rad, b.lng * rad);
  /** Would the rules refuse a witness of a by b on their true positions? */
  const refusedByPolicy = (a: WorldDevice, b: WorldDevice, d: number): boolean => {
    if (a.region !== b.region) return true;
    if (d > params.maxDistanceM) return true;
    if (d < 1_000) {
      try {
        if (h3.gridDistance(gridOf(a), gridOf(b)) < params.minGridDistance) return true;
      } catch {
        return false;
      }
    }
    return false;
  };

  const all = new Buckets(devices, () => true);
  const forgers = new Buckets(devices, (d) => d.extraRxGainDb > 0);
  const maxExtraGain = devices.reduce((m, d) => Math.max(m, d.extraRxGainDb), 0);
  const maxRxGainDbi = Math.max(...HARDWARE.map((hw) => hw.gain / 10));
  const replayers = devices.filter((d) => d.kind === "replayer");
  const relays = devices.filter((d) => d.kind === "late_relay");
  const rings = new Map<number, WorldDevice[]>();
  for (const d of devices) {
    if (d.kind !== "colluding_wallet") continue;
    let ring = rings.get(d.group);
    if (ring === undefined) rings.set(d.group, (ring = []));
    ring.push(d);
  }

  const windowsInEpoch = Math.max(1, Math.floor((o.epochEnd - o.epochStart) / WINDOW_MS));
  const windows = Math.min(o.windows ?? windowsInEpoch, windowsInEpoch);
  const slotsPerWindow = WINDOW_MS / ENTROPY_INTERVAL_MS;
  const near: number[] = [];
  let linksEvaluated = 0;
  let linksHeard = 0;

  for (let k = 0; k < windows; k++) {
    const windowStart = o.epochStart + k * WINDOW_MS;
    // 1. every device schedules its beacon
    const beacons: Beacon[] = devices.map((d) => {
      const slot = Math.floor(windowStart / ENTROPY_INTERVAL_MS) + 1 + rng.int(slotsPerWindow - 8);
      const e = entropyAt(slot * ENTROPY_INTERVAL_MS);
      const tx = e.timestamp * 1000 + 1_000 + rng.int(60_000);
      const localEntropy = toHex(seedHash(`${seed}:local:${d.index}:${k}`));
      const radio = beaconRadio(d, rng);
      return {
        device: d.index,
        tx,
        remoteEntropy: e.value,
        localEntropy,
        payload: beaconPayload(e.value, localEntropy, d.signer.keyId),
        ...radio,
      };
    });

    // 2. who hears each beacon (flat lists: beacon b's receptions are heardBy[start[b]..start[b+1]))
    const heardBy: number[] = [];
    const heardSignal: number[] = [];
    const heardSnr: number[] = [];
    const start: number[] = [];
    const hearing = (b: Beacon, tx: WorldDevice, j: number) => {
      if (j === tx.index) return;
      const rxd = devices[j]!;
      const d = trueDistance(tx, rxd);
      if (d > radioHorizonM(tx.height, rxd.height)) return;
      linksEvaluated++;
      const env = linkEnvironment(tx.env, rxd.env);
      const fspl = fsplDb(Math.max(d, 1), b.frequency);
      // co-located antennas (a farm) see each other in line of sight: no shadowing
      const shadow = d < 50 ? 0 : linkShadowDb(shadowSeed, tx.index, j, sigmaDb(env));
      const pl =
        Math.max(medianPathLossDb(env, d, b.frequency, tx.height, rxd.height) + shadow, fspl) +
        (HARDWARE[tx.hardware]!.indoor ? INDOOR_LOSS_DB : 0) +
        (HARDWARE[rxd.hardware]!.indoor ? INDOOR_LOSS_DB : 0);
      const rx =
        b.txPower / 10 +
        tx.record.gain / 10 -
        tx.attenuationDb +
        rxd.record.gain / 10 -
        rxd.attenuationDb +
        rxd.extraRxGainDb -
        pl +
        FADING_SIGMA_DB * rng.normal(); // small-scale fading of this packet
      const nf = noiseFloorDbm(b.bandwidth, NOISE_FIGURE_DB);
      const interference =
        3 * ((mix32(shadowSeed ^ Math.imul(j + 1, 0x2c1b_3c6d) ^ (b.tx | 0)) >>> 8) / 2 ** 24);
      const snr = rx - nf - interference;
      if (snr < loraSnrFloorDb(b.sf)) return;
      linksHeard++;
      const signal = rx + 0.7 * rng.normal(); // RSSI measurement error
      heardBy.push(j);
      heardSignal.push(signal);
      heardSnr.push(Math.min(snr, signal - nf, SNR_SATURATION_DB + 0.5 * rng.normal()));
    };
    for (const b of beacons) {
      start.push(heardBy.length);
      const tx = devices[b.device]!;
      const budget = b.txPower / 10 + tx.record.gain / 10 - tx.attenuationDb + maxRxGainDbi;
      const sens = noiseFloorDbm(b.bandwidth, NOISE_FIGURE_DB) + loraSnrFloorDb(b.sf);
      const range = maxRangeM(tx.env, budget - sens, b.frequency, tx.height, 40);
      all.near(tx.lat, tx.lng, range, near);
      for (const j of near) if (devices[j]!.extraRxGainDb === 0) hearing(b, tx, j);
      if (maxExtraGain > 0) {
        const far = maxRangeM(tx.env, budget + maxExtraGain - sens, b.frequency, tx.height, 40);
        forgers.near(tx.lat, tx.lng, far, near);
        for (const j of near) hearing(b, tx, j);
      }
    }
    start.push(heardBy.length);

    // 3. replayers: steal the strongest beacon they heard from an honest device this window (and
    //    skip their own), re-sign it as their own and send it with a faster link than the victim's
    const stolen = new Map<number, number>(); // thief -> beacon index
    {
      const best = new Map<number, { b: number; signal: number }>();
      const isReplayer = new Set(replayers.map((d) => d.index));
      for (let b = 0; b < beacons.length; b++) {
        if (devices[beacons[b]!.device]!.kind !== "honest") continue;
        for (let r = start[b]!; r < start[b + 1]!; r++) {
          const j = heardBy[r]!;
          if (!isReplayer.has(j)) continue;
          const cur = best.get(j);
          if (cur === undefined || heardSignal[r]! > cur.signal) best.set(j, { b, signal: heardSignal[r]! });
        }
      }
      for (const r of replayers) {
        const pick = best.get(r.index);
        if (pick !== undefined) stolen.set(r.index, pick.b);
      }
    }

    // 4. reports: beacons, genuine witnesses
    for (let bi = 0; bi < beacons.length; bi++) {
      const b = beacons[bi]!;
      const tx = devices[b.device]!;
      // a thief sends no beacon of its own in the window it steals one
      if (stolen.has(tx.index)) continue;
      emitBeacon(tx, b, b.tx + latency(tx), "genuine", -1);
      for (let r = start[bi]!; r < start[bi + 1]!; r++) {
        const w = devices[heardBy[r]!]!;
        const heardAt = b.tx + 150; // time on air of a ~20-byte SF8 packet, roughly
        emitWitness(
          w,
          b.payload,
          heardSignal[r]!,
          heardSnr[r]!,
          b.frequency + Math.round(2_000 * rng.normal()),
          b.dataRate,
          heardAt,
          heardAt + latency(w),
          "genuine",
          tx.index,
          refusedByPolicy(tx, w, trueDistance(tx, w)),
        );
      }
    }

    // 5. replayer acts
    for (const r of replayers) {
      const victim = stolen.get(r.index);
      if (victim !== undefined) {
        const b = beacons[victim]!;
        // the packet as heard (its payload, which the victim's witnesses cite; channel and data
        // rate, so they match it), its own transmit power and key, sent with a faster link. The
        // payload binds the victim's key id, so it does not rebuild for the thief (invalid_packet);
        // re-deriving it with the thief's key would give a payload no witness heard (no reward).
        const txPower = beaconRadio(r, rng).txPower;
        emitBeacon(r, { ...b, txPower }, b.tx + 40, "stolen_beacon", b.device);
      }
      // an old beacon of its own: entropy published 10-40 minutes earlier (expired)
      const b = beacons[r.index]!;
      const old = entropyAt(b.tx - (10 + rng.int(30)) * ENTROPY_INTERVAL_MS);
      const local = toHex(seedHash(`${seed}:old:${r.index}:${k}`));
      emitBeacon(
        r,
        {
          ...b,
          remoteEntropy: old.value,
          localEntropy: local,
          payload: beaconPayload(old.value, local, r.signer.keyId),
          tx: b.tx + 5_000,
        },
        b.tx + 5_000 + latency(r),
        "stale_beacon",
        -1,
      );
      // witness reports of beacons from an earlier epoch
      for (let c = 0; c < 2; c++) {
        const oldPayload = toHex(seedHash(`${seed}:old-payload:${r.index}:${k}:${c}`));
        const at = b.tx + 10_000 + rng.int(60_000);
        emitWitness(
          r,
          oldPayload,
          -110,
          -2,
          b.frequency,
          b.dataRate,
          at,
          at + latency(r),
          "old_witness",
          -1,
          false,
        );
      }
    }

    // 6. late relays: beacons of devices 10-60 km away, heard by an accomplice, forwarded
    const heardSets = new Map<number, Set<number>>();
    for (let bi = 0; bi < beacons.length; bi++) {
      for (let r = start[bi]!; r < start[bi + 1]!; r++) {
        const j = heardBy[r]!;
        if (devices[j]!.kind !== "late_relay") continue;
        let s = heardSets.get(j);
        if (s === undefined) heardSets.set(j, (s = new Set()));
        s.add(bi);
      }
    }
    for (const relay of relays) {
      all.near(relay.lat, relay.lng, 60_000, near);
      const candidates = near.filter((j) => {
        if (j === relay.index || heardSets.get(relay.index)?.has(j)) return false;
        const d = trueDistance(relay, devices[j]!);
        return d >= 10_000 && d <= 60_000;
      });
      for (let c = 0; c < 6 && candidates.length > 0; c++) {
        const bi = candidates.splice(rng.int(candidates.length), 1)[0]!;
        const b = beacons[bi]!;
        emitMadeUpWitness(relay, b, 2, 12, () => b.tx + Math.round(rng.range(1_000, 8_000)), "relayed");
      }
    }

    // 7. wallet rings: every member "witnesses" every other member's beacon it did not hear
    for (const ring of rings.values()) {
      for (const tx of ring) {
        const bi = tx.index;
        const b = beacons[bi]!;
        const heard = new Set(heardBy.slice(start[bi]!, start[bi + 1]!));
        for (const w of ring) {
          if (w === tx || heard.has(w.index)) continue;
          emitMadeUpWitness(w, b, 3, 18, (heardAt) => heardAt + latency(w), "fabricated");
        }
      }
    }
  }
  return { reports, entropy, truth: truth.finish(), linksEvaluated, linksHeard };
}
