/**
 * Retrieval results every storage oracle agrees on, for a storage epoch's scores.
 *
 * Each oracle probes on its own, so its own results can differ from a peer's (a provider may answer
 * one prober and not another; a network path may fail). A root is posted only with k-of-n signatures
 * of the same root, so a storage epoch's inputs are not one oracle's probes but the set's:
 *
 *   inputs  every RetrievalResult signed by a current member of the storage distributor's oracle set:
 *           this oracle's own (storage_retrievals) and its peers' (GET /v1/storage/retrievals, each
 *           signature recovered and checked against the set, its piece root one of the data set's on
 *           chain; storage_peer_retrievals), fetched before the close (`pullSetRetrievals`)
 *   rule    per (data set, day), one result per signer (its lowest signature, should it have signed
 *           two); the day counts as retrieved ("ok") when at
 *           least half of the signers signed "ok", else as failed: one prober's bad path cannot fail an
 *           honest provider, one colluding prober cannot pass a provider the others could not fetch
 *           from. The device and provider are the data set's on chain (not the peers' words).
 *
 * The agreed results then fold into scores like one oracle's (score.ts, in day, data set order).
 * Oracles that fetched the same signed results compute the same scores, so the same root.
 */
import { verifyTypedData } from "ethers";

import {
  compareBigint,
  RETRIEVAL_OUTCOMES,
  RETRIEVAL_RESULT_TYPES,
  retrievalOutcomeCode,
  type ContractDomain,
  type RetrievalOutcome,
} from "@hexmesh/protocol";

import type { StorageRetrievalsResponse } from "../api/routes.js";
import type { StorageStore, StoredRetrieval } from "./store.js";

/** A peer's result as GET /v1/storage/retrievals serves it. */
type RetrievalJson = StorageRetrievalsResponse["retrievals"][number];

/** Why a fetched result was not kept (counted by pullSetRetrievals). */
export type RetrievalRefusal = "bad_signature" | "not_in_oracle_set" | "unknown_piece" | "malformed";

/**
 * The signer check of one result: its RetrievalResult recovers to `r.signer`, a member of `oracles`.
 * Returns null when it holds, else the reason.
 */
export function checkSignedRetrieval(
  r: StoredRetrieval,
  domain: ContractDomain,
  oracles: ReadonlySet<string>,
): RetrievalRefusal | null {
  if (!(RETRIEVAL_OUTCOMES as readonly string[]).includes(r.outcome)) return "malformed";
  let recovered: string;
  try {
    recovered = verifyTypedData(
      { ...domain },
      RETRIEVAL_RESULT_TYPES,
      {
        dataSetId: r.dataSetId,
        day: r.day,
        pieceRoot: r.pieceRoot,
        firstLeaf: r.firstLeaf,
        count: r.count,
        outcome: retrievalOutcomeCode(r.outcome as RetrievalOutcome),
        answerHash: r.answerHash,
      },
      r.signature,
    );
  } catch {
    return "bad_signature";
  }
  if (recovered.toLowerCase() !== r.signer.toLowerCase()) return "bad_signature";
  if (!oracles.has(recovered.toLowerCase())) return "not_in_oracle_set";
  return null;
}

function fromJson(j: RetrievalJson): StoredRetrieval {
  return {
    dataSetId: BigInt(j.dataSet),
    day: BigInt(j.day),
    deviceId: BigInt(j.device),
    provider: j.provider.toLowerCase(),
    pieceRoot: j.pieceRoot.toLowerCase(),
    firstLeaf: BigInt(j.firstLeaf),
    count: j.count,
    outcome: j.outcome,
    answerHash: j.answerHash.toLowerCase(),
    detail: j.detail,
    latencyMs: j.latencyMs,
    probedAt: j.probedAt,
    signer: j.signer.toLowerCase(),
    signature: j.signature.toLowerCase(),
  };
}

