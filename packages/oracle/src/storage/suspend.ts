/**
 * Suspensions: the retrieval score made to bite on chain. Each oracle proposes, for every scored
 * device whose state should change (score below 0.6 and not suspended, or back at 0.6 or above and
 * suspended), the StorageSuspension update {deviceId, suspended, nonce, deadline, oracleSetVersion}
 * and signs it. Every field is derived from shared state, so the quorum signs identical values:
 * the nonce and oracle set version are read from chain, the deadline is the end of the day after the
 * scores' day ((day + 2) × 86,400). The submitter collects its peers' signatures of the same values
 * (GET /v1/storage/suspensions on each peer), keeps the oracle set's members, sorts them by address and
 * sends `StorageSuspensions.update` once it has the threshold; anyone may send, and an update already
 * applied (the nonce moved on) is simply no longer proposed.
 */
import { concat, getBytes, verifyTypedData, type Wallet } from "ethers";

import { decodeContractError, type RewardsDistributor, type StorageSuspensions } from "@hexmesh/contracts";
import {
  RETRIEVAL_DAY_SECONDS,
  STORAGE_SUSPENSION_TYPES,
  type ContractDomain,
  type StorageSuspension,
} from "@hexmesh/protocol";

import { retrievalScores } from "./score.js";
import type { StorageStore } from "./store.js";

export interface SuspensionProposal {
  readonly value: StorageSuspension;
  /** Score that led to it (ppm). */
  readonly score: number;
  readonly signer: string;
  readonly signature: string;
}

export interface SuspensionSubmit {
  readonly deviceId: bigint;
  readonly suspended: boolean;
  readonly outcome: "sent" | "short" | "failed";
  /** Signatures collected (sent/short) or the error (failed). */
  readonly detail: string;
}

export function suspensionDeadline(day: bigint): bigint {
  return (day + 2n) * BigInt(RETRIEVAL_DAY_SECONDS);
}

export class SuspensionKeeper {
  constructor(
    private readonly suspensions: StorageSuspensions,
    private readonly distributor: RewardsDistributor,
    private readonly store: StorageStore,
    private readonly signer: Wallet,
    private readonly domain: ContractDomain,
  ) {}

  /** This oracle's signed proposals after the results of days up to `day`. */
  async proposals(day: bigint): Promise<SuspensionProposal[]> {
    const scores = await retrievalScores(this.store, day);
    const oracleSetVersion = await this.distributor.oracleSetVersion();
    const out: SuspensionProposal[] = [];
    for (const s of scores) {
      const current = await this.suspensions.isSuspended(s.deviceId);
      if (current === s.suspend) continue;
      const value: StorageSuspension = {
        deviceId: s.deviceId,
        suspended: s.suspend,
        nonce: await this.suspensions.nonceOf(s.deviceId),
        deadline: suspensionDeadline(day),
        oracleSetVersion,
      };
      const signature = await this.signer.signTypedData({ ...this.domain }, STORAGE_SUSPENSION_TYPES, {
        ...value,
      });
      out.push({ value, score: s.score, signer: this.signer.address, signature });
    }
    return out;
  }

  /**
   * Sends every proposal that gathers the threshold: this oracle's signature plus `peers`' signatures
   * of identical values (each checked by recovery and membership; others are ignored).
   */
  async submit(day: bigint, peers: readonly SuspensionProposal[]): Promise<SuspensionSubmit[]> {
    const threshold = Number(await this.distributor.threshold());
    const results: SuspensionSubmit[] = [];
    for (const own of await this.proposals(day)) {
      const bySigner = new Map<string, string>([[own.signer.toLowerCase(), own.signature]]);
      for (const p of peers) {
        if (!sameValue(p.value, own.value)) continue;
        const signer = recoverSigner(this.domain, p);
        if (signer === null || signer !== p.signer.toLowerCase()) continue;
        if (!(await this.distributor.isOracle(signer))) continue;
        bySigner.set(signer, p.signature);
      }
      const { deviceId, suspended } = own.value;
      if (!(await this.distributor.isOracle(own.signer))) bySigner.delete(own.signer.toLowerCase());
      const signers = [...bySigner.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      if (signers.length < threshold) {
        results.push({
          deviceId,
          suspended,
          outcome: "short",
          detail: `${signers.length} of ${threshold} signatures`,
        });
        continue;
      }
      const packed = concat(signers.slice(0, Math.max(threshold, 1)).map((s) => getBytes(bySigner.get(s)!)));
      const v = own.value;
      try {
        const tx = await this.suspensions.update(
          v.deviceId,
          v.suspended,
          v.nonce,
          v.deadline,
          v.oracleSetVersion,
          packed,
        );
        await tx.wait();
        results.push({ deviceId, suspended, outcome: "sent", detail: `${signers.length} signatures` });
      } catch (err) {
        results.push({
          deviceId,
          suspended,
          outcome: "failed",
          detail: decodeContractError(err)?.text ?? String(err),
        });
      }
    }
    return results;
  }
}

function sameValue(a: StorageSuspension, b: StorageSuspension): boolean {
  return (
    a.deviceId === b.deviceId &&
    a.suspended === b.suspended &&
    a.nonce === b.nonce &&
    a.deadline === b.deadline &&
    a.oracleSetVersion === b.oracleSetVersion
  );
}

function recoverSigner(domain: ContractDomain, p: SuspensionProposal): string | null {
  try {
    return verifyTypedData(
      { ...domain },
      STORAGE_SUSPENSION_TYPES,
      { ...p.value },
      p.signature,
    ).toLowerCase();
  } catch {
    return null;
  }
}
