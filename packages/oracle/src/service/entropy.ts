/**
 * Publishes the remote entropy every 60 s (on slot boundaries) and keeps every entry in the store:
 * the verifier needs the full log of an epoch, and a restarted service must serve the same entropy
 * for a slot it already published. With several ingest processes on one PostgreSQL database, the
 * first entry stored for a slot wins and the others adopt it.
 */
import { ENTROPY_INTERVAL_MS, makeEntropy, type EntropyEntry, type Hex } from "@hexmesh/protocol";

import { StoreConflictError, type OracleStore } from "../store/types.js";

export class EntropyService {
  private current: EntropyEntry | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: OracleStore,
    private readonly latestBlockHash: () => Promise<Hex>,
    private readonly clock: () => number,
  ) {}

  /** The entropy of the current slot, publishing it first if needed. */
  async tick(): Promise<EntropyEntry> {
    const slot = Math.floor(this.clock() / ENTROPY_INTERVAL_MS) * (ENTROPY_INTERVAL_MS / 1000);
    if (this.current?.timestamp === slot) return this.current;
    const stored = await this.store.entropyBetween(slot, slot);
    if (stored[0] !== undefined) return (this.current = stored[0]);
    const entry = makeEntropy(await this.latestBlockHash(), slot);
    try {
      await this.store.putEntropy([entry]);
      this.current = entry;
    } catch (e) {
      if (!(e instanceof StoreConflictError)) throw e;
      this.current = (await this.store.entropyBetween(slot, slot))[0]!;
    }
    return this.current;
  }

  /** The last published entry without publishing (null before the first). */
  async latest(): Promise<EntropyEntry | null> {
    return this.current ?? (await this.store.latestEntropy());
  }

  /** Ticks every second (cheap when the slot is published) until stop(). */
  start(onError: (e: unknown) => void): void {
    const run = () => void this.tick().catch(onError);
    run();
    this.timer = setInterval(run, 1_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
