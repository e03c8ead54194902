/**
 * A fleet reporting live: one beacon per device citing the oracle's current entropy, and the
 * witness reports of its grid neighbours with physically plausible signals. Used by the dev
 * service (scripts/oracle-dev.ts) to feed the API the way hotspots would. Deterministic per seed.
 */
import * as h3 from "h3-js";

import type { EntropyEntry } from "../entropy/entropy.js";
import { keccak256 } from "../crypto/keccak.js";
import { payloadHash } from "../entropy/payload.js";
import { signBeacon, signWitnessFields } from "../reports/sign.js";
import type { ReportDomain } from "../reports/types.js";
import { encodeReport } from "../reports/wire.js";
import { toHex } from "../util/hex.js";
import { maxRssiDbm } from "../verify/physics.js";
import { Rng, type SimDevice } from "./fleet.js";

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
  const side = Math.ceil(Math.sqrt(fleet.length));
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
    const row = Math.floor(i / side);
    const col = i % side;
    const near: number[] = [];
    for (let dr = -1; dr <= 1; dr++)
      for (let dc = -1; dc <= 1; dc++) {
        const j = (row + dr) * side + (col + dc);
        if ((dr !== 0 || dc !== 0) && row + dr >= 0 && col + dc >= 0 && col + dc < side && j < fleet.length)
          near.push(j);
      }
    for (const j of near.slice(0, witnessesPerBeacon)) {
      const w = fleet[j]!;
      const distance = h3.greatCircleDistance(
        h3.cellToLatLng(beaconer.record.location!.toString(16)),
        h3.cellToLatLng(w.record.location!.toString(16)),
        "m",
      );
      const bound = maxRssiDbm(27, beaconer.record.gain / 10, distance, 903_900_000, w.record.gain / 10);
      const signal = Math.floor((bound - 8 - 20 * rng.next()) * 10);
      const report = signWitnessFields(w.signer, domain, {
        witness: w.signer.keyId,
        beaconPayloadHash: payloadHash(beacon.payload),
        signal,
        snr: Math.max(-60, Math.min(95, signal + 1170 - 40)),
        frequency: 903_900_000,
        dataRate: 2,
        timestamp: BigInt(nowMs + 50),
      });
      witnesses.push(encodeReport(report));
    }
  }
  return { beacons, witnesses };
}
