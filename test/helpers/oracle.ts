/**
 * Fixtures for the oracle tests: a small world of devices with real keys on real H3 cells, an
 * entropy log, and builders of signed beacons and plausible witness reports. No side effects.
 */

import * as h3 from "h3-js";

import {
  encodeReport,
  keccak256,
  makeEntropy,
  maxRssiDbm,
  payloadHash,
  signBeacon,
  signWitnessFields,
  toHex,
  type BeaconInput,
  type BeaconReport,
  type ChainIndex,
  type DeviceRecord,
  type DeviceSigner,
  type DeviceStatus,
  type DeviceWork,
  type EntropyEntry,
  type Hex,
  type OwnerCumulative,
  type ReceivedReport,
  type ReportDomain,
  type WitnessReport,
  type WorkResult,
} from "@hexmesh/protocol";
import { p256Signer, secp256k1Signer } from "@hexmesh/protocol/node/signers";

export const CHAIN_ID = 31337n;
export const REGISTRY = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex;
export const DOMAIN: ReportDomain = { chainId: CHAIN_ID, verifyingContract: REGISTRY };
/** 2026-01-01T00:00:00Z, a multiple of the 6 h beacon window. */
export const EPOCH_START = Date.UTC(2026, 0, 1);
export const EPOCH_END = EPOCH_START + 86_400_000;
export const MESH = 10n ** 18n;

/** Boulder, Colorado: inside the coarse US915 box. */
export const BASE_LAT = 40.015;
export const BASE_LNG = -105.2705;

/** US915 channel 8 (903.9 MHz), DR2 (SF8/125 kHz), 27 dBm. */
export const RADIO = { channel: 8, frequency: 903_900_000, dataRate: 2, txPower: 270 } as const;

function seedBytes(label: string): Uint8Array {
  return keccak256(new TextEncoder().encode(label));
}

export function secpSignerFromSeed(seed: string): DeviceSigner {
  return secp256k1Signer(seedBytes(`secp256k1:${seed}`));
}

export function p256SignerFromSeed(seed: string): DeviceSigner {
  return p256Signer(seedBytes(`p256:${seed}`));
}

export function addressFromSeed(seed: string): Hex {
  return toHex(keccak256(new TextEncoder().encode(`owner:${seed}`)), 12, 20);
}

/** Point `northM` metres north and `eastM` east of (lat, lng) (local flat approximation). */
export function offset(lat: number, lng: number, northM: number, eastM: number): [number, number] {
  const dLat = northM / 111_320;
  const dLng = eastM / (111_320 * Math.cos((lat * Math.PI) / 180));
  return [lat + dLat, lng + dLng];
}

export function cellAt(lat: number, lng: number, resolution = 12): bigint {
  return BigInt(`0x${h3.latLngToCell(lat, lng, resolution)}`);
}

export interface TestDevice {
  readonly record: DeviceRecord;
  readonly signer: DeviceSigner;
  readonly keyId: Hex;
}

export interface DeviceOptions {
  readonly kind?: "secp256k1" | "p256";
  readonly northM?: number;
  readonly eastM?: number;
  readonly lat?: number;
  readonly lng?: number;
  readonly owner?: Hex;
  readonly gain?: number;
  readonly status?: DeviceStatus;
  readonly asserted?: boolean;
  readonly location?: bigint | null;
  /** Defaults to the id (devices onboarded in the order they are added). */
  readonly onboardOrder?: bigint;
}

export class World {
  readonly devices: TestDevice[] = [];
  readonly bonds = new Map<Hex, number>();
  readonly entropy: EntropyEntry[] = [];
  readonly previous: OwnerCumulative[] = [];
  pool = 1_000_000n * MESH;
  epoch = 7n;
  private nextId = 1n;

