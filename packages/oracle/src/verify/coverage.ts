/**
 * The coverage verifier: signed reports of one epoch -> a verdict per report -> reward weights per
 * device (HIP-15 units x hex density), in two pools (beacons 20%, witnesses 80%). This file runs the
 * stages in order; the rules live in the files named below.
 *
 * Order of work, and why the result does not depend on input order:
 *   1. stage 1, per report (prepare.ts, on worker threads: pool.ts): parse, digest, key, signature,
 *      payload, written as one record of a ReportTable (table.ts);
 *   2. stateless checks per report against the chain index and the entropy log, as batches of
 *      stage 1 complete (rules/report.ts, then rules/beacon.ts for beacons);
 *   3. every report in canonical order (receive time, id, stage-2 reason: the spill's order); the stateful rules
 *      run in that order, beacons first: duplicate and one beacon per device per window
 *      (rules/beacon.ts), witness-to-beacon matching, the pair checks and duplicate witness
 *      (rules/witness.ts); then over the epoch reciprocity (rules/reciprocity.ts) and one-way links
 *      (rules/one-way-links.ts, links.ts);
 *   4. up to 14 valid witnesses per beacon are selected by rank keccak256(remoteEntropy ‖ beaconer ‖
 *      witness) (selection.ts): reproducible by anyone, not steerable by the beaconer (remote
 *      entropy is the oracle's) nor by arrival order;
 *   5. HIP-15 units per beacon, scaled by the beaconer's hex density, summed per device: the
 *      protocol's reward weighting (@hexmesh/protocol rewards/weighting.ts).
 * The result's record is one verdict per report in canonical order (record.ts).
 *
 * Check order for a beacon: outside_epoch, gateway_not_found, bad_signature, denied, not_active,
 * not_asserted, bad_entropy / entropy_expired, invalid_packet, invalid_region, invalid_frequency,
 * invalid_data_rate, invalid_tx_power, then duplicate, irregular_interval.
 * For a witness: outside_epoch, gateway_not_found, bad_signature, denied, not_active, not_asserted,
 * unknown_beacon, invalid_beacon, self_witness, same_owner, too_late / too_early, invalid_region,
 * invalid_frequency, invalid_data_rate, below_min_distance, max_distance_exceeded, bad_rssi,
 * bad_snr, then duplicate, then (over the epoch) nonreciprocal_signal, then one_way_links. The
 * first failing check is the recorded reason. same_owner, nonreciprocal_signal and one_way_links
 * are parameters (params.ts), on by default.
 *
 * Per report, the main thread keeps two bytes (reason, selected: state.ts). The 160-byte stage-1
 * records are written, as each chunk of stage 1 finishes, to a temp file in canonical order
 * (spill.ts) and read back through a 10 MiB page cache by stages 3-5; the verdict record that the
 * dataHash covers is built from them each time it is read (record.ts verdictRecord), never held.
 * What else stays is sized by beacons and devices: the accepted beacons with their witness lists
 * and units, the payload-hash indexes, the one-way claim log (one claim per link), link and
 * density statistics, the devices' payout.
 */
import {
  coarseRegionResolver,
  COVERAGE_METRICS,
  coveragePools,
  CoverageWeighting,
  DEFAULT_USAGE_PARAMS,
  EntropyLog,
  runEpoch,
  type BeaconUnits,
  type ChainIndex,
  type ChainView,
  type DeviceEntry,
  type DeviceWork,
  type EntropyEntry,
  type EpochResult,
  type ReceivedReport,
  type RegionResolver,
  type StageProgress,
  type Verifier,
  type WorkResult,
} from "@hexmesh/protocol";

import type { AcceptedBeacons } from "./beacons.js";
import { ClaimLog, type LinkStatsTable } from "./links.js";
import { DEFAULT_COVERAGE_PARAMS, type CoverageParams } from "./params.js";
import { WorkerPoolPreparer } from "./pool.js";
import {
  countMismatch,
  InlinePreparer,
  sourceOf,
  type ReportPreparer,
  type ReportSource,
} from "./prepare.js";
import { CODE } from "./reasons.js";
import { countVerdicts, iterateVerdicts, verdictRecord, type Verdict, type VerdictCounts } from "./record.js";
import { beaconPass, checkBeacon } from "./rules/beacon.js";
import { deviceLinkTests, oneWayLinksPass, type DeviceLinkTest } from "./rules/one-way-links.js";
import { reciprocityPass } from "./rules/reciprocity.js";
import { checkReport } from "./rules/report.js";
import { describePair, witnessPass } from "./rules/witness.js";
import { WitnessSelection } from "./selection.js";
import { DEFAULT_SPILL, SpillWriter, type SpilledTable, type SpillSizes } from "./spill.js";
import { EpochState } from "./state.js";
import { KIND_BEACON, KIND_MALFORMED, KIND_WITNESS, RECORD_BYTES, ReportTable } from "./table.js";

