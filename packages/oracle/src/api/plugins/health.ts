/** GET /health (liveness) and /ready (store at the current schema, chain reachable). */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { SCHEMA_VERSION } from "../../store/migrations.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint } from "./shared.js";

export function healthRoutes({ store, chain, ingestor }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.health),
      schema: { response: { 200: S.HEALTH_RESPONSE } },
      handler: async () => ({ status: "ok" }),
    });

    app.route({
      ...endpoint(ROUTES.ready),
      schema: { response: { 200: S.HEALTH_RESPONSE, 503: S.HEALTH_RESPONSE } },
      handler: async (_req, reply) => {
        const checks: Record<string, string> = {};
        let ok = true;
        try {
          await store.ping();
          const v = await store.schemaVersion();
          checks.store =
            v === SCHEMA_VERSION
              ? `ok (${store.backend}, schema ${v})`
              : `schema ${v}, want ${SCHEMA_VERSION}`;
          ok &&= v === SCHEMA_VERSION;
        } catch (e) {
          checks.store = `unreachable: ${(e as Error).message}`;
          ok = false;
        }
        if (chain !== undefined) {
          try {
            await chain.latestBlockHash();
            checks.chain = "ok";
          } catch (e) {
            checks.chain = `unreachable: ${(e as Error).message}`;
            ok = false;
          }
        }
        const refused = [...ingestor.refusals].map(([code, n]) => `${code} ${n}`).join(", ");
        checks.ingest = `${ingestor.acknowledged} acknowledged, ${ingestor.pending} pending, refused: ${refused === "" ? "none" : refused}`;
        return reply.status(ok ? 200 : 503).send({ status: ok ? "ready" : "not ready", checks });
      },
    });
  };
}
