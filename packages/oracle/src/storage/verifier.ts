/**
 * The storage subnetwork's Verifier (the seam of @hexmesh/protocol work.ts): an epoch's storage work
 * from the indexed proofs and the retrieval scores.
 *
 *   capacity weight(device) = Σ over its data sets' periods proven in the epoch (proof block time in
 *                             [epochStart, epochEnd)) of the period's challenged leaves × 32 bytes
 *                             (proven bytes × proven periods)
 *   usage                     the storage subnetwork's UsageRecorded (proven, paid periods) through
 *                             the shared rule (rewards/usage.ts), each provider's value scaled by its
 *                             retrieval score below 0.9 (usageScores: the lowest of its devices'
 *                             scores after the probes of the days up to the epoch's last)
 *   the rest of the pool      to capacity, one pool ("capacity", 10,000 bps)
 *
 * Metrics per device: provenBytePeriods, provenPeriods, retrievalScore (ppm). The record: one 80-byte
 * chunk per proven period, in (data set, period) order (periodRecord). Same inputs, same bytes: every
 * list is sorted here.
 */
import {
  compareBigint,
  retrievalDay,
  writeUint256,
  type ChainView,
  type DeviceWork,
  type Hex,
  type Verifier,
  type WorkResult,
} from "@hexmesh/protocol";

import { agreedRetrievals } from "./agree.js";
import { providerScore, retrievalScores, scoresOf, type DeviceScore } from "./score.js";
import type { StorageStore } from "./store.js";

export const STORAGE_KIND = "storage";
export const STORAGE_METRICS = ["provenBytePeriods", "provenPeriods", "retrievalScore"] as const;

export interface ProvenPeriod {
  readonly dataSetId: bigint;
  readonly deviceId: bigint;
  readonly provider: string;
  readonly period: bigint;
  readonly challengedLeaves: bigint;
}

export interface StorageEpochInputs {
  /** Periods proven in the epoch, any order. */
  readonly proven: readonly ProvenPeriod[];
  /** Retrieval scores after the epoch's days. */
  readonly scores: readonly DeviceScore[];
}

/**
 * The epoch's inputs from the store (epoch window in Unix ms, as ChainIndex has it). With `set` (the
 * storage oracle set at the epoch's snapshot, and the epoch), the scores fold the results the set
 * agrees on (agree.ts: own and peers' signed results, one rule) among those the epoch's close folded
 * (StorageStore.foldRetrievals): what a storage epoch's close, its rebuilt result set and its usage
 * reconciliation use. Without, this oracle's own probes alone.
 */
export async function storageEpochInputs(
  store: StorageStore,
  epochStartMs: number,
  epochEndMs: number,
  set?: { readonly oracles: ReadonlySet<string>; readonly epoch: bigint },
): Promise<StorageEpochInputs> {
  const fromSec = Math.ceil(epochStartMs / 1000);
  const proven = await store.provenBetween(fromSec, Math.ceil(epochEndMs / 1000));
  const lastDay = lastRetrievalDay(epochEndMs);
  if (set === undefined) return { proven, scores: await retrievalScores(store, lastDay) };
  const dataSets = new Map((await store.dataSets()).map((d) => [d.id, d]));
  const agreed = agreedRetrievals(
    await store.setRetrievalsThrough(lastDay, set.epoch),
    dataSets,
    set.oracles,
  );
  return { proven, scores: scoresOf(agreed) };
}

/** The last retrieval day whose results an epoch ending at `epochEndMs` (Unix ms, exclusive) folds. */
export function lastRetrievalDay(epochEndMs: number): bigint {
  return retrievalDay(Math.ceil(epochEndMs / 1000) - 1);
}

/** One proven period's record: dataSetId (32 bytes), deviceId (32), period (8), challenged leaves (8). */
export function periodRecord(p: ProvenPeriod): Uint8Array {
  const out = new Uint8Array(80);
  writeUint256(out, 0, p.dataSetId);
  writeUint256(out, 32, p.deviceId);
  new DataView(out.buffer).setBigUint64(64, p.period);
  new DataView(out.buffer).setBigUint64(72, p.challengedLeaves);
  return out;
}

export class StorageVerifier implements Verifier<StorageEpochInputs> {
  readonly kind = STORAGE_KIND;

  async verify(chain: ChainView, inputs: StorageEpochInputs): Promise<WorkResult> {
    const known = new Set(chain.devices.map((d) => d.record.id));
    const proven = [...inputs.proven]
      .filter((p) => known.has(p.deviceId))
      .sort((a, b) => compareBigint(a.dataSetId, b.dataSetId) || compareBigint(a.period, b.period));
    const perDevice = new Map<bigint, { bytePeriods: bigint; periods: bigint }>();
    for (const p of proven) {
      const w = perDevice.get(p.deviceId) ?? { bytePeriods: 0n, periods: 0n };
      w.bytePeriods += p.challengedLeaves * 32n;
      w.periods += 1n;
      perDevice.set(p.deviceId, w);
    }
    const scoreOf = new Map(inputs.scores.map((s) => [s.deviceId, s.score]));
    const devices: DeviceWork[] = [...perDevice.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([deviceId, w]) => ({
        deviceId,
        weights: [w.bytePeriods],
        metrics: [w.bytePeriods, w.periods, BigInt(scoreOf.get(deviceId) ?? 1_000_000)],
      }));
    const usageScores = new Map<Hex, number>();
    for (const s of inputs.scores) {
      const provider = s.provider.toLowerCase() as Hex;
      usageScores.set(provider, providerScore(inputs.scores, provider));
    }
    return {
      kind: STORAGE_KIND,
      pools: [{ name: "capacity", bps: 10_000 }],
      metricNames: [...STORAGE_METRICS],
      devices,
      record: proven.map(periodRecord),
      usageScores,
    };
  }
}
