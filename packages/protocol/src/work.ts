/**
 * The seam between the kind of work and everything after it.
 *
 * A Verifier turns an epoch's inputs (for coverage: signed reports and the entropy log) into
 * per-device weights in one or more reward pools, plus its own canonical record of what it
 * decided. Rewards (payout.ts), commit, signing and posting only see a WorkResult, so a compute
 * or storage verifier plugs into the same stages by implementing this interface.
 */
import type { ChainView } from "./chain/view.js";
import type { Chunks } from "./commit/encoding.js";
import { keccak256 } from "./crypto/keccak.js";
import { toHex, type Hex } from "./hex.js";

/** A subnetwork's id on chain (emissions pool, UsageCredits spenders): keccak256 of its name. */
export function subnetworkId(name: string): Hex {
  return toHex(keccak256(new TextEncoder().encode(name)));
}

/** The coverage subnetwork: keccak256("hexmesh.subnetwork.coverage"). */
export const SUBNETWORK_COVERAGE: Hex = subnetworkId("hexmesh.subnetwork.coverage");

/** The storage subnetwork: keccak256("hexmesh.subnetwork.storage"). */
export const SUBNETWORK_STORAGE: Hex = subnetworkId("hexmesh.subnetwork.storage");

/** The compute subnetwork: keccak256("hexmesh.subnetwork.compute"). */
export const SUBNETWORK_COMPUTE: Hex = subnetworkId("hexmesh.subnetwork.compute");

export interface PoolShare {
  /** Name in the canonical encoding ("beacon", "witness"). */
  readonly name: string;
  /** Share of the epoch pool in basis points; the shares of a WorkResult sum to 10,000. */
  readonly bps: number;
}

export interface DeviceWork {
  readonly deviceId: bigint;
  /**
   * Weight in each pool (same order as WorkResult.pools). Only ratios within a pool matter; the
   * coverage verifier uses units x scale with 36 decimals.
   */
  readonly weights: readonly bigint[];
  /** Verifier-defined figures published with the result (same order as WorkResult.metricNames). */
  readonly metrics: readonly bigint[];
}

export interface WorkResult {
  /** "coverage", later "compute", "storage". */
  readonly kind: string;
  readonly pools: readonly PoolShare[];
  readonly metricNames: readonly string[];
  /** Devices that did rewardable work, any order (the pipeline sorts by id). */
  readonly devices: readonly DeviceWork[];
  /**
   * The verifier's canonical record of its decisions (e.g. one verdict per report), as byte chunks:
   * held, or built again each time it is read (coverage: from the spilled per-report state).
   */
  readonly record: Chunks;
  /**
   * Per provider address (lowercase), a score in parts per million that scales its usage reward below
   * 0.9 (storage: the retrieval score; rewards/usage.ts). Absent: usage is not scaled.
   */
  readonly usageScores?: ReadonlyMap<Hex, number>;
}

export interface Verifier<Inputs, Work extends WorkResult = WorkResult> {
  readonly kind: string;
  verify(chain: ChainView, inputs: Inputs): Promise<Work>;
}
