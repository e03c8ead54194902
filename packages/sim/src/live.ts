/**
 * A fleet reporting live: one beacon per device citing the oracle's current entropy, and the
 * witness reports of its linked grid neighbours (GridLinks: both ways) with plausible signals.
 * Used by the dev service (scripts/oracle-dev.ts) to feed the API the way hotspots would.
 * Deterministic per seed.
 */
import {
  encodeReport,
  keccak256,
  signBeacon,
  toHex,
  type EntropyEntry,
  type ReportDomain,
} from "@hexmesh/protocol";

import { GridLinks, plausibleWitness, Rng, type SimDevice } from "./fleet.js";

export interface LiveRound {
  /** Beacons, to send first. */
  readonly beacons: string[];
  /** Witness reports, to send within 4 s of their beacons. */
  readonly witnesses: string[];
}

const utf8 = new TextEncoder();

export function liveRound(
  fleet: readonly SimDevice[],
  domain: ReportDomain,
  entropy: EntropyEntry,
  nowMs: number,
  seed: string,
  witnessesPerBeacon = 4,
): LiveRound {
  const rng = new Rng(seed);
  // neighbours within one grid step, linked both ways (GridLinks), about witnessesPerBeacon each
  const links = new GridLinks(fleet.length, seed, witnessesPerBeacon, 1);
  const beacons: string[] = [];
  const witnesses: string[] = [];
  for (let i = 0; i < fleet.length; i++) {
    const beaconer = fleet[i]!;
    const beacon = signBeacon(beaconer.signer, domain, {
      remoteEntropy: entropy.value,
      localEntropy: toHex(keccak256(utf8.encode(`${seed}:${i}`))),
      frequency: 903_900_000,
      channel: 8,
      dataRate: 2,
      txPower: 270,
      timestamp: BigInt(nowMs),
    });
    beacons.push(encodeReport(beacon));
    for (const j of links.of(i)) {
      const report = plausibleWitness(beaconer, fleet[j]!, beacon, domain, rng, nowMs + 50);
      witnesses.push(encodeReport(report));
    }
  }
  return { beacons, witnesses };
}