export interface SetRetrievalPull {
  /** Peers' results newly stored (a result already held is not counted again). */
  readonly stored: number;
  readonly refused: Readonly<Partial<Record<RetrievalRefusal, number>>>;
  /** Peers that could not be read. */
  readonly unreachable: readonly string[];
}

/**
 * Fetches every peer's signed results of every indexed data set and stores those signed by a current
 * member of `oracles` over a piece of that data set (storage_peer_retrievals). Idempotent.
 */
export async function pullSetRetrievals(
  store: StorageStore,
  options: {
    readonly peers: readonly string[];
    readonly domain: ContractDomain;
    readonly oracles: readonly string[];
    readonly timeoutMs?: number;
  },
): Promise<SetRetrievalPull> {
  const oracles = new Set(options.oracles.map((a) => a.toLowerCase()));
  const refused: Partial<Record<RetrievalRefusal, number>> = {};
  const unreachable: string[] = [];
  let stored = 0;
  const dataSets = await store.dataSets();
  const rootsOf = new Map<bigint, Set<string>>();
  for (const ds of dataSets) rootsOf.set(ds.id, new Set((await store.pieces(ds.id)).map((p) => p.root)));
  for (const peer of options.peers) {
    try {
      for (const ds of dataSets) {
        const url = `${peer.replace(/\/$/, "")}/v1/storage/retrievals?dataSet=${ds.id}&limit=1000`;
        const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { retrievals?: RetrievalJson[] };
        for (const j of body.retrievals ?? []) {
          let r: StoredRetrieval;
          try {
            r = fromJson(j);
          } catch {
            refused.malformed = (refused.malformed ?? 0) + 1;
            continue;
          }
          const why =
            r.dataSetId !== ds.id || !rootsOf.get(ds.id)!.has(r.pieceRoot)
              ? "unknown_piece"
              : checkSignedRetrieval(r, options.domain, oracles);
          if (why !== null) {
            refused[why] = (refused[why] ?? 0) + 1;
            continue;
          }
          if (await store.putPeerRetrieval(r)) stored++;
        }
      }
    } catch {
      unreachable.push(peer);
    }
  }
  return { stored, refused, unreachable };
}

/**
 * The rule: per (data set, day), one result per signer (its lowest signature), "ok" when at
 * least half of them are "ok"; the device and provider from `dataSets` (the chain's). In (day, data
 * set) order, as scoresOf folds them. Results of signers outside `oracles` are left out.
 */
export function agreedRetrievals(
  results: readonly StoredRetrieval[],
  dataSets: ReadonlyMap<bigint, { readonly deviceId: bigint; readonly provider: string }>,
  oracles: ReadonlySet<string>,
): StoredRetrieval[] {
  const groups = new Map<string, Map<string, StoredRetrieval>>();
  for (const r of results) {
    const signer = r.signer.toLowerCase();
    if (!oracles.has(signer) || !dataSets.has(r.dataSetId)) continue;
    const key = `${r.day}:${r.dataSetId}`;
    const bySigner = groups.get(key) ?? new Map<string, StoredRetrieval>();
    // A signer that signed two results of one day counts once: the lower signature, whatever the order.
    const held = bySigner.get(signer);
    if (held === undefined || r.signature.toLowerCase() < held.signature.toLowerCase())
      bySigner.set(signer, r);
    groups.set(key, bySigner);
  }
  const out: StoredRetrieval[] = [];
  for (const bySigner of groups.values()) {
    const signed = [...bySigner.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    const ok = signed.filter((r) => r.outcome === "ok").length;
    const first = signed[0]!;
    const ds = dataSets.get(first.dataSetId)!;
    out.push({
      ...first,
      deviceId: ds.deviceId,
      provider: ds.provider,
      outcome: 2 * ok >= signed.length ? "ok" : (signed.find((r) => r.outcome !== "ok")?.outcome ?? "ok"),
    });
  }
  return out.sort((a, b) => compareBigint(a.day, b.day) || compareBigint(a.dataSetId, b.dataSetId));
}
