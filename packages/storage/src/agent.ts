/**
 * The provider agent's chain loop. Every `pollMs` it reads the chain's clock (the latest block's
 * timestamp, never the wall clock) and, for each data set proposed to its device:
 *
 * - accepts it (`acceptDataSet`) when `autoAccept`;
 * - deposits the collateral it requires (`depositCollateral`, MESH approved first) when `autoCollateral`;
 * - inside the period's proof window: arms the challenge (`recordSeed`) if nobody has, waits one block
 *   for the challenge block's hash, derives the K challenges (@hexmesh/protocol periodChallenges, as
 *   the contract does), builds each proof from disk, checks it against the piece's root on chain and
 *   submits `provePossession`.
 *
 * Whether a period is proven is read from the contract, not remembered: after a restart the agent
 * proves any window still open. Its state file keeps only the scan position, the pieces of each data
 * set and the last period it proved.
 */
import path from "node:path";

import type { ContractTransactionResponse, Wallet } from "ethers";

import {
  explainContractError,
  MeshToken__factory,
  StorageDeals__factory,
  type StorageDeals,
} from "@hexmesh/contracts";
import { periodChallenges, pieceLeafCount, verifyPieceProof } from "@hexmesh/protocol";

import type { ProviderConfig } from "./config.js";
import { loadState, saveState, type AgentState } from "./state.js";
import type { PieceStore } from "./store.js";

const STATUS = { None: 0n, Proposed: 1n, Active: 2n, Terminated: 3n } as const;
/** blockhash reaches back this many blocks. */
const BLOCKHASH_REACH = 256;

export type AgentEvent = Record<string, unknown> & { event: string };

export interface AgentStatus {
  lastTick?: { block: number; timestamp: number };
  lastError?: string;
}

export class ProviderAgent {
  readonly deals: StorageDeals;
  private state: AgentState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private period = 0n;
  private window = 0n;
  readonly status: AgentStatus = {};
  private readonly stateFile: string;
  private savedState: string | undefined;

  constructor(
    readonly config: ProviderConfig,
    readonly signer: Wallet,
    readonly store: PieceStore,
    private readonly log: (e: AgentEvent) => void = (e) => console.log(JSON.stringify(e)),
  ) {
    this.deals = StorageDeals__factory.connect(config.deals, signer);
    this.stateFile = path.join(config.dataDir, "agent-state.json");
  }

  private get deviceId(): bigint {
    return BigInt(this.config.deviceId);
  }

