/**
 * One oracle operator's node: indexes the chain for an epoch, runs the coverage pipeline on the
 * reports it received, keeps its own committed results (the next epoch's previous cumulative
 * amounts and pool baseline come from them, never from another party), and signs the EpochRoot.
 */
import type { TypedDataDomain } from "ethers";

import { indexEpoch, type ChainContracts, type PreviousResult } from "../chain/indexer.js";
import type { ChainIndex } from "@hexmesh/protocol";
import type { EpochResult } from "@hexmesh/protocol";
import { runCoverageEpoch } from "../verify/coverage.js";
import type { CoverageInputs, CoverageOptions, CoverageWork } from "../verify/coverage.js";
import { ClaimServer } from "./claims.js";
import type { OracleKey, OracleSignature, SignedEpochRoot } from "./sign.js";

export interface NodeOptions {
  /** First block to replay registry events from (the deployment block). */
  readonly fromBlock?: number;
  readonly coverage?: CoverageOptions;
}

export interface ComputedEpoch {
  readonly index: ChainIndex & { readonly snapshotBlock: number; readonly funded: bigint };
  readonly result: EpochResult<CoverageWork>;
}

export class OracleNode {
  private last: PreviousResult | undefined;
  private claims: ClaimServer | undefined;

  constructor(
    readonly key: OracleKey,
    private readonly contracts: ChainContracts,
    private readonly options: NodeOptions = {},
  ) {}

  /** Indexes `epoch` at its snapshot block and runs the pipeline; commits nothing yet. */
  async compute(epoch: bigint, inputs: CoverageInputs): Promise<ComputedEpoch> {
    const index = await indexEpoch(this.contracts, epoch, {
      ...(this.last !== undefined ? { previous: this.last } : {}),
      ...(this.options.fromBlock !== undefined ? { fromBlock: this.options.fromBlock } : {}),
    });
    const result = await runCoverageEpoch(index, inputs, this.options.coverage ?? { preparer: "inline" });
    return { index, result };
  }

  /** Signs a root only if it is the one this node computed itself. */
  sign(domain: TypedDataDomain, value: SignedEpochRoot, own: ComputedEpoch): OracleSignature {
    const mine = own.result.commit.epochRoot;
    if (
      mine.epoch !== value.epoch ||
      mine.root !== value.root ||
      mine.totalCumulative !== value.totalCumulative ||
      mine.dataHash !== value.dataHash
    ) {
      throw new Error(`epoch ${value.epoch}: asked to sign a root this node did not compute`);
    }
    return this.key.sign(domain, value);
  }

  /** Records `own` as committed (posted): its totals are the next epoch's baseline, its tree is served. */
  accept(own: ComputedEpoch): void {
    const payout = own.result.payout;
    this.last = {
      epoch: own.index.epoch,
      totalCumulative: payout.totalCumulative,
      owners: payout.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })),
    };
    this.claims = new ClaimServer(own.result.commit);
  }

  /** Claims of the last accepted epoch. */
  get claimServer(): ClaimServer | undefined {
    return this.claims;
  }
}
