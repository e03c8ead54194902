/**
 * One-way links (`one_way_links`, CoverageParams.oneWayLinks), over the epoch after reciprocity: a
 * device that claims many more links than fading explains that the other end never confirmed is
 * relaying or inventing what it reports; all its witness reports of the epoch are refused. The
 * statistical test and its claim log are in ../links.ts; this pass feeds it each device's own
 * beacons and applies its verdict.
 */
import { loraSnrFloorDb, type ChainView } from "@hexmesh/protocol";

import type { AcceptedBeacons } from "../beacons.js";
import type { ClaimLog, LinkStats, LinkStatsTable, OneWayRule } from "../links.js";
import { CODE } from "../reasons.js";
import type { EpochState } from "../state.js";
import type { ReportRows } from "../table.js";

/** The one-way test's figures for one tested device (verify/links.ts). */
export interface DeviceLinkTest extends Omit<LinkStats, "device"> {
  readonly deviceId: bigint;
}

/**
 * Runs the test over the claims the witness pass logged: each device's link budget is the smallest
 * (txPower - SNR floor of the spreading factor) over its accepted beacons, k the number of them.
 * Returns the tested devices' figures, packed (deviceLinkTests reads them as objects).
 */
export function oneWayLinksPass(
  s: EpochState,
  t: ReportRows,
  accepted: AcceptedBeacons,
  claims: ClaimLog,
  rule: OneWayRule,
): LinkStatsTable {
  const n = s.chain.devices.length;
  const budget = new Int32Array(n).fill(0x7fff_ffff);
  const beacons = new Uint32Array(n);
  for (let slot = 0; slot < accepted.count; slot++) {
    const i = accepted.row(slot);
    const d = t.deviceIndex(i);
    const sf = s.region(d)!.dataRates.get(t.dataRate(i))!.spreadingFactor;
    const b = t.power(i) - Math.round(loraSnrFloorDb(sf) * 10);
    if (b < budget[d]!) budget[d] = b;
    beacons[d]! += 1;
  }
  const { flagged, stats } = claims.test(budget, beacons, rule);
  s.refuseWitnessesOf(flagged, CODE.one_way_links);
  return stats;
}

/** The figures of oneWayLinksPass as DeviceLinkTest objects, by device id. */
export function deviceLinkTests(chain: ChainView, stats: LinkStatsTable): DeviceLinkTest[] {
  return Array.from(stats, ({ device, ...rest }) => ({
    deviceId: chain.devices[device]!.record.id,
    ...rest,
  }));
}
