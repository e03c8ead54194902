/**
 * The customer's side: submit a job (upload its blobs, create it on ComputeJobs, which locks its
 * credits), read a job's status, and fetch a job's output, checked against the committed result hash.
 */
import { writeFile } from "node:fs/promises";

import { describeContractError, type ComputeJobs } from "@hexmesh/contracts";
import { jobSpecOf, type Hex } from "@hexmesh/protocol";

import { fetchBlob, putBlob } from "./blobs/client.js";
import { JOB_STATUS, TIERS, type ComputeChain } from "./chain.js";

const ZERO_HASH = `0x${"0".repeat(64)}`;
/** ComputeJobs.ACCEPTANCE_WINDOW, seconds. */
const ACCEPTANCE_WINDOW = 24 * 3600;

export class ClientError extends Error {
  override readonly name = "ClientError";
}

/** `--deadline`: a duration from the chain's latest block ("90s", "30m", "2h", "3d") or an ISO 8601 time. */
export function parseDeadline(text: string, chainNow: number): number {
  const duration = /^([1-9][0-9]{0,6})([smhd])$/.exec(text);
  if (duration !== null) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[duration[2] as "s" | "m" | "h" | "d"];
    return chainNow + Number(duration[1]) * unit;
  }
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms))
    throw new ClientError(
      `--deadline must be a duration (90s, 30m, 2h, 3d) or an ISO 8601 time, not ${text}`,
    );
  return Math.floor(ms / 1000);
}

export interface SubmitRequest {
  readonly program: Uint8Array;
  readonly input: Uint8Array;
  readonly deviceClass: number;
  readonly maxUnits: number;
  /** Unix seconds. */
  readonly deadline: number;
  /** Blob servers the spec, program and input are uploaded to (every one of them). */
  readonly blobs: readonly string[];
  /** Verified: two providers run it and the results are compared on chain (twice the credits locked). */
  readonly tier?: "standard" | "verified";
  /**
   * A device to direct the job to (createDirectedJob: only that device may accept it; Standard tier;
   * its class is the device's, so `deviceClass` is ignored).
   */
  readonly device?: bigint;
}

export interface Submitted {
  readonly jobId: string;
  readonly specHash: Hex;
  readonly programHash: Hex;
  readonly inputHash: Hex;
  readonly deviceClass: number;
  /** The device the job is directed to (submitted with `device`). */
  readonly device?: string;
  readonly maxUnits: number;
  readonly tier: "standard" | "verified";
  readonly pricePerUnit: string;
  readonly lockedCredits: string;
  readonly deadline: number;
  readonly tx: string;
}

/** Uploads the job's blobs, then createJob: the customer's credits are locked. */
export async function submitJob(chain: ComputeChain, r: SubmitRequest): Promise<Submitted> {
  const { spec, specBytes, specHash } = jobSpecOf(r.program, r.input);
  const tier = r.tier ?? "standard";
  if (r.device !== undefined && tier === "verified")
    throw new ClientError("a job directed to one device is Standard tier: drop --tier verified or --device");
  // Blobs first: a provider that sees the job must find its content.
  for (const base of r.blobs) for (const bytes of [r.program, r.input, specBytes]) await putBlob(base, bytes);
  let receipt;
  try {
    const tx =
      r.device !== undefined
        ? await chain.jobs.createDirectedJob(specHash, r.device, r.maxUnits, r.deadline)
        : await chain.jobs.createJob(
            specHash,
            r.deviceClass,
            r.maxUnits,
            r.deadline,
            tier === "verified" ? 1 : 0,
          );
    receipt = await tx.wait();
  } catch (e) {
    throw new ClientError(
      `${r.device !== undefined ? "createDirectedJob" : "createJob"} failed: ${describeContractError(e)}`,
    );
  }
  const created = receipt!.logs
    .map((l) => {
      try {
        return chain.jobs.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .find((l) => l?.name === "JobCreated");
  if (!created) throw new ClientError(`transaction ${receipt!.hash} emitted no JobCreated`);
  const price = created.args.pricePerUnit as bigint;
  return {
    jobId: (created.args.jobId as bigint).toString(),
    specHash,
    ...spec,
    deviceClass: Number(created.args.deviceClass as bigint),
    ...(r.device !== undefined ? { device: r.device.toString() } : {}),
    maxUnits: r.maxUnits,
    tier,
    pricePerUnit: price.toString(),
    lockedCredits: (price * BigInt(r.maxUnits) * (tier === "verified" ? 2n : 1n)).toString(),
    deadline: r.deadline,
    tx: receipt!.hash,
  };
}

export interface JobView {
  readonly jobId: string;
  readonly status: string;
  readonly tier: string;
  readonly customer: string;
  readonly provider: string | null;
  readonly deviceId: string | null;
  readonly deviceClass: number;
  readonly specHash: string;
  readonly maxUnits: number;
  readonly usedUnits: number;
  readonly pricePerUnit: string;
  readonly deadline: number;
  readonly resultHash: string | null;
  readonly committedAt: number | null;
  /** End of the acceptance window (committed jobs), Unix s. */
  readonly windowEnd: number | null;
  readonly spotCheck: "not recorded" | "selected" | "not selected" | null;
}

export async function readJob(jobs: ComputeJobs, jobId: bigint): Promise<JobView> {
  const count = await jobs.jobCount();
  if (jobId < 1n || jobId > count) throw new ClientError(`no job ${jobId} (jobs are 1..${count})`);
  const j = await jobs.job(jobId);
  const committed = j.resultHash !== ZERO_HASH;
  return {
    jobId: jobId.toString(),
    status: JOB_STATUS[Number(j.status)] ?? String(j.status),
    tier: TIERS[Number(j.tier)] ?? String(j.tier),
    customer: j.customer,
    provider: j.provider === "0x0000000000000000000000000000000000000000" ? null : j.provider,
    deviceId: j.deviceId === 0n ? null : j.deviceId.toString(),
    deviceClass: Number(j.deviceClass),
    specHash: j.specHash,
    maxUnits: Number(j.maxUnits),
    usedUnits: Number(j.usedUnits),
    pricePerUnit: j.pricePerUnit.toString(),
    deadline: Number(j.deadline),
    resultHash: committed ? j.resultHash : null,
    committedAt: committed ? Number(j.committedAt) : null,
    windowEnd: committed ? Number(j.committedAt) + ACCEPTANCE_WINDOW : null,
    spotCheck: !committed
      ? null
      : !j.checkRecorded
        ? "not recorded"
        : j.checkSelected
          ? "selected"
          : "not selected",
  };
}

/** Downloads the job's output from `blobs` (first that has it), checked against its committed hash. */
export async function fetchOutput(
  jobs: ComputeJobs,
  jobId: bigint,
  blobs: readonly string[],
  out: string,
): Promise<{ jobId: string; status: string; resultHash: string; bytes: number; out: string }> {
  const view = await readJob(jobs, jobId);
  if (view.resultHash === null)
    throw new ClientError(`job ${jobId} has no committed result (status ${view.status})`);
  const bytes = await fetchBlob(blobs, view.resultHash as Hex);
  await writeFile(out, bytes);
  return { jobId: view.jobId, status: view.status, resultHash: view.resultHash, bytes: bytes.length, out };
}
