/** GET /v1/inputs/reports and /v1/inputs/entropy: the stored inputs, for peers and auditors. */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

function checkRange(from: number, to: number): void {
  if (to < from) throw new HttpError(400, `bad range: to (${to}) is before from (${from})`, "bad_range");
}

export function inputRoutes({ store }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.inputReports),
      schema: { querystring: S.RANGE_QUERY, response: { 200: S.INPUT_REPORTS_RESPONSE, ...ERROR_RESPONSES } },
      handler: async (request) => {
        const { from, to, offset, limit } = request.query;
        checkRange(from, to);
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
    });

    app.route({
      ...endpoint(ROUTES.inputEntropy),
      schema: { querystring: S.RANGE_QUERY, response: { 200: S.INPUT_ENTROPY_RESPONSE, ...ERROR_RESPONSES } },
      handler: async (request) => {
        const { from, to } = request.query;
        checkRange(from, to);
        return { entropy: await store.entropyBetween(from, to) };
      },
    });
  };
}
