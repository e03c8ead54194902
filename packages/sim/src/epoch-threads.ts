/**
 * simulateEpoch on worker threads, for days too large for one thread or for memory (bench:scale's
 * millions of reports): the plan's parts (fleet.ts planEpoch) are signed on `threads` workers, each
 * holding the fleet (rebuilt from its options: keys derive from the seed), and yielded in plan
 * order, so the concatenation is simulateEpoch's reports byte for byte. At most two parts per
 * thread are in flight: the reports of a day are never all in memory.
 */
import { Worker } from "node:worker_threads";

import type { EntropyEntry, ReceivedReport } from "@hexmesh/protocol";

import { planEpoch, type EpochChunk, type EpochSimOptions, type FleetOptions } from "./fleet.js";

export interface ThreadedEpoch {
  readonly entropy: EntropyEntry[];
  readonly beacons: number;
  readonly witnesses: number;
  readonly reports: number;
  /** The reports, one part at a time, in simulateEpoch's order. */
  readonly parts: AsyncIterable<ReceivedReport[]>;
}

/** What a worker is given (workerData) and asked (messages). */
export interface EpochWorkerInit {
  readonly fleet: FleetOptions;
  readonly epoch: EpochSimOptions;
  readonly entropy: EntropyEntry[];
}
export interface EpochWorkerRequest {
  readonly seq: number;
  readonly chunk: EpochChunk;
}
export interface EpochWorkerResponse {
  readonly seq: number;
  readonly raws?: string[];
  readonly receivedAt?: Float64Array;
  readonly error?: string;
}

const IN_FLIGHT_PER_THREAD = 2;

/** The epoch of makeFleet(fleet) under `epoch`, signed on `threads` worker threads. */
export function simulateEpochOnThreads(
  fleetOptions: FleetOptions,
  epoch: EpochSimOptions,
  options: { readonly threads: number; readonly devicesPerChunk?: number },
): ThreadedEpoch {
  if ((epoch.invalidShare ?? 0) > 0)
    throw new RangeError("simulateEpochOnThreads does not spoil reports (invalidShare must be 0)");
  if (!Number.isSafeInteger(options.threads) || options.threads < 1)
    throw new RangeError(`threads must be a positive integer, not ${options.threads}`);
  const plan = planEpoch(fleetOptions.devices, epoch, options.devicesPerChunk ?? 256);
  const init: EpochWorkerInit = { fleet: fleetOptions, epoch, entropy: plan.entropy };
  const reports = plan.chunks.reduce((n, c) => n + c.reports, 0);
  return {
    entropy: plan.entropy,
    beacons: plan.beacons,
    witnesses: plan.witnesses,
    reports,
    parts: parts(plan.chunks, init, options.threads),
  };
}

async function* parts(
  chunks: readonly EpochChunk[],
  init: EpochWorkerInit,
  threads: number,
): AsyncGenerator<ReceivedReport[]> {
  const workers = Array.from(
    { length: Math.min(threads, chunks.length) },
    () =>
      new Worker(new URL("./epoch-worker.js", import.meta.url), {
        workerData: init,
        // Only profiler flags pass on (`node --cpu-prof` then profiles each thread); the parent's
        // loader (tsx) is not needed by the compiled worker.
        execArgv: process.execArgv.filter((a) => a.startsWith("--cpu-prof")),
      }),
  );
  const done = new Map<number, ReceivedReport[]>();
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let next = 0;
  const send = (w: Worker) => {
    if (next < chunks.length)
      w.postMessage({ seq: next, chunk: chunks[next++]! } satisfies EpochWorkerRequest);
  };
  for (const w of workers) {
    w.on("message", (res: EpochWorkerResponse) => {
      if (res.error !== undefined) failure ??= new Error(`epoch worker: ${res.error}`);
      else
        done.set(
          res.seq,
          res.raws!.map((raw, i) => ({ raw, receivedAt: res.receivedAt![i]! })),
        );
      send(w);
      wake?.();
    });
    w.on("error", (e) => {
      failure ??= e;
      wake?.();
    });
    for (let i = 0; i < IN_FLIGHT_PER_THREAD; i++) send(w);
  }
  try {
    for (let seq = 0; seq < chunks.length; seq++) {
      while (!done.has(seq)) {
        if (failure !== null) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const part = done.get(seq)!;
      done.delete(seq);
      yield part;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
