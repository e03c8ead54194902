/**
 * GET /v1/epochs/:epoch/results (streamed JSON) and /v1/epochs/:epoch/encoding (the canonical bytes):
 * an epoch's published result set (service/results.ts), for a pending root as for a live one, of
 * `?work=coverage|storage|compute` (default coverage). Both
 * are immutable once the epoch is computed (the store refuses a different root), so they carry an
 * ETag from the dataHash and `Cache-Control: immutable`, and answer 304 to a matching If-None-Match.
 */
import { Readable } from "node:stream";

import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FastifyReply, FastifyRequest } from "fastify";

import { ResultSetError, ResultSetPrunedError, type PublishedResultSet } from "../../service/results.js";
import { WorkNotServedError } from "../../service/work.js";
import type { WorkKind } from "../../store/types.js";
import { RESULT_HEADERS, ROUTES } from "../routes.js";
import * as S from "../schemas.js";
import type { ApiDeps } from "../server.js";
import { endpoint, ERROR_RESPONSES, HttpError } from "./shared.js";

/** Rows per streamed chunk. */
const ROWS_PER_CHUNK = 2_000;
const IMMUTABLE = "public, max-age=31536000, immutable";

const word = (v: bigint) => `0x${v.toString(16).padStart(64, "0")}`;

/** The results document, a piece at a time (a million owners never sit in one string). */
function* resultsJson({ stored, result }: PublishedResultSet): Generator<string> {
  const { payout, work, commit, chain } = result;
  const index = chain.index;
  const s = stored.summary;
  const head = {
    epoch: stored.epoch.toString(),
    root: stored.root,
    dataHash: stored.dataHash,
    totalCumulative: stored.totalCumulative.toString(),
    encodingBytes: commit.byteLength,
    kind: work.kind,
    chainId: index.chainId.toString(),
    registry: index.registry,
    epochStart: index.epochStart,
    epochEnd: index.epochEnd,
    pool: index.pool.toString(),
    pools: work.pools.map((p, i) => ({
      name: p.name,
      bps: p.bps,
      amount: payout.poolAmounts[i]!.toString(),
    })),
    distributed: payout.distributed.toString(),
    dust: payout.dust.toString(),
    verdicts: {
      reports: s.reports,
      valid: s.valid,
      beacons: s.beacons,
      witnesses: s.witnesses,
      rejected: s.rejected,
    },
    metricNames: [...work.metricNames],
    encodingVersion: payout.usage === null ? 1 : 2,
    ...(payout.usage === null ? {} : { usage: usageJson(result) }),
  };
  yield `${JSON.stringify(head).slice(0, -1)},"owners":[`;
  const tree = commit.tree;
  for (let i = 0; i < payout.owners.length; i += ROWS_PER_CHUNK) {
    const rows = payout.owners.slice(i, i + ROWS_PER_CHUNK).map((o, k) =>
      JSON.stringify({
        owner: o.owner,
        leafIndex: tree!.leafIndexAt(i + k),
        amount: o.amount.toString(),
        cumulative: o.cumulative.toString(),
      }),
    );
    yield (i === 0 ? "" : ",") + rows.join(",");
  }
  yield `],"devices":[`;
  for (let i = 0; i < payout.devices.length; i += ROWS_PER_CHUNK) {
    const rows = payout.devices.slice(i, i + ROWS_PER_CHUNK).map((d) =>
      JSON.stringify({
        id: word(d.deviceId),
        owner: d.owner,
        bonded: d.bonded,
        metrics: d.metrics.map(String),
        weights: d.weights.map(String),
        reward: d.amount.toString(),
      }),
    );
    yield (i === 0 ? "" : ",") + rows.join(",");
  }
  yield "]}";
}

