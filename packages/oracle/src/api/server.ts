/**
 * The oracle's HTTP API (fastify). Every body, parameter, query and response has a JSON schema
 * (schemas.ts); bad input gets a 4xx with a message saying what is wrong. A report is acknowledged
 * (200 accepted/duplicate) only after the store committed it (see service/ingest.ts).
 *
 *   POST /v1/reports                  {report}            one report (rate limited per device key)
 *   POST /v1/reports/batch            {reports: [...]}    up to limits.batchMax reports
 *   GET  /v1/entropy                                      the current remote entropy
 *   GET  /v1/owners/:address                              cumulative, claimed, proof for the live root
 *   GET  /v1/epochs/:epoch                                an epoch's summary and post status
 *   GET  /v1/epochs/:epoch/signature                      this oracle's EpochRoot signature
 *   GET  /v1/devices/:keyId/results?epoch=&limit=         a device's verdicts with reasons
 *   GET  /v1/inputs/reports?from=&to=&offset=&limit=      stored reports (for peers and auditors)
 *   GET  /v1/inputs/entropy?from=&to=                     published entropy (Unix seconds)
 *   GET  /health, /ready
 */
import rateLimit from "@fastify/rate-limit";
import { Ajv } from "ajv";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";

import { ENTROPY_VALIDITY_MS, type Hex } from "@hexmesh/protocol";

import type { ChainReader } from "../service/chain.js";
import { ClaimProofError, type ClaimProofs, type OwnerClaim } from "../service/claims.js";
import type { EntropyService } from "../service/entropy.js";
import type { Checked, Ingestor, SubmitResult } from "../service/ingest.js";
import { SCHEMA_VERSION } from "../store/migrations.js";
import type { OracleStore, StoredSignature } from "../store/types.js";
import * as S from "./schemas.js";

export interface ApiLimits {
  readonly bodyBytes: number;
  readonly batchMax: number;
  readonly perDevicePerMinute: number;
  readonly batchesPerMinute: number;
}

