/**
 * A close's reports read and verified on worker threads, each thread on its own connection to the
 * store (OracleStore.readerConfig): the closing thread never reads, copies or parses a report text.
 *
 * Why: measured on a 1M-report day (SQLite, 2 cores), the closing thread's reads (~30 µs a report
 * with the stage-1 threads running beside it) and the texts it posted to those threads kept it
 * busy for most of the close, while the threads that check signatures waited on it.
 *
 * How: the epoch's read range is cut into slices of receive times, about `sliceReports` reports
 * each at the epoch's average rate (partitionSlices). A thread reads a slice in keyset pages, keeps
 * the reports the epoch owns (close.ts, rebuilt from the boundary beacons), runs stage 1 on them and
 * sends back their 160-byte records (slice-worker.ts). The records are taken in slice order, and
 * rows within a slice in (receive time, hash) order: the order of the single reader
 * (streamOwnedReports), so the verdicts, encoding, dataHash and root are byte-identical to it for
 * any number of threads. At most two slices per thread are read ahead of the one being taken.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import type { ChainView } from "@hexmesh/protocol";

import type { StoreConfig } from "../store/types.js";
import { KeyRing } from "../verify/keys.js";
import { partitionSlices, type EpochOwnership, type EpochTimes } from "./close.js";
import type { SliceRequest, SliceResponse, SliceWorkerInit, SliceWorkerMessage } from "./slice-worker.js";

/** Reports per slice at the epoch's average rate (~12 MB of texts and 2.5 MB of records in flight). */
export const SLICE_REPORTS = 16_384;

export interface SliceReaderOptions {
  /** Reading threads; default: available parallelism. */
  readonly threads?: number;
  /** Reports per slice at the epoch's average rate; default SLICE_REPORTS. */
  readonly sliceReports?: number;
  /** Rows per keyset page a thread reads; default 4,096. */
  readonly pageRows?: number;
}

/** What a slice reader reads: the epoch, its read range, and which of its reports it owns. */
export interface SliceReaderEpoch {
  readonly chain: ChainView;
  readonly times: EpochTimes;
  readonly witnessWindowMs: number;
  readonly range: { readonly from: number; readonly to: number };
  readonly ownership: EpochOwnership;
}

/**
 * The stage-1 records of the reports the epoch owns, in the single reader's order, in one buffer per
 * slice (slices that own nothing yield nothing). The threads end when the generator does, also
 * when its consumer stops early or fails.
 */
export async function* readPreparedSlices(
  store: StoreConfig,
  epoch: SliceReaderEpoch,
  options: SliceReaderOptions = {},
): AsyncGenerator<Uint8Array> {
  const sliceReports = options.sliceReports ?? SLICE_REPORTS;
  if (!Number.isSafeInteger(sliceReports) || sliceReports < 1)
    throw new RangeError(`sliceReports must be a positive integer, not ${sliceReports}`);
  const slices = partitionSlices(
    epoch.range.from,
    epoch.range.to,
    Math.max(1, Math.ceil(epoch.ownership.count / sliceReports)),
  );
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), slices.length));
  const readers = new SliceThreads(threads, {
    store,
    domain: epoch.chain.domain,
    keys: KeyRing.pack(epoch.chain.devices.map((d) => d.record.key)),
    times: epoch.times,
    witnessWindowMs: epoch.witnessWindowMs,
    boundaryBeacons: epoch.ownership.boundaryBeacons,
    pageRows: options.pageRows ?? 4_096,
  });
  try {
    const ahead = new Map<number, Promise<Uint8Array>>();
    let sent = 0;
    for (let next = 0; next < slices.length; next++) {
      while (sent < slices.length && sent - next < 2 * threads) {
        const slice = slices[sent]!;
        const read = readers.read(slice.fromMs, slice.toMs);
        read.catch(() => {}); // awaited in slice order below; a failure surfaces there
        ahead.set(sent++, read);
      }
      const records = await ahead.get(next)!;
      ahead.delete(next);
      if (records.length > 0) yield records;
    }
  } finally {
    await readers.close();
  }
}

interface Pending {
  readonly worker: number;
  readonly resolve: (records: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** The reading threads: each request goes to the thread with the fewest slices queued. */
class SliceThreads {
  private readonly workers: Worker[] = [];
  /** Resolve when each thread has exited (however it ended). */
  private readonly exits: Promise<void>[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | null = null;
  private closing = false;

  constructor(threads: number, init: SliceWorkerInit) {
    for (let i = 0; i < threads; i++) {
      // Compiled JavaScript next to this file; no loader flags of the parent are passed on. node:sqlite
      // prints an ExperimentalWarning in every thread that loads it (the CLI already hides the main
      // thread's: cli/run.ts).
      const worker = new Worker(new URL("./slice-worker.js", import.meta.url), {
        workerData: init,
        execArgv: ["--no-warnings=ExperimentalWarning"],
        // Stage 1 allocates many short-lived strings per report (verify/pool.ts does the same).
        resourceLimits: { maxYoungGenerationSizeMb: 64 },
      });
      worker.on("message", (res: SliceResponse) => this.onMessage(res));
      worker.on("error", (error) => this.fail(error));
      this.exits.push(
        new Promise((resolve) =>
          worker.on("exit", (code) => {
            if (!this.closing) this.fail(new Error(`a close's reading thread exited with code ${code}`));
            resolve();
          }),
        ),
      );
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  read(fromMs: number, toMs: number): Promise<Uint8Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[w]!) w = i;
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { worker: w, resolve, reject });
      this.load[w]!++;
      const req: SliceRequest = { seq, fromMs, toMs };
      this.workers[w]!.postMessage(req);
    });
  }

  private onMessage(res: SliceResponse): void {
    const p = this.pending.get(res.seq);
    if (p === undefined) return;
    this.pending.delete(res.seq);
    this.load[p.worker]!--;
    if (res.ok) p.resolve(res.records);
    else p.reject(new Error(`a close's reading thread failed: ${res.error}`));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /**
   * Asks each thread to close its store connection and exit (a PostgreSQL server then sees a clean
   * disconnect), and terminates those that have not within a second (a thread still reading a slice
   * after a failure elsewhere).
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers.map(async (w, i) => {
        const exited = this.exits[i]!;
        const end: SliceWorkerMessage = { end: true };
        w.postMessage(end);
        const timer = setTimeout(() => void w.terminate(), 1_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.workers.length = 0;
  }
}
