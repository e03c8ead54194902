/** A simulated day of signed reports for the store benches (bench/pull.ts, bench/store.ts, bench/scale.ts). */
import type { DeviceRecord, Hex } from "@hexmesh/protocol";
import { simulateEpochOnThreads } from "@hexmesh/sim/epoch-threads";
import {
  fleetDevice,
  makeFleet,
  simulateEpoch,
  type EpochSimOptions,
  type FleetOptions,
  type SimDevice,
} from "@hexmesh/sim/fleet";

export const DAY_DOMAIN = {
  chainId: 31337n,
  verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex,
};
export const DAY_START = Date.UTC(2026, 0, 1);
export const DAY_END = DAY_START + 86_400_000;

/** `devices` devices, 4 beacons each a day, up to 6 witnesses per beacon (~27 reports per device). */
export function dayOptions(devices: number, seed: string): { fleet: FleetOptions; epoch: EpochSimOptions } {
  return {
    fleet: { devices, p256Share: 0.2, spacingM: 400, seed },
    epoch: {
      domain: DAY_DOMAIN,
      epochStart: DAY_START,
      epochEnd: DAY_END,
      beaconsPerDevice: 4,
      witnessesPerBeacon: 6,
      seed,
    },
  };
}

/** The day in memory at once (small days). */
export function simulatedDay(devices: number, seed: string) {
  const t0 = performance.now();
  const options = dayOptions(devices, seed);
  const fleet: SimDevice[] = makeFleet(options.fleet);
  const sim = simulateEpoch(fleet, options.epoch);
  console.log(
    `simulated ${sim.reports.length} signed reports in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { fleet, sim };
}

/**
 * Beaconers per part of a streamed day (~27,000 reports): each part is one store transaction when
 * imported, and fewer, larger commits cost less (measured at 216,576 reports on two threads: 42.9 s
 * with parts of 256 devices, 35.2 s with 1,024, 44.1 s with 4,096, whose few parts leave a thread idle).
 */
const DEVICES_PER_PART = 1_024;

/**
 * The same day signed on `threads` worker threads and yielded part by part (large days: the reports
 * are never all in memory). P-256 devices sign with OpenSSL and a random nonce by default (a bench
 * day is generated once and cached, so its signatures need not be reproducible): the parts
 * concatenated are simulatedDay's reports except for the P-256 signatures, which differ at every
 * run. With `p256Nonce` "rfc6979" they are simulatedDay's reports byte for byte (slower: to compare
 * two generators).
 */
export function streamedDay(
  devices: number,
  seed: string,
  threads: number,
  p256Nonce: "random" | "rfc6979" = "random",
) {
  const options = dayOptions(devices, seed);
  const fleet: FleetOptions = { ...options.fleet, p256Nonce };
  return {
    // Only the records (the chain index's devices; ~1.6 KB of RSS each, ~2.5 KB with their signers):
    // the signers live on the threads.
    fleet: Array.from({ length: devices }, (_, i) => ({ record: fleetDevice(fleet, i).record })),
    day: simulateEpochOnThreads(fleet, options.epoch, { threads, devicesPerChunk: DEVICES_PER_PART }),
  };
}

/**
 * The chain records of `count` devices registered but silent, beside a day of `active` devices (a
 * quiet day of a large network, bench/scale.ts): their own seed's keys and owners, ids and onboard
 * orders after the active devices', on a grid of their own 2 degrees of latitude (~222 km) north of
 * the active fleet's, so that none of them is near an active device.
 */
export function* silentDevices(active: number, count: number, seed: string): Generator<DeviceRecord> {
  const fleet: FleetOptions = {
    ...dayOptions(count, `${seed} silent`).fleet,
    origin: [42.015, -105.2705],
  };
  for (let k = 0; k < count; k++) {
    const { record } = fleetDevice(fleet, k);
    yield { ...record, id: BigInt(active + k + 1), onboardOrder: BigInt(active + k + 1) };
  }
}