  addDevice(name: string, o: DeviceOptions = {}): TestDevice {
    const signer = (o.kind ?? "secp256k1") === "p256" ? p256SignerFromSeed(name) : secpSignerFromSeed(name);
    const [lat, lng] =
      o.lat !== undefined && o.lng !== undefined
        ? [o.lat, o.lng]
        : offset(BASE_LAT, BASE_LNG, o.northM ?? 0, o.eastM ?? 0);
    const owner = o.owner ?? addressFromSeed(name);
    const location = o.location !== undefined ? o.location : o.asserted === false ? null : cellAt(lat, lng);
    const record: DeviceRecord = {
      id: this.nextId,
      onboardOrder: o.onboardOrder ?? this.nextId,
      owner,
      key: signer.key,
      status: o.status ?? "active",
      location,
      gain: o.gain ?? 30,
      elevation: 10,
    };
    this.nextId++;
    if (!this.bonds.has(owner)) this.bonds.set(owner, 100);
    const device = { record, signer, keyId: signer.keyId };
    this.devices.push(device);
    return device;
  }

  /** Publishes an entropy at `atMs` (rounded down to the second). */
  publishEntropy(atMs: number, label = `${atMs}`): EntropyEntry {
    const e = makeEntropy(
      toHex(keccak256(new TextEncoder().encode(`block:${label}`))),
      Math.floor(atMs / 1000),
    );
    this.entropy.push(e);
    return e;
  }

  chain(overrides: Partial<ChainIndex> = {}): ChainIndex {
    return {
      chainId: CHAIN_ID,
      registry: REGISTRY,
      epoch: this.epoch,
      epochStart: EPOCH_START,
      epochEnd: EPOCH_END,
      pool: this.pool,
      devices: this.devices.map((d) => d.record),
      bonds: [...this.bonds].map(([owner, bondedDevices]) => ({ owner, bondedDevices })),
      previousCumulative: this.previous,
      ...overrides,
    };
  }
}

export function localEntropy(label: string): Hex {
  return toHex(keccak256(new TextEncoder().encode(`local:${label}`)));
}

export function makeBeacon(
  device: TestDevice,
  entropy: EntropyEntry,
  overrides: Partial<BeaconInput> = {},
  domain: ReportDomain = DOMAIN,
): BeaconReport {
  return signBeacon(device.signer, domain, {
    remoteEntropy: entropy.value,
    localEntropy: localEntropy(`${device.keyId}:${entropy.value}`),
    frequency: RADIO.frequency,
    channel: RADIO.channel,
    dataRate: RADIO.dataRate,
    txPower: RADIO.txPower,
    timestamp: BigInt(entropy.timestamp) * 1000n + 5_000n,
    ...overrides,
  });
}

function centre(record: DeviceRecord): [number, number] {
  return h3.cellToLatLng(record.location!.toString(16));
}

/** A witness report whose radio figures are plausible for the two devices' positions. */
export function makeWitness(
  witness: TestDevice,
  beaconer: TestDevice,
  beacon: BeaconReport,
  overrides: Partial<Omit<WitnessReport, "type" | "witness" | "signature">> & { marginDb?: number } = {},
  domain: ReportDomain = DOMAIN,
): WitnessReport {
  const distance = h3.greatCircleDistance(centre(beaconer.record), centre(witness.record), "m");
  const bound = maxRssiDbm(
    beacon.txPower / 10,
    beaconer.record.gain / 10,
    distance,
    beacon.frequency,
    witness.record.gain / 10,
  );
  const signal = Math.floor((bound - (overrides.marginDb ?? 15)) * 10);
  const snr = Math.max(-50, Math.min(95, signal + 1170 - 50));
  const { marginDb: _margin, ...rest } = overrides;
  return signWitnessFields(witness.signer, domain, {
    witness: witness.keyId,
    beaconPayloadHash: payloadHash(beacon.payload),
    signal,
    snr,
    frequency: beacon.frequency,
    dataRate: beacon.dataRate,
    timestamp: beacon.timestamp + 300n,
    ...rest,
  });
}

export function received(report: BeaconReport | WitnessReport, receivedAt: number): ReceivedReport {
  return { raw: encodeReport(report), receivedAt };
}

export { payloadHash };

/** Deterministic shuffle (xorshift), for order-independence tests. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A verifier's work in the coverage pools' shape (beacons 20%, witnesses 80%), for reward-stage tests. */
export const testWork = (devices: DeviceWork[]): WorkResult => ({
  kind: "test",
  pools: [
    { name: "beacon", bps: 2_000 },
    { name: "witness", bps: 8_000 },
  ],
  metricNames: [],
  devices,
  record: [],
});
