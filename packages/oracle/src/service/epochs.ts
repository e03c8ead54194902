/**
 * The operator's epoch steps over the store and the chain, each idempotent and resumable:
 *
 *   close   index the chain at the epoch's snapshot, verify the stored reports, store the result
 *   sign    reconcile the stored usage rewards with the chain's UsageRecorded logs (reconcile.ts),
 *           then sign this oracle's own stored root under the distributor's current oracle set
 *   collect fetch peers' signatures of the same root over HTTP (GET /v1/epochs/:e/signature)
 *   post    post with k verified signatures, once (EpochRootAggregator), record the outcome
 *   pull    copy an epoch's inputs (reports with receive times, entropy) from an ingest peer
 */
import type { Wallet } from "ethers";

import { describeContractError } from "@hexmesh/contracts";
import { DEFAULT_USAGE_PARAMS, type Hex } from "@hexmesh/protocol";

import { OracleApiError, OracleClient } from "../api/client.js";
import { deriveFirstEpoch, type FirstEpochChoice } from "../chain/first-epoch.js";
import {
  epochWindow,
  indexEpoch,
  latestBlockTimeMs,
  type ChainContracts,
  type PreviousResult,
} from "../chain/indexer.js";
import { EpochRootAggregator, type PostOutcome, type PostRequest } from "../post/aggregator.js";
import { OracleKey, type OracleSignature } from "../post/sign.js";
import type { OracleStore, StoredEpochResult, StoredSignature, VerdictRow } from "../store/types.js";
import type { RetryOptions } from "../util/retry.js";
import type { CoverageOptions, Verdict } from "../verify/coverage.js";
import { DEFAULT_COVERAGE_PARAMS } from "../verify/params.js";
import { closeStoredEpoch } from "./close-stored.js";
import { beginEpochClose, closeCutoff, type EpochTimes } from "./close.js";
import { pullInputs, type InputRange, type Progress } from "./inputs.js";
import { closePartitionedEpoch, partitionsOf, type PartitionedCloseOptions } from "./partitions.js";
import { reconcileStoredUsage, UsageReconciliationError, usageSummaryOf } from "./reconcile.js";
import { inputRangeOf, runStoredEpoch } from "./results.js";

export interface EpochServiceOptions {
  readonly fromBlock: number;
  /**
   * The first epoch this oracle computes (no previous result needed for it); undefined: derived from
   * the chain on first need (chain/first-epoch.ts) and told through `notice`.
   */
  readonly firstEpoch?: bigint;
  readonly coverage?: CoverageOptions;
  readonly retry?: RetryOptions;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Where the derived first epoch and its reason are told (default: `log`). */
  readonly notice?: (msg: string) => void;
  /**
   * The clock (Unix ms) that decides whether an epoch may be closed. Default: the later of the host
   * clock and the chain's latest block time.
   */
  readonly now?: () => number | Promise<number>;
  /** How long after an epoch's cutoff (end + 2 witness windows) close refuses to run. Default 60,000 ms. */
  readonly closeGraceMs?: number;
}

/** Default wait past an epoch's cutoff before it may be closed: in-flight requests, skew between ingest clocks. */
export const DEFAULT_CLOSE_GRACE_MS = 60_000;

/** Witnesses may arrive this long after the epoch's end (the verifier's outside_epoch slack). */
const SLACK_MS = DEFAULT_COVERAGE_PARAMS.witnessWindowMs;

export class EpochService {
  readonly key: OracleKey;

  constructor(
    private readonly store: OracleStore,
    private readonly contracts: ChainContracts,
    oracleWallet: Wallet,
    private readonly options: EpochServiceOptions,
  ) {
    this.key = new OracleKey(oracleWallet);
  }

  private derived: Promise<FirstEpochChoice> | undefined;

  /** The configured first epoch, or the one derived from the chain (once, and told). */
  async firstEpoch(): Promise<{ epoch: bigint; setting: string }> {
    if (this.options.firstEpoch !== undefined)
      return { epoch: this.options.firstEpoch, setting: `chain.firstEpoch (${this.options.firstEpoch})` };
    this.derived ??= deriveFirstEpoch(
      this.contracts,
      this.options.fromBlock,
      async (e) => (await this.store.getEpochResult(e)) !== null,
      this.options.retry,
    ).then(
      (choice) => {
        (this.options.notice ?? this.options.log)?.(choice.reason);
        return choice;
      },
      (e: unknown) => {
        this.derived = undefined; // a failed read is not remembered
        throw e;
      },
    );
    const choice = await this.derived;
    return {
      epoch: choice.epoch,
      setting: `${choice.epoch}, derived from the chain (chain.firstEpoch not set)`,
    };
  }

