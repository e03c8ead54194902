/**
 * The storage oracle's round, run every `storage.intervalMs` by `serve` when `storage` is configured:
 * index StorageDeals, keep the seeds (when a sending account is configured), probe the day's ranges,
 * and (with the sending account) collect the peers' proposals (GET /v1/storage/suspensions) and send
 * suspension updates; without one this oracle only proposes, for its peers to collect.
 * Each step is idempotent; a failing step is logged and the next round tries again.
 */
import { collectFromPeers, RoundTimer } from "../util/rounds.js";
import type { IndexRun, StorageIndexer } from "./indexer.js";
import type { KeeperStep, SeedKeeper } from "./keeper.js";
import type { RetrievalProber } from "./probe.js";
import type { StoredRetrieval } from "./store.js";
import type { SuspensionKeeper, SuspensionProposal, SuspensionSubmit } from "./suspend.js";

export interface StorageRound {
  readonly indexed: IndexRun;
  readonly seeds: readonly KeeperStep[];
  readonly probes: readonly StoredRetrieval[];
  readonly suspensions: readonly SuspensionSubmit[];
}

/** A peer's proposals as its API serves them (decimal strings). */
export interface ProposalJson {
  readonly deviceId: string;
  readonly suspended: boolean;
  readonly nonce: string;
  readonly deadline: string;
  readonly oracleSetVersion: string;
  readonly score: number;
  readonly signer: string;
  readonly signature: string;
}

export function proposalToJson(p: SuspensionProposal): ProposalJson {
  return {
    deviceId: p.value.deviceId.toString(),
    suspended: p.value.suspended,
    nonce: p.value.nonce.toString(),
    deadline: p.value.deadline.toString(),
    oracleSetVersion: p.value.oracleSetVersion.toString(),
    score: p.score,
    signer: p.signer.toLowerCase(),
    signature: p.signature.toLowerCase(),
  };
}

export function proposalFromJson(j: ProposalJson): SuspensionProposal {
  return {
    value: {
      deviceId: BigInt(j.deviceId),
      suspended: j.suspended,
      nonce: BigInt(j.nonce),
      deadline: BigInt(j.deadline),
      oracleSetVersion: BigInt(j.oracleSetVersion),
    },
    score: j.score,
    signer: j.signer,
    signature: j.signature,
  };
}

/** The peers' proposals for `day` (a peer that fails or answers nonsense contributes none). */
export async function peerProposals(
  peers: readonly string[],
  day: bigint,
  timeoutMs = 10_000,
): Promise<SuspensionProposal[]> {
  // Parsed inside the collection: a peer whose answer does not parse contributes none.
  return collectFromPeers(
    peers,
    `/v1/storage/suspensions?day=${day}`,
    (body) => ((body as { proposals?: ProposalJson[] }).proposals ?? []).map(proposalFromJson),
    timeoutMs,
  );
}

export class StorageOracle {
  private readonly rounds = new RoundTimer(() => this.round());

  constructor(
    readonly indexer: StorageIndexer,
    readonly prober: RetrievalProber,
    readonly suspensions: SuspensionKeeper,
    readonly keeper: SeedKeeper | undefined,
    private readonly peers: readonly string[],
    /** Whether this oracle sends suspension updates (it has a sending account); else it only proposes. */
    private readonly sendsSuspensions: boolean,
  ) {}

  /** This oracle's proposals after the results of days up to `day` (what peers collect). */
  proposals(day: bigint): Promise<SuspensionProposal[]> {
    return this.suspensions.proposals(day);
  }

  async round(): Promise<StorageRound> {
    const indexed = await this.indexer.run();
    const seeds = this.keeper ? await this.keeper.tick() : [];
    const day = await this.prober.chainDay();
    const probes = await this.prober.tick(day);
    const suspensions = this.sendsSuspensions
      ? await this.suspensions.submit(day, await peerProposals(this.peers, day))
      : [];
    return { indexed, seeds, probes, suspensions };
  }

  /** Runs a round every `intervalMs` (never two at once); errors go to `onError`. */
  start(intervalMs: number, onRound: (r: StorageRound) => void, onError: (e: unknown) => void): void {
    this.rounds.start(intervalMs, onRound, onError);
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
