/**
 * GET /v1/entropy: the current remote entropy (503 on a node without a chain, and on an oracle that
 * pulls its inputs, entropy included, from an ingest peer).
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { ENTROPY_VALIDITY_MS } from "@hexmesh/protocol";

import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

export function entropyRoutes({ entropy, inputsFrom }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.entropy),
      schema: { response: { 200: S.ENTROPY_RESPONSE, ...ERROR_RESPONSES } },
      handler: async () => {
        if (entropy === undefined && inputsFrom !== undefined)
          throw new HttpError(
            503,
            `this oracle publishes no entropy: it takes its inputs from ${inputsFrom} (config inputsFrom); ask there`,
            "not_ingest",
          );
        if (entropy === undefined)
          throw new HttpError(503, "this node publishes no entropy (no chain configured)", "no_chain");
        const e = await entropy.tick();
        return { ...e, validUntil: e.timestamp + ENTROPY_VALIDITY_MS / 1000 };
      },
    });
  };
}
