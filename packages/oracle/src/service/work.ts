/**
 * The kinds of work an oracle closes epochs for, each through the one epoch path (epochs.ts):
 *
 *   close   index the chain at the epoch's snapshot (the kind's distributor, its subnetwork's device
 *           classes and UsageRecorded logs), run the kind's verifier over its inputs (runEpoch), store
 *   sign    reconcile usage with that subnetwork's logs, sign under the kind's distributor's set
 *   collect peers' signatures of the same root for the same kind
 *   post    to the kind's distributor
 *
 * Coverage keeps its own close (reports streamed from the store, verdicts stored: close-stored.ts);
 * storage and compute run their verifier here. Everything after the verifier (payout, commit, the
 * stored result, signing, collecting, posting) is the same code for every kind.
 */
import type { RewardsDistributor } from "@hexmesh/contracts";
import {
  ChainView,
  runEpoch,
  SUBNETWORK_COMPUTE,
  SUBNETWORK_COVERAGE,
  SUBNETWORK_STORAGE,
  type ChainIndexHead,
  type ContractDomain,
  type EpochResult,
  type Hex,
  type UsageParams,
} from "@hexmesh/protocol";

import type { UsageSource } from "../chain/indexer.js";
import type { ComputeIndexer } from "../compute/indexer.js";
import { computeEpochInputs } from "../compute/inputs.js";
import type { ComputeStore } from "../compute/store.js";
import { ComputeVerifier } from "../compute/verifier.js";
import { pullSetRetrievals } from "../storage/agree.js";
import type { StorageIndexer } from "../storage/indexer.js";
import type { StorageStore } from "../storage/store.js";
import { lastRetrievalDay, storageEpochInputs, StorageVerifier } from "../storage/verifier.js";
import type { StoredChainIndex, StoredEpochResult, WorkKind } from "../store/types.js";
import { usageSummaryOf } from "./reconcile.js";

/** The on-chain subnetwork id of each kind (its distributor's `subnetwork()`, its usage logs' topic). */
export const WORK_SUBNETWORK: Readonly<Record<WorkKind, Hex>> = {
  coverage: SUBNETWORK_COVERAGE,
  storage: SUBNETWORK_STORAGE,
  compute: SUBNETWORK_COMPUTE,
};

/** A kind of work other than coverage, as this oracle serves it. */
export interface WorkSource {
  readonly kind: Exclude<WorkKind, "coverage">;
  /** The kind's RewardsDistributor (its oracle set signs, its pool is funded by the controller). */
  readonly distributor: RewardsDistributor;
  /** The subnetwork's paid usage (UsageCredits and the kind's subnetwork id). */
  readonly usage?: UsageSource;
  /** The registry's class subnetwork of the kind's device classes (the deployment's classSubnetwork). */
  readonly classSubnetwork: number;
  /**
   * Before the close of the indexed epoch (never before a rebuild): brings the kind's own index up to
   * the chain's head (storage: StorageDeals' events, then the peers' results, folded into the epoch).
   */
  prepare?(index: StoredChainIndex): Promise<void>;
  /** The kind's verifier over its inputs for the indexed epoch, through the shared stages (runEpoch). */
  run(index: StoredChainIndex, usage: UsageParams): Promise<EpochResult>;
  /** The usage scores its verifier applies to the indexed epoch (sign reconciles usage with them). */
  usageScores?(index: StoredChainIndex): Promise<ReadonlyMap<Hex, number> | undefined>;
}

/** Thrown when a command names a kind of work this oracle does not serve (config `works`). */
export class WorkNotServedError extends Error {
  override readonly name = "WorkNotServedError";
}

/** Thrown when a kind's distributor belongs to another subnetwork (a misconfigured address). */
export class WorkDistributorError extends Error {
  override readonly name = "WorkDistributorError";
}

/** Parses `--work`: one of coverage, storage, compute. */
export function parseWorkKind(value: string | undefined): WorkKind {
  if (value === undefined) return "coverage";
  if (value === "coverage" || value === "storage" || value === "compute") return value;
  throw new WorkNotServedError(`unknown kind of work "${value}": expected coverage, storage or compute`);
}

/**
 * The storage subnetwork: proofs indexed from StorageDeals (the same for every oracle), retrieval
 * scores from the results the storage oracle set signed (storage/agree.ts): before the close the
 * index is brought to the head and the peers' signed results are fetched; the close folds every
 * result signed by a member of the set at the epoch's snapshot, by one rule.
 */
