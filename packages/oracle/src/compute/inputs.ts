/**
 * The compute epoch's inputs from the compute oracle's index (ComputeJobs' events only, so every
 * oracle of the set derives the same inputs): each availability benchmark the designated sender
 * (ComputeStore.benchmarkSender) directed at a device, created with block time in the epoch's window,
 * and its outcome:
 *
 *   committed the pinned output's hash (BENCHMARK_OUTPUT_HASH)   passed, latency = commit − creation
 *   committed another hash                                       wrong-output, with the latency
 *   accepted, no commit, past the deadline (or ended)            no-result
 *   never accepted, past the deadline (or ended)                 not-accepted
 *
 * A benchmark that can still change (no commit, deadline not reached by the index) makes the inputs
 * not ready: ComputeInputsNotReady, so the epoch is closed once the index has passed its deadline
 * rather than with an outcome another oracle may see differently.
 */
import { BENCHMARK_OUTPUT_HASH, benchmarkJob } from "./benchmark.js";
import type { ComputeStore } from "./store.js";
import type { BenchmarkOutcome, ComputeEpochInputs } from "./verifier.js";

export class ComputeInputsNotReady extends Error {
  override readonly name = "ComputeInputsNotReady";
}

export async function computeEpochInputs(
  store: ComputeStore,
  epochStartMs: number,
  epochEndMs: number,
): Promise<ComputeEpochInputs> {
  const sender = store.benchmarkSender;
  if (sender === undefined)
    throw new Error("compute epoch inputs need the benchmark sender (config compute.benchmark.sender)");
  if (!(epochEndMs > epochStartMs))
    throw new RangeError(`empty epoch window [${epochStartMs}, ${epochEndMs})`);
  const cursor = await store.cursor();
  const indexedTo = cursor?.blockTime ?? 0;
  if (indexedTo * 1000 < epochEndMs)
    throw new ComputeInputsNotReady(
      `the compute index has reached block time ${indexedTo} s, before the epoch's end (${epochEndMs} ms)`,
    );
  const { specHash } = await benchmarkJob();
  const jobs = await store.directedJobs(
    sender,
    specHash,
    Math.ceil(epochStartMs / 1000),
    Math.ceil(epochEndMs / 1000),
  );
  const benchmarks: BenchmarkOutcome[] = [];
  for (const j of jobs) {
    const deviceId = j.directedTo!;
    const sentAt = j.createdAt * 1000;
    if (j.resultHash !== null && j.committedAt !== null) {
      const latencyMs = (j.committedAt - j.createdAt) * 1000;
      benchmarks.push(
        j.resultHash === BENCHMARK_OUTPUT_HASH
          ? { deviceId, sentAt, passed: true, latencyMs }
          : { deviceId, sentAt, passed: false, reason: "wrong-output", latencyMs },
      );
      continue;
    }
    const ended = j.status === "refunded" || j.status === "finalized";
    if (!ended && indexedTo <= j.deadline)
      throw new ComputeInputsNotReady(
        `benchmark job ${j.id} (device ${deviceId}) may still be committed until ${j.deadline}; the index is at ${indexedTo}`,
      );
    benchmarks.push({
      deviceId,
      sentAt,
      passed: false,
      reason: j.acceptedAt !== null ? "no-result" : "not-accepted",
    });
  }
  return { benchmarks };
}