export type { Verdict } from "./record.js";
export type { DeviceLinkTest } from "./rules/one-way-links.js";
// Moved to @hexmesh/protocol (rewards/weighting.ts); still exported here.
export { COVERAGE_METRICS } from "@hexmesh/protocol";

/**
 * With "auto", epochs of at least this many reports are prepared on worker threads. Starting two
 * threads costs ~0.4 s here; one core prepares ~12,000 reports/s, two ~24,000: the threads pay off
 * from about 10,000 reports.
 */
export const AUTO_WORKERS_FROM = 8_192;

/**
 * The stages a coverage epoch tells the end of (CoverageOptions.progress), in order: the verifier's,
 * then the shared payout and commit (@hexmesh/protocol runEpoch).
 */
export const COVERAGE_STAGES = [
  "prepare",
  "beacons",
  "witnesses",
  "reciprocity",
  "one-way",
  "selection",
  "payout",
  "commit",
] as const;

export interface CoverageInputs {
  readonly reports: readonly ReceivedReport[];
  readonly entropy: readonly EntropyEntry[];
}

/** The same with the reports as pages and their count (a streaming close: bounded memory). */
export interface StreamedCoverageInputs {
  readonly reports: ReportSource;
  readonly entropy: readonly EntropyEntry[];
}

/**
 * The same with stage 1 already done (workers of a partitioned close, service/partitions.ts): the
 * epoch's ReportTable records (RECORD_BYTES each, written by ReportPreparation for the keys of
 * `chain.devices` in order) in pages, row i being the i-th record, in the order the reports would
 * have been given (a close: (receive time, hash)). Stages 2-5 run on them as on prepared reports.
 */
export interface PreparedCoverageInputs {
  readonly prepared: { readonly count: number; readonly pages: AsyncIterable<Uint8Array> };
  readonly entropy: readonly EntropyEntry[];
}

export interface CoverageOptions {
  readonly params?: CoverageParams;
  readonly regions?: RegionResolver;
  /**
   * Stage-1 runner for an epoch: "workers" (threads, one per core), "inline" (the calling thread),
   * "auto" (the default: inline below AUTO_WORKERS_FROM reports, where starting the threads costs
   * more than they save), or a function that supplies a custom preparer (closed after use; it must
   * take its keys in `chain.devices` order, device index = position). Results never depend on it.
   */
  readonly preparer?: "auto" | "workers" | "inline" | ((chain: ChainView) => ReportPreparer);
  /** How the per-report records are spilled and read back (spill.ts); results never depend on it. */
  readonly spill?: SpillSizes;
  /**
   * Told as the stages end (a 40M-report close runs for an hour): "prepare" after each chunk of
   * stage 1 (reports done of all), then "beacons", "witnesses", "reciprocity", "one-way" and
   * "selection" once each (the items each went over), then the shared "payout" and "commit".
   */
  readonly progress?: StageProgress;
}

export interface CoverageWork extends WorkResult {
  /**
   * Per device tested by the one-way rule, by device id; null when the rule is off. Built on first
   * access (held packed until then: every device of a large epoch is tested).
   */
  readonly linkTests: readonly DeviceLinkTest[] | null;
  /**
   * One per report, in canonical order. Built on first access (the canonical record in `record`
   * is the stored form; this is the readable view of it).
   */
  readonly verdicts: readonly Verdict[];
  /**
   * The same verdicts built one at a time, for a close that writes them in batches (bounded memory).
   * This and `release` are functions that do not read `this`: a close keeps them, not the work.
   */
  readonly iterateVerdicts: () => Iterable<Verdict>;
  /** The verdicts' counts by kind and reason (the stored summary's), without building them. */
  countVerdicts(): VerdictCounts;
  /**
   * Frees the spilled records now (their temp file's space) instead of when the work is garbage:
   * the verdicts and the record (and the commit's encoding) cannot be read afterwards.
   */
  readonly release: () => void;
}

