/**
 * Stage 1 on worker threads: signature checks are ~55 µs each and dominate verification, so
 * batches of reports are spread over one worker per core.
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
import type { Prepared, ReportPreparer } from "./prepare.js";
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

export interface PoolOptions {
  /** Worker threads; default: available parallelism. */
  readonly threads?: number;
  /** Reports per message; default 256. */
  readonly batchSize?: number;
}

interface Pending {
  readonly resolve: (prepared: Prepared[]) => void;
  readonly reject: (error: Error) => void;
}

export class WorkerPoolPreparer implements ReportPreparer {
  readonly threads: number;
  private readonly batchSize: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private next = 0;
  private failure: Error | null = null;
  private closing = false;

  constructor(domain: ReportDomain, keys: readonly DeviceKey[], options: PoolOptions = {}) {
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.batchSize = Math.max(1, options.batchSize ?? 256);
    const ext = new URL(import.meta.url).pathname.endsWith(".ts") ? ".ts" : ".js";
    const entry = new URL(`./worker${ext}`, import.meta.url).href;
    const init: WorkerInit = { domain, keys };
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(bootstrap(entry), {
        eval: true,
        workerData: init,
        execArgv: [...process.execArgv, "--disable-warning=ExperimentalWarning"],
      });
      worker.on("message", (res: WorkerResponse) => this.onMessage(res));
      worker.on("error", (error) => this.fail(error));
      worker.on("exit", (code) => {
        if (!this.closing) this.fail(new Error(`verification worker exited with code ${code}`));
      });
      worker.unref(); // idle workers must not keep the process alive; ref'd while work is pending
      this.workers.push(worker);
    }
  }

  async prepare(reports: readonly ReceivedReport[]): Promise<Prepared[]> {
    const batches: Promise<Prepared[]>[] = [];
    for (let start = 0; start < reports.length; start += this.batchSize) {
      const slice = reports.slice(start, start + this.batchSize);
      batches.push(this.send(slice));
    }
    const results = await Promise.all(batches);
    return results.flat();
  }

  private send(slice: readonly ReceivedReport[]): Promise<Prepared[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const seq = this.seq++;
    const receivedAt = new Float64Array(slice.length);
    const raws: string[] = new Array(slice.length);
    for (let i = 0; i < slice.length; i++) {
      raws[i] = slice[i]!.raw;
      receivedAt[i] = slice[i]!.receivedAt;
    }
    const worker = this.workers[this.next]!;
    this.next = (this.next + 1) % this.workers.length;
    return new Promise<Prepared[]>((resolve, reject) => {
      if (this.pending.size === 0) for (const w of this.workers) w.ref();
      this.pending.set(seq, { resolve, reject });
      const req: WorkerRequest = { seq, raws, receivedAt };
      worker.postMessage(req, [receivedAt.buffer]);
    });
  }

  private onMessage(res: WorkerResponse): void {
    const p = this.pending.get(res.seq);
    if (p === undefined) return;
    this.pending.delete(res.seq);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if (res.ok) p.resolve(res.prepared);
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
