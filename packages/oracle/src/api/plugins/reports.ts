/**
 * Ingest: POST /v1/reports (one report) and /v1/reports/batch (answered per report, in order). Both
 * go through the same Ingestor steps and share its budgets (per client address, per proven device,
 * per device and beacon window); see service/ingest.ts.
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { RefusalReason, SubmitResult } from "../../service/ingest.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

/** The HTTP status of a single report refused for `reason`. */
const STATUS_OF: Record<RefusalReason, number> = {
  malformed: 400,
  unauthenticated: 403,
  rate_limited: 429,
  epoch_closed: 409,
};

export function reportRoutes({ ingestor, limits }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    // A client with no budget left is refused before its body is read or parsed (a flood costs
    // a lookup per request, not a JSON parse per report).
    const refuseExhausted = async (request: { ip: string }) => {
      if (ingestor.clientExhausted(request.ip))
        throw new HttpError(
          429,
          `more than ${ingestor.limits.clientReportsPerMinute} reports this minute from ${request.ip}`,
          "client_rate_limited",
        );
    };

    app.route({
      ...endpoint(ROUTES.submitReport),
      schema: { body: S.SUBMIT_ONE_BODY, response: { 200: S.SUBMIT_RESULT, ...ERROR_RESPONSES } },
      onRequest: refuseExhausted,
      handler: async (request) => {
        const [r] = await ingestor.submit([request.body.report], request.ip);
        if (r!.status === "refused")
          throw new HttpError(STATUS_OF[r!.reason], `report refused: ${r!.code}: ${r!.detail}`, r!.code);
        return r!;
      },
    });

    app.route({
      ...endpoint(ROUTES.submitReports),
      schema: {
        body: S.submitBatchBody(limits.batchMax),
        response: { 200: S.SUBMIT_BATCH_RESPONSE, ...ERROR_RESPONSES },
      },
      config: { rateLimit: { max: limits.batchesPerMinute, timeWindow: 60_000, hook: "preHandler" } },
      onRequest: refuseExhausted,
      handler: async (request) => {
        const results: SubmitResult[] = await ingestor.submit(request.body.reports, request.ip);
        const count = (s: string) => results.filter((r) => r.status === s).length;
        return {
          accepted: count("accepted"),
          duplicate: count("duplicate"),
          refused: count("refused"),
          results,
        };
      },
    });
  };
}