export interface ApiDeps {
  readonly store: OracleStore;
  readonly ingestor: Ingestor;
  readonly limits: ApiLimits;
  readonly logger?: Logger | false;
  /** Absent: entropy and owner endpoints answer 503 (an ingest-only node without a chain). */
  readonly entropy?: EntropyService;
  readonly chain?: ChainReader;
  readonly claims?: ClaimProofs;
  /** This oracle's signature of an epoch, if it signed it. */
  readonly ownSignature?: (epoch: bigint) => Promise<StoredSignature | null>;
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Counts reports per device key in fixed one-minute windows (for reports inside batches). */
class DeviceWindow {
  private window = -1;
  private counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  take(key: string, now = Date.now()): boolean {
    const w = Math.floor(now / 60_000);
    if (w !== this.window) {
      this.window = w;
      this.counts = new Map();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.max;
  }
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { store, ingestor, limits } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: limits.bodyBytes,
  });
  // Bodies are JSON and must have the right types as sent (no coercion of 42 into "42");
  // parameters and query strings are text, so they are coerced to the schema's types.
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
  const lenient = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? strict : lenient).compile(schema),
  );

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    const message =
      status >= 500 && !(error instanceof HttpError)
        ? "internal error"
        : "validation" in error && error.validation !== undefined
          ? `bad request: ${error.message}`
          : error.message;
    void reply.status(status).send({
      statusCode: status,
      error: STATUS_TEXT[status] ?? "Error",
      message,
      ...(error.code !== undefined ? { code: error.code } : {}),
    });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ statusCode: 404, error: "Not Found", message: `no route ${request.method} ${request.url}` });
  });

  await app.register(rateLimit, {
    global: false,
    hook: "preHandler",
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: ctx.statusCode,
      error: "Too Many Requests",
      message: `rate limit of ${ctx.max} requests per minute exceeded; retry in ${ctx.after}`,
      code: "rate_limited",
    }),
  });

  const errors = {
    400: S.ERROR,
    404: S.ERROR,
    409: S.ERROR,
    413: S.ERROR,
    415: S.ERROR,
    429: S.ERROR,
    503: S.ERROR,
  };
  const devices = new DeviceWindow(limits.perDevicePerMinute);

  // The device key is in the body, so the limiter runs at preHandler (after parsing and
  // validation) with a key taken from the report text; a text that does not parse is keyed by IP.
  app.post<{ Body: { report: string } }>(
    "/v1/reports",
    {
      schema: { body: S.SUBMIT_ONE_BODY, response: { 200: S.SUBMIT_RESULT, ...errors } },
      config: {
        rateLimit: {
          max: limits.perDevicePerMinute,
          timeWindow: 60_000,
          hook: "preHandler",
          keyGenerator: (req) => {
            const m = /"(?:device|witness)":"(0x[0-9a-f]{40})"/.exec(
              (req.body as { report?: string })?.report ?? "",
            );
            return m?.[1] ?? `ip:${req.ip}`;
          },
        },
      },
    },
    async (request) => {
      const [r] = await ingestor.submit([request.body.report]);
      if (r!.status === "refused")
        throw new HttpError(400, `report refused: ${r!.code}: ${r!.detail}`, r!.code);
      return r;
    },
  );

  app.post<{ Body: { reports: string[] } }>(
    "/v1/reports/batch",
    {
      schema: {
        body: S.submitBatchBody(limits.batchMax),
        response: { 200: S.SUBMIT_BATCH_RESPONSE, ...errors },
      },
      config: { rateLimit: { max: limits.batchesPerMinute, timeWindow: 60_000, hook: "preHandler" } },
    },
    async (request) => {
      const checked: Checked[] = request.body.reports.map((raw) => {
        const c = ingestor.check(raw);
        if (c.ok && !devices.take(c.input.device)) {
          return {
            ok: false,
            result: {
              status: "refused",
              reason: "malformed",
              code: "rate_limited",
              detail: `more than ${limits.perDevicePerMinute} reports this minute from ${c.input.device}`,
            },
          } as Checked;
        }
        return c;
      });
      const good = checked.flatMap((c) => (c.ok ? [c.input] : []));
      const stored = await ingestor.persist(good);
      let k = 0;
      const results: SubmitResult[] = checked.map((c) => {
        if (!c.ok) return c.result;
        const s = stored[k++]!;
        return { status: s.duplicate ? "duplicate" : "accepted", hash: s.hash, receivedAt: s.receivedAt };
      });
      const count = (s: string) => results.filter((r) => r.status === s).length;
      return {
        accepted: count("accepted"),
        duplicate: count("duplicate"),
        refused: count("refused"),
        results,
      };
    },
  );

  app.get("/v1/entropy", { schema: { response: { 200: S.ENTROPY_RESPONSE, ...errors } } }, async () => {
    if (deps.entropy === undefined)
      throw new HttpError(503, "this node publishes no entropy (no chain configured)");
    const e = await deps.entropy.tick();
    return { ...e, validUntil: e.timestamp + ENTROPY_VALIDITY_MS / 1000 };
  });

  app.get<{ Params: { address: string } }>(
    "/v1/owners/:address",
    { schema: { params: S.OWNER_PARAMS, response: { 200: S.OWNER_RESPONSE, ...errors } } },
    async (request) => {
      if (deps.claims === undefined)
        throw new HttpError(503, "no chain configured: the live root is unknown");
      let c: OwnerClaim;
      try {
        c = await deps.claims.forOwner(request.params.address);
      } catch (e) {
        if (e instanceof ClaimProofError) throw new HttpError(e.status, e.message);
        throw e;
      }
      return {
        owner: c.owner,
        epoch: c.epoch.toString(),
        root: c.root,
        cumulative: c.cumulative.toString(),
        claimed: c.claimed.toString(),
        claimable: c.claimable.toString(),
        proof: c.proof,
      };
    },
  );

  app.get<{ Params: { epoch: string } }>(
    "/v1/epochs/:epoch",
    { schema: { params: S.EPOCH_PARAMS, response: { 200: S.EPOCH_RESPONSE, ...errors } } },
    async (request) => {
      const epoch = BigInt(request.params.epoch);
      const r = await store.getEpochResult(epoch);
      if (r === null) throw new HttpError(404, `epoch ${epoch} has not been closed by this oracle`);
      const post = await store.getPostStatus(epoch);
      return {
        epoch: r.epoch.toString(),
        root: r.root,
        totalCumulative: r.totalCumulative.toString(),
        dataHash: r.dataHash,
        snapshotBlock: r.snapshotBlock,
        computedAt: r.computedAt,
        summary: r.summary,
        post,
      };
    },
  );

  app.get<{ Params: { epoch: string } }>(
    "/v1/epochs/:epoch/signature",
    { schema: { params: S.EPOCH_PARAMS, response: { 200: S.SIGNATURE_RESPONSE, ...errors } } },
    async (request) => {
      const epoch = BigInt(request.params.epoch);
      const s = deps.ownSignature === undefined ? null : await deps.ownSignature(epoch);
      if (s === null) throw new HttpError(404, `this oracle has not signed epoch ${epoch}`);
      return {
        epoch: s.epoch.toString(),
        signer: s.signer,
        signature: s.signature,
        root: s.root,
        oracleSetVersion: s.oracleSetVersion.toString(),
      };
    },
  );

  app.get<{ Params: { keyId: string }; Querystring: { epoch?: string; limit: number } }>(
    "/v1/devices/:keyId/results",
    {
      schema: {
        params: S.DEVICE_PARAMS,
        querystring: S.DEVICE_QUERY,
        response: { 200: S.DEVICE_RESPONSE, ...errors },
      },
    },
    async (request) => {
      const device = request.params.keyId.toLowerCase() as Hex;
      const epoch = request.query.epoch === undefined ? null : BigInt(request.query.epoch);
      const rows = await store.deviceVerdicts(device, epoch, request.query.limit);
      return {
        device,
        results: rows.map((v) => ({
          epoch: v.epoch.toString(),
          id: v.id,
          kind: v.kind,
          receivedAt: v.receivedAt,
          valid: v.reason === null,
          reason: v.reason,
          detail: v.detail,
          selected: v.selected,
          units: v.units.toString(),
        })),
      };
    },
  );

  app.get<{ Querystring: { from: number; to: number; offset: number; limit: number } }>(
    "/v1/inputs/reports",
    { schema: { querystring: S.RANGE_QUERY, response: { 200: S.INPUT_REPORTS_RESPONSE, ...errors } } },
    async (request) => {
      const { from, to, offset, limit } = request.query;
      if (to < from) throw new HttpError(400, `bad range: to (${to}) is before from (${from})`);
      // Closed windows only change by late duplicates, which are not stored: offsets are stable.
      const [total, page] = await Promise.all([
        store.countReports(from, to),
        store.reportsReceivedBetween(from, to, { offset, limit }),
      ]);
      return {
        total,
        reports: page.map((r) => ({ raw: r.raw, receivedAt: r.receivedAt })),
      };
    },
  );

  app.get<{ Querystring: { from: number; to: number } }>(
    "/v1/inputs/entropy",
    { schema: { querystring: S.RANGE_QUERY, response: { 200: S.INPUT_ENTROPY_RESPONSE, ...errors } } },
    async (request) => {
      const { from, to } = request.query;
      if (to < from) throw new HttpError(400, `bad range: to (${to}) is before from (${from})`);
      return { entropy: await store.entropyBetween(from, to) };
    },
  );

  app.get("/health", { schema: { response: { 200: S.HEALTH_RESPONSE } } }, async () => ({ status: "ok" }));

  app.get(
    "/ready",
    { schema: { response: { 200: S.HEALTH_RESPONSE, 503: S.HEALTH_RESPONSE } } },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      let ok = true;
      try {
        await store.ping();
        const v = await store.schemaVersion();
        checks.store =
          v === SCHEMA_VERSION ? `ok (${store.backend}, schema ${v})` : `schema ${v}, want ${SCHEMA_VERSION}`;
        ok &&= v === SCHEMA_VERSION;
      } catch (e) {
        checks.store = `unreachable: ${(e as Error).message}`;
        ok = false;
      }
      if (deps.chain !== undefined) {
        try {
          await deps.chain.latestBlockHash();
          checks.chain = "ok";
        } catch (e) {
          checks.chain = `unreachable: ${(e as Error).message}`;
          ok = false;
        }
      }
      checks.ingest = `${ingestor.acknowledged} acknowledged, ${ingestor.pending} pending`;
      return reply.status(ok ? 200 : 503).send({ status: ok ? "ready" : "not ready", checks });
    },
  );

  return app;
}
