/** GET /v1/devices/:keyId/results: a device's verdicts with reasons (`?epoch=&limit=`). */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { Hex } from "@hexmesh/protocol";

import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES } from "./shared.js";

export function deviceRoutes({ store }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.deviceResults),
      schema: {
        params: S.DEVICE_PARAMS,
        querystring: S.DEVICE_QUERY,
        response: { 200: S.DEVICE_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
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
    });
  };
}
