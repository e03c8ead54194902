/**
 * The root watcher (`hexmesh-oracle watch`): follows RootPosted on the distributor; for each root
 * still pending, audits it against every configured oracle's published result set of the
 * distributor's kind of work (its `subnetwork()`: coverage, storage or compute; audit.ts);
 * when something is wrong, writes the evidence to a file, logs it and runs the configured hook,
 * and, holding the guardian's key, vetoes the root while its challenge window is open.
 *
 * A root is suspect (and vetoed) when an oracle serves a result set for the epoch that is not what
 * was posted (or its inputs give another root): honest oracles compute byte-identical sets, so any
 * served disagreement is evidence. A root no oracle publishes a set for is unverified: reported,
 * and vetoed only when asked to (vetoUnverified: an oracle that has not closed the epoch yet also
 * serves nothing). An oracle withholding its set while another confirms the root is reported.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import type { JsonRpcProvider, Signer } from "ethers";

import { RewardsDistributor__factory, type RewardsDistributor } from "@hexmesh/contracts";
import type { EpochRoot, Hex } from "@hexmesh/protocol";

import { WORK_SUBNETWORK } from "../service/work.js";
import type { WorkKind } from "../store/types.js";
import { withRetry } from "../util/retry.js";
import { auditOracle, type ChainFacts, type Finding, type OracleReport } from "./audit.js";
import type { ReverifyOptions } from "./reverify.js";

export interface PostedRoot extends EpochRoot {
  readonly oracleSetVersion: bigint;
  /** Unix s: the end of the challenge window. */
  readonly readyAt: bigint;
  readonly block: number;
  readonly txHash: string;
}

export type RootOutcome =
  /** Every oracle's set confirms the root. */
  | "confirmed"
  /** Some oracle confirms it, some serve nothing (or the re-verification could not run): reported, not vetoed. */
  | "incomplete"
  /** No oracle serves a set for it (and nothing contradicts it): reported; vetoed with vetoUnverified. */
  | "unverified"
  /** An oracle's set (or the epoch's inputs) contradicts it. */
  | "suspect";

export type RootAction = "none" | "vetoed" | "veto_failed" | "window_closed" | "no_guardian";

/** The epoch recomputed from its inputs (--reverify). */
export interface Reverification {
  readonly inputsFrom: string;
  /** `contradicts` when the recomputed root or dataHash is not the posted one. */
  readonly verdict: "confirms" | "contradicts" | "missing";
  readonly root?: Hex;
  readonly dataHash?: Hex;
  readonly findings: readonly Finding[];
}

export interface RootCheck {
  readonly posted: PostedRoot;
  readonly oracles: readonly OracleReport[];
  readonly reverified?: Reverification;
  readonly outcome: RootOutcome;
  readonly action: RootAction;
  readonly vetoTx?: string;
  readonly vetoError?: string;
  /** Where the evidence was written (outcome other than confirmed). */
  readonly evidence?: string;
  readonly hookExitCode?: number;
}

export interface WatcherOptions {
  readonly provider: JsonRpcProvider;
  readonly distributor: string;
  /** Oracle API base URLs whose result sets are checked. */
  readonly oracles: readonly string[];
  /** First block to scan for RootPosted (the deployment's). */
  readonly fromBlock: number;
  /** The guardian's account: with it, a suspect root is vetoed inside its window. */
  readonly guardian?: Signer;
  /** A shell command run for every root that is not confirmed (HEXMESH_WATCH_* in its environment). */
  readonly hook?: string;
  /** Where evidence files go. */
  readonly evidenceDir: string;
  /** Also veto a root no oracle publishes a result set for. */
  readonly vetoUnverified?: boolean;
  /** Also recompute each pending epoch from its inputs (chain addresses, the oracle to pull from). */
  readonly reverify?: ReverifyOptions;
  /** Blocks per log query (providers cap the range). */
  readonly logRange?: number;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const json = (o: unknown) =>
  JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);

export class RootWatcher {
  private readonly distributor: RewardsDistributor;
  private next: number;
  private readonly seen = new Set<string>();
  private work: Promise<WorkKind> | undefined;

  constructor(private readonly o: WatcherOptions) {
    if (o.oracles.length === 0) throw new Error("watch needs at least one oracle URL to check roots against");
    this.distributor = RewardsDistributor__factory.connect(o.distributor, o.provider);
    this.next = o.fromBlock;
  }

