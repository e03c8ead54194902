/**
 * Worker thread entry of a close's slice reader (slice-reader.ts). On its own connection to the
 * store, per slice of receive times: reads the reports in keyset pages, keeps those the epoch owns
 * (close.ts, from the boundary beacons it is given), runs stage 1 on them (verify/prepare.ts) and
 * sends back their records, in the order read, as one transferred buffer.
 */
import { parentPort, workerData } from "node:worker_threads";

import type { Hex, ReportDomain } from "@hexmesh/protocol";

import { openStoreReader } from "../store/index.js";
import type { OracleStore, StoreConfig, StoredReport } from "../store/types.js";
import { ReportPreparation } from "../verify/prepare.js";
import { ReportTable } from "../verify/table.js";
import { ownsGiven, reportPages, type EpochTimes } from "./close.js";

export interface SliceWorkerInit {
  readonly store: StoreConfig;
  readonly domain: ReportDomain;
  /** Device keys in ChainView.devices order (device index = position), KeyRing.pack'ed. */
  readonly keys: Uint8Array;
  readonly times: EpochTimes;
  readonly witnessWindowMs: number;
  readonly boundaryBeacons: ReadonlyMap<Hex, readonly number[]>;
  readonly pageRows: number;
}

/** A slice to read, or `{ end: true }`: close the store connection and exit. */
export type SliceWorkerMessage = SliceRequest | { readonly end: true };

export interface SliceRequest {
  readonly seq: number;
  /** Receive times [fromMs, toMs), Unix ms. */
  readonly fromMs: number;
  readonly toMs: number;
}

export type SliceResponse =
  | { readonly seq: number; readonly ok: true; readonly records: Uint8Array }
  | { readonly seq: number; readonly ok: false; readonly error: string };

const port = parentPort;
if (port !== null) {
  const init = workerData as SliceWorkerInit;
  const prep = new ReportPreparation(init.domain, init.keys);
  const owns = ownsGiven(init.times, init.witnessWindowMs, init.boundaryBeacons);
  const opened: Promise<OracleStore> = openStoreReader(init.store);
  opened.catch(() => {}); // reported with the first slice
  const readSlice = async (req: SliceRequest): Promise<Uint8Array> => {
    const store = await opened;
    const owned: StoredReport[] = [];
    for await (const page of reportPages(store, req.fromMs, req.toMs, init.pageRows))
      for (const r of page) if (owns(r)) owned.push(r);
    const table = new ReportTable(owned.length);
    for (let k = 0; k < owned.length; k++) prep.prepareInto(table, k, owned[k]!.raw, owned[k]!.receivedAt);
    return table.bytes;
  };
  // One slice at a time, in the order asked (each is CPU-bound; the parent keeps two per thread queued).
  let queue = Promise.resolve();
  port.on("message", (msg: SliceWorkerMessage) => {
    if ("end" in msg) {
      // After the slices queued before it; the thread exits once its port is closed.
      queue = queue.then(async () => {
        await (await opened.catch(() => null))?.close();
        port.close();
      });
      return;
    }
    const req = msg;
    queue = queue.then(async () => {
      let res: SliceResponse;
      try {
        const records = await readSlice(req);
        res = { seq: req.seq, ok: true, records };
        port.postMessage(res, [records.buffer as ArrayBuffer]);
        return;
      } catch (error) {
        res = {
          seq: req.seq,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        };
      }
      port.postMessage(res);
    });
  });
}
