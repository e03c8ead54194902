/**
 * The simulated world: devices with real keys placed around real cities and a rural area, their
 * hardware (antenna gain, height, indoor or not), who owns them, where they really are and where
 * they say they are, and which of them cheat (the ground truth the report is scored against).
 *
 * Placement keeps the device density of each site constant as the fleet grows (a site's radius
 * grows with the square root of its device count), so the number of witnesses per beacon, and
 * with it the work per device, stays about the same from a few hundred to 100,000 devices.
 */
import * as h3 from "h3-js";

import {
  keccak256,
  toHex,
  type ChainIndex,
  type DeviceRecord,
  type DeviceSigner,
  type Hex,
  type ReportDomain,
} from "@hexmesh/protocol";

import { Rng, signerFor } from "./fleet.js";
import type { Environment } from "./radio.js";

export const ADVERSARY_KINDS = [
  "location_spoofer",
  "signal_forger",
  "witness_farm",
  "replayer",
  "late_relay",
  "colluding_wallet",
] as const;
export type AdversaryKind = (typeof ADVERSARY_KINDS)[number];
export type DeviceKind = "honest" | AdversaryKind;
export const DEVICE_KINDS: readonly DeviceKind[] = ["honest", ...ADVERSARY_KINDS];

/** What each kind does (for the report). */
export const KIND_DESCRIPTION: Readonly<Record<DeviceKind, string>> = {
  honest: "asserts where it is, reports what its radio measured",
  location_spoofer:
    "radio in a city, asserted cell 15-60 km away in open country (a third assert another city, >100 km)",
  signal_forger:
    "illegal receive amplifier and dish (+15-25 dB) behind a registered stock antenna: hears, and reports, signals stronger than its registered hardware allows",
  witness_farm:
    "8 devices in one room, each asserting a different cell 0.6-4 km around it, different wallets; half use cable attenuators so their mutual signals look plausible",
  replayer:
    "honest radio plus replays: a beacon signed with stale entropy, a neighbour's beacon re-signed as its own and sent faster, witness reports of old beacons",
  late_relay:
    "honestly located; an accomplice network forwards beacons from 10-60 km away, which it reports as heard, with a made-up plausible signal, 1-8 s late",
  colluding_wallet:
    "12 devices of one wallet, honestly located 3-15 km apart, file witness reports for each other's beacons that no radio heard",
};

export interface Site {
  readonly name: string;
  readonly lat: number;
  readonly lng: number;
  readonly kind: "city" | "rural";
  /** Share of the fleet. */
  readonly share: number;
}

/** Real places (city centres), two regions (US915, EU868). */
export const SITES: readonly Site[] = [
  { name: "San Francisco", lat: 37.7749, lng: -122.4194, kind: "city", share: 0.22 },
  { name: "Chicago", lat: 41.8781, lng: -87.6298, kind: "city", share: 0.2 },
  { name: "Austin", lat: 30.2672, lng: -97.7431, kind: "city", share: 0.14 },
  { name: "Berlin", lat: 52.52, lng: 13.405, kind: "city", share: 0.18 },
  { name: "Lyon", lat: 45.764, lng: 4.8357, kind: "city", share: 0.12 },
  { name: "rural Kansas", lat: 38.5, lng: -98.0, kind: "rural", share: 0.14 },
];

/** Devices per km² averaged over a city disc, and over the rural square. */
export const CITY_DENSITY_PER_KM2 = 0.12;
export const RURAL_DENSITY_PER_KM2 = 0.015;

export interface Hardware {
  readonly name: string;
  /** Tenths of dBi (as registered). */
  readonly gain: number;
  /** Antenna height range above ground, m. */
  readonly elevation: readonly [number, number];
  readonly indoor: boolean;
  readonly share: number;
}

export const HARDWARE: readonly Hardware[] = [
  { name: "indoor 3 dBi", gain: 30, elevation: [3, 8], indoor: true, share: 0.55 },
  { name: "outdoor 5.8 dBi", gain: 58, elevation: [6, 15], indoor: false, share: 0.35 },
  { name: "rooftop 9 dBi", gain: 90, elevation: [20, 40], indoor: false, share: 0.1 },
];

