/**
 * A k-of-n set of oracle services, run in this process against a chain on localhost, taking epochs
 * through the same steps an operator runs with `hexmesh-oracle` (close-epoch, sign, post), over the
 * same HTTP API: oracle 0 ingests, the others pull its inputs, every oracle closes the epoch on its
 * own, all sign, oracle 0 collects the others' signatures and posts once; owners claim with the
 * proofs the API serves. Shared by the demo and the end-to-end test. No top-level side effects.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  importInputs,
  startService,
  validateConfig,
  type CoverageInputs,
  type PostOutcome,
  type RunningService,
  type StoredEpochResult,
  type StoredSettlement,
  type SuiteAddresses,
} from "@hexmesh/oracle";
import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import type { OwnerResponse, SubmitReceiptsResponse } from "@hexmesh/oracle/api/routes";

import type { RewardsDistributor } from "../../typechain-types/index.js";
import { freePort } from "./rpc.js";

export interface OracleSetOptions {
  readonly rpcUrl: string;
  readonly addresses: SuiteAddresses;
  /** Block the suite was deployed at (registry events are replayed from it). */
  readonly fromBlock: number;
  /** Each operator's EpochRoot key (0x private keys); oracle 0 ingests and posts. */
  readonly oracleKeys: readonly string[];
  /** The account oracle 0 posts from (holds gas money). */
  readonly posterKey: string;
  /** Where the stores live (default: a fresh temporary folder, removed on stop). */
  readonly dir?: string;
  /** The first epoch the oracles compute (default 0): it needs no previous result. */
  readonly firstEpoch?: number;
  /** Added to the host clock for receive times and entropy (a chain whose time runs ahead). */
  readonly clockOffsetMs?: number;
  /** A folder oracle 0 serves at `/` (the built web app with its hexmesh.json). */
  readonly staticDir?: string;
  /**
   * Storage and compute epochs (config `works`, and `storage`: the StorageDeals index the storage
   * epochs pay from), the same for every oracle; absent: coverage only.
   */
  readonly works?: {
    readonly storage?: { readonly distributor: string; readonly classSubnetwork: number };
    readonly compute?: { readonly distributor: string; readonly classSubnetwork: number };
  };
  readonly storage?: {
    readonly deals: string;
    readonly suspensions: string;
    readonly distributor: string;
    readonly fromBlock: number;
  };
  /** The compute oracle's config (`compute`), the same for every oracle (each its own cache folder). */
  readonly compute?: {
    readonly jobs: string;
    readonly distributor: string;
    readonly fromBlock: number;
    readonly prover: string;
    readonly sources: readonly string[];
    readonly benchmark: { readonly sender: string };
  };
}

export interface PostedEpoch {
  /** Each oracle's own result, in oracle order: the same root and dataHash. */
  readonly results: readonly StoredEpochResult[];
  readonly outcome: PostOutcome;
}

export class OracleSet {
  private constructor(
    readonly services: readonly RunningService[],
    private readonly dir: string,
    private readonly ownDir: boolean,
  ) {}

