/**
 * Retrieval scores from the stored results: every device starts at 1.0 (SCORE_ONE) and each of its
 * probes moves it by nextRetrievalScore, in (day, data set) order: a fold over the table, so every
 * oracle with the same results has the same scores, and nothing is kept that could drift from them.
 */
import { nextRetrievalScore, SCORE_ONE, SCORE_SCALE_BELOW, SCORE_SUSPEND_BELOW } from "@hexmesh/protocol";

import type { StorageStore, StoredRetrieval } from "./store.js";

export interface DeviceScore {
  readonly deviceId: bigint;
  readonly provider: string;
  /** Parts per million (1,000,000 = 1.0). */
  readonly score: number;
  readonly probes: number;
  readonly failures: number;
  /** Below 0.9: the provider's usage reward is scaled by the score. */
  readonly scaled: boolean;
  /** Below 0.6: suspended from new data sets. */
  readonly suspend: boolean;
}

/** Folds results (in day, data set order) into per-device scores, by ascending device id. */
export function scoresOf(results: readonly StoredRetrieval[]): DeviceScore[] {
  const acc = new Map<bigint, { provider: string; score: number; probes: number; failures: number }>();
  for (const r of results) {
    const s = acc.get(r.deviceId) ?? { provider: r.provider, score: SCORE_ONE, probes: 0, failures: 0 };
    const ok = r.outcome === "ok";
    s.score = nextRetrievalScore(s.score, ok);
    s.probes++;
    if (!ok) s.failures++;
    s.provider = r.provider;
    acc.set(r.deviceId, s);
  }
  return [...acc.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([deviceId, s]) => ({
      deviceId,
      ...s,
      scaled: s.score < SCORE_SCALE_BELOW,
      suspend: s.score < SCORE_SUSPEND_BELOW,
    }));
}

/** Scores after every result of days up to `lastDay`. */
export async function retrievalScores(store: StorageStore, lastDay: bigint): Promise<DeviceScore[]> {
  return scoresOf(await store.retrievalsThrough(lastDay));
}

/**
 * A provider's usage score: the lowest score among its devices (a provider is paid per address, and
 * one failing device is enough to scale it); 1.0 for a provider never probed.
 */
export function providerScore(scores: readonly DeviceScore[], provider: string): number {
  let lowest = SCORE_ONE;
  for (const s of scores) if (s.provider === provider.toLowerCase() && s.score < lowest) lowest = s.score;
  return lowest;
}
