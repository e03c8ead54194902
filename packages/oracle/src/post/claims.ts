/**
 * Serving claims: each owner's lifetime cumulative amount and its Merkle proof from the committed
 * epoch (what the oracle's HTTP API returns), and a helper that submits the claim.
 */
import type { RewardsDistributor } from "@hexmesh/contracts";
import type { EpochCommit, Hex } from "@hexmesh/protocol";

export interface ClaimProof {
  readonly epoch: bigint;
  readonly owner: Hex;
  readonly cumulative: bigint;
  readonly proof: readonly Hex[];
}

export class ClaimServer {
  private readonly cumulative = new Map<Hex, bigint>();

  constructor(private readonly commit: EpochCommit) {
    for (const leaf of commit.tree?.values ?? []) this.cumulative.set(leaf.owner, leaf.amount);
  }

  get epoch(): bigint {
    return this.commit.epochRoot.epoch;
  }

  /** The owner's leaf and proof, or null if it has never earned anything. */
  proof(owner: string): ClaimProof | null {
    const key = owner.toLowerCase() as Hex;
    const cumulative = this.cumulative.get(key);
    if (cumulative === undefined || this.commit.tree === null) return null;
    return { epoch: this.epoch, owner: key, cumulative, proof: this.commit.tree.proof(key) };
  }

  owners(): Hex[] {
    return [...this.cumulative.keys()];
  }
}

/**
 * Claims for `owner` what the live root owes beyond what it already claimed. Returns the amount
 * paid (0 and no transaction when nothing is due).
 */
export async function claimFor(distributor: RewardsDistributor, p: ClaimProof): Promise<bigint> {
  const already = await distributor.claimed(p.owner);
  if (already >= p.cumulative) return 0n;
  const tx = await distributor.claim(p.owner, p.cumulative, [...p.proof]);
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`claim for ${p.owner} failed`);
  return p.cumulative - already;
}
