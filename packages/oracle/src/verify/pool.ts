/**
 * Stage 1 on worker threads: signature checks are ~55 µs each and dominate verification, so
 * batches of reports are spread over one worker per core. Workers write their records straight
 * into the epoch's shared ReportTable; messages carry only the report texts and acknowledgements.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import type { DeviceKey, ReceivedReport, ReportDomain } from "@hexmesh/protocol";

import { KeyRing } from "./keys.js";
import {
  countMismatch,
  sourceOf,
  type BatchListener,
  type ReportAuthenticator,
  type ReportPreparer,
  type ReportSource,
} from "./prepare.js";
import { ReportTable } from "./table.js";
import type { WorkerInit, WorkerRequest, WorkerResponse } from "./worker.js";

export interface PoolOptions {
  /** Worker threads; default: available parallelism. */
  readonly threads?: number;
  /** Reports per message; default 256. */
  readonly batchSize?: number;
  /** Batches in flight per worker; default 6 (bounds memory, keeps workers busy). */
  readonly window?: number;
}

interface Pending {
  readonly worker: number;
  readonly resolve: (res: WorkerResponse & { ok: true }) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Stage 1 on worker threads, for an epoch's verification (`prepare`) and for the ingest filter
 * (`authenticate`: signature checks of incoming reports, spread over the same workers).
 */
export class WorkerPoolPreparer implements ReportPreparer, ReportAuthenticator {
  readonly threads: number;
  private readonly batchSize: number;
  private readonly window: number;
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private job = 0;
  private failure: Error | null = null;
  private closing = false;

  /** `keys[i]` is the key of device index i (ChainView.devices order). */
  constructor(domain: ReportDomain, keys: readonly DeviceKey[], options: PoolOptions = {}) {
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.batchSize = Math.max(1, options.batchSize ?? 256);
    this.window = Math.max(1, options.window ?? 6) * this.threads;
    const init: WorkerInit = { domain, keys: KeyRing.pack(keys) };
    for (let i = 0; i < this.threads; i++) {
      // Compiled JavaScript next to this file; no loader flags of the parent are passed on (per-process
      // V8 flags such as --max-old-space-size make `new Worker` throw).
      const worker = new Worker(new URL("./worker.js", import.meta.url), {
        workerData: init,
        execArgv: [],
        // A larger young generation: stage 1 allocates many short-lived strings per report.
        resourceLimits: { maxYoungGenerationSizeMb: 64 },
      });
      worker.on("message", (res: WorkerResponse) => this.onMessage(res));
      worker.on("error", (error) => this.fail(error));
      worker.on("exit", (code) => {
        if (!this.closing) this.fail(new Error(`verification worker exited with code ${code}`));
      });
      worker.unref(); // idle workers must not keep the process alive; ref'd while work is pending
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  /** Resolves once every worker has loaded its code and key list (a ping round trip each). */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((_, w) => this.request(w, (seq) => ({ type: "ping", seq }))));
  }

  async authenticate(raws: readonly string[]): Promise<Uint8Array> {
    const out = new Uint8Array(raws.length);
    const parts: Promise<void>[] = [];
    for (let start = 0; start < raws.length; start += this.batchSize) {
      const slice = raws.slice(start, start + this.batchSize);
      let w = 0;
      for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[w]!) w = i;
      parts.push(
        this.request(w, (seq) => ({ type: "auth", seq, raws: slice })).then((res) =>
          out.set(res.auth!, start),
        ),
      );
    }
    await Promise.all(parts);
    return out;
  }

  async addKeys(keys: readonly DeviceKey[]): Promise<void> {
    if (keys.length === 0) return;
    const packed = KeyRing.pack(keys);
    await Promise.all(
      this.workers.map((_, w) => this.request(w, (seq) => ({ type: "keys", seq, keys: packed }))),
    );
  }

  prepare(reports: readonly ReceivedReport[], onBatch?: BatchListener): Promise<ReportTable> {
    return this.prepareStream(sourceOf(reports), onBatch);
  }

  /**
   * Pages are cut into batches and sent to the least loaded worker; at most `window` batches are in
   * flight, so a page is read from the source only when the workers are ready for it (bounded memory).
   */
  async prepareStream(
    source: ReportSource,
    onBatch?: BatchListener,
    reuse?: ReportTable,
  ): Promise<ReportTable> {
    // A reused shared buffer: the workers' references to earlier chunks' buffers would otherwise
    // keep each one alive until their next full garbage collection.
    const table =
      reuse?.length === source.count && reuse.buffer instanceof SharedArrayBuffer
        ? reuse
        : new ReportTable(source.count, true);
    const job = ++this.job;
    const buffer = table.buffer as SharedArrayBuffer;
    if (source.count > 0)
      await Promise.all(
        this.workers.map((_, w) =>
          this.request(w, (seq) => ({ type: "attach", seq, job, buffer, length: source.count })),
        ),
      );
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let next = 0;
    const track = (start: number, reports: readonly ReceivedReport[]) => {
      const end = start + reports.length;
      const done: Promise<void> = this.sendBatch(job, start, reports)
        .then(() => {
          if (!table.isWritten(end - 1)) throw new Error(`rows ${start}-${end} not written`);
          onBatch?.(table, start, end);
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    };
    for await (const page of source.pages) {
      if (next + page.length > source.count) throw countMismatch(source.count, next + page.length);
      for (let k = 0; k < page.length; k += this.batchSize) {
        while (inFlight.size >= this.window && failure === null) await Promise.race(inFlight);
        if (failure !== null) break;
        const batch = page.slice(k, k + this.batchSize);
        track(next, batch);
        next += batch.length;
      }
      if (failure !== null) break;
    }
    await Promise.all(inFlight);
    if (failure !== null) throw failure instanceof Error ? failure : new Error(String(failure));
    if (next !== source.count) throw countMismatch(source.count, next);
    return table;
  }

  private sendBatch(job: number, start: number, reports: readonly ReceivedReport[]): Promise<unknown> {
    const receivedAt = new Float64Array(reports.length);
    const raws: string[] = new Array(reports.length);
    for (let i = 0; i < reports.length; i++) {
      raws[i] = reports[i]!.raw;
      receivedAt[i] = reports[i]!.receivedAt;
    }
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[w]!) w = i;
    return this.request(w, (seq) => ({ type: "batch", seq, job, start, raws, receivedAt }), [
      receivedAt.buffer,
    ]);
  }

  private request(
    w: number,
    make: (seq: number) => WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerResponse & { ok: true }> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) for (const worker of this.workers) worker.ref();
      this.pending.set(seq, { worker: w, resolve, reject });
      this.load[w]!++;
      this.workers[w]!.postMessage(make(seq), transfer);
    });
  }

  private onMessage(res: WorkerResponse): void {
    const p = this.pending.get(res.seq);
    if (p === undefined) return;
    this.pending.delete(res.seq);
    this.load[p.worker]!--;
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if (res.ok) p.resolve(res);
    else p.reject(new Error(`verification worker failed: ${res.error}`));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