export class CoverageVerifier
  implements Verifier<CoverageInputs | StreamedCoverageInputs | PreparedCoverageInputs, CoverageWork>
{
  readonly kind = "coverage";
  readonly params: CoverageParams;
  private readonly regions: RegionResolver;
  private readonly preparerOption: CoverageOptions["preparer"];
  private readonly spill: SpillSizes;
  private readonly progress: StageProgress;

  constructor(options: CoverageOptions = {}) {
    this.params = options.params ?? DEFAULT_COVERAGE_PARAMS;
    this.regions = options.regions ?? coarseRegionResolver;
    this.preparerOption = options.preparer ?? "auto";
    this.spill = options.spill ?? {};
    this.progress = options.progress ?? (() => {});
  }

  async verify(
    chain: ChainView,
    inputs: CoverageInputs | StreamedCoverageInputs | PreparedCoverageInputs,
  ): Promise<CoverageWork> {
    if ("prepared" in inputs) return this.verifyPrepared(chain, inputs);
    const source = "count" in inputs.reports ? inputs.reports : sourceOf(inputs.reports);
    const epoch = new EpochVerification(
      new EpochState(chain, new EntropyLog(inputs.entropy), this.params, this.regions, source.count),
      this.progress,
    );
    const preparer = this.makePreparer(chain, source.count);
    const spill = new SpillWriter(source.count, this.spill);
    try {
      // Stage 1 in chunks of spill.chunkRows reports (the table of one chunk in memory at a time);
      // stage 2 runs on this thread as batches come back from stage 1, overlapping the workers;
      // each finished chunk goes to the spill file.
      let previous: ReportTable | undefined;
      for await (const chunk of chunksOf(
        checkedTimes(source),
        this.spill.chunkRows ?? DEFAULT_SPILL.chunkRows,
      )) {
        const table = await preparer.prepareStream(
          { count: chunk.length, pages: [chunk] },
          (t, start, end) => epoch.statelessChecks(t, start, end),
          previous,
        );
        spill.add(table, 0, table.length);
        previous = table; // copied to the spill: written over by the next chunk
        epoch.prepared(table.length);
      }
    } finally {
      await preparer.close();
    }
    if (source.count === 0) epoch.prepared(0); // an empty epoch still tells the stage's end
    return epoch.run(spill.finish());
  }

  /** Stages 2-5 over records prepared elsewhere (stage 2 as each page is copied in). */
  private async verifyPrepared(chain: ChainView, inputs: PreparedCoverageInputs): Promise<CoverageWork> {
    const { count, pages } = inputs.prepared;
    const epoch = new EpochVerification(
      new EpochState(chain, new EntropyLog(inputs.entropy), this.params, this.regions, count),
      this.progress,
    );
    const spill = new SpillWriter(count, this.spill);
    let next = 0;
    for await (const page of pages) {
      if (page.length % RECORD_BYTES !== 0)
        throw new RangeError(
          `a page of prepared records is ${page.length} bytes, not a multiple of ${RECORD_BYTES}`,
        );
      const rows = page.length / RECORD_BYTES;
      if (next + rows > count) throw countMismatch(count, next + rows);
      const table = new ReportTable(rows);
      table.bytes.set(page);
      for (let k = 0; k < rows; k++) {
        if (!table.isWritten(k))
          throw new RangeError(`prepared record ${next + k} was never written by stage 1`);
        const d = table.deviceIndex(k);
        if (d < -1 || d >= chain.devices.length)
          throw new RangeError(
            `prepared record ${next + k} names device index ${d} of ${chain.devices.length}`,
          );
      }
      epoch.statelessChecks(table, 0, rows);
      spill.add(table, 0, rows);
      next += rows;
      epoch.prepared(rows);
    }
    if (next !== count) throw countMismatch(count, next);
    if (count === 0) epoch.prepared(0); // an empty epoch still tells the stage's end
    return epoch.run(spill.finish());
  }

  private makePreparer(chain: ChainView, reports: number): ReportPreparer {
    const keys = chain.devices.map((d) => d.record.key);
    const opt = this.preparerOption;
    if (typeof opt === "function") return opt(chain);
    const inline = opt === "inline" || (opt === "auto" && reports < AUTO_WORKERS_FROM);
    return inline ? new InlinePreparer(chain.domain, keys) : new WorkerPoolPreparer(chain.domain, keys);
  }
}