/** The usage section of the results document (only with usage records). */
function usageJson({ payout, chain, work }: PublishedResultSet["result"]) {
  const u = payout.usage!;
  const scores = work.usageScores;
  const index = chain.index.usage!;
  return {
    subnetwork: index.subnetwork,
    price: index.price.toString(),
    priceBlock: index.priceBlock,
    shareBps: u.params.shareBps,
    feeBps: u.params.feeBps,
    usagePool: u.usagePool.toString(),
    totalValue: u.totalValue.toString(),
    paid: u.paid.toString(),
    records: chain.usageRecords.map((r) => ({
      block: r.block,
      logIndex: r.logIndex,
      provider: r.provider,
      account: r.account,
      credits: r.credits.toString(),
    })),
    providers: u.providers.map((p) => {
      const score = scores?.get(p.provider);
      return {
        provider: p.provider,
        credits: p.credits.toString(),
        value: p.value.toString(),
        reward: p.reward.toString(),
        // what an auditor needs to check a scaled value (the encoding holds no scores)
        ...(score !== undefined ? { score } : {}),
      };
    }),
  };
}

/** True when If-None-Match names `etag` (or is `*`). */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers["if-none-match"];
  if (header === undefined) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}

export function resultRoutes({ results }: ApiDeps): FastifyPluginAsyncJsonSchemaToTs {
  const load = async (epoch: bigint, work: WorkKind = "coverage"): Promise<PublishedResultSet> => {
    if (results === undefined)
      throw new HttpError(503, "this node publishes no result sets (no store of results)", "no_result_sets");
    let set: PublishedResultSet | null;
    try {
      set = await results.get(epoch, work);
    } catch (e) {
      if (e instanceof ResultSetError) throw new HttpError(500, e.message, "result_set_unreproducible");
      if (e instanceof ResultSetPrunedError) throw new HttpError(410, e.message, "pruned");
      if (e instanceof WorkNotServedError) throw new HttpError(404, e.message, "work_not_served");
      throw e;
    }
    if (set === null)
      throw new HttpError(
        404,
        `${work === "coverage" ? "" : `${work} `}epoch ${epoch} has not been closed by this oracle`,
        "epoch_not_closed",
      );
    return set;
  };
  /** Sets the caching and identity headers; true when the client's copy is current (304 sent). */
  const headers = (request: FastifyRequest, reply: FastifyReply, set: PublishedResultSet, what: string) => {
    const etag = `"${set.stored.dataHash}.${what}"`;
    void reply
      .header("etag", etag)
      .header("cache-control", IMMUTABLE)
      .header(RESULT_HEADERS.epoch, set.stored.epoch.toString())
      .header(RESULT_HEADERS.root, set.stored.root)
      .header(RESULT_HEADERS.dataHash, set.stored.dataHash);
    return notModified(request, etag);
  };

  return async (app) => {
    app.route({
      ...endpoint(ROUTES.epochResults),
      schema: {
        params: S.EPOCH_PARAMS,
        querystring: S.WORK_QUERY,
        response: { 200: S.RESULTS_RESPONSE, ...ERROR_RESPONSES, 500: S.ERROR },
      },
      handler: async (request, reply) => {
        const set = await load(BigInt(request.params.epoch), request.query.work);
        // The body is a stream (not serialised by the schema), so the reply is used untyped.
        const raw = reply as FastifyReply;
        if (headers(request, raw, set, "json")) return raw.code(304).send();
        return raw.type("application/json; charset=utf-8").send(Readable.from(resultsJson(set)));
      },
    });

    app.route({
      ...endpoint(ROUTES.epochEncoding),
      schema: {
        params: S.EPOCH_PARAMS,
        querystring: S.WORK_QUERY,
        response: { ...ERROR_RESPONSES, 500: S.ERROR },
      },
      handler: async (request, reply) => {
        const set = await load(BigInt(request.params.epoch), request.query.work);
        const raw = reply as FastifyReply;
        if (headers(request, raw, set, "bin")) return raw.code(304).send();
        const { commit } = set.result;
        return raw
          .type("application/octet-stream")
          .header("content-length", commit.byteLength)
          .send(Readable.from(bufferChunks(commit.encoding)));
      },
    });
  };
}

/** The encoding's chunks as Buffers, built as the response reads them (the record is not held). */
function* bufferChunks(chunks: Iterable<Uint8Array>): Generator<Buffer> {
  for (const c of chunks) yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}
