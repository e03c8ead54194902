/**
 * Verify an epoch in the browser: the epoch's canonical encoding, as an oracle publishes it
 * (GET /v1/epochs/:e/encoding?work=, of the distributor's kind of work), audited against the EpochRoot the chain's RootPosted event
 * committed to, with @hexmesh/protocol's auditEpochEncoding (the watcher's check: keccak256 of the
 * bytes against dataHash, the owners' leaves rebuilt into the root, totals, pool split, device and
 * owner amounts). When the rebuilt root differs, the first published leaf the on-chain root does
 * not hold is found: a leaf is in the committed tree exactly when a proof of it verifies against
 * the on-chain root (the proofs come from the oracle, but a proof cannot lie).
 */
import { auditEpochEncoding, verifyOwnerProof, type Hex } from "@hexmesh/protocol";

export interface VerifyRequest {
  readonly bytes: Uint8Array;
  readonly posted: {
    readonly epoch: string;
    readonly root: Hex;
    readonly totalCumulative: string;
    readonly dataHash: Hex;
  };
  readonly chainId: string;
  readonly registry: Hex;
  /** Proofs against the posted root for the encoding's owners, where the oracle serves them. */
  readonly proofs?: Readonly<Record<string, readonly Hex[] | null>>;
  /**
   * Storage: each provider's retrieval score (ppm) its usage value was scaled by, from the results
   * document (the encoding holds none); absent: usage is checked unscaled.
   */
  readonly usageScores?: ReadonlyMap<Hex, number>;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly findings: readonly { readonly code: string; readonly message: string }[];
  readonly encodingBytes: number;
  readonly dataHash: Hex;
  readonly leafCount: number;
  readonly rebuiltRoot: Hex | null;
  /** Index (in the encoding's order) and value of the first leaf the posted root does not hold. */
  readonly firstMismatch: { readonly index: number; readonly owner: Hex; readonly cumulative: string } | null;
  /** The owners, for locating a mismatch (asked only when the root differs). */
  readonly owners: readonly Hex[];
}

export function verifyEpoch(req: VerifyRequest): VerifyResult {
  const posted = {
    epoch: BigInt(req.posted.epoch),
    root: req.posted.root.toLowerCase() as Hex,
    totalCumulative: BigInt(req.posted.totalCumulative),
    dataHash: req.posted.dataHash.toLowerCase() as Hex,
  };
  const audit = auditEpochEncoding(req.bytes, {
    posted,
    chainId: BigInt(req.chainId),
    registry: req.registry.toLowerCase() as Hex,
    ...(req.usageScores !== undefined ? { usageScores: req.usageScores } : {}),
  });
  const owners = audit.decoded?.owners ?? [];
  let firstMismatch: VerifyResult["firstMismatch"] = null;
  if (audit.rebuiltRoot !== null && audit.rebuiltRoot !== posted.root && req.proofs !== undefined)
    for (const [index, o] of owners.entries()) {
      const proof = req.proofs[o.owner];
      if (
        proof === undefined ||
        proof === null ||
        !verifyOwnerProof(posted.root, { owner: o.owner, amount: o.cumulative }, proof)
      ) {
        firstMismatch = { index, owner: o.owner, cumulative: o.cumulative.toString() };
        break;
      }
    }
  return {
    ok: audit.ok,
    findings: audit.findings.map((f) => ({ code: f.code, message: f.message })),
    encodingBytes: req.bytes.length,
    dataHash: audit.dataHash,
    leafCount: owners.length,
    rebuiltRoot: audit.rebuiltRoot,
    firstMismatch,
    owners: owners.map((o) => o.owner),
  };
}
