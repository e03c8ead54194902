/**
 * One posted root against the result sets the oracles publish: for each oracle, fetch the epoch's
 * canonical encoding and its results document, audit the bytes against the posted root with
 * @hexmesh/protocol (dataHash, leaves, root, pool split, amounts, totals, funding, cumulative
 * amounts against the live root), and check that the document says what the bytes say.
 */
import {
  auditEpochEncoding,
  decodeEpochEncoding,
  OwnerMerkleTree,
  type AuditFinding,
  type EpochRoot,
  type Hex,
} from "@hexmesh/protocol";

import { OracleApiError, OracleClient, usageScoresOf } from "../api/client.js";
import type { ResultsResponse } from "../api/routes.js";
import type { WorkKind } from "../store/types.js";

/** What the chain says about the posted root, besides the root itself. */
export interface ChainFacts {
  readonly chainId: bigint;
  /** Funded for every epoch up to the posted one (Σ EpochFunded). */
  readonly fundedThrough: bigint;
  /** The distributor's total funded. */
  readonly totalFunded: bigint;
  /** The live root when the posted one is the next: its owners are the previous cumulative amounts. */
  readonly live?: { readonly epoch: bigint; readonly root: Hex; readonly totalCumulative: bigint };
}

export type OracleVerdict =
  /** The oracle's result set is exactly what the posted root and dataHash commit to. */
  | "confirms"
  /** It serves a result set for the epoch that is not what was posted (or is inconsistent). */
  | "contradicts"
  /** It serves no result set for the epoch (withheld, not computed, unreachable). */
  | "missing";

export interface OracleReport {
  readonly oracle: string;
  readonly verdict: OracleVerdict;
  readonly findings: readonly (AuditFinding | { readonly code: string; readonly message: string })[];
  /** The root the oracle's result set rebuilds to, when it serves one. */
  readonly rebuiltRoot?: Hex;
  readonly dataHash?: Hex;
}

export type Finding = OracleReport["findings"][number];

