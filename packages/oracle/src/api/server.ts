/**
 * The oracle's HTTP API (fastify): the app and what every route shares (validators, the error and
 * not-found answers, the rate limiter); the routes themselves are one plugin per group in
 * ./plugins (reports, entropy, owners, epochs, results, devices, inputs, health), each registering the
 * paths of the route table (./routes.ts). Every body, parameter, query and response has a JSON
 * schema (./schemas.ts); bad input gets a 4xx with a message saying what is wrong. A report is
 * acknowledged (200 accepted/duplicate) only after the store committed it (see service/ingest.ts).
 */
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import { Ajv } from "ajv";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";

import type { ChainReader } from "../service/chain.js";
import type { ClaimProofs } from "../service/claims.js";
import type { EntropyService } from "../service/entropy.js";
import type { Ingestor } from "../service/ingest.js";
import type { ResultSets } from "../service/results.js";
import type { DataTransfer } from "../service/settlement.js";
import type { SuspensionProposal } from "../storage/suspend.js";
import type { OracleStore, StoredSignature, WorkKind } from "../store/types.js";
import { computeRoutes } from "./plugins/compute.js";
import { deviceRoutes } from "./plugins/devices.js";
import { entropyRoutes } from "./plugins/entropy.js";
import { epochRoutes } from "./plugins/epochs.js";
import { healthRoutes } from "./plugins/health.js";
import { inputRoutes } from "./plugins/inputs.js";
import { ownerRoutes } from "./plugins/owners.js";
import { receiptRoutes } from "./plugins/receipts.js";
import { reportRoutes } from "./plugins/reports.js";
import { resultRoutes } from "./plugins/results.js";
import { HttpError } from "./plugins/shared.js";
import { storageRoutes } from "./plugins/storage.js";

/** Request-shape limits of the API (the report budgets are the Ingestor's: IngestLimits). */
export interface ApiLimits {
  readonly bodyBytes: number;
  readonly batchMax: number;
  readonly batchesPerMinute: number;
}

export interface ApiDeps {
  readonly store: OracleStore;
  readonly ingestor: Ingestor;
  readonly limits: ApiLimits;
  readonly logger?: Logger | false;
  /** Absent: entropy and owner endpoints answer 503 (an ingest-only node without a chain). */
  readonly entropy?: EntropyService;
  /** The ingest peer this oracle pulls its inputs (and so its entropy) from: /v1/entropy points there. */
  readonly inputsFrom?: string;
  readonly chain?: ChainReader;
  readonly claims?: ClaimProofs;
  /** Published result sets (absent: the results and encoding routes answer 503). */
  readonly results?: ResultSets;
  /** This oracle's signature of an epoch, if it signed it. */
  readonly ownSignature?: (epoch: bigint, work: WorkKind) => Promise<StoredSignature | null>;
  /** Packet receipts and settlements (absent: those routes answer 503 no_data_transfer). */
  readonly dataTransfer?: DataTransfer;
  /** This oracle's signed suspension proposals for a day (storage oracle; absent: 503 no_storage_oracle). */
  readonly storageProposals?: (day: bigint) => Promise<SuspensionProposal[]>;
  /** A folder served at `/` (the built web app); the API's routes win over its file names. */
  readonly staticDir?: string;
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

/**
 * The stable `code` and the message of an error answer (the table in docs/oracle-service.md). Our
 * own errors carry their code; fastify's are mapped here, so every 4xx has one.
 */
function describeError(
  error: FastifyError | HttpError,
  status: number,
  contentType: string | undefined,
): { code: string; message: string } {
  if (error instanceof HttpError)
    return { code: error.code ?? STATUS_CODE[status] ?? "error", message: error.message };
  if (status >= 500) return { code: "internal", message: "internal error" };
  if ("validation" in error && error.validation !== undefined)
    return { code: "invalid_request", message: `bad request: ${error.message}` };
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        code: "unsupported_media_type",
        message: `content type ${contentType ?? "(none)"} is not accepted: send application/json`,
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { code: "body_too_large", message: error.message };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: "empty_body", message: "the body is empty: send a JSON object" };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { code: "bad_content_length", message: error.message };
  }
  if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY")
    return { code: "bad_json", message: `the body is not valid JSON: ${error.message}` };
  return { code: error.code ?? STATUS_CODE[status] ?? "bad_request", message: error.message };
}

/** The first `__proto__` or `constructor` key anywhere in a parsed JSON value, or null. */
function forbiddenKey(value: unknown): string | null {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "object" && x !== null) stack.push(x);
      continue;
    }
    for (const k of Object.keys(v)) {
      if (k === "__proto__" || k === "constructor") return k;
      stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return null;
}

/** Codes for a status when nothing more specific is known. */
const STATUS_CODE: Record<number, string> = {
  400: "bad_request",
  404: "not_found",
  409: "conflict",
  413: "body_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  503: "unavailable",
};

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { limits } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: limits.bodyBytes,
  });
  // Bodies are JSON only: any other content type is a 415, not a text parsed as something else.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    let value: unknown;
    try {
      value = JSON.parse(body as string);
    } catch (e) {
      done(new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`, "bad_json"), undefined);
      return;
    }
    // JSON.parse makes "__proto__" an own key (no pollution yet), but code that copies the body
    // could pollute: such bodies are refused, and said so.
    const key = forbiddenKey(value);
    if (key !== null)
      done(
        new HttpError(
          400,
          `the JSON body has a ${key} key, which this API refuses (prototype pollution)`,
          "forbidden_key",
        ),
        undefined,
      );
    else done(null, value);
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
    const { code, message } = describeError(error, status, request.headers["content-type"]);
    void reply
      .status(status)
      .send({ statusCode: status, error: STATUS_TEXT[status] ?? "Error", message, code });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      statusCode: 404,
      error: "Not Found",
      message: `no route ${request.method} ${request.url}`,
      code: "not_found",
    });
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

  // One plugin per route group (./plugins), every path from the route table (./routes.ts).
  for (const routes of [
    reportRoutes,
    receiptRoutes,
    entropyRoutes,
    ownerRoutes,
    epochRoutes,
    resultRoutes,
    deviceRoutes,
    inputRoutes,
    storageRoutes,
    computeRoutes,
    healthRoutes,
  ])
    await app.register(routes(deps));

  // The web app (packages/web) and its hexmesh.json, if this oracle serves it; an unknown path is
  // still the API's 404 (the app routes in the URL's fragment, so it needs no fallback page).
  if (deps.staticDir !== undefined)
    await app.register(fastifyStatic, { root: deps.staticDir, prefix: "/", wildcard: true });

  return app;
}