export interface WorldOptions {
  readonly devices: number;
  readonly seed: string;
  /** Share of devices with P-256 keys (the rest secp256k1). Default 0.2. */
  readonly p256Share?: number;
  /** Share of devices in each adversary kind. Default DEFAULT_ADVERSARY_SHARES. */
  readonly adversaryShares?: Partial<Readonly<Record<AdversaryKind, number>>>;
}

export const DEFAULT_ADVERSARY_SHARES: Readonly<Record<AdversaryKind, number>> = {
  location_spoofer: 0.02,
  signal_forger: 0.015,
  witness_farm: 0.02,
  replayer: 0.01,
  late_relay: 0.015,
  colluding_wallet: 0.02,
};
export const FARM_SIZE = 8;
export const RING_SIZE = 12;

export interface WorldDevice {
  /** Position in World.devices (device id = index + 1). */
  readonly index: number;
  readonly record: DeviceRecord;
  readonly signer: DeviceSigner;
  readonly kind: DeviceKind;
  readonly hardware: number;
  readonly site: number;
  readonly env: Environment;
  /** Where the radio really is (degrees) and its real antenna height (m). */
  readonly lat: number;
  readonly lng: number;
  readonly height: number;
  /** Farm or wallet ring number (-1 = none). */
  readonly group: number;
  /** Receive gain the device has beyond its registered antenna (forgers' amplifier), dB. */
  readonly extraRxGainDb: number;
  /** Attenuator on the feedline (both directions), dB. */
  readonly attenuationDb: number;
  /** Backhaul latency: median ms and log-normal sigma. */
  readonly latencyMedianMs: number;
  readonly latencySigma: number;
  readonly region: "US915" | "EU868";
}

export interface World {
  readonly seed: string;
  readonly devices: readonly WorldDevice[];
  readonly domain: ReportDomain;
}

export const SIM_CHAIN_ID = 31337n;
export const SIM_REGISTRY = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex;
export const SIM_DOMAIN: ReportDomain = { chainId: SIM_CHAIN_ID, verifyingContract: SIM_REGISTRY };

const utf8 = new TextEncoder();
const ownerAddress = (seed: string, label: string): Hex =>
  toHex(keccak256(utf8.encode(`${seed}:owner:${label}`)), 12, 20);

const M_PER_DEG_LAT = 111_320;

/** Moves (lat, lng) by (north, east) metres. */
export function offset(lat: number, lng: number, northM: number, eastM: number): [number, number] {
  return [lat + northM / M_PER_DEG_LAT, lng + eastM / (M_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180))];
}

function cellOf(lat: number, lng: number): bigint {
  return BigInt(`0x${h3.latLngToCell(lat, lng, 12)}`);
}

interface Placement {
  site: number;
  lat: number;
  lng: number;
  env: Environment;
}

/** Site radius (city disc) or half side (rural square) in metres for n devices. */
export function siteExtentM(site: Site, n: number): number {
  if (site.kind === "city") return Math.sqrt(n / (Math.PI * CITY_DENSITY_PER_KM2)) * 1000;
  return (Math.sqrt(n / RURAL_DENSITY_PER_KM2) * 1000) / 2;
}

