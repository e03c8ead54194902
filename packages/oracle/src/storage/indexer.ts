/**
 * Indexes StorageDeals' events into the storage tables: data sets (created, accepted, proving
 * started, terminated), pieces, and each period's seed, proof payment and settlement. Reads
 * [cursor, head − confirmations] in chunks of at most `chunkBlocks`, applies the logs in chain order
 * and then moves the cursor; every write is idempotent, so a crash between the two re-reads a chunk
 * harmlessly. A proof's period keeps its block time (the epoch it counts in).
 * PeriodsRescheduled needs no row (a rescheduled period has no seed, proof or fee).
 */
import type { Log } from "ethers";

import type { StorageDeals } from "@hexmesh/contracts";

import type { StorageStore } from "./store.js";

const END_REASONS = ["ByClient", "ByProvider", "Faults", "Mutual"] as const;
const OUTCOMES = ["Proven", "Rescheduled", "DeclaredFault", "FreeMiss", "Faulted"] as const;

export interface StorageIndexerOptions {
  /** Block StorageDeals was deployed at (where a fresh index starts). */
  readonly fromBlock: number;
  /** Blocks behind the head left unread (reorg margin). Default 0. */
  readonly confirmations?: number;
  /** Most blocks per getLogs call. Default 5,000. */
  readonly chunkBlocks?: number;
}

export interface IndexRun {
  readonly fromBlock: number;
  /** The first block not read yet (the new cursor). */
  readonly nextBlock: number;
  readonly logs: number;
}

export class StorageIndexer {
  private readonly confirmations: number;
  private readonly chunk: number;

  constructor(
    private readonly deals: StorageDeals,
    private readonly store: StorageStore,
    private readonly opts: StorageIndexerOptions,
  ) {
    this.confirmations = opts.confirmations ?? 0;
    this.chunk = opts.chunkBlocks ?? 5_000;
  }

  /** Reads everything up to the head (less confirmations). */
  async run(): Promise<IndexRun> {
    const provider = this.deals.runner?.provider;
    if (!provider) throw new Error("StorageDeals binding has no provider");
    const head = (await provider.getBlockNumber()) - this.confirmations;
    const start = (await this.store.cursor()) ?? this.opts.fromBlock;
    let next = start;
    let count = 0;
    const address = await this.deals.getAddress();
    while (next <= head) {
      const to = Math.min(head, next + this.chunk - 1);
      const logs = await provider.getLogs({ address, fromBlock: next, toBlock: to });
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      for (const log of logs) if (await this.apply(log)) count++;
      next = to + 1;
      await this.store.setCursor(next);
    }
    return { fromBlock: start, nextBlock: next, logs: count };
  }

  private async apply(log: Log): Promise<boolean> {
    const parsed = this.deals.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed) return false;
    const a = parsed.args;
    const s = this.store;
    switch (parsed.name) {
      case "DataSetCreated":
        await s.dataSetCreated(
          a.id as bigint,
          a.client as string,
          a.provider as string,
          a.deviceId as bigint,
        );
        return true;
      case "DataSetAccepted":
        await s.dataSetAccepted(a.id as bigint);
        return true;
      case "PieceAdded":
        await s.pieceAdded({
          dataSetId: a.id as bigint,
          pieceIndex: Number(a.pieceIndex as bigint),
          root: a.root as string,
          size: Number(a.size as bigint),
          firstLeaf: a.firstLeaf as bigint,
        });
        return true;
      case "ProvingStarted":
        await s.provingStarted(a.id as bigint);
        return true;
      case "SeedRecorded":
        await s.seedRecorded(a.id as bigint, a.period as bigint, a.seed as string);
        return true;
      case "ChallengeArmed":
        await s.challengeArmed(a.id as bigint, a.period as bigint, a.challengedLeaves as bigint);
        return true;
      case "PossessionProven": {
        const block = await this.deals.runner!.provider!.getBlock(log.blockNumber);
        if (!block) throw new Error(`block ${log.blockNumber} not found`);
        await s.possessionProven(a.id as bigint, a.period as bigint, a.paid as bigint, block.timestamp);
        return true;
      }
      case "PeriodSettled":
        await s.periodSettled(
          a.id as bigint,
          a.period as bigint,
          OUTCOMES[Number(a.outcome)]!,
          a.fee as bigint,
        );
        return true;
      case "DataSetTerminated":
        await s.dataSetTerminated(a.id as bigint, END_REASONS[Number(a.reason)]!);
        return true;
      default:
        return false;
    }
  }
}
