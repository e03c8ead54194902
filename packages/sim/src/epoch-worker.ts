/** A worker thread of simulateEpochOnThreads (epoch-threads.ts): signs the parts it is sent. */
import { parentPort, workerData } from "node:worker_threads";

import type { EpochWorkerInit, EpochWorkerRequest, EpochWorkerResponse } from "./epoch-threads.js";
import { makeFleet, simulateChunk } from "./fleet.js";

const init = workerData as EpochWorkerInit;
const fleet = makeFleet(init.fleet);

parentPort!.on("message", ({ seq, chunk }: EpochWorkerRequest) => {
  let res: EpochWorkerResponse;
  try {
    const reports = simulateChunk(fleet, init.epoch, init, chunk);
    const receivedAt = new Float64Array(reports.length);
    reports.forEach((r, i) => (receivedAt[i] = r.receivedAt));
    res = { seq, raws: reports.map((r) => r.raw), receivedAt };
  } catch (e) {
    res = { seq, error: (e as Error).stack ?? String(e) };
  }
  parentPort!.postMessage(res, res.receivedAt ? [res.receivedAt.buffer as ArrayBuffer] : []);
});
