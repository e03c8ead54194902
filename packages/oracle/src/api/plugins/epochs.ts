/**
 * GET /v1/epochs/:epoch (summary and post status) and /v1/epochs/:epoch/signature (this oracle's), each
 * for `?work=coverage|storage|compute` (default coverage).
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

export function epochRoutes({ store, ownSignature }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  return async (app) => {
    app.route({
      ...endpoint(ROUTES.epoch),
      schema: {
        params: S.EPOCH_PARAMS,
        querystring: S.WORK_QUERY,
        response: { 200: S.EPOCH_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const epoch = BigInt(request.params.epoch);
        const work = request.query.work ?? "coverage";
        const r = await store.getEpochResult(epoch, work);
        if (r === null)
          throw new HttpError(
            404,
            `${work === "coverage" ? "" : `${work} `}epoch ${epoch} has not been closed by this oracle`,
            "epoch_not_closed",
          );
        const [post, attempts] = await Promise.all([
          store.getPostStatus(epoch, work),
          store.postAttempts(epoch, work),
        ]);
        const { usage, ...summary } = r.summary;
        return {
          epoch: r.epoch.toString(),
          root: r.root,
          totalCumulative: r.totalCumulative.toString(),
          dataHash: r.dataHash,
          snapshotBlock: r.snapshotBlock,
          computedAt: r.computedAt,
          summary: {
            ...summary,
            ...(usage !== undefined ? { usage: { ...usage, providers: [...usage.providers] } } : {}),
          },
          post:
            post === null
              ? null
              : { status: post.status, txHash: post.txHash, detail: post.detail, updatedAt: post.updatedAt },
          postAttempts: attempts.map((a) => ({
            seq: a.seq,
            outcome: a.outcome,
            txHash: a.txHash,
            block: a.block,
            gasUsed: a.gasUsed === null ? null : a.gasUsed.toString(),
            detail: a.detail,
            attemptedAt: a.attemptedAt,
          })),
        };
      },
    });

    app.route({
      ...endpoint(ROUTES.epochSignature),
      schema: {
        params: S.EPOCH_PARAMS,
        querystring: S.WORK_QUERY,
        response: { 200: S.SIGNATURE_RESPONSE, ...ERROR_RESPONSES },
      },
      handler: async (request) => {
        const epoch = BigInt(request.params.epoch);
        const work = request.query.work ?? "coverage";
        const s = ownSignature === undefined ? null : await ownSignature(epoch, work);
        if (s === null)
          throw new HttpError(
            404,
            `this oracle has not signed ${work === "coverage" ? "" : `${work} `}epoch ${epoch}`,
            "not_signed",
          );
        return {
          epoch: s.epoch.toString(),
          signer: s.signer,
          signature: s.signature,
          root: s.root,
          oracleSetVersion: s.oracleSetVersion.toString(),
        };
      },
    });
  };
}
