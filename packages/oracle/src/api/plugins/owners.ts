/** GET /v1/owners/:address[?epoch=&work=]: an owner's leaf and proof (service/claims.ts builds it). */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { ClaimProofError, type OwnerClaim } from "../../service/claims.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

export function ownerRoutes({ claims }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.owner),
      schema: {
        params: S.OWNER_PARAMS,
        querystring: S.OWNER_QUERY,
        response: { 200: S.OWNER_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        if (claims === undefined)
          throw new HttpError(503, "no chain configured: the live root is unknown", "no_chain");
        let c: OwnerClaim;
        try {
          const { epoch, work } = request.query;
          c = await claims.forOwner(
            request.params.address,
            epoch === undefined ? undefined : BigInt(epoch),
            work ?? "coverage",
          );
        } catch (e) {
          if (e instanceof ClaimProofError) throw new HttpError(e.status, e.message, e.code);
          throw e;
        }
        return {
          owner: c.owner,
          work: c.work,
          epoch: c.epoch.toString(),
          root: c.root,
          status: c.status,
          cumulative: c.cumulative.toString(),
          claimed: c.claimed.toString(),
          claimable: c.claimable.toString(),
          proof: [...c.proof],
        };
      },
    });
  };
}