  private async previous(epoch: bigint): Promise<PreviousResult | undefined> {
    if (this.options.firstEpoch !== undefined && epoch <= this.options.firstEpoch) return undefined;
    const prev = epoch === 0n ? null : await this.store.getEpochResult(epoch - 1n);
    if (prev === null) {
      const first = await this.firstEpoch();
      if (epoch <= first.epoch) return undefined;
      throw new Error(
        `epoch ${epoch - 1n} has no stored result: close it first (results build on the previous one). ` +
          `This oracle's first epoch is ${first.setting}; an oracle joining a chain on which nothing was ` +
          `posted yet may set chain.firstEpoch to the first epoch it closes (docs/operate.md)`,
      );
    }
    return {
      epoch: prev.epoch,
      totalCumulative: prev.totalCumulative,
      owners: prev.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })),
    };
  }

  /** The default clock: the later of the host clock and the chain's latest block time. */
  private async clockNow(): Promise<number> {
    return Math.max(Date.now(), await latestBlockTimeMs(this.contracts.controller.runner?.provider));
  }

  private async times(epoch: bigint): Promise<EpochTimes> {
    const w = await epochWindow(this.contracts.controller, epoch, this.options.retry);
    return { epoch, start: Number(w.start) * 1000, end: Number(w.end) * 1000 };
  }

  /** The time range of reports and entropy an epoch reads. */
  async inputRange(epoch: bigint): Promise<InputRange> {
    const times = await this.times(epoch);
    return inputRangeOf(times.start, times.end);
  }

  /**
   * Computes and stores the epoch's result (returns the stored one if it was computed before).
   * Refuses (EpochNotOverError) before the epoch's end + 2 witness windows + the grace on this
   * oracle's clock; records the close first, so that ingest refuses reports the close would miss.
   */
  async close(
    epoch: bigint,
    progress: Progress = () => {},
    partitioned?: PartitionedCloseOptions,
  ): Promise<StoredEpochResult> {
    const stored = await this.store.getEpochResult(epoch);
    if (stored !== null) return stored;
    // A partitioned close on a store without partitions (SQLite) is refused before the chain is read.
    if (partitioned !== undefined) partitionsOf(this.store);
    const times = await this.times(epoch);
    const graceMs = this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    const now = await (this.options.now ?? (() => this.clockNow()))();
    if (now < closeCutoff(times, SLACK_MS) + graceMs) {
      // Before the chain is read: the same refusal beginEpochClose gives, without the RPC round trips.
      await beginEpochClose(this.store, times, { now, graceMs, witnessWindowMs: SLACK_MS });
    }
    const previous = await this.previous(epoch);
    progress("index", 0, 1);
    const index = await indexEpoch(this.contracts, epoch, {
      fromBlock: this.options.fromBlock,
      ...(previous !== undefined ? { previous } : {}),
      ...(this.options.retry !== undefined ? { retry: this.options.retry } : {}),
    });
    await this.store.putChainIndex(index);
    progress("index", 1, 1);
    await beginEpochClose(this.store, times, { now, graceMs, witnessWindowMs: SLACK_MS });
    if (partitioned !== undefined)
      return closePartitionedEpoch(this.store, index, {
        ...partitioned,
        progress,
        ...(this.options.coverage !== undefined ? { coverage: this.options.coverage } : {}),
      });
    return closeStoredEpoch(this.store, index, this.options.coverage, progress);
  }

  private async request(epoch: bigint, distributor = this.contracts.distributor): Promise<PostRequest> {
    const r = await this.store.getEpochResult(epoch);
    if (r === null) throw new Error(`epoch ${epoch} is not closed here: run close-epoch first`);
    return new EpochRootAggregator(distributor, this.options.retry).request({
      epoch,
      root: r.root,
      totalCumulative: r.totalCumulative,
      dataHash: r.dataHash,
    });
  }

  /**
   * Throws UsageReconciliationError when the stored result's usage rewards disagree with the
   * chain's UsageRecorded logs for the epoch, recomputed from the raw logs (reconcile.ts).
   */
  async reconcileUsage(epoch: bigint): Promise<void> {
    const source = this.contracts.usage;
    if (source === undefined) return;
    const [stored, index] = await Promise.all([
      this.store.getEpochResult(epoch),
      this.store.getChainIndex(epoch),
    ]);
    if (stored === null || index === null)
      throw new Error(`epoch ${epoch} is not closed here: run close-epoch first`);
    const findings = await reconcileStoredUsage(source, stored, index, {
      fromBlock: this.options.fromBlock,
      params: this.options.coverage?.params?.usage ?? DEFAULT_USAGE_PARAMS,
      ...(this.options.retry !== undefined ? { retry: this.options.retry } : {}),
    });
    if (findings.length > 0) throw new UsageReconciliationError(epoch, findings);
  }

  /** Reconciles usage (reconcileUsage), signs this oracle's own result of `epoch`, stores the signature. */
  async sign(epoch: bigint): Promise<StoredSignature> {
    const req = await this.request(epoch);
    await this.reconcileUsage(epoch);
    if (!req.oracles.includes(this.key.address)) {
      throw new Error(`this oracle key ${this.key.address} is not in the distributor's oracle set`);
    }
    const sig = this.key.sign(req.domain, req.value);
    const stored: StoredSignature = {
      epoch,
      oracleSetVersion: req.value.oracleSetVersion,
      signer: sig.signer,
      signature: sig.signature,
      root: req.value.root,
      receivedAt: Date.now(),
    };
    await this.store.putSignature(stored);
    return stored;
  }

  /** This oracle's own stored signature of `epoch` (what GET /v1/epochs/:e/signature serves). */
  async ownSignature(epoch: bigint): Promise<StoredSignature | null> {
    const all = await this.store.signatures(epoch);
    const mine = all.filter((s) => s.signer === this.key.address);
    return mine.at(-1) ?? null;
  }

  /**
   * Fetches peers' signatures of `epoch` and keeps those that recover to a current oracle for
   * exactly this oracle's root. Returns how many verified signatures are stored in all.
   */
  async collect(epoch: bigint, peers: readonly string[], progress: Progress = () => {}): Promise<number> {
    const req = await this.request(epoch);
    let done = 0;
    for (const peer of peers) {
      try {
        const body = await new OracleClient(peer, { timeoutMs: 10_000 }).epochSignature(epoch);
        const good = new EpochRootAggregator(this.contracts.distributor).verified(req, [
          { signer: body.signer.toLowerCase() as Hex, signature: body.signature as Hex },
        ]);
        for (const s of good) {
          await this.store.putSignature({
            epoch,
            oracleSetVersion: req.value.oracleSetVersion,
            signer: s.signer,
            signature: s.signature,
            root: req.value.root,
            receivedAt: Date.now(),
          });
        }
        if (good.length === 0) this.options.log?.("peer signature refused", { peer, epoch: String(epoch) });
      } catch (e) {
        if (e instanceof OracleApiError && !e.unreachable)
          this.options.log?.("peer has no signature", { peer, status: e.status, error: e.apiMessage });
        else this.options.log?.("peer unreachable", { peer, error: String(e) });
      }
      progress("collect", ++done, peers.length);
    }
    return (await this.usable(epoch, req)).length;
  }

  private async usable(epoch: bigint, req: PostRequest): Promise<OracleSignature[]> {
    const sigs = (await this.store.signatures(epoch)).filter(
      (s) => s.oracleSetVersion === req.value.oracleSetVersion && s.root === req.value.root,
    );
    return new EpochRootAggregator(this.contracts.distributor).verified(
      req,
      sigs.map((s) => ({ signer: s.signer, signature: s.signature })),
    );
  }

  /**
   * Posts `epoch` with the stored signatures through `poster`'s account; at most once on chain.
   * Every attempt is recorded (transaction, block, gas, outcome); the post status keeps the post
   * that landed, whatever later attempts find.
   */
  async post(epoch: bigint, poster: ChainContracts): Promise<PostOutcome> {
    const req = await this.request(epoch, poster.distributor);
    const sigs = await this.usable(epoch, req);
    await this.store.setPostStatus({
      epoch,
      status: "pending",
      txHash: null,
      detail: null,
      updatedAt: Date.now(),
    });
    let outcome: PostOutcome;
    try {
      outcome = await new EpochRootAggregator(poster.distributor, this.options.retry).post(req, sigs);
    } catch (e) {
      // Our contracts' reverts by name, with what to do next.
      const detail = describeContractError(e);
      const at = Date.now();
      await this.store.recordPostAttempt({
        epoch,
        outcome: "failed",
        txHash: null,
        block: null,
        gasUsed: null,
        detail,
        attemptedAt: at,
      });
      await this.store.setPostStatus({ epoch, status: "failed", txHash: null, detail, updatedAt: at });
      throw e;
    }
    const at = Date.now();
    const posted = outcome.status === "posted" ? outcome : null;
    const detail =
      outcome.status === "posted"
        ? `gas ${outcome.gasUsed}`
        : outcome.state === "empty"
          ? "empty epoch: zero root (no owner has earned yet), nothing to post"
          : `already ${outcome.state}`;
    await this.store.recordPostAttempt({
      epoch,
      outcome: outcome.status,
      txHash: posted?.txHash ?? null,
      block: posted?.block ?? null,
      gasUsed: posted?.gasUsed ?? null,
      detail,
      attemptedAt: at,
    });
    await this.store.setPostStatus({
      epoch,
      status: outcome.status,
      txHash: posted?.txHash ?? null,
      detail,
      updatedAt: at,
    });
    return outcome;
  }

  /** Copies an epoch's inputs from an ingest peer (GET /v1/inputs), keeping its receive times. */
  async pull(epoch: bigint, peer: string, progress: Progress = () => {}): Promise<number> {
    const range = await this.inputRange(epoch);
    return pullInputs(this.store, peer, range, progress);
  }
}
