/**
 * The blob server: content-addressed bytes over HTTP, the way customers hand programs and inputs to
 * providers and providers hand outputs back.
 *
 *   PUT /v1/blobs/:hash   body: the bytes (application/octet-stream); stored only if keccak256(body)
 *                         is :hash (201 new, 200 already held)
 *   GET /v1/blobs/:hash   the bytes (200), checked against :hash when read from disk
 *   GET /v1/health        {"ok": true}
 *
 * Errors are JSON `{statusCode, error, message, code}` with `code` one of BLOB_ERROR_CODES.
 */
import { STATUS_CODES } from "node:http";

import Fastify, { type FastifyError, type FastifyInstance } from "fastify";

import { contentHash, isHexBytes, type Hex } from "@hexmesh/protocol";

import { JobError } from "../errors.js";
import { FileContentStore } from "../store.js";

/** Why a blob request was refused. */
export const BLOB_ERROR_CODES = {
  "bad-hash": "the path's hash is not 0x and 64 hex digits",
  "hash-mismatch": "the body does not hash (keccak256) to the path's hash",
  "not-found": "no blob with this hash is held",
  "too-large": "the body is larger than the server's limit",
  "bad-content-type": "the body is not application/octet-stream",
  "content-mismatch": "the stored file no longer hashes to its name (disk corruption or tampering)",
  "read-only": "this server only serves blobs (a provider agent's: its outputs)",
} as const;
export type BlobErrorCode = keyof typeof BLOB_ERROR_CODES;

export interface BlobServerOptions {
  /** Where blobs are kept: a FileContentStore directory. */
  readonly dir: string;
  /** Largest blob accepted by PUT, bytes. */
  readonly maxBytes: number;
  /** Refuse PUT (405 read-only): the provider agent's server serves its own outputs, nobody else's. */
  readonly readOnly?: boolean;
}

export const DEFAULT_BLOB_MAX_BYTES = 64 * 1024 * 1024;

class BlobHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: BlobErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function hashParam(raw: string): Hex {
  const hash = raw.toLowerCase();
  if (!isHexBytes(hash, 32)) throw new BlobHttpError(400, "bad-hash", `not a 32-byte hash: ${raw}`);
  return hash as Hex;
}

/** A Fastify app serving `store` (not listening yet: the caller listens). */
export function buildBlobServer(options: BlobServerOptions): {
  app: FastifyInstance;
  store: FileContentStore;
} {
  const store = new FileContentStore(options.dir);
  const app = Fastify({ logger: false, bodyLimit: options.maxBytes });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((error: FastifyError | BlobHttpError, _request, reply) => {
    let status = error.statusCode ?? 500;
    let code: string;
    if (error instanceof BlobHttpError) code = error.code;
    else if (error instanceof JobError) {
      status = error.code === "not-found" ? 404 : 500;
      code = error.code;
    } else if (status === 413) code = "too-large";
    else if (status === 415) code = "bad-content-type";
    else code = status >= 500 ? "internal" : "bad-request";
    void reply
      .status(status)
      .send({ statusCode: status, error: STATUS_CODES[status] ?? "Error", message: error.message, code });
  });

  app.get("/v1/health", async () => ({ ok: true }));

  app.get<{ Params: { hash: string } }>("/v1/blobs/:hash", async (request, reply) => {
    const hash = hashParam(request.params.hash);
    const bytes = await store.get(hash);
    return reply.header("content-type", "application/octet-stream").send(Buffer.from(bytes));
  });

  app.put<{ Params: { hash: string }; Body: Buffer }>("/v1/blobs/:hash", async (request, reply) => {
    if (options.readOnly === true) throw new BlobHttpError(405, "read-only", BLOB_ERROR_CODES["read-only"]);
    const hash = hashParam(request.params.hash);
    if (!Buffer.isBuffer(request.body))
      throw new BlobHttpError(415, "bad-content-type", "send the bytes as application/octet-stream");
    const bytes = new Uint8Array(request.body);
    const actual = contentHash(bytes);
    if (actual !== hash)
      throw new BlobHttpError(400, "hash-mismatch", `the body hashes to ${actual}, not ${hash}`);
    const held = await store.has(hash);
    if (!held) await store.put(bytes);
    return reply.status(held ? 200 : 201).send({ hash, bytes: bytes.length });
  });
  return { app, store };
}

/** Starts a blob server on host:port (0: any free port); its base URL. */
export async function startBlobServer(
  options: BlobServerOptions & { host: string; port: number },
): Promise<{ url: string; store: FileContentStore; close(): Promise<void> }> {
  const { app, store } = buildBlobServer(options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return { url: `http://${host}:${port}`, store, close: () => app.close() };
}
