/**
 * Worker thread entry for stage 1 (see pool.ts). Receives the domain and key list once; then, per
 * epoch, the shared report table ("attach"), and batches of reports whose records it writes
 * straight into that table. Answers each batch (and each ping) with its sequence number.
 */
import { parentPort, workerData } from "node:worker_threads";

import type { ReportDomain } from "@hexmesh/protocol";

import { ReportPreparation } from "./prepare.js";
import { ReportTable } from "./table.js";

export interface WorkerInit {
  readonly domain: ReportDomain;
  /** The fleet's keys, KeyRing.pack'ed (device index = order). */
  readonly keys: Uint8Array;
}

export type WorkerRequest =
  | { readonly type: "ping"; readonly seq: number }
  | {
      readonly type: "attach";
      readonly seq: number;
      readonly job: number;
      readonly buffer: SharedArrayBuffer;
      readonly length: number;
    }
  | {
      readonly type: "batch";
      readonly seq: number;
      readonly job: number;
      readonly start: number;
      readonly raws: readonly string[];
      readonly receivedAt: Float64Array;
    }
  | { readonly type: "keys"; readonly seq: number; readonly keys: Uint8Array }
  | { readonly type: "auth"; readonly seq: number; readonly raws: readonly string[] };

export type WorkerResponse =
  | { readonly seq: number; readonly ok: true; readonly auth?: Uint8Array }
  | { readonly seq: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port !== null) {
  const init = workerData as WorkerInit;
  const prep = new ReportPreparation(init.domain, init.keys);
  let job = -1;
  let table: ReportTable | null = null;
  port.on("message", (req: WorkerRequest) => {
    let res: WorkerResponse;
    try {
      if (req.type === "attach") {
        job = req.job;
        table = new ReportTable(req.length, true, req.buffer);
      } else if (req.type === "batch") {
        if (table === null || req.job !== job)
          throw new Error(`batch for job ${req.job}, attached to ${job}`);
        prep.prepareBatch(table, req.start, req.raws, req.receivedAt);
      } else if (req.type === "keys") {
        prep.addKeys(req.keys);
      } else if (req.type === "auth") {
        res = { seq: req.seq, ok: true, auth: Uint8Array.from(req.raws, (raw) => prep.authenticate(raw)) };
        port.postMessage(res, [res.auth!.buffer as ArrayBuffer]);
        return;
      }
      res = { seq: req.seq, ok: true };
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