  /** Loads the state and starts polling. */
  async start(): Promise<void> {
    this.state = await loadState(this.stateFile, this.config.fromBlock);
    [this.period, this.window] = await Promise.all([this.deals.PERIOD(), this.deals.WINDOW()]);
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((e: unknown) => {
        this.status.lastError = String((explainContractError(e) as Error).message ?? e);
        this.log({ event: "tick_failed", error: this.status.lastError });
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.config.pollMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async send(what: string, id: bigint | undefined, tx: Promise<ContractTransactionResponse>) {
    try {
      const receipt = await (await tx).wait();
      this.log({ event: what, ...(id !== undefined ? { dataSet: id.toString() } : {}), tx: receipt?.hash });
    } catch (e) {
      throw explainContractError(e);
    }
  }

  /** One pass over the chain: endpoint, new data sets, then each open data set. */
  async tick(): Promise<void> {
    const state = this.state!;
    const provider = this.signer.provider!;
    const block = (await provider.getBlock("latest"))!;
    this.status.lastTick = { block: block.number, timestamp: block.timestamp };
    await this.ensureEndpoint();
    await this.discover(block.number);
    for (const id of Object.keys(state.dataSets)) {
      if (state.dataSets[id]!.terminated) continue;
      try {
        await this.serve(BigInt(id), BigInt(block.timestamp), block.number);
      } catch (e) {
        this.log({ event: "data_set_failed", dataSet: id, error: String((e as Error).message ?? e) });
      }
    }
    // Written only when something changed: an idle agent does not fsync every poll.
    const text = JSON.stringify(state);
    if (text !== this.savedState) {
      await saveState(this.stateFile, state);
      this.savedState = text;
    }
  }

  private async ensureEndpoint(): Promise<void> {
    if ((await this.deals.endpointOf(this.deviceId)) === this.config.publicUrl) return;
    await this.send("endpoint_set", undefined, this.deals.setEndpoint(this.deviceId, this.config.publicUrl));
  }

  /** Scans DataSetCreated events naming this provider, for this device. */
  private async discover(latest: number): Promise<void> {
    const state = this.state!;
    const me = await this.signer.getAddress();
    for (let from = state.scannedBlock + 1; from <= latest; from += this.config.logBlockRange) {
      const to = Math.min(latest, from + this.config.logBlockRange - 1);
      const events = await this.deals.queryFilter(
        this.deals.filters.DataSetCreated(undefined, undefined, me),
        from,
        to,
      );
      for (const e of events) {
        if (e.args.deviceId !== this.deviceId) continue;
        const id = e.args.id.toString();
        if (!state.dataSets[id]) {
          state.dataSets[id] = { pieces: [] };
          this.log({ event: "data_set_found", dataSet: id, client: e.args.client });
        }
      }
      state.scannedBlock = to;
    }
  }

  private async serve(id: bigint, now: bigint, blockNumber: number): Promise<void> {
    const entry = this.state!.dataSets[id.toString()]!;
    const ds = await this.deals.dataSet(id);
    if (ds.status === STATUS.Terminated) {
      entry.terminated = true;
      this.log({ event: "data_set_ended", dataSet: id.toString() });
      return;
    }
    if (ds.status === STATUS.Proposed) {
      if (this.config.autoAccept) await this.send("data_set_accepted", id, this.deals.acceptDataSet(id));
      return;
    }
    // Pieces never change once added: fetch only the new ones.
    for (let i = entry.pieces.length; i < Number(ds.pieceCount); i++) {
      const p = await this.deals.piece(id, i);
      entry.pieces.push({ root: p.root, size: Number(p.size) });
    }
    if (this.config.autoCollateral && ds.collateralPerPeriod > 0n) {
      const required = await this.deals.requiredCollateral(id);
      if (ds.collateral < required) {
        const need = required - ds.collateral;
        const mesh = MeshToken__factory.connect(this.config.mesh, this.signer);
        const allowance = await mesh.allowance(await this.signer.getAddress(), this.config.deals);
        if (allowance < need)
          await this.send("collateral_approved", id, mesh.approve(this.config.deals, need));
        await this.send("collateral_deposited", id, this.deals.depositCollateral(id, need));
      }
    }
    if (ds.periodEnd === 0n) return; // no pieces yet: the clock has not started
    // The period the chain's clock is in (the stored one may have ended unsettled).
    let periodEnd = ds.periodEnd;
    let period = ds.period;
    const stale = now >= periodEnd;
    if (stale) {
      const skipped = (now - periodEnd) / this.period + 1n;
      periodEnd += skipped * this.period;
      period += skipped;
    }
    if (now < periodEnd - this.window) return; // the window is not open
    if (!stale && (ds.proven || ds.faultDeclared)) return;
    if (stale || ds.challengeBlock === 0n) {
      // Arms this period's challenge (settling the last one first); the hash comes a block later.
      await this.send("challenge_armed", id, this.deals.recordSeed(id));
      return;
    }
    if (BigInt(blockNumber) <= ds.challengeBlock) return; // the challenge block is not mined yet
    let seed = ds.seed;
    if (BigInt(seed) === 0n) {
      if (blockNumber - Number(ds.challengeBlock) > BLOCKHASH_REACH) return; // out of reach: rescheduled
      seed = (await this.signer.provider!.getBlock(Number(ds.challengeBlock)))!.hash!;
    }
    // Only the pieces the challenge was armed over (a prefix, in order).
    const sizes: number[] = [];
    let leaves = 0n;
    for (const p of entry.pieces) {
      if (leaves >= ds.challengedLeaves) break;
      sizes.push(p.size);
      leaves += BigInt(pieceLeafCount(p.size));
    }
    const challenges = periodChallenges(seed, id, period, Number(ds.challengeCount), sizes);
    const proofs = [];
    for (const c of challenges) {
      const piece = entry.pieces[c.pieceIndex]!;
      const [proof] = await this.store.proofs(piece.root, [c.leafIndex]);
      // A damaged or lost piece cannot be proven: say so and spend no gas on a proof that fails.
      if (!verifyPieceProof(piece.root, piece.size, proof!)) {
        this.log({
          event: "proof_unavailable",
          dataSet: id.toString(),
          period: period.toString(),
          piece: piece.root,
        });
        return;
      }
      proofs.push({ pieceIndex: c.pieceIndex, leaf: proof!.leaf, path: proof!.path });
    }
    await this.send("possession_proven", id, this.deals.provePossession(id, proofs));
    this.log({ event: "period_proven", dataSet: id.toString(), period: period.toString() });
    entry.lastProvenPeriod = period.toString();
  }
}
