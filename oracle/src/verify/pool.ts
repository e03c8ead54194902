/**
 * Stage 1 on worker threads: signature checks are ~55 µs each and dominate verification, so
 * batches of reports are spread over one worker per core. Workers write their records straight
 * into the epoch's shared ReportTable; messages carry only the report texts and acknowledgements.
 *
 * Loading TypeScript in workers: the oracle runs as TypeScript (hardhat run / mocha with tsx, or
 * Node's own type stripping). tsx registered through its API in the main thread does not reach
 * workers, and Node's type stripping does not map our `.js` import suffixes to `.ts` files. The
 * worker is therefore started from a tiny bootstrap that registers a resolve hook doing exactly
 * that mapping, then imports worker.ts. With compiled JavaScript the hook is never used.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

import type { DeviceKey, ReceivedReport } from "../chain/types.js";
import type { ReportDomain } from "../reports/types.js";
import type { BatchListener, ReportPreparer } from "./prepare.js";
import { ReportTable } from "./table.js";
import type { WorkerInit, WorkerRequest, WorkerResponse } from "./worker.js";

const RESOLVE_TS_HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (error && error.code === "ERR_MODULE_NOT_FOUND" && /^\\.\\.?\\//.test(specifier) && specifier.endsWith(".js")) {
      return next(specifier.slice(0, -3) + ".ts", context);
    }
    throw error;
  }
}`;

function bootstrap(entry: string): string {
  return (
    `const { register } = require("node:module");\n` +
    `register("data:text/javascript," + encodeURIComponent(${JSON.stringify(RESOLVE_TS_HOOK)}));\n` +
    `import(${JSON.stringify(entry)});\n`
  );
}

/**
 * The parent's execArgv minus what workers refuse (per-process V8 flags such as
 * --max-old-space-size make `new Worker` throw): module loaders and TypeScript/experimental
 * switches are what workers need to load our code the same way.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const withValue = new Set([
    "--import",
    "--require",
    "-r",
    "--loader",
    "--experimental-loader",
    "--conditions",
    "-C",
  ]);
  const keep =
    /^(--import|--require|--loader|--experimental-loader|--conditions|--experimental-|--no-experimental-|--enable-source-maps|--disable-warning)/;
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (withValue.has(arg) && i + 1 < execArgv.length) {
      out.push(arg, execArgv[++i]!);
    } else if (keep.test(arg)) {
      out.push(arg);
    }
  }
  return out;
}

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
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class WorkerPoolPreparer implements ReportPreparer {
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
    const ext = new URL(import.meta.url).pathname.endsWith(".ts") ? ".ts" : ".js";
    const entry = new URL(`./worker${ext}`, import.meta.url).href;
    const init: WorkerInit = { domain, keys };
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(bootstrap(entry), {
        eval: true,
        workerData: init,
        execArgv: [...workerExecArgv(process.execArgv), "--disable-warning=ExperimentalWarning"],
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

  async prepare(reports: readonly ReceivedReport[], onBatch?: BatchListener): Promise<ReportTable> {
    const table = new ReportTable(reports.length, true);
    if (reports.length === 0) return table;
    const job = ++this.job;
    const buffer = table.buffer as SharedArrayBuffer;
    await Promise.all(
      this.workers.map((_, w) =>
        this.request(w, (seq) => ({ type: "attach", seq, job, buffer, length: reports.length })),
      ),
    );
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let inFlight = 0;
      let failed = false;
      const fail = (error: unknown) => {
        failed = true;
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const pump = () => {
        while (!failed && inFlight < this.window && next < reports.length) {
          const start = next;
          const end = Math.min(reports.length, start + this.batchSize);
          next = end;
          inFlight++;
          this.sendBatch(job, reports, start, end).then(() => {
            if (failed) return;
            inFlight--;
            pump(); // refill first, so workers keep going while the listener runs
            try {
              if (!table.isWritten(end - 1)) throw new Error(`rows ${start}-${end} not written`);
              onBatch?.(table, start, end);
            } catch (error) {
              fail(error);
              return;
            }
            if (inFlight === 0 && next >= reports.length) resolve();
          }, fail);
        }
      };
      pump();
    });
    return table;
  }

  private sendBatch(
    job: number,
    reports: readonly ReceivedReport[],
    start: number,
    end: number,
  ): Promise<void> {
    const receivedAt = new Float64Array(end - start);
    const raws: string[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      raws[i - start] = reports[i]!.raw;
      receivedAt[i - start] = reports[i]!.receivedAt;
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
  ): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const seq = this.seq++;
    return new Promise<void>((resolve, reject) => {
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
    if (res.ok) p.resolve();
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
