/**
 * Coverage data transfer: POST /v1/receipts (routers' packet receipts, answered per receipt in order)
 * and GET /v1/epochs/:epoch/settlement (this oracle's settlement of an epoch and its signature, what
 * peers collect). Both answer 503 `no_data_transfer` on an oracle configured without a
 * DataTransferSettlement (chain.addresses.dataTransfer). See service/settlement.ts.
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

export function receiptRoutes({ dataTransfer, store, limits }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  const required = () => {
    if (dataTransfer === undefined)
      throw new HttpError(
        503,
        "this oracle takes no packet receipts (no chain.addresses.dataTransfer configured)",
        "no_data_transfer",
      );
    return dataTransfer;
  };
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.submitReceipts),
      schema: {
        body: S.submitReceiptsBody(limits.batchMax),
        response: { 200: S.SUBMIT_RECEIPTS_RESPONSE, ...ERROR_RESPONSES },
      },
      config: { rateLimit: { max: limits.batchesPerMinute, timeWindow: 60_000, hook: "preHandler" } },
      handler: async (request) => {
        const results = await required().submit(request.body.receipts);
        const accepted = results.filter((r) => r.status === "accepted").length;
        return { accepted, refused: results.length - accepted, results };
      },
    });

    app.route({
      ...endpoint(ROUTES.epochSettlement),
      schema: { params: S.EPOCH_PARAMS, response: { 200: S.SETTLEMENT_RESPONSE, ...ERROR_RESPONSES } },
      handler: async (request) => {
        const dt = required();
        const epoch = BigInt(request.params.epoch);
        const s = await store.getSettlement(epoch);
        if (s === null)
          throw new HttpError(
            404,
            `this oracle has not built the settlement of epoch ${epoch}`,
            "not_settled",
          );
        const own = (await store.settlementSignatures(epoch)).filter((x) => x.signer === dt.signer).at(-1);
        return {
          epoch: s.epoch.toString(),
          entriesHash: s.entriesHash,
          entries: s.entries.map((e) => ({
            router: e.router,
            provider: e.provider,
            credits: e.credits.toString(),
          })),
          receipts: s.receipts,
          unknownHotspot: s.unknownHotspot,
          credits: s.credits.toString(),
          creditsPerPacket: s.creditsPerPacket.toString(),
          snapshotBlock: s.snapshotBlock,
          ...(s.txHash !== null ? { txHash: s.txHash } : {}),
          ...(own !== undefined
            ? {
                signature: {
                  signer: own.signer,
                  signature: own.signature,
                  oracleSetVersion: own.oracleSetVersion.toString(),
                },
              }
            : {}),
        };
      },
    });
  };
}
