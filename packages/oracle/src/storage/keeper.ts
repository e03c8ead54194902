/**
 * The seed keeper: arms and records the challenge seed of every live data set in its proof window, so
 * no period is rescheduled for want of a seed. One step per data set per tick:
 *
 *   window not open yet (chain time < periodEnd − 30 min)    nothing
 *   period not armed                                          recordSeed (arms: the next block's hash)
 *   armed, challenge block mined, seed not recorded           recordSeed (records the hash; the call
 *                                                             lands after the head, so head ≥ challenge block)
 *   armed, challenge block not mined yet / seed recorded      nothing
 *
 * The data set's stored period may be stale (the contract rolls periods forward on the next call): a
 * stored period that has ended is treated as the fresh period it rolls into, unarmed. Idempotent: a
 * call another keeper (or the client) beat us to reverts with StorageSeedAlreadyRecorded,
 * StorageSeedNotReady or StorageOutsideWindow in simulation, before anything is sent, and counts as
 * `skipped`, not as an error.
 */
import { decodeContractError, type StorageDeals } from "@hexmesh/contracts";

import type { StorageStore } from "./store.js";

export const PERIOD_SECONDS = 86_400n;
export const WINDOW_SECONDS = 1_800n;

/** Reverts that mean someone else did the step first, or the moment passed: not errors. */
const BENIGN = new Set([
  "StorageSeedAlreadyRecorded",
  "StorageSeedNotReady",
  "StorageOutsideWindow",
  "StorageWrongStatus",
  "StorageFaultLimitReached",
]);

export type KeeperAction = "armed" | "recorded" | "skipped" | "failed";

export interface KeeperStep {
  readonly dataSetId: bigint;
  readonly action: KeeperAction;
  /** The revert's name (skipped) or the error (failed). */
  readonly detail?: string;
}

/** What the keeper would do for a data set at chain time `now` and block `block` (null: nothing). */
export function seedStep(
  ds: { periodEnd: bigint; challengeBlock: bigint; seed: string },
  now: bigint,
  block: bigint,
): "arm" | "record" | null {
  let periodEnd = ds.periodEnd;
  let fresh = false;
  if (periodEnd <= now) {
    periodEnd += ((now - periodEnd) / PERIOD_SECONDS + 1n) * PERIOD_SECONDS;
    fresh = true;
  }
  if (now < periodEnd - WINDOW_SECONDS) return null;
  if (fresh || ds.challengeBlock === 0n) return "arm";
  if (/^0x0{64}$/.test(ds.seed) && block >= ds.challengeBlock) return "record";
  return null;
}

export class SeedKeeper {
  /** `deals` must be connected to the keeper's signer. */
  constructor(
    private readonly deals: StorageDeals,
    private readonly store: StorageStore,
  ) {}

  async tick(): Promise<KeeperStep[]> {
    const provider = this.deals.runner?.provider;
    if (!provider) throw new Error("StorageDeals binding has no provider");
    const head = await provider.getBlock("latest");
    if (!head) throw new Error("no latest block");
    const steps: KeeperStep[] = [];
    for (const indexed of await this.store.liveDataSets()) {
      const ds = await this.deals.dataSet(indexed.id);
      if (ds.status !== 2n) continue;
      const step = seedStep(ds, BigInt(head.timestamp), BigInt(head.number));
      if (step === null) continue;
      try {
        const tx = await this.deals.recordSeed(indexed.id);
        await tx.wait();
        steps.push({ dataSetId: indexed.id, action: step === "arm" ? "armed" : "recorded" });
      } catch (err) {
        const decoded = decodeContractError(err);
        if (decoded && BENIGN.has(decoded.name))
          steps.push({ dataSetId: indexed.id, action: "skipped", detail: decoded.name });
        else steps.push({ dataSetId: indexed.id, action: "failed", detail: decoded?.text ?? String(err) });
      }
    }
    return steps;
  }
}