  static async start(o: OracleSetOptions): Promise<OracleSet> {
    const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), "hexmesh-oracles-"));
    const ports = await Promise.all(o.oracleKeys.map(() => freePort()));
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const services: RunningService[] = [];
    for (const [i, key] of o.oracleKeys.entries()) {
      const config = validateConfig(
        {
          listen: { host: "127.0.0.1", port: ports[i] },
          store: { backend: "sqlite", path: path.join(dir, `oracle-${i}.sqlite`) },
          chain: {
            rpcUrl: o.rpcUrl,
            addresses: {
              registry: o.addresses.registry,
              vault: o.addresses.vault,
              controller: o.addresses.controller,
              distributor: o.addresses.distributor,
              ...(o.addresses.dataTransfer !== undefined ? { dataTransfer: o.addresses.dataTransfer } : {}),
              ...(o.addresses.credits !== undefined ? { credits: o.addresses.credits } : {}),
            },
            fromBlock: o.fromBlock,
            firstEpoch: o.firstEpoch ?? 0,
          },
          oracleKey: key,
          ...(i === 0 ? { posterKey: o.posterKey } : { inputsFrom: urls[0] }),
          peers: urls.filter((_, j) => j !== i),
          ...(o.clockOffsetMs !== undefined ? { clock: { mode: "system", offsetMs: o.clockOffsetMs } } : {}),
          ...(i === 0 && o.staticDir !== undefined ? { staticDir: o.staticDir } : {}),
          ...(o.works !== undefined ? { works: o.works } : {}),
          // The storage round is driven by the caller (probes on demand), not by the timer.
          ...(o.storage !== undefined ? { storage: { ...o.storage, intervalMs: 3_600_000 } } : {}),
          ...(o.compute !== undefined
            ? {
                compute: {
                  ...o.compute,
                  intervalMs: 3_600_000,
                  cacheDir: path.join(dir, `oracle-${i}-compute-cache`),
                },
              }
            : {}),
          log: { level: "warn" },
        },
        `oracle ${i}`,
      );
      services.push(await startService(config));
    }
    return new OracleSet(services, dir, o.dir === undefined);
  }

  get urls(): string[] {
    return this.services.map((s) => s.url);
  }

  /**
   * Oracle 0 ingests a recorded (here: simulated) day of reports with their receive times and the
   * entropy it published; every other oracle copies the epoch's inputs from oracle 0's API.
   */
  async ingest(epoch: bigint, inputs: CoverageInputs): Promise<void> {
    await importInputs(this.services[0]!.store, inputs, "simulated day");
    await this.pull(epoch);
  }

  /** Every oracle but oracle 0 copies the epoch's inputs from oracle 0's API (GET /v1/inputs). */
  async pull(epoch: bigint): Promise<void> {
    const [ingest, ...others] = this.services;
    for (const s of others) await epochsOf(s).pull(epoch, ingest!.url);
  }

  /** Every oracle closes the epoch on its own; they must reach the same root and dataHash. */
  async close(epoch: bigint): Promise<StoredEpochResult[]> {
    const results: StoredEpochResult[] = [];
    for (const s of this.services) results.push(await epochsOf(s).close(epoch));
    const [first] = results;
    for (const [i, r] of results.entries()) {
      if (
        r.root !== first!.root ||
        r.dataHash !== first!.dataHash ||
        r.totalCumulative !== first!.totalCumulative
      )
        throw new Error(
          `epoch ${epoch}: oracle ${i} computed ${r.root}/${r.dataHash}, oracle 0 ${first!.root}/${first!.dataHash}`,
        );
    }
    return results;
  }

  /** Every oracle signs its root; oracle 0 collects the others' signatures over HTTP and posts once. */
  async post(epoch: bigint): Promise<PostOutcome> {
    for (const s of this.services) await epochsOf(s).sign(epoch);
    return this.services[0]!.post(epoch);
  }

  /** Storage or compute: every oracle closes the epoch of `work` on its own; they must reach the same root. */
  async closeWork(epoch: bigint, work: "storage" | "compute"): Promise<StoredEpochResult[]> {
    const results: StoredEpochResult[] = [];
    for (const s of this.services) results.push(await epochsOf(s).close(epoch, undefined, work));
    for (const [i, r] of results.entries())
      if (r.root !== results[0]!.root || r.dataHash !== results[0]!.dataHash)
        throw new Error(
          `${work} epoch ${epoch}: oracle ${i} computed ${r.root}/${r.dataHash}, oracle 0 ${results[0]!.root}/${results[0]!.dataHash}`,
        );
    return results;
  }

  /**
   * Storage or compute: every oracle closes the epochs `from`..`to` (inclusive) in order, the oracles
   * side by side (each its own sequence); they must reach the same roots. For catching a set up to an
   * epoch many epochs after its first.
   */
  async closeWorkRange(from: bigint, to: bigint, work: "storage" | "compute"): Promise<void> {
    const lasts = await Promise.all(
      this.services.map(async (s) => {
        let last: StoredEpochResult | undefined;
        for (let e = from; e <= to; e++) last = await epochsOf(s).close(e, undefined, work);
        return last;
      }),
    );
    for (const [i, r] of lasts.entries())
      if (r?.root !== lasts[0]?.root || r?.dataHash !== lasts[0]?.dataHash)
        throw new Error(`${work} epoch ${to}: oracle ${i} computed ${r?.root}, oracle 0 ${lasts[0]?.root}`);
  }

  /**
   * Storage or compute: every oracle closes the epoch (closeWork), all sign, oracle 0 collects the
   * others' signatures over HTTP (?work=) and posts to the kind's distributor.
   */
  async runWorkEpoch(epoch: bigint, work: "storage" | "compute"): Promise<PostedEpoch> {
    const results = await this.closeWork(epoch, work);
    for (const s of this.services) await epochsOf(s).sign(epoch, work);
    return { results, outcome: await this.services[0]!.post(epoch, undefined, work) };
  }

  /**
   * Packet receipts (wire forms) to every oracle's POST /v1/receipts, in the same order: each checks
   * them against the same chain state, so each stores the same set. Returns oracle 0's answers.
   */
  async submitReceipts(receipts: readonly unknown[]): Promise<SubmitReceiptsResponse> {
    const answers = [];
    for (const url of this.urls) answers.push(await new OracleClient(url).submitReceipts(receipts));
    return answers[0]!;
  }

  /**
   * The epoch's data-transfer settlement: every oracle builds it on its own (the same entries) and
   * signs it; oracle 0 collects the others' signatures over HTTP and settles on chain once.
   */
  async settle(
    epoch: bigint,
  ): Promise<{ settlement: StoredSettlement; outcome: Awaited<ReturnType<RunningService["settle"]>> }> {
    const built: StoredSettlement[] = [];
    for (const s of this.services) built.push(await dataTransferOf(s).build(epoch));
    for (const [i, b] of built.entries())
      if (b.entriesHash !== built[0]!.entriesHash)
        throw new Error(
          `epoch ${epoch}: oracle ${i} settles ${b.entriesHash}, oracle 0 ${built[0]!.entriesHash}`,
        );
    if (built[0]!.entries.length > 0) for (const s of this.services) await dataTransferOf(s).sign(epoch);
    return { settlement: built[0]!, outcome: await this.services[0]!.settle(epoch) };
  }

  /** ingest, close, post. */
  async runEpoch(epoch: bigint, inputs: CoverageInputs): Promise<PostedEpoch> {
    await this.ingest(epoch, inputs);
    const results = await this.close(epoch);
    return { results, outcome: await this.post(epoch) };
  }

  async stop(): Promise<void> {
    for (const s of this.services) await s.close();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function dataTransferOf(s: RunningService) {
  if (s.dataTransfer === undefined)
    throw new Error(`oracle at ${s.url} takes no receipts (no dataTransfer address)`);
  return s.dataTransfer;
}

function epochsOf(s: RunningService) {
  if (s.epochs === undefined) throw new Error(`oracle at ${s.url} has no epoch steps (no chain or key)`);
  return s.epochs;
}

/**
 * Claims what the live root owes `owner` beyond what it already claimed, with the proof the oracle
 * at `url` serves (GET /v1/owners/:address); anyone may send it, the owner is paid. Returns the
 * amount paid (0 and no transaction when nothing is due or the owner has no leaf).
 */
export async function claimWithOracleProof(
  url: string,
  distributor: RewardsDistributor,
  owner: string,
): Promise<bigint> {
  let leaf: OwnerResponse;
  try {
    leaf = await new OracleClient(url).owner(owner);
  } catch (e) {
    if (e instanceof OracleApiError && e.status === 404) return 0n;
    throw e;
  }
  if (BigInt(leaf.claimable) === 0n) return 0n;
  const receipt = await (await distributor.claim(owner, BigInt(leaf.cumulative), leaf.proof)).wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`claim for ${owner} failed`);
  return BigInt(leaf.claimable);
}
