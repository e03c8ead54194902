/**
 * An epoch for the spilled close's tests (test/oracle/verify/spill.test.ts): a simulated day with
 * runs of equal receive times, reports given twice and malformed texts, and a digest of its
 * verdicts, so its result can be compared with figures recorded from the in-memory close.
 */
import { keccak256, toHex, type ReceivedReport } from "@hexmesh/protocol";

import { EPOCH_END, EPOCH_START, fleetIndex, simulated } from "./service.js";

export function spillEpoch() {
  const { fleet, sim } = simulated(60, "spilled close", 0.05);
  const reports: ReceivedReport[] = sim.reports.map((r, i) =>
    // Runs of equal receive times: every 7th report and the 3 after it share one.
    i % 7 < 4 ? { raw: r.raw, receivedAt: sim.reports[i - (i % 7)]!.receivedAt } : r,
  );
  // Reports given twice (the same content at the same time), and texts that do not parse.
  for (let i = 5; i < reports.length; i += 97) reports.push({ ...reports[i]! });
  reports.push(
    { raw: "not a report", receivedAt: EPOCH_START + 1_000 },
    { raw: '{"type":"beacon"}', receivedAt: EPOCH_START + 1_000 },
    { raw: "", receivedAt: EPOCH_END - 1 },
  );
  reports.sort((a, b) => a.receivedAt - b.receivedAt);
  const index = fleetIndex(fleet, { epoch: 0n, start: EPOCH_START, end: EPOCH_END });
  return { index, reports, entropy: sim.entropy };
}

/** keccak256 of the verdicts as JSON (units as decimal strings): one value to compare whole results by. */
export function verdictDigest(verdicts: Iterable<unknown>): string {
  const json = JSON.stringify([...verdicts], (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return toHex(keccak256(new TextEncoder().encode(json)));
}
