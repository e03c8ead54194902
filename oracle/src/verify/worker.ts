/**
 * Worker thread entry for stage 1 (see pool.ts). Receives the domain and key table once, then
 * batches of reports; answers each batch with its Prepared results in order.
 */
import { parentPort, workerData } from "node:worker_threads";

import type { DeviceKey } from "../chain/types.js";
import type { ReportDomain } from "../reports/types.js";
import { ReportPreparation, type Prepared } from "./prepare.js";

export interface WorkerInit {
  readonly domain: ReportDomain;
  readonly keys: readonly DeviceKey[];
}

export interface WorkerRequest {
  readonly seq: number;
  /** Empty for a readiness ping. */
  readonly raws: readonly string[];
  readonly receivedAt: Float64Array;
}

export type WorkerResponse =
  | { readonly seq: number; readonly ok: true; readonly prepared: Prepared[] }
  | { readonly seq: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port !== null) {
  const init = workerData as WorkerInit;
  const prep = new ReportPreparation(init.domain, init.keys);
  port.on("message", (req: WorkerRequest) => {
    let res: WorkerResponse;
    try {
      const prepared: Prepared[] = new Array(req.raws.length);
      for (let i = 0; i < req.raws.length; i++) prepared[i] = prep.prepare(req.raws[i]!, req.receivedAt[i]!);
      res = { seq: req.seq, ok: true, prepared };
    } catch (error) {
      res = {
        seq: req.seq,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      };
    }
    port.postMessage(res);
  });
}