/** The document's owners and devices against the decoded bytes (first disagreements only). */
function documentFindings(
  doc: ResultsResponse,
  posted: EpochRoot,
  bytes: Uint8Array,
  tree: OwnerMerkleTree | null,
): Finding[] {
  const out: Finding[] = [];
  const add = (message: string) => out.length < 20 && out.push({ code: "document_mismatch", message });
  if (doc.epoch !== posted.epoch.toString()) add(`the document is of epoch ${doc.epoch}`);
  if (doc.root !== posted.root) add(`the document's root is ${doc.root}, the posted root ${posted.root}`);
  if (doc.dataHash !== posted.dataHash)
    add(`the document's dataHash is ${doc.dataHash}, posted ${posted.dataHash}`);
  if (doc.encodingBytes !== bytes.length)
    add(`the document says ${doc.encodingBytes} bytes, the encoding has ${bytes.length}`);
  const d = decodeEpochEncoding(bytes);
  if (doc.totalCumulative !== d.totalCumulative.toString())
    add(`totalCumulative ${doc.totalCumulative}, encoded ${d.totalCumulative}`);
  if (doc.pool !== d.pool.toString()) add(`pool ${doc.pool}, encoded ${d.pool}`);
  if (doc.distributed !== d.distributed.toString())
    add(`distributed ${doc.distributed}, encoded ${d.distributed}`);
  const usageOf = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}` : x));
  const encodedUsage =
    d.usage === null
      ? undefined
      : {
          subnetwork: d.usage.subnetwork,
          price: d.usage.price,
          priceBlock: d.usage.priceBlock,
          shareBps: d.usage.params.shareBps,
          feeBps: d.usage.params.feeBps,
          usagePool: d.usage.usagePool,
          totalValue: d.usage.totalValue,
          paid: d.usage.paid,
          records: d.usage.records.map((r) => ({
            block: r.block,
            logIndex: r.logIndex,
            provider: r.provider,
            account: r.account,
            credits: r.credits,
          })),
          providers: d.usage.providers,
        };
  // A storage provider's score is the document's alone (the encoding holds none): compared without it.
  const listedUsage =
    doc.usage === undefined
      ? undefined
      : {
          ...doc.usage,
          providers: doc.usage.providers.map(({ provider, credits, value, reward }) => ({
            provider,
            credits,
            value,
            reward,
          })),
        };
  if (usageOf(listedUsage) !== usageOf(encodedUsage))
    add(`usage listed ${usageOf(listedUsage) ?? "none"}, encoded ${usageOf(encodedUsage) ?? "none"}`);
  if (doc.owners.length !== d.owners.length)
    add(`${doc.owners.length} owners listed, ${d.owners.length} encoded`);
  d.owners.forEach((o, k) => {
    const row = doc.owners[k];
    if (
      row === undefined ||
      row.owner !== o.owner ||
      row.cumulative !== o.cumulative.toString() ||
      row.amount !== o.amount.toString() ||
      (tree !== null && row.leafIndex !== tree.leafIndexAt(k))
    )
      add(`owner ${k}: listed ${JSON.stringify(row)}, encoded ${o.owner} ${o.amount} ${o.cumulative}`);
  });
  if (doc.devices.length !== d.devices.length)
    add(`${doc.devices.length} devices listed, ${d.devices.length} encoded`);
  d.devices.forEach((dev, k) => {
    const row = doc.devices[k];
    if (
      row === undefined ||
      BigInt(row.id) !== dev.deviceId ||
      row.owner !== dev.owner ||
      row.bonded !== dev.bonded ||
      row.reward !== dev.amount.toString() ||
      row.metrics.join() !== dev.metrics.join() ||
      row.weights.join() !== dev.weights.join()
    )
      add(`device ${k}: listed ${JSON.stringify(row)}, encoded ${dev.deviceId} reward ${dev.amount}`);
  });
  return out;
}

/** The previous cumulative amounts: the live root's owners, from the oracle's own published set. */
async function previousOf(client: OracleClient, live: NonNullable<ChainFacts["live"]>, work: WorkKind) {
  const { bytes } = await client.encoding(live.epoch, work);
  const owners = decodeEpochEncoding(bytes).owners;
  const tree = OwnerMerkleTree.buildOf(owners, (o) => o.cumulative);
  if (tree.root !== live.root) return undefined; // not the live root's set: the check is skipped
  return new Map(owners.map((o) => [o.owner, o.cumulative]));
}

/**
 * Audits `posted` against one oracle's published result set of `work` (the kind of the distributor
 * it was posted to).
 */
export async function auditOracle(
  oracle: string,
  posted: EpochRoot,
  chain: ChainFacts,
  timeoutMs = 60_000,
  work: WorkKind = "coverage",
): Promise<OracleReport> {
  const client = new OracleClient(oracle, { timeoutMs });
  let bytes: Uint8Array;
  let doc: ResultsResponse;
  try {
    bytes = (await client.encoding(posted.epoch, work)).bytes;
    doc = await client.results(posted.epoch, work);
  } catch (e) {
    if (!(e instanceof OracleApiError)) throw e;
    return {
      oracle,
      verdict: "missing",
      findings: [
        {
          code: e.unreachable ? "oracle_unreachable" : "result_set_missing",
          message: `no result set for epoch ${posted.epoch}: ${e.message}`,
        },
      ],
    };
  }
  let previous: Map<Hex, bigint> | undefined;
  if (chain.live !== undefined && chain.live.epoch + 1n === posted.epoch) {
    previous = await previousOf(client, chain.live, work).catch(() => undefined);
  }
  // Storage's usage values are scaled by the retrieval scores the document lists: the amounts are
  // checked against them (the oracles of a set publish the same scores, or their sets disagree).
  const usageScores = usageScoresOf(doc);
  const audit = auditEpochEncoding(bytes, {
    posted,
    chainId: chain.chainId,
    totalFunded: chain.totalFunded,
    // The indexer's pool: funded so far minus what the previous root owes (exact when the
    // previous root is the live one of the epoch before, an upper bound otherwise).
    fundedPool: {
      amount: chain.fundedThrough - (chain.live?.totalCumulative ?? 0n),
      exact: chain.live === undefined ? posted.epoch === 0n : chain.live.epoch + 1n === posted.epoch,
    },
    ...(previous !== undefined ? { previous } : {}),
    ...(usageScores.size > 0 ? { usageScores } : {}),
  });
  const findings: Finding[] = [...audit.findings];
  if (audit.decoded !== null) findings.push(...documentFindings(doc, posted, bytes, audit.tree));
  return {
    oracle,
    verdict: findings.length === 0 ? "confirms" : "contradicts",
    findings,
    ...(audit.rebuiltRoot !== null ? { rebuiltRoot: audit.rebuiltRoot } : {}),
    dataHash: audit.dataHash,
  };
}
