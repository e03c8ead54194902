/**
 * An epoch's inputs (signed reports with their receive times, and the published entropy) moving
 * between stores: copied from an ingest peer over HTTP (`pull`), or imported from a recorded or
 * simulated day. Receive times are kept as they were stamped: they are part of the input, and every
 * oracle must verify the same reports at the same times to reach the same root.
 */
import { makeEntropy, type EntropyEntry, type ReceivedReport, type StageProgress } from "@hexmesh/protocol";

import { OracleClient } from "../api/client.js";
import type { OracleStore, ReportInput } from "../store/types.js";
import { toReportInput } from "./ingest.js";

/** A command's progress: the protocol's stage progress (a step has ended when done === total). */
export type Progress = StageProgress;

/** The time range of reports (Unix ms) and entropy (Unix s) one epoch reads. */
export interface InputRange {
  readonly from: number;
  readonly to: number;
  readonly entropyFrom: number;
  readonly entropyTo: number;
}

/** Rows per page of GET /v1/inputs/reports. */
const PAGE = 5_000;

/**
 * Stores reports with the receive times they carry, and entropy entries (each recomputed from its
 * block hash and time). A text that is not a report is refused: an input set holds reports only.
 * Returns how many reports were new to this store.
 */
export async function importInputs(
  store: OracleStore,
  inputs: { readonly reports: readonly ReceivedReport[]; readonly entropy: readonly EntropyEntry[] },
  source = "input",
): Promise<number> {
  await store.putEntropy(inputs.entropy.map((e) => makeEntropy(e.blockHash, e.timestamp)));
  let added = 0;
  for (let start = 0; start < inputs.reports.length; start += PAGE) {
    const batch: ReportInput[] = [];
    for (const [i, r] of inputs.reports.slice(start, start + PAGE).entries()) {
      const c = toReportInput(r.raw, r.receivedAt);
      if (!c.ok)
        throw new Error(`${source}: report ${start + i} is malformed (${c.error.code}: ${c.error.detail})`);
      batch.push(c.input);
    }
    added += await storeReportInputs(store, batch, source);
  }
  return added;
}

/**
 * Stores one batch of checked reports (toReportInput) in one transaction: how many were new. Throws
 * if the store refused any (received before the cutoff of a closed or closing epoch).
 */
export async function storeReportInputs(
  store: OracleStore,
  batch: readonly ReportInput[],
  source = "input",
): Promise<number> {
  const stored = await store.insertReports(batch);
  const refused = stored.find((x) => x.closed !== undefined);
  if (refused !== undefined)
    throw new Error(
      `${source}: ${stored.filter((x) => x.closed !== undefined).length} reports fall before the cutoff of epoch ${refused.closed!.epoch}, which is closed or closing (${new Date(refused.closed!.cutoff).toISOString()}); those were not stored`,
    );
  return stored.filter((x) => !x.duplicate).length;
}

/**
 * Paged copy of a range of reports and its entropy from a peer's /v1/inputs routes. Pages follow the
 * peer's keyset cursor (`next`), so the copy costs time linear in the range's size.
 */
export async function pullInputs(
  store: OracleStore,
  peer: string,
  range: InputRange,
  progress: Progress = () => {},
  pageSize = PAGE,
): Promise<number> {
  const client = new OracleClient(peer);
  const { entropy } = await client.inputEntropy({ from: range.entropyFrom, to: range.entropyTo });
  let after: string | undefined;
  let total = 0;
  let copied = 0;
  for (;;) {
    const page = await client.inputReports({
      from: range.from,
      to: range.to,
      limit: pageSize,
      ...(after !== undefined ? { after } : {}),
    });
    total = page.total ?? total;
    await importInputs(
      store,
      { reports: page.reports, entropy: after === undefined ? (entropy as EntropyEntry[]) : [] },
      `peer ${peer}`,
    );
    copied += page.reports.length;
    progress("pull", copied, Math.max(total, copied));
    if (page.next === null) return copied;
    after = page.next;
  }
}