/** The source, refusing a page with a bad receive time before stage 1 reads it. */
function checkedTimes(source: ReportSource): ReportSource {
  const pages = source.pages;
  async function* checked(): AsyncGenerator<readonly ReceivedReport[]> {
    for await (const page of pages) {
      for (const r of page) {
        // Receive times come from our own store: a bad one is a bug upstream, not a bad report.
        if (!Number.isSafeInteger(r.receivedAt) || r.receivedAt < 0)
          throw new TypeError(`bad receive time ${r.receivedAt}`);
      }
      yield page;
    }
  }
  return { count: source.count, pages: checked() };
}

/** The source's reports in arrays of at most `rows`, refusing a source that breaks its count. */
async function* chunksOf(source: ReportSource, rows: number): AsyncGenerator<ReceivedReport[]> {
  let chunk: ReceivedReport[] = [];
  let seen = 0;
  for await (const page of source.pages) {
    if (seen + page.length > source.count) throw countMismatch(source.count, seen + page.length);
    seen += page.length;
    for (const r of page) {
      chunk.push(r);
      if (chunk.length === rows) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (seen !== source.count) throw countMismatch(source.count, seen);
  if (chunk.length > 0) yield chunk;
}

/** Stages 2-5 for one epoch (single use). */
class EpochVerification {
  private readonly s: EpochState;
  private readonly progress: StageProgress;
  private preparedRows = 0;

  constructor(state: EpochState, progress: StageProgress) {
    this.s = state;
    this.progress = progress;
  }

  /** `rows` more reports through stages 1-2, told as "prepare". */
  prepared(rows: number): void {
    this.preparedRows += rows;
    this.progress("prepare", this.preparedRows, this.s.reason.length);
  }

  /** Stage 2 over table rows [start, end): the reason goes into each record (OFFSET.reason). */
  statelessChecks(t: ReportTable, start: number, end: number): void {
    const s = this.s;
    for (let i = start; i < end; i++) {
      const kind = t.kind(i);
      if (kind === KIND_MALFORMED) t.setStage2Reason(i, CODE.malformed);
      else
        t.setStage2Reason(i, checkReport(s, t, i, kind) || (kind === KIND_BEACON ? checkBeacon(s, t, i) : 0));
    }
  }

  /**
   * Stages 3-5 over the spilled records, already in canonical order (receive time, id, stage-2
   * reason: spill.ts), so row i is the i-th report of the canonical order.
   */
  run(table: SpilledTable): CoverageWork {
    const s = this.s;
    const params = s.params;
    // Sizes the epoch-wide tables: beacons of any kind, and beacons and witnesses that passed stage 2.
    let beacons = 0;
    let validBeacons = 0;
    let validWitnesses = 0;
    for (let i = 0; i < table.length; i++) {
      const r = table.stage2Reason(i);
      s.reason[i] = r;
      const kind = table.kind(i);
      if (kind === KIND_BEACON) {
        beacons++;
        if (r === 0) validBeacons++;
      } else if (kind === KIND_WITNESS && r === 0) validWitnesses++;
    }
    const accepted = beaconPass(s, table, validBeacons, validWitnesses);
    this.progress("beacons", beacons, beacons);
    const linkStats = this.witnessRules(table, accepted, beacons, validWitnesses);
    const { devices, units } = this.selectAndWeigh(table, accepted);
    this.progress("selection", accepted.count, accepted.count);
    const { reason, selected } = s;
    const unitsOf = (i: number): bigint => {
      if (selected[i] !== 1) return 0n;
      // A selected beacon is accepted; a selected witness's cited payload is its beacon's.
      const n = accepted.selected(accepted.find(i));
      return table.kind(i) === KIND_BEACON ? units[n]!.beaconer : units[n]!.witness;
    };
    const detailOf = (i: number) => {
      if (reason[i] === CODE.self_witness || reason[i] === CODE.same_owner) return null;
      const b = s.pairOf(table, i);
      return b >= 0 ? describePair(s, table, b, i) : null;
    };
    const iterate = () => iterateVerdicts(table, reason, selected, unitsOf, detailOf);
    let verdicts: Verdict[] | null = null;
    let linkTests: DeviceLinkTest[] | null = null;
    const chain = s.chain;
    return {
      kind: "coverage",
      pools: coveragePools(params.beaconPoolBps),
      metricNames: COVERAGE_METRICS,
      devices,
      get linkTests() {
        if (linkStats === null) return null;
        linkTests ??= deviceLinkTests(chain, linkStats);
        return linkTests;
      },
      record: verdictRecord(table, reason, selected, unitsOf),
      get verdicts() {
        verdicts ??= Array.from(iterate());
        return verdicts;
      },
      iterateVerdicts: iterate,
      countVerdicts: () => countVerdicts(table, reason),
      release: () => table.close(),
    };
  }

  /**
   * The witness rules of stage 3 (witness pass, then over the epoch reciprocity and one-way links);
   * the one-way test's figures, or null when that rule is off. The claim log lives only here: its
   * memory is free again before selection.
   */
  private witnessRules(
    table: SpilledTable,
    accepted: AcceptedBeacons,
    beacons: number,
    witnesses: number,
  ): LinkStatsTable | null {
    const s = this.s;
    const params = s.params;
    // Sized by links (compacted as it fills), not by claims: see ClaimLog.
    const deviceCount = s.chain.devices.length;
    const claims = params.oneWayLinks
      ? new ClaimLog(Math.max(65_536, 8 * deviceCount), deviceCount, witnesses)
      : null;
    witnessPass(s, table, accepted, beacons, claims);
    this.progress("witnesses", witnesses, witnesses);
    if (params.reciprocity) {
      reciprocityPass(s, table, accepted, params.reciprocity);
      this.progress("reciprocity", accepted.witnessEntries, accepted.witnessEntries);
    }
    if (claims === null) return null;
    const stats = oneWayLinksPass(s, table, accepted, claims, params.oneWayLinks!);
    this.progress("one-way", stats.length, stats.length);
    return stats;
  }

  /**
   * Stages 4-5: selects each accepted beacon's rewarded witnesses (selection.ts), records how many
   * each beacon rewards and returns the devices' weights (the protocol's CoverageWeighting) and the
   * units a beacon and each of its selected witnesses earn, by the number selected (HIP-15: they
   * depend on that number only).
   */
  private selectAndWeigh(
    t: SpilledTable,
    accepted: AcceptedBeacons,
  ): { devices: DeviceWork[]; units: BeaconUnits[] } {
    const s = this.s;
    const max = s.params.maxWitnessesPerBeacon;
    const devices = s.chain.devices;
    const weighting = new CoverageWeighting(s.chain, max);
    const selection = new WitnessSelection(t);
    const units: BeaconUnits[] = [{ beaconer: 0n, witness: 0n }];
    const ws: number[] = [];
    const chosen: DeviceEntry[] = []; // reused: no arrays per beacon
    for (let slot = 0; slot < accepted.count; slot++) {
      accepted.witnessesOf(slot, ws);
      if (ws.length === 0) continue;
      const b = accepted.row(slot);
      const n = selection.select(b, ws, max);
      chosen.length = 0;
      for (let k = 0; k < n; k++) chosen.push(devices[t.deviceIndex(ws[k]!)]!);
      const earned = weighting.addBeacon(devices[t.deviceIndex(b)]!, chosen);
      units[n] ??= earned;
      accepted.setSelected(slot, n);
      for (let k = 0; k < n; k++) s.selected[ws[k]!] = 1;
    }
    accepted.dropWitnessLists(); // before the devices' work and the payout are made
    return { devices: weighting.devices(), units };
  }
}

/** The coverage subnetwork's epoch: the coverage verifier through the shared reward and commit stages. */
export function runCoverageEpoch(
  index: ChainIndex | ChainView,
  inputs: CoverageInputs | StreamedCoverageInputs | PreparedCoverageInputs,
  options: CoverageOptions = {},
): Promise<EpochResult<CoverageWork>> {
  const verifier = new CoverageVerifier(options);
  return runEpoch(verifier, index, inputs, {
    usage: verifier.params.usage ?? DEFAULT_USAGE_PARAMS,
    ...(options.progress !== undefined ? { progress: options.progress } : {}),
  });
}