export function storageWork(options: {
  readonly distributor: RewardsDistributor;
  readonly usage?: UsageSource;
  readonly classSubnetwork: number;
  readonly store: StorageStore;
  readonly indexer?: StorageIndexer;
  /** Peers whose signed RetrievalResults are fetched before a close, and the domain they sign under. */
  readonly peers?: readonly string[];
  readonly retrievalDomain?: ContractDomain;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}): WorkSource {
  const verifier = new StorageVerifier();
  const { distributor, store } = options;
  // The set at the epoch's snapshot signs the results the scores fold (storage/agree.ts).
  const inputsOf = async (index: StoredChainIndex) => {
    const oracles = new Set(
      (await distributor.oracles({ blockTag: index.snapshotBlock })).map((a) => a.toLowerCase()),
    );
    return storageEpochInputs(store, index.epochStart, index.epochEnd, { oracles, epoch: index.epoch });
  };
  return {
    kind: "storage",
    distributor,
    ...(options.usage !== undefined ? { usage: options.usage } : {}),
    classSubnetwork: options.classSubnetwork,
    prepare: async (index) => {
      await options.indexer?.run();
      if (options.peers !== undefined && options.peers.length > 0 && options.retrievalDomain !== undefined) {
        const pulled = await pullSetRetrievals(store, {
          peers: options.peers,
          domain: options.retrievalDomain,
          oracles: await distributor.oracles(),
        });
        options.log?.("storage retrieval results fetched from peers", { ...pulled });
      }
      // What the close reads from here on, and its rebuilds after it: a later result waits for the next.
      await store.foldRetrievals(lastRetrievalDay(index.epochEnd), index.epoch);
    },
    run: async (index, usage) => runEpoch(verifier, index, await inputsOf(index), { usage }),
    usageScores: async (index) =>
      (await verifier.verify(new ChainView(index), await inputsOf(index))).usageScores,
  };
}

/**
 * The compute subnetwork: paid usage (ComputeJobs' UsageRecorded logs, in the index) through the shared
 * usage rule; availability from the daily benchmarks' outcomes, derived from ComputeJobs' events by
 * every oracle alike (compute/inputs.ts: computeEpochInputs over the compute store, brought to the
 * head by `indexer` before the close).
 */
export function computeWork(options: {
  readonly distributor: RewardsDistributor;
  readonly usage?: UsageSource;
  readonly classSubnetwork: number;
  readonly store: ComputeStore;
  readonly indexer?: ComputeIndexer;
}): WorkSource {
  const verifier = new ComputeVerifier();
  return {
    kind: "compute",
    distributor: options.distributor,
    ...(options.usage !== undefined ? { usage: options.usage } : {}),
    classSubnetwork: options.classSubnetwork,
    ...(options.indexer !== undefined ? { prepare: async () => void (await options.indexer!.run()) } : {}),
    run: async (index, usage) =>
      runEpoch(verifier, index, await computeEpochInputs(options.store, index.epochStart, index.epochEnd), {
        usage,
      }),
  };
}

/** What every epoch's stored result holds besides its kind's counts (shared by every kind). */
export function storedResultOf(
  index: ChainIndexHead<StoredChainIndex>,
  result: EpochResult,
  counts: Pick<StoredEpochResult["summary"], "reports" | "valid" | "beacons" | "witnesses" | "rejected">,
): StoredEpochResult {
  const root = result.commit.epochRoot;
  return {
    epoch: index.epoch,
    root: root.root,
    totalCumulative: root.totalCumulative,
    dataHash: root.dataHash,
    snapshotBlock: index.snapshotBlock,
    summary: {
      ...counts,
      devices: result.payout.devices.length,
      owners: result.payout.owners.length,
      pool: index.pool.toString(),
      distributed: result.payout.distributed.toString(),
      dust: result.payout.dust.toString(),
      ...(result.payout.usage !== null
        ? { usage: usageSummaryOf(result.payout.usage, index.usage?.price ?? 0n)! }
        : {}),
    },
    owners: result.payout.owners.map((o) => ({
      owner: o.owner,
      amount: o.amount,
      cumulative: o.cumulative,
    })),
    computedAt: Date.now(),
  };
}
