/**
 * A small typed client of the oracle API over `fetch`: one method per route of the route table
 * (routes.ts), typed answers, and one error type that says what went wrong (the HTTP status and the
 * API's own message, or that the oracle could not be reached). What our tasks, scripts, services
 * and tests use to talk to an oracle; browser-safe (no Node import), like routes.ts.
 *
 *   const oracle = new OracleClient("http://127.0.0.1:8080");
 *   const { cumulative, proof } = await oracle.owner("0x…");
 */
import type { Hex } from "@hexmesh/protocol";

import type { WorkKind } from "../store/types.js";
import {
  pathTo,
  RESULT_HEADERS,
  ROUTES,
  type DeviceResultsQuery,
  type DeviceResultsResponse,
  type EntropyResponse,
  type EpochResponse,
  type HealthResponse,
  type InputEntropyQuery,
  type InputEntropyResponse,
  type InputReportsQuery,
  type InputReportsResponse,
  type OwnerQuery,
  type OwnerResponse,
  type ResultsResponse,
  type SettlementResponse,
  type SignatureResponse,
  type SubmitReceiptsResponse,
  type SubmitReportsResponse,
  type SubmitResult,
} from "./routes.js";

export interface OracleClientOptions {
  /** Abort a request after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof fetch;
}

/**
 * Each provider's retrieval score (ppm) its usage value was scaled by, as a storage epoch's results
 * document lists them: what auditEpochEncoding's `usageScores` takes, since the encoding holds none.
 * Empty when the epoch's usage is not scaled.
 */
export function usageScoresOf(doc: ResultsResponse): Map<Hex, number> {
  return new Map(
    (doc.usage?.providers ?? []).flatMap((p) =>
      p.score === undefined ? [] : [[p.provider as Hex, p.score] as const],
    ),
  );
}

/**
 * A request that did not get a 2xx answer with a JSON body. `status` is the HTTP status, absent
 * when the oracle could not be reached (refused, timed out); `apiMessage` the API's `message`.
 */
export class OracleApiError extends Error {
  override readonly name = "OracleApiError";
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly apiMessage: string,
    readonly code?: string,
  ) {
    super(
      status === undefined
        ? `${method} ${url}: cannot reach the oracle: ${apiMessage}`
        : `${method} ${url}: HTTP ${status}: ${apiMessage}`,
    );
  }

  /** True when no answer came back at all. */
  get unreachable(): boolean {
    return this.status === undefined;
  }
}

/** Why a fetch failed, as plainly as it tells (Node puts the socket error in `cause`). */
function failure(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError") return "no answer in time";
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause === undefined ? String(err?.message ?? e) : `${err.message} (${cause})`;
}

export class OracleClient {
  /** The base URL without trailing slashes; a path prefix (behind a proxy) is kept. */
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetcher: typeof fetch;

