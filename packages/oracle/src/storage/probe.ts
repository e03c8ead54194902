/**
 * Retrieval probes: once per chain day per live data set, fetch the day's range (probeRange in
 * @hexmesh/protocol: every oracle of the quorum probes the same one) from the provider's registered
 * endpoint (`StorageDeals.endpointOf(deviceId)`) at `GET <endpoint>/v1/pieces/<root>/range?leaf=&count=`,
 * within `timeoutMs` for the whole answer, check it with verifyPieceRange against the root the client
 * put on chain, sign the RetrievalResult and store it. A day already probed for a data set is not
 * probed again (the first result stays), so ticks may run as often as wanted.
 */
import type { Wallet } from "ethers";

import type { StorageDeals } from "@hexmesh/contracts";
import {
  keccak256,
  probeRange,
  RETRIEVAL_RESULT_TYPES,
  retrievalDay,
  retrievalOutcomeCode,
  toHex,
  verifyPieceRange,
  type ContractDomain,
  type RetrievalOutcome,
  type RetrievalResult,
} from "@hexmesh/protocol";

import type { IndexedDataSet, StorageStore, StoredRetrieval } from "./store.js";

export const ZERO_HASH = `0x${"00".repeat(32)}`;

export interface ProberOptions {
  /** The whole answer must arrive within this, ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** The host clock for latencies and probe times (ms). Default Date.now. */
  readonly now?: () => number;
}

export interface ProbeOutcome {
  readonly outcome: RetrievalOutcome;
  readonly detail: string;
  readonly answerHash: string;
}

/** Fetches and classifies one range answer (see RETRIEVAL_OUTCOMES). */
export async function fetchRange(
  endpoint: string,
  root: string,
  size: number,
  firstLeaf: number,
  count: number,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  if (endpoint === "")
    return { outcome: "unreachable", detail: "no endpoint registered", answerHash: ZERO_HASH };
  let url: URL;
  try {
    url = new URL(`v1/pieces/${root}/range`, endpoint.endsWith("/") ? endpoint : `${endpoint}/`);
  } catch {
    return { outcome: "unreachable", detail: `endpoint is not a URL: ${endpoint}`, answerHash: ZERO_HASH };
  }
  url.searchParams.set("leaf", String(firstLeaf));
  url.searchParams.set("count", String(count));
  let body: Uint8Array;
  let status: number;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    body = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    const name = (err as Error).name;
    if (name === "TimeoutError" || name === "AbortError")
      return { outcome: "timeout", detail: `no full answer within ${timeoutMs} ms`, answerHash: ZERO_HASH };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      outcome: "unreachable",
      detail: cause?.code ?? cause?.message ?? String(err),
      answerHash: ZERO_HASH,
    };
  }
  const answerHash = toHex(keccak256(body));
  if (status !== 200) return { outcome: "refused", detail: `HTTP ${status}`, answerHash };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { outcome: "malformed", detail: "the answer is not JSON", answerHash };
  }
  const verdict = verifyPieceRange(root, size, firstLeaf, count, parsed);
  return verdict.ok
    ? { outcome: "ok", detail: "", answerHash }
    : { outcome: verdict.reason, detail: verdict.detail, answerHash };
}

export class RetrievalProber {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  /**
   * @param deals StorageDeals (endpoints, chain time through its provider).
   * @param signer This oracle's key (signs RetrievalResults).
   * @param domain retrievalDomain(chainId, StorageDeals).
   */
  constructor(
    private readonly deals: StorageDeals,
    private readonly store: StorageStore,
    private readonly signer: Wallet,
    private readonly domain: ContractDomain,
    opts: ProberOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The chain's current probe day (latest block time). */
  async chainDay(): Promise<bigint> {
    const block = await this.deals.runner?.provider?.getBlock("latest");
    if (!block) throw new Error("no latest block");
    return retrievalDay(block.timestamp);
  }

  /** Probes every live data set not yet probed on `day` (default: the chain's current day). */
  async tick(day?: bigint): Promise<StoredRetrieval[]> {
    const d = day ?? (await this.chainDay());
    const stored: StoredRetrieval[] = [];
    for (const ds of await this.store.liveDataSets()) {
      if (await this.store.retrieval(ds.id, d)) continue;
      const result = await this.probe(ds, d);
      if (result && (await this.store.putRetrieval(result))) stored.push(result);
    }
    return stored;
  }

  /** One data set's probe on `day`, signed (null: it has no pieces indexed yet). */
  async probe(ds: IndexedDataSet, day: bigint): Promise<StoredRetrieval | null> {
    const pieces = await this.store.pieces(ds.id);
    const range = probeRange(ds.id, day, pieces);
    if (range === null) return null;
    const endpoint = await this.deals.endpointOf(ds.deviceId);
    const started = this.now();
    const got = await fetchRange(
      endpoint,
      range.pieceRoot,
      range.pieceSize,
      range.firstLeaf,
      range.count,
      this.timeoutMs,
    );
    const latencyMs = this.now() - started;
    const value: RetrievalResult = {
      dataSetId: ds.id,
      day,
      pieceRoot: range.pieceRoot,
      firstLeaf: BigInt(range.firstLeaf),
      count: range.count,
      outcome: retrievalOutcomeCode(got.outcome),
      answerHash: got.answerHash,
    };
    const signature = await this.signer.signTypedData({ ...this.domain }, RETRIEVAL_RESULT_TYPES, {
      ...value,
    });
    return {
      dataSetId: ds.id,
      day,
      deviceId: ds.deviceId,
      provider: ds.provider,
      pieceRoot: range.pieceRoot,
      firstLeaf: BigInt(range.firstLeaf),
      count: range.count,
      outcome: got.outcome,
      answerHash: got.answerHash,
      detail: got.detail,
      latencyMs,
      probedAt: started,
      signer: this.signer.address,
      signature,
    };
  }
}