  /** Scans new blocks for RootPosted and checks every root still pending. */
  async poll(): Promise<RootCheck[]> {
    const latest = await withRetry(() => this.o.provider.getBlockNumber());
    const posted: PostedRoot[] = [];
    const step = this.o.logRange ?? 5_000;
    for (let from = this.next; from <= latest; from += step) {
      const to = Math.min(latest, from + step - 1);
      const events = await withRetry(() =>
        this.distributor.queryFilter(this.distributor.filters.RootPosted(), from, to),
      );
      for (const e of events) {
        posted.push({
          epoch: e.args.epoch,
          root: e.args.root.toLowerCase() as Hex,
          totalCumulative: e.args.totalCumulative,
          dataHash: e.args.dataHash.toLowerCase() as Hex,
          oracleSetVersion: e.args.oracleSetVersion,
          readyAt: e.args.readyAt,
          block: e.blockNumber,
          txHash: e.transactionHash,
        });
      }
    }
    this.next = latest + 1;
    const checks: RootCheck[] = [];
    for (const p of posted) {
      const key = `${p.epoch}:${p.root}:${p.txHash}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const [epoch, root, , readyAt] = await withRetry(() => this.distributor.pendingRoot());
      if (readyAt === 0n || epoch !== p.epoch || root.toLowerCase() !== p.root) {
        this.o.log?.("root no longer pending: not checked", { epoch: String(p.epoch), root: p.root });
        continue;
      }
      checks.push(await this.check(p));
    }
    return checks;
  }

  private async facts(p: PostedRoot): Promise<ChainFacts> {
    const d = this.distributor;
    const [network, funding, live, funded] = await Promise.all([
      withRetry(() => this.o.provider.getNetwork()),
      withRetry(() => d.funding()),
      withRetry(() => d.liveRoot()),
      withRetry(() => d.queryFilter(d.filters.EpochFunded(), this.o.fromBlock, p.block)),
    ]);
    return {
      chainId: network.chainId,
      totalFunded: funding[0],
      fundedThrough: funded.filter((e) => e.args.epoch <= p.epoch).reduce((s, e) => s + e.args.amount, 0n),
      ...(BigInt(live[1]) !== 0n
        ? { live: { epoch: live[0], root: live[1].toLowerCase() as Hex, totalCumulative: live[2] } }
        : {}),
    };
  }

  /**
   * The distributor's kind of work, by its subnetwork id (read once). Re-verification recomputes an
   * epoch from reports: a watcher asked for it on a storage or compute distributor is refused.
   */
  kind(): Promise<WorkKind> {
    this.work ??= (async () => {
      const id = (await withRetry(() => this.distributor.subnetwork())).toLowerCase();
      const kind = (Object.keys(WORK_SUBNETWORK) as WorkKind[]).find((k) => WORK_SUBNETWORK[k] === id);
      if (kind === undefined)
        throw new Error(
          `distributor ${this.o.distributor} serves subnetwork ${id}, not coverage's, storage's or compute's`,
        );
      if (kind !== "coverage" && this.o.reverify !== undefined)
        throw new Error(
          `--reverify recomputes coverage epochs from their reports; distributor ${this.o.distributor} is ${kind}'s (its roots are checked against the oracles' result sets)`,
        );
      return kind;
    })();
    return this.work;
  }

  /** Audits one posted root against every oracle, then acts on the outcome. */
  async check(p: PostedRoot): Promise<RootCheck> {
    const work = await this.kind();
    const facts = await this.facts(p);
    const oracles = await Promise.all(this.o.oracles.map((url) => auditOracle(url, p, facts, 60_000, work)));
    const reverified =
      this.o.reverify === undefined ? undefined : await this.reverify(this.o.reverify, p, facts);
    const contradicted =
      reverified?.verdict === "contradicts" || oracles.some((r) => r.verdict === "contradicts");
    const confirmedBySome =
      reverified?.verdict === "confirms" || oracles.some((r) => r.verdict === "confirms");
    const outcome: RootOutcome = contradicted
      ? "suspect"
      : !confirmedBySome
        ? "unverified"
        : oracles.every((r) => r.verdict === "confirms") && (reverified?.verdict ?? "confirms") === "confirms"
          ? "confirmed"
          : "incomplete";
    const all = reverified === undefined ? oracles : [...oracles, { ...reverified, oracle: "reverify" }];
    const fields = { epoch: String(p.epoch), root: p.root, outcome };
    if (outcome === "confirmed") {
      this.o.log?.("root confirmed by every oracle's result set", {
        ...fields,
        ...(reverified !== undefined ? { reverified: reverified.verdict } : {}),
      });
      return {
        posted: p,
        oracles,
        ...(reverified !== undefined ? { reverified } : {}),
        outcome,
        action: "none",
      };
    }
    let action: RootAction = "none";
    let vetoTx: string | undefined;
    let vetoError: string | undefined;
    if (outcome === "suspect" || (outcome === "unverified" && this.o.vetoUnverified === true)) {
      if (this.o.guardian === undefined) action = "no_guardian";
      else {
        const now = BigInt((await withRetry(() => this.o.provider.getBlock("latest")))!.timestamp);
        if (now >= p.readyAt) action = "window_closed";
        else {
          try {
            const tx = await this.distributor.connect(this.o.guardian).veto(p.epoch);
            const receipt = await tx.wait();
            if (receipt === null || receipt.status !== 1) throw new Error(`veto ${tx.hash} failed`);
            action = "vetoed";
            vetoTx = tx.hash;
          } catch (e) {
            action = "veto_failed";
            vetoError = e instanceof Error ? e.message : String(e);
          }
        }
      }
    }
    mkdirSync(this.o.evidenceDir, { recursive: true });
    const evidence = path.join(this.o.evidenceDir, `epoch-${p.epoch}-${p.root}.json`);
    const check: RootCheck = {
      posted: p,
      oracles,
      ...(reverified !== undefined ? { reverified } : {}),
      outcome,
      action,
      ...(vetoTx !== undefined ? { vetoTx } : {}),
      ...(vetoError !== undefined ? { vetoError } : {}),
      evidence,
    };
    writeFileSync(evidence, json(check));
    this.o.log?.(outcome === "suspect" ? "SUSPECT ROOT" : "root not confirmed by every oracle", {
      ...fields,
      action,
      vetoTx,
      vetoError,
      evidence,
      findings: all.flatMap((r) => r.findings.slice(0, 5).map((f) => `${r.oracle}: ${f.code}: ${f.message}`)),
    });
    if (this.o.hook === undefined) return check;
    const hookExitCode = await this.runHook(check, evidence);
    return { ...check, hookExitCode };
  }

  private async reverify(o: ReverifyOptions, p: PostedRoot, facts: ChainFacts): Promise<Reverification> {
    const { reverifyEpoch } = await import("./reverify.js");
    try {
      const r = await reverifyEpoch(o, p.epoch, facts.live);
      const findings: Finding[] = [];
      if (r.root !== p.root)
        findings.push({
          code: "reverify_mismatch",
          message: `the inputs give root ${r.root}, the posted root is ${p.root}`,
        });
      if (r.dataHash !== p.dataHash)
        findings.push({
          code: "reverify_mismatch",
          message: `the inputs give dataHash ${r.dataHash}, the posted dataHash is ${p.dataHash}`,
        });
      return {
        inputsFrom: o.inputsFrom,
        verdict: findings.length === 0 ? "confirms" : "contradicts",
        root: r.root,
        dataHash: r.dataHash,
        findings,
      };
    } catch (e) {
      return {
        inputsFrom: o.inputsFrom,
        verdict: "missing",
        findings: [{ code: "reverify_failed", message: e instanceof Error ? e.message : String(e) }],
      };
    }
  }

  private runHook(c: RootCheck, evidence: string): Promise<number> {
    return new Promise((resolve) => {
      execFile(
        "/bin/sh",
        ["-c", this.o.hook!],
        {
          env: {
            ...process.env,
            HEXMESH_WATCH_EVIDENCE: evidence,
            HEXMESH_WATCH_EPOCH: String(c.posted.epoch),
            HEXMESH_WATCH_ROOT: c.posted.root,
            HEXMESH_WATCH_OUTCOME: c.outcome,
            HEXMESH_WATCH_ACTION: c.action,
          },
          timeout: 60_000,
        },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
          this.o.log?.("hook ran", {
            exitCode: code,
            stdout: stdout.slice(0, 500),
            stderr: stderr.slice(0, 500),
          });
          resolve(code);
        },
      );
    });
  }
}