export function buildWorld(o: WorldOptions): World {
  const seed = o.seed;
  const rng = new Rng(`world:${seed}`);
  const n = o.devices;
  const p256Share = o.p256Share ?? 0.2;
  const shares = { ...DEFAULT_ADVERSARY_SHARES, ...(o.adversaryShares ?? {}) };

  // Devices per site (largest remainder, deterministic).
  const perSite = SITES.map((s) => Math.floor(s.share * n));
  for (let k = 0, left = n - perSite.reduce((a, b) => a + b, 0); left > 0; k++, left--) {
    perSite[k % SITES.length]! += 1;
  }
  const extents = SITES.map((s, k) => siteExtentM(s, perSite[k]!));

  const place = (site: number): Placement => {
    const s = SITES[site]!;
    const extent = extents[site]!;
    if (s.kind === "rural") {
      const [lat, lng] = offset(s.lat, s.lng, rng.range(-extent, extent), rng.range(-extent, extent));
      return { site, lat, lng, env: "rural" };
    }
    // Denser towards the centre: r = R u^0.7 (a uniform disc would be u^0.5).
    const r = extent * rng.next() ** 0.7;
    const a = 2 * Math.PI * rng.next();
    const [lat, lng] = offset(s.lat, s.lng, r * Math.cos(a), r * Math.sin(a));
    return { site, lat, lng, env: r < 0.6 * extent ? "urban" : "suburban" };
  };
  const pickHardware = (): number => {
    const u = rng.next();
    let acc = 0;
    for (let h = 0; h < HARDWARE.length; h++) {
      acc += HARDWARE[h]!.share;
      if (u < acc) return h;
    }
    return HARDWARE.length - 1;
  };

  // Kind of each device: adversaries take whole groups (farms, rings), the rest are honest.
  const kinds: DeviceKind[] = [];
  const groups: number[] = [];
  let group = 0;
  for (const kind of ADVERSARY_KINDS) {
    let count = Math.round(shares[kind] * n);
    const size = kind === "witness_farm" ? FARM_SIZE : kind === "colluding_wallet" ? RING_SIZE : 1;
    count = size > 1 ? Math.floor(count / size) * size : count;
    for (let i = 0; i < count; i++) {
      kinds.push(kind);
      groups.push(size > 1 ? group + Math.floor(i / size) : -1);
    }
    if (size > 1) group += count / size;
  }
  while (kinds.length < n) {
    kinds.push("honest");
    groups.push(-1);
  }
  kinds.length = n;
  groups.length = n;
  // Spread the adversaries through the id space (a fixed shuffle), keeping groups together.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }

  // Sites: each device its site by share; group members share their leader's site.
  const siteOf: number[] = [];
  {
    const slots: number[] = [];
    for (let k = 0; k < SITES.length; k++) for (let c = 0; c < perSite[k]!; c++) slots.push(k);
    for (let i = slots.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [slots[i], slots[j]] = [slots[j]!, slots[i]!];
    }
    for (let i = 0; i < n; i++) siteOf.push(slots[i]!);
  }

  const farmSpot = new Map<number, Placement>();
  const ringCentre = new Map<number, Placement>();
  const devices: WorldDevice[] = [];
  let honestOwner = 0;
  let ownerLeft = 0;
  let ownerLabel = "";
  // Build in id order; kinds come from the shuffled assignment.
  const kindOf: DeviceKind[] = new Array<DeviceKind>(n);
  const groupOf: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    kindOf[order[i]!] = kinds[i]!;
    groupOf[order[i]!] = groups[i]!;
  }
  for (let index = 0; index < n; index++) {
    const kind = kindOf[index]!;
    const g = groupOf[index]!;
    const hardware = pickHardware();
    const hw = HARDWARE[hardware]!;
    let height = rng.range(hw.elevation[0], hw.elevation[1]);
    let site = siteOf[index]!;
    let p: Placement;
    let asserted: [number, number];
    let extraRxGainDb = 0;
    let attenuationDb = 0;
    let owner: Hex;

    if (kind === "witness_farm") {
      let spot = farmSpot.get(g);
      if (spot === undefined) {
        // farms sit at the edge of a city or in the countryside
        spot = place(site);
        farmSpot.set(g, spot);
      }
      site = spot.site;
      const [lat, lng] = offset(spot.lat, spot.lng, rng.range(-1.5, 1.5), rng.range(-1.5, 1.5));
      p = { site, lat, lng, env: spot.env };
      const r = rng.range(600, 4_000);
      const a = 2 * Math.PI * rng.next();
      asserted = offset(spot.lat, spot.lng, r * Math.cos(a), r * Math.sin(a));
      // half the farms: attenuators that bring a member's signal at ~2 m down to about -100 dBm
      attenuationDb = g % 2 === 0 ? rng.range(40, 46) : 0;
      height = 4;
      owner = ownerAddress(seed, `farm:${g}:${index}`);
    } else if (kind === "colluding_wallet") {
      let centre = ringCentre.get(g);
      if (centre === undefined) {
        centre = place(site);
        ringCentre.set(g, centre);
      }
      site = centre.site;
      const r = rng.range(3_000, 15_000);
      const a = 2 * Math.PI * rng.next();
      const [lat, lng] = offset(centre.lat, centre.lng, r * Math.cos(a), r * Math.sin(a));
      p = { site, lat, lng, env: centre.env === "urban" ? "suburban" : centre.env };
      asserted = [lat, lng];
      owner = ownerAddress(seed, `ring:${g}`);
    } else {
      p = place(site);
      asserted = [p.lat, p.lng];
      if (kind === "location_spoofer") {
        if (rng.next() < 1 / 3) {
          // another site of the same region, > 100 km away
          const same = SITES.map((s, k) => ({ s, k })).filter(
            ({ s, k }) => k !== site && Math.sign(s.lng) === Math.sign(SITES[site]!.lng),
          );
          const other = same[rng.int(same.length)]!;
          const q = place(other.k);
          asserted = [q.lat, q.lng];
        } else {
          const r = rng.range(15_000, 60_000);
          const a = 2 * Math.PI * rng.next();
          asserted = offset(p.lat, p.lng, r * Math.cos(a), r * Math.sin(a));
        }
      } else if (kind === "signal_forger") {
        extraRxGainDb = rng.range(15, 25);
      }
      if (ownerLeft === 0) {
        // honest-looking owners hold 1-3 devices (adversaries 1: their own wallets)
        ownerLeft = kind === "honest" ? 1 + rng.int(3) : 1;
        ownerLabel = `${kind === "honest" ? "h" : kind}:${honestOwner++}`;
      }
      ownerLeft--;
      owner = ownerAddress(seed, ownerLabel);
    }

    const slow = rng.next() < 0.03;
    // The report aggregates, so signatures never reach it: sign P-256 at OpenSSL speed (random k).
    const signer = signerFor(seed, index, rng.next() < p256Share, "random");
    const region = SITES[site]!.lng < -30 ? "US915" : "EU868";
    devices.push({
      index,
      signer,
      kind,
      hardware,
      site,
      env: p.env,
      lat: p.lat,
      lng: p.lng,
      height,
      group: g,
      extraRxGainDb,
      attenuationDb,
      latencyMedianMs: slow ? 1_200 : 250,
      latencySigma: slow ? 0.7 : 0.6,
      region,
      record: {
        id: BigInt(index + 1),
        onboardOrder: BigInt(index + 1),
        owner,
        key: signer.key,
        status: "active",
        location: cellOf(asserted[0], asserted[1]),
        gain: hw.gain,
        elevation: Math.round(height),
      },
    });
  }
  return { seed, devices, domain: SIM_DOMAIN };
}

export interface ChainIndexOptions {
  readonly epoch: bigint;
  readonly epochStart: number;
  readonly epochEnd: number;
  readonly pool: bigint;
}

/** The chain state the oracle sees: every device active and asserted, every owner fully bonded. */
export function worldChainIndex(world: World, o: ChainIndexOptions): ChainIndex {
  const counts = new Map<Hex, number>();
  for (const d of world.devices) counts.set(d.record.owner, (counts.get(d.record.owner) ?? 0) + 1);
  return {
    chainId: world.domain.chainId,
    registry: world.domain.verifyingContract,
    epoch: o.epoch,
    epochStart: o.epochStart,
    epochEnd: o.epochEnd,
    pool: o.pool,
    devices: world.devices.map((d) => d.record),
    bonds: [...counts].map(([owner, bondedDevices]) => ({ owner, bondedDevices })),
    previousCumulative: [],
  };
}