  constructor(baseUrl: string, options: OracleClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The full URL of a request path (from `pathTo`). */
  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  private async send(method: string, url: string, body?: unknown): Promise<Response> {
    try {
      return await this.fetcher(url, {
        method,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined
          ? {}
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new OracleApiError(method, url, undefined, failure(e));
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = this.url(path);
    const res = await this.send(method, url, body);
    const text = await res.text().catch(() => "");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
      throw new OracleApiError(
        method,
        url,
        res.status,
        res.ok ? `the answer is not JSON: ${JSON.stringify(shown)}` : `${res.statusText} ${shown}`.trim(),
      );
    }
    if (!res.ok) {
      const e = json as { message?: unknown; code?: unknown };
      throw new OracleApiError(
        method,
        url,
        res.status,
        typeof e?.message === "string" ? e.message : `${res.statusText}: ${text.slice(0, 200)}`,
        typeof e?.code === "string" ? e.code : undefined,
      );
    }
    return json as T;
  }

  private get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** POST /v1/reports: one report text; acknowledged once stored (a refused text is a 400 error). */
  submitReport(report: string): Promise<SubmitResult> {
    return this.request(ROUTES.submitReport.method, pathTo(ROUTES.submitReport.path, {}), { report });
  }

  /** POST /v1/reports/batch: up to the oracle's batchMax report texts, answered per report. */
  submitReports(reports: readonly string[]): Promise<SubmitReportsResponse> {
    return this.request(ROUTES.submitReports.method, pathTo(ROUTES.submitReports.path, {}), { reports });
  }

  /** POST /v1/receipts: packet receipts (wire forms), answered per receipt. */
  submitReceipts(receipts: readonly unknown[]): Promise<SubmitReceiptsResponse> {
    return this.request(ROUTES.submitReceipts.method, pathTo(ROUTES.submitReceipts.path, {}), { receipts });
  }

  /** GET /v1/epochs/:epoch/settlement: this oracle's data-transfer settlement of the epoch. */
  epochSettlement(epoch: bigint | number): Promise<SettlementResponse> {
    return this.get(pathTo(ROUTES.epochSettlement.path, { epoch }));
  }

  /** GET /v1/entropy. */
  entropy(): Promise<EntropyResponse> {
    return this.get(pathTo(ROUTES.entropy.path, {}));
  }

  /**
   * GET /v1/owners/:address: cumulative, claimed, claimable and the proof for the live root, or for
   * `{epoch}` (a pending root too: `status` says which).
   */
  owner(address: string, query: OwnerQuery = {}): Promise<OwnerResponse> {
    return this.get(pathTo(ROUTES.owner.path, { address }, query));
  }

  /** GET /v1/epochs/:epoch/results[?work=]: everything the root and dataHash of the epoch of `work` commit to. */
  results(epoch: bigint | number, work: WorkKind = "coverage"): Promise<ResultsResponse> {
    return this.get(pathTo(ROUTES.epochResults.path, { epoch }, work === "coverage" ? {} : { work }));
  }

  /**
   * GET /v1/epochs/:epoch/encoding[?work=]: the canonical encoding of the epoch of `work` (keccak256
   * of `bytes` is the dataHash), with the root and dataHash the oracle says it commits to.
   */
  async encoding(
    epoch: bigint | number,
    work: WorkKind = "coverage",
  ): Promise<{ bytes: Uint8Array; root: string; dataHash: string }> {
    const url = this.url(pathTo(ROUTES.epochEncoding.path, { epoch }, work === "coverage" ? {} : { work }));
    const res = await this.send("GET", url);
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      let message = `${res.statusText} ${text.slice(0, 200)}`.trim();
      let code: string | undefined;
      try {
        const e = JSON.parse(text) as { message?: unknown; code?: unknown };
        if (typeof e.message === "string") message = e.message;
        if (typeof e.code === "string") code = e.code;
      } catch {
        // not JSON: keep the text
      }
      throw new OracleApiError("GET", url, res.status, message, code);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new OracleApiError("GET", url, undefined, failure(e));
    }
    return {
      bytes,
      root: res.headers.get(RESULT_HEADERS.root) ?? "",
      dataHash: res.headers.get(RESULT_HEADERS.dataHash) ?? "",
    };
  }

  /** GET /v1/epochs/:epoch. */
  epoch(epoch: bigint | number, work: WorkKind = "coverage"): Promise<EpochResponse> {
    return this.get(pathTo(ROUTES.epoch.path, { epoch }, work === "coverage" ? {} : { work }));
  }

  /** GET /v1/epochs/:epoch/signature[?work=]: this oracle's EpochRoot signature of the epoch of `work`. */
  epochSignature(epoch: bigint | number, work: WorkKind = "coverage"): Promise<SignatureResponse> {
    return this.get(pathTo(ROUTES.epochSignature.path, { epoch }, work === "coverage" ? {} : { work }));
  }

  /** GET /v1/devices/:keyId/results. */
  deviceResults(keyId: string, query: DeviceResultsQuery = {}): Promise<DeviceResultsResponse> {
    return this.get(pathTo(ROUTES.deviceResults.path, { keyId }, query));
  }

  /** GET /v1/inputs/reports: one page of stored reports received in [from, to] (Unix ms). */
  inputReports(query: InputReportsQuery): Promise<InputReportsResponse> {
    return this.get(pathTo(ROUTES.inputReports.path, {}, query));
  }

  /** GET /v1/inputs/entropy: entropy published in [from, to] (Unix s). */
  inputEntropy(query: InputEntropyQuery): Promise<InputEntropyResponse> {
    return this.get(pathTo(ROUTES.inputEntropy.path, {}, query));
  }

  /** GET /health. */
  health(): Promise<HealthResponse> {
    return this.get(pathTo(ROUTES.health.path, {}));
  }

  /** GET /ready: resolves when ready; a 503 (not ready) is an OracleApiError. */
  ready(): Promise<HealthResponse> {
    return this.get(pathTo(ROUTES.ready.path, {}));
  }
}
