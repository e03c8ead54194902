/**
 * Stage 2, the checks every parsed report passes whatever its kind, in this order: outside_epoch
 * (a witness may arrive up to `witnessWindowMs` either side of the epoch), gateway_not_found,
 * bad_signature, denied (suspended), not_active (retired), not_asserted. Stateless: each report
 * alone against the chain index.
 */
import { CODE } from "../reasons.js";
import type { EpochState } from "../state.js";
import { AUTH_BAD_SIGNATURE, AUTH_OK, KIND_BEACON, type ReportTable } from "../table.js";

/** Reason code of the first failing check of report i (a beacon or a witness), or 0. */
export function checkReport(s: EpochState, t: ReportTable, i: number, kind: number): number {
  const { epochStart, epochEnd } = s.chain.index;
  const at = t.receivedAt(i);
  if (kind === KIND_BEACON) {
    if (at < epochStart || at >= epochEnd) return CODE.outside_epoch;
  } else {
    const slack = s.params.witnessWindowMs;
    if (at < epochStart - slack || at >= epochEnd + slack) return CODE.outside_epoch;
  }
  const d = t.deviceIndex(i);
  const device = d >= 0 ? s.chain.devices[d] : undefined;
  if (device === undefined) return CODE.gateway_not_found;
  if (t.auth(i) === AUTH_BAD_SIGNATURE) return CODE.bad_signature;
  if (t.auth(i) !== AUTH_OK) return CODE.gateway_not_found;
  if (device.record.status === "suspended") return CODE.denied;
  if (device.record.status !== "active") return CODE.not_active;
  if (!device.located) return CODE.not_asserted; // not .cell: no text made per report
  return 0;
}
