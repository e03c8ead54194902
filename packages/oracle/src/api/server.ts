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
import type { OracleStore, StoredSignature } from "../store/types.js";
import { deviceRoutes } from "./plugins/devices.js";
import { entropyRoutes } from "./plugins/entropy.js";
import { epochRoutes } from "./plugins/epochs.js";
import { healthRoutes } from "./plugins/health.js";
import { inputRoutes } from "./plugins/inputs.js";
import { ownerRoutes } from "./plugins/owners.js";
import { reportRoutes } from "./plugins/reports.js";
import { resultRoutes } from "./plugins/results.js";
import { HttpError } from "./plugins/shared.js";

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
  /** Published result sets (absent: the results and encoding routes answer 503). */
  readonly results?: ResultSets;
  /** This oracle's signature of an epoch, if it signed it. */
  readonly ownSignature?: (epoch: bigint) => Promise<StoredSignature | null>;
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

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { limits } = deps;
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

  // One plugin per route group (./plugins), every path from the route table (./routes.ts).
  for (const routes of [
    reportRoutes,
    entropyRoutes,
    ownerRoutes,
    epochRoutes,
    resultRoutes,
    deviceRoutes,
    inputRoutes,
    healthRoutes,
  ])
    await app.register(routes(deps));

  // The web app (packages/web) and its hexmesh.json, if this oracle serves it; an unknown path is
  // still the API's 404 (the app routes in the URL's fragment, so it needs no fallback page).
  if (deps.staticDir !== undefined)
    await app.register(fastifyStatic, { root: deps.staticDir, prefix: "/", wildcard: true });

  return app;
}
