/** A simulated day of signed reports for the store benches (bench/pull.ts, bench/store.ts). */
import type { Hex } from "@hexmesh/protocol";
import { makeFleet, simulateEpoch, type SimDevice } from "@hexmesh/sim/fleet";

export const DAY_DOMAIN = {
  chainId: 31337n,
  verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex,
};
export const DAY_START = Date.UTC(2026, 0, 1);
export const DAY_END = DAY_START + 86_400_000;

/** `devices` devices, 4 beacons each a day, up to 6 witnesses per beacon (~27 reports per device). */
export function simulatedDay(devices: number, seed: string) {
  const t0 = performance.now();
  const fleet: SimDevice[] = makeFleet({ devices, p256Share: 0.2, spacingM: 400, seed });
  const sim = simulateEpoch(fleet, {
    domain: DAY_DOMAIN,
    epochStart: DAY_START,
    epochEnd: DAY_END,
    beaconsPerDevice: 4,
    witnessesPerBeacon: 6,
    seed,
  });
  console.log(
    `simulated ${sim.reports.length} signed reports in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { fleet, sim };
}
