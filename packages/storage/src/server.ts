/**
 * The provider agent's HTTP API (Fastify):
 *
 *   PUT /v1/pieces/:root                  the piece's bytes (Content-Length = its size); 201 {piece}
 *   GET /v1/pieces/:root                  {piece}: root, size, leafCount, height, receivedAt
 *   GET /v1/pieces/:root/range?leaf=&count=   a range answer (@hexmesh/protocol verifyPieceRange)
 *   GET /v1/pieces/:root/bytes            the bytes; honours `Range: bytes=a-b` (206, one range)
 *   GET /v1/health                        {ok, provider, deviceId, lastTick, lastError} (the chain loop's)
 *
 * Errors: `{ error: { code, message } }` with codes 400 bad_root, bad_range, size_mismatch,
 * root_mismatch; 404 unknown_piece; 411 length_required; 413 piece_too_large; 416 bad_byte_range;
 * 500 piece_damaged. Every body is taken as raw bytes, whatever its Content-Type.
 */
import type { Readable } from "node:stream";

import Fastify, { type FastifyInstance } from "fastify";
import rangeParser from "range-parser";

import { MAX_RANGE_LEAVES } from "@hexmesh/protocol";

import { StorageError } from "./errors.js";
import { parseRoot, type PieceStore } from "./store.js";

export interface ServerOptions {
  store: PieceStore;
  /** Largest piece accepted, bytes. */
  maxPieceBytes: number;
  /** Extra fields for /v1/health (the chain loop's status). */
  health?: () => Record<string, unknown>;
}

function integerParam(value: unknown, name: string): number {
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,14})$/.test(value)) {
    throw new StorageError(400, "bad_range", `${name} must be a non-negative integer`);
  }
  return Number(value);
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const { store } = options;
  const app = Fastify({ logger: false, bodyLimit: options.maxPieceBytes });
  // Every body is a piece's raw bytes, streamed to the handler unparsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof StorageError) {
      return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const code =
      status === 413
        ? "piece_too_large"
        : status === 415
          ? "unsupported_media_type"
          : status < 500
            ? "bad_request"
            : "internal";
    return reply.code(status).send({ error: { code, message: (error as Error).message } });
  });

  app.put<{ Params: { root: string } }>("/v1/pieces/:root", async (request, reply) => {
    const root = parseRoot(request.params.root);
    const header = request.headers["content-length"];
    if (header === undefined)
      throw new StorageError(411, "length_required", "send the piece's size as Content-Length");
    const size = Number(header);
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new StorageError(
        400,
        "size_mismatch",
        `Content-Length must be a positive integer, got ${header}`,
      );
    }
    if (size > options.maxPieceBytes) {
      throw new StorageError(
        413,
        "piece_too_large",
        `pieces are at most ${options.maxPieceBytes} bytes here`,
      );
    }
    const piece = await store.receive(root, size, request.body as Readable);
    return reply.code(201).send(piece);
  });

  app.get<{ Params: { root: string } }>("/v1/pieces/:root", async (request) =>
    store.meta(request.params.root),
  );

  app.get<{ Params: { root: string }; Querystring: { leaf?: string; count?: string } }>(
    "/v1/pieces/:root/range",
    async (request) => {
      const leaf = integerParam(request.query.leaf, "leaf");
      const count = request.query.count === undefined ? 1 : integerParam(request.query.count, "count");
      if (count < 1 || count > MAX_RANGE_LEAVES) {
        throw new StorageError(400, "bad_range", `count must be 1 to ${MAX_RANGE_LEAVES}`);
      }
      return store.range(request.params.root, leaf, count);
    },
  );

  app.get<{ Params: { root: string } }>("/v1/pieces/:root/bytes", async (request, reply) => {
    const piece = await store.meta(request.params.root);
    const header = request.headers.range;
    reply.header("accept-ranges", "bytes").header("content-type", "application/octet-stream");
    if (header === undefined) {
      reply.header("content-length", piece.size);
      return reply.send(await store.bytes(piece.root, 0, piece.size - 1));
    }
    const ranges = rangeParser(piece.size, header, { combine: true });
    if (ranges === -1 || ranges === -2 || ranges.type !== "bytes" || ranges.length !== 1) {
      reply.header("content-range", `bytes */${piece.size}`);
      throw new StorageError(
        416,
        "bad_byte_range",
        `one satisfiable byte range of ${piece.size} bytes, please`,
      );
    }
    const { start, end } = ranges[0]!;
    reply
      .code(206)
      .header("content-range", `bytes ${start}-${end}/${piece.size}`)
      .header("content-length", end - start + 1);
    return reply.send(await store.bytes(piece.root, start, end));
  });

  app.get("/v1/health", async () => ({ ok: true, ...(options.health?.() ?? {}) }));
  return app;
}
