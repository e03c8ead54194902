/**
 * The storage oracle's probe results: GET /v1/storage/retrievals (filtered by data set, device or
 * provider) and GET /v1/storage/providers/:address (its retrieval score per device, overall, and its
 * latest results), read from the store's storage tables (empty on an oracle that does not probe); and
 * GET /v1/storage/suspensions?day= (this oracle's signed suspension proposals: what peers collect;
 * 503 no_storage_oracle without `storage` configured).
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { providerScore, scoresOf } from "../../storage/score.js";
import { proposalToJson } from "../../storage/service.js";
import { StorageStore, type StoredRetrieval } from "../../storage/store.js";
import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

function retrievalJson(r: StoredRetrieval) {
  return {
    dataSet: r.dataSetId.toString(),
    day: r.day.toString(),
    device: r.deviceId.toString(),
    provider: r.provider,
    pieceRoot: r.pieceRoot,
    firstLeaf: r.firstLeaf.toString(),
    count: r.count,
    outcome: r.outcome,
    answerHash: r.answerHash,
    detail: r.detail,
    latencyMs: r.latencyMs,
    probedAt: r.probedAt,
    signer: r.signer,
    signature: r.signature.toLowerCase(),
  };
}

export function storageRoutes({ store, storageProposals }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  const storage = new StorageStore(store.storageSql());
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.storageRetrievals),
      schema: {
        querystring: S.STORAGE_RETRIEVALS_QUERY,
        response: { 200: S.STORAGE_RETRIEVALS_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const q = request.query;
        const rows = await storage.retrievals({
          ...(q.dataSet !== undefined ? { dataSetId: BigInt(q.dataSet) } : {}),
          ...(q.device !== undefined ? { deviceId: BigInt(q.device) } : {}),
          ...(q.provider !== undefined ? { provider: q.provider } : {}),
          limit: q.limit,
        });
        return { retrievals: rows.map(retrievalJson) };
      },
    });

    app.route({
      ...endpoint(ROUTES.storageProvider),
      schema: {
        params: S.STORAGE_PROVIDER_PARAMS,
        response: { 200: S.STORAGE_PROVIDER_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const provider = request.params.address.toLowerCase();
        const all = scoresOf(await storage.retrievalsThrough(BigInt(Number.MAX_SAFE_INTEGER)));
        const mine = all.filter((s) => s.provider === provider);
        return {
          provider,
          score: providerScore(all, provider),
          devices: mine.map((s) => ({
            device: s.deviceId.toString(),
            score: s.score,
            probes: s.probes,
            failures: s.failures,
            scaled: s.scaled,
            suspend: s.suspend,
          })),
          retrievals: (await storage.retrievals({ provider, limit: 100 })).map(retrievalJson),
        };
      },
    });

    app.route({
      ...endpoint(ROUTES.storageSuspensions),
      schema: {
        querystring: S.STORAGE_SUSPENSIONS_QUERY,
        response: { 200: S.STORAGE_SUSPENSIONS_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        if (storageProposals === undefined)
          throw new HttpError(
            503,
            "this oracle does no storage work (no storage configured)",
            "no_storage_oracle",
          );
        const day = BigInt(request.query.day);
        return { day: day.toString(), proposals: (await storageProposals(day)).map(proposalToJson) };
      },
    });
  };
}
