/**
 * The operator's epoch steps over the store and the chain, each idempotent and resumable:
 *
 *   close   index the chain at the epoch's snapshot, verify the stored reports, store the result
 *   sign    reconcile the stored usage rewards with the chain's UsageRecorded logs (reconcile.ts),
 *           then sign this oracle's own stored root under the distributor's current oracle set
 *   collect fetch peers' signatures of the same root over HTTP (GET /v1/epochs/:e/signature)
 *   post    post with k verified signatures, once (EpochRootAggregator), record the outcome
 *   pull    copy an epoch's inputs (reports with receive times, entropy) from an ingest peer
 *
 * Every step takes the kind of work (coverage, storage, compute; default coverage): each kind has its
 * distributor, subnetwork, device classes, verifier and inputs (work.ts); results, chain index
 * snapshots, signatures and posts are stored per (kind, epoch).
 */
import type { Wallet } from "ethers";

import { describeContractError } from "@hexmesh/contracts";
import { ChainView, DEFAULT_USAGE_PARAMS, type Hex } from "@hexmesh/protocol";

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
import type {
  OracleStore,
  StoredChainIndex,
  StoredEpochResult,
  StoredSignature,
  VerdictRow,
  WorkKind,
} from "../store/types.js";
import type { RetryOptions } from "../util/retry.js";
import type { CoverageOptions, Verdict } from "../verify/coverage.js";
import { DEFAULT_COVERAGE_PARAMS } from "../verify/params.js";
import { closeStoredEpoch } from "./close-stored.js";
import { beginEpochClose, closeCutoff, EpochNotOverError, type EpochTimes } from "./close.js";
import { pullInputs, type InputRange, type Progress } from "./inputs.js";
import { closePartitionedEpoch, partitionsOf, type PartitionedCloseOptions } from "./partitions.js";
import { reconcileStoredUsage, UsageReconciliationError, usageSummaryOf } from "./reconcile.js";
import { inputRangeOf } from "./results.js";
import {
  storedResultOf,
  WORK_SUBNETWORK,
  WorkDistributorError,
  WorkNotServedError,
  type WorkSource,
} from "./work.js";

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
  /** The kinds of work besides coverage this oracle serves (config `works`); absent: coverage only. */
  readonly works?: readonly WorkSource[];
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

  private readonly derived = new Map<WorkKind, Promise<FirstEpochChoice>>();

  /** The kinds this oracle serves: coverage and those configured. */
  get kinds(): WorkKind[] {
    return ["coverage", ...(this.options.works ?? []).map((w) => w.kind)];
  }

  /** The configured source of `work` (undefined for coverage); refuses a kind this oracle does not serve. */
  private source(work: WorkKind): WorkSource | undefined {
    if (work === "coverage") return undefined;
    const source = this.options.works?.find((w) => w.kind === work);
    if (source === undefined)
      throw new WorkNotServedError(
        `this oracle does not serve ${work} epochs: add works.${work} (its distributor and inputs) to its config (docs/oracle-service.md); it serves ${this.kinds.join(", ")}`,
      );
    return source;
  }

  /** The contracts of `work`'s epochs: its distributor and usage logs, the shared registry, vault and clock. */
  private contractsOf(work: WorkKind): ChainContracts {
    const source = this.source(work);
    if (source === undefined) return this.contracts;
    const { usage: _coverageUsage, ...shared } = this.contracts;
    return {
      ...shared,
      distributor: source.distributor,
      ...(source.usage !== undefined ? { usage: source.usage } : {}),
    };
  }

  /** Refuses a distributor of another subnetwork than `work`'s (a storage root never goes to coverage's). */
  private async checkDistributor(work: WorkKind, distributor: ChainContracts["distributor"]): Promise<void> {
    if (work === "coverage") return;
    const [subnetwork, address] = await Promise.all([distributor.subnetwork(), distributor.getAddress()]);
    if (subnetwork.toLowerCase() !== WORK_SUBNETWORK[work])
      throw new WorkDistributorError(
        `the distributor at ${address} pays subnetwork ${subnetwork}, not the ${work} subnetwork ` +
          `${WORK_SUBNETWORK[work]}: check works.${work}.distributor in the config`,
      );
  }

  /** The configured first epoch, or the one derived from the chain (once per kind, and told). */
  async firstEpoch(work: WorkKind = "coverage"): Promise<{ epoch: bigint; setting: string }> {
    if (this.options.firstEpoch !== undefined)
      return { epoch: this.options.firstEpoch, setting: `chain.firstEpoch (${this.options.firstEpoch})` };
    let derived = this.derived.get(work);
    if (derived === undefined) {
      derived = deriveFirstEpoch(
        this.contractsOf(work),
        this.options.fromBlock,
        async (e) => (await this.store.getEpochResult(e, work)) !== null,
        this.options.retry,
      ).then(
        (choice) => {
          (this.options.notice ?? this.options.log)?.(
            work === "coverage" ? choice.reason : `${work}: ${choice.reason}`,
          );
          return choice;
        },
        (e: unknown) => {
          this.derived.delete(work); // a failed read is not remembered
          throw e;
        },
      );
      this.derived.set(work, derived);
    }
    const choice = await derived;
    return {
      epoch: choice.epoch,
      setting: `${choice.epoch}, derived from the chain (chain.firstEpoch not set)`,
    };
  }

  private async previous(epoch: bigint, work: WorkKind): Promise<PreviousResult | undefined> {
    if (this.options.firstEpoch !== undefined && epoch <= this.options.firstEpoch) return undefined;
    const prev = epoch === 0n ? null : await this.store.getEpochResult(epoch - 1n, work);
    if (prev === null) {
      const first = await this.firstEpoch(work);
      if (epoch <= first.epoch) return undefined;
      throw new Error(
        `${work === "coverage" ? "" : `${work} `}epoch ${epoch - 1n} has no stored result: close it first (results build on the previous one). ` +
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
   * Computes and stores the epoch's result of `work` (returns the stored one if it was computed
   * before). Coverage refuses (EpochNotOverError) before the epoch's end + 2 witness windows + the
   * grace on this oracle's clock and records the close first, so that ingest refuses reports the close
   * would miss; storage and compute refuse before the epoch's end + the grace (their inputs are on chain).
   */
  async close(
    epoch: bigint,
    progress: Progress = () => {},
    work: WorkKind = "coverage",
    partitioned?: PartitionedCloseOptions,
  ): Promise<StoredEpochResult> {
    const source = this.source(work);
    const stored = await this.store.getEpochResult(epoch, work);
    if (stored !== null) return stored;
    // A partitioned close on a store without partitions (SQLite) is refused before the chain is read.
    if (partitioned !== undefined) {
      if (source !== undefined)
        throw new Error(`a partitioned close verifies coverage reports: ${work} epochs close in one process`);
      partitionsOf(this.store);
    }
    const times = await this.times(epoch);
    const graceMs = this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    const now = await (this.options.now ?? (() => this.clockNow()))();
    if (source !== undefined) {
      if (now < times.end + graceMs)
        throw new EpochNotOverError(
          `${work} epoch ${epoch} cannot be closed before ${new Date(times.end + graceMs).toISOString()} (its end ${new Date(times.end).toISOString()} + ${graceMs} ms of grace); the oracle's clock reads ${new Date(now).toISOString()}`,
        );
      await this.checkDistributor(work, source.distributor);
    } else if (now < closeCutoff(times, SLACK_MS) + graceMs) {
      // Before the chain is read: the same refusal beginEpochClose gives, without the RPC round trips.
      await beginEpochClose(this.store, times, { now, graceMs, witnessWindowMs: SLACK_MS });
    }
    progress("index", 0, 1);
    if (source !== undefined) {
      const index = await this.indexAndStore(epoch, work, source);
      progress("index", 1, 1);
      return this.closeWork(source, index, progress);
    }
    const chain = await this.indexAndStoreView(epoch);
    progress("index", 1, 1);
    await beginEpochClose(this.store, times, { now, graceMs, witnessWindowMs: SLACK_MS });
    if (partitioned !== undefined)
      return closePartitionedEpoch(this.store, chain, {
        ...partitioned,
        progress,
        ...(this.options.coverage !== undefined ? { coverage: this.options.coverage } : {}),
      });
    return closeStoredEpoch(this.store, chain, this.options.coverage, progress);
  }

  /**
   * The same for coverage, giving the index's view only: a close of a large fleet must not hold the
   * plain index beside it (this frame, which had it, has ended when the close runs).
   */
  private async indexAndStoreView(epoch: bigint): Promise<ChainView<StoredChainIndex>> {
    return new ChainView(await this.indexAndStore(epoch, "coverage", undefined));
  }

  /** Indexes the chain for the epoch's close of `work` at its snapshot and stores the index. */
  private async indexAndStore(
    epoch: bigint,
    work: WorkKind,
    source: WorkSource | undefined,
  ): Promise<StoredChainIndex> {
    const previous = await this.previous(epoch, work);
    const index = await indexEpoch(this.contractsOf(work), epoch, {
      fromBlock: this.options.fromBlock,
      ...(previous !== undefined ? { previous } : {}),
      ...(this.options.retry !== undefined ? { retry: this.options.retry } : {}),
      ...(source !== undefined ? { classSubnetwork: source.classSubnetwork } : {}),
    });
    await this.store.putChainIndex(index, work);
    return index;
  }

  /** A storage or compute epoch from its stored chain index: the kind's verifier, then the shared stages. */
  private async closeWork(
    source: WorkSource,
    index: StoredChainIndex,
    progress: Progress,
  ): Promise<StoredEpochResult> {
    await source.prepare?.(index);
    const result = await source.run(index, this.options.coverage?.params?.usage ?? DEFAULT_USAGE_PARAMS);
    let records = 0;
    for (const _ of result.work.record) records++; // storage and compute: one chunk per record
    progress("verify", records, records);
    const out = storedResultOf(index, result, {
      reports: records,
      valid: records,
      beacons: 0,
      witnesses: 0,
      rejected: {},
    });
    await this.store.putEpochResult(out, [], source.kind);
    progress("store", records, records);
    return out;
  }

  private async request(
    epoch: bigint,
    work: WorkKind,
    distributor = this.contractsOf(work).distributor,
  ): Promise<PostRequest> {
    const r = await this.store.getEpochResult(epoch, work);
    if (r === null)
      throw new Error(
        `${work === "coverage" ? "" : `${work} `}epoch ${epoch} is not closed here: run close-epoch${work === "coverage" ? "" : ` --work ${work}`} first`,
      );
    await this.checkDistributor(work, distributor);
    return new EpochRootAggregator(distributor, this.options.retry).request({
      epoch,
      root: r.root,
      totalCumulative: r.totalCumulative,
      dataHash: r.dataHash,
    });
  }

  /**
   * Throws UsageReconciliationError when the stored result's usage rewards disagree with the
   * chain's UsageRecorded logs of `work`'s subnetwork for the epoch, recomputed from the raw logs
   * (reconcile.ts).
   */
  async reconcileUsage(epoch: bigint, work: WorkKind = "coverage"): Promise<void> {
    const source = this.contractsOf(work).usage;
    if (source === undefined) return;
    const kind = this.source(work);
    const [stored, index] = await Promise.all([
      this.store.getEpochResult(epoch, work),
      this.store.getChainIndex(epoch, work),
    ]);
    if (stored === null || index === null)
      throw new Error(`epoch ${epoch} is not closed here: run close-epoch first`);
    const scores = await kind?.usageScores?.(index);
    const findings = await reconcileStoredUsage(source, stored, index, {
      fromBlock: this.options.fromBlock,
      params: this.options.coverage?.params?.usage ?? DEFAULT_USAGE_PARAMS,
      ...(scores !== undefined ? { scores } : {}),
      ...(this.options.retry !== undefined ? { retry: this.options.retry } : {}),
    });
    if (findings.length > 0) throw new UsageReconciliationError(epoch, findings);
  }

  /** Reconciles usage (reconcileUsage), signs this oracle's own result of `epoch`, stores the signature. */
  async sign(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredSignature> {
    const req = await this.request(epoch, work);
    await this.reconcileUsage(epoch, work);
    if (!req.oracles.includes(this.key.address)) {
      throw new Error(
        `this oracle key ${this.key.address} is not in the ${work === "coverage" ? "" : `${work} `}distributor's oracle set`,
      );
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
    await this.store.putSignature(stored, work);
    return stored;
  }

  /** This oracle's own stored signature of `epoch` (what GET /v1/epochs/:e/signature serves). */
  async ownSignature(epoch: bigint, work: WorkKind = "coverage"): Promise<StoredSignature | null> {
    const all = await this.store.signatures(epoch, work);
    const mine = all.filter((s) => s.signer === this.key.address);
    return mine.at(-1) ?? null;
  }

  /**
   * Fetches peers' signatures of `epoch` and `work` and keeps those that recover to a current oracle
   * of the kind's distributor for exactly this oracle's root. Returns how many verified signatures are
   * stored in all. A signature of another kind's root (or under another distributor) is refused.
   */
  async collect(
    epoch: bigint,
    peers: readonly string[],
    progress: Progress = () => {},
    work: WorkKind = "coverage",
  ): Promise<number> {
    const req = await this.request(epoch, work);
    const distributor = this.contractsOf(work).distributor;
    let done = 0;
    for (const peer of peers) {
      try {
        const body = await new OracleClient(peer, { timeoutMs: 10_000 }).epochSignature(epoch, work);
        const good = new EpochRootAggregator(distributor).verified(req, [
          { signer: body.signer.toLowerCase() as Hex, signature: body.signature as Hex },
        ]);
        for (const s of good) {
          await this.store.putSignature(
            {
              epoch,
              oracleSetVersion: req.value.oracleSetVersion,
              signer: s.signer,
              signature: s.signature,
              root: req.value.root,
              receivedAt: Date.now(),
            },
            work,
          );
        }
        if (good.length === 0)
          this.options.log?.("peer signature refused", { peer, epoch: String(epoch), work });
      } catch (e) {
        if (e instanceof OracleApiError && !e.unreachable)
          this.options.log?.("peer has no signature", { peer, status: e.status, error: e.apiMessage });
        else this.options.log?.("peer unreachable", { peer, error: String(e) });
      }
      progress("collect", ++done, peers.length);
    }
    return (await this.usable(epoch, req, work)).length;
  }

  private async usable(epoch: bigint, req: PostRequest, work: WorkKind): Promise<OracleSignature[]> {
    const sigs = (await this.store.signatures(epoch, work)).filter(
      (s) => s.oracleSetVersion === req.value.oracleSetVersion && s.root === req.value.root,
    );
    return new EpochRootAggregator(this.contractsOf(work).distributor).verified(
      req,
      sigs.map((s) => ({ signer: s.signer, signature: s.signature })),
    );
  }

  /**
   * Posts `epoch` of `work` with the stored signatures through `poster`'s account (its distributor
   * binding's runner sends; for storage and compute the kind's distributor is connected to it); at
   * most once on chain. Every attempt is recorded (transaction, block, gas, outcome); the post status
   * keeps the post that landed, whatever later attempts find.
   */
  async post(epoch: bigint, poster: ChainContracts, work: WorkKind = "coverage"): Promise<PostOutcome> {
    const source = this.source(work);
    const distributor =
      source === undefined ? poster.distributor : source.distributor.connect(poster.distributor.runner);
    const req = await this.request(epoch, work, distributor);
    const sigs = await this.usable(epoch, req, work);
    await this.store.setPostStatus(
      { epoch, status: "pending", txHash: null, detail: null, updatedAt: Date.now() },
      work,
    );
    let outcome: PostOutcome;
    try {
      outcome = await new EpochRootAggregator(distributor, this.options.retry).post(req, sigs);
    } catch (e) {
      // Our contracts' reverts by name, with what to do next.
      const detail = describeContractError(e);
      const at = Date.now();
      await this.store.recordPostAttempt(
        { epoch, outcome: "failed", txHash: null, block: null, gasUsed: null, detail, attemptedAt: at },
        work,
      );
      await this.store.setPostStatus({ epoch, status: "failed", txHash: null, detail, updatedAt: at }, work);
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
    await this.store.recordPostAttempt(
      {
        epoch,
        outcome: outcome.status,
        txHash: posted?.txHash ?? null,
        block: posted?.block ?? null,
        gasUsed: posted?.gasUsed ?? null,
        detail,
        attemptedAt: at,
      },
      work,
    );
    await this.store.setPostStatus(
      { epoch, status: outcome.status, txHash: posted?.txHash ?? null, detail, updatedAt: at },
      work,
    );
    return outcome;
  }

  /** Copies an epoch's inputs from an ingest peer (GET /v1/inputs), keeping its receive times. */
  async pull(epoch: bigint, peer: string, progress: Progress = () => {}): Promise<number> {
    const range = await this.inputRange(epoch);
    return pullInputs(this.store, peer, range, progress);
  }
}
