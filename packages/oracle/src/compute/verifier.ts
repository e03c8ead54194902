/**
 * ComputeVerifier: the compute subnetwork's kind of work behind the Verifier seam
 * (@hexmesh/protocol work.ts), so its epoch goes through the shared stages (`runEpoch`: payout with
 * the shared usage rule, commit, signing, posting).
 *
 * Usage is not the verifier's: the payout stage pays each provider the credits consumed on its jobs
 * (ComputeJobs' `UsageRecorded` logs of the epoch, in the ChainIndex) at the conservative price minus
 * the fee, from the usage share of the pool. The verifier weighs the rest, the availability pool:
 * one pool, "availability", in which a device's weight is the number of its daily benchmarks it
 * passed in the epoch. A benchmark counts once per device per UTC day (the oracle sends one a day),
 * only inside the epoch's window, only for a device of the index (the subnetwork's devices).
 *
 * The record (one chunk per benchmark, sorted by device then time) is what an auditor recomputes:
 * deviceId (32 bytes) ‖ sentAt (8, Unix ms) ‖ verdict (1) ‖ latencyMs (4, 0xffffffff: none).
 */
import {
  compareBigint,
  type ChainView,
  type DeviceWork,
  type Verifier,
  type WorkResult,
} from "@hexmesh/protocol";

/** Why a benchmark earned nothing (the verdict byte of the record is the index + 1; 0 = passed). */
export const BENCHMARK_REASONS = {
  "wrong-output": "the provider committed a result whose hash is not the pinned benchmark's output",
  "no-result": "the provider did not commit a result before the benchmark's deadline",
  "not-accepted": "the provider did not accept the benchmark job",
  "out-of-window": "sent outside the epoch's window",
  "unknown-device": "the device is not one of the subnetwork's devices at the epoch's snapshot",
  duplicate: "a second benchmark of the device on the same UTC day",
} as const;
export type BenchmarkReason = keyof typeof BENCHMARK_REASONS;
const REASON_CODES = Object.keys(BENCHMARK_REASONS) as BenchmarkReason[];

/** One availability benchmark as the oracle recorded it. */
export interface BenchmarkOutcome {
  readonly deviceId: bigint;
  /** When the benchmark job was created, Unix ms. */
  readonly sentAt: number;
  /** Passed: the provider committed the pinned output in time. Otherwise `reason` says why not. */
  readonly passed: boolean;
  readonly reason?: "wrong-output" | "no-result" | "not-accepted";
  /** From the job's creation to the commit, ms; absent without a commit. */
  readonly latencyMs?: number;
}

export interface ComputeEpochInputs {
  readonly benchmarks: readonly BenchmarkOutcome[];
}

export interface BenchmarkVerdict {
  readonly benchmark: BenchmarkOutcome;
  /** null: passed and counted. */
  readonly reason: BenchmarkReason | null;
}

export interface ComputeWork extends WorkResult {
  readonly verdicts: readonly BenchmarkVerdict[];
}

const DAY_MS = 86_400_000;
const NO_LATENCY = 0xffff_ffff;

function encodeVerdict(v: BenchmarkVerdict): Uint8Array {
  const out = new Uint8Array(45);
  const view = new DataView(out.buffer);
  let id = v.benchmark.deviceId;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(id & 0xffn);
    id >>= 8n;
  }
  view.setBigUint64(32, BigInt(v.benchmark.sentAt));
  out[40] = v.reason === null ? 0 : REASON_CODES.indexOf(v.reason) + 1;
  const latency = v.benchmark.latencyMs;
  view.setUint32(
    41,
    latency === undefined ? NO_LATENCY : Math.min(NO_LATENCY - 1, Math.max(0, Math.round(latency))),
  );
  return out;
}

export class ComputeVerifier implements Verifier<ComputeEpochInputs, ComputeWork> {
  readonly kind = "compute";

  async verify(chain: ChainView, inputs: ComputeEpochInputs): Promise<ComputeWork> {
    const { epochStart, epochEnd } = chain.index;
    const known = new Set(chain.devices.map((d) => d.record.id));
    // Canonical order, whatever order the benchmarks came in: by device, then time, then outcome.
    const sorted = [...inputs.benchmarks].sort(
      (a, b) =>
        compareBigint(a.deviceId, b.deviceId) || a.sentAt - b.sentAt || Number(b.passed) - Number(a.passed),
    );
    const seenDays = new Set<string>();
    const passed = new Map<bigint, bigint>();
    const failed = new Map<bigint, bigint>();
    const verdicts: BenchmarkVerdict[] = [];
    for (const b of sorted) {
      if (!Number.isSafeInteger(b.sentAt) || b.sentAt < 0) throw new RangeError(`bad sentAt ${b.sentAt}`);
      let reason: BenchmarkReason | null;
      const day = `${b.deviceId}:${Math.floor(b.sentAt / DAY_MS)}`;
      if (b.sentAt < epochStart || b.sentAt >= epochEnd) reason = "out-of-window";
      else if (!known.has(b.deviceId)) reason = "unknown-device";
      else if (seenDays.has(day)) reason = "duplicate";
      else {
        seenDays.add(day);
        if (b.passed) reason = null;
        else if (b.reason !== undefined && REASON_CODES.includes(b.reason)) reason = b.reason;
        else throw new RangeError(`benchmark of device ${b.deviceId} failed without a reason`);
      }
      verdicts.push({ benchmark: b, reason });
      if (reason === null) passed.set(b.deviceId, (passed.get(b.deviceId) ?? 0n) + 1n);
      else if (reason === "wrong-output" || reason === "no-result" || reason === "not-accepted")
        failed.set(b.deviceId, (failed.get(b.deviceId) ?? 0n) + 1n);
    }
    const devices: DeviceWork[] = [...new Set([...passed.keys(), ...failed.keys()])]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((deviceId) => ({
        deviceId,
        weights: [passed.get(deviceId) ?? 0n],
        metrics: [passed.get(deviceId) ?? 0n, failed.get(deviceId) ?? 0n],
      }));
    return {
      kind: this.kind,
      pools: [{ name: "availability", bps: 10_000 }],
      metricNames: ["benchmarksPassed", "benchmarksFailed"],
      devices,
      record: verdicts.map(encodeVerdict),
      verdicts,
    };
  }
}
