/**
 * The client side: cut a file into pieces and upload them to a provider agent (each piece's root
 * computed locally by streaming it through @hexmesh/protocol's PieceTreeBuilder before it is sent),
 * and download pieces back, recomputing each root while the bytes stream to disk and refusing (and
 * deleting the file) on a mismatch. Nothing holds a whole piece in memory.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { PieceTreeBuilder, type PieceRoot } from "@hexmesh/protocol";

import { StorageError } from "./errors.js";

/** Default piece size: 64 MiB. */
export const DEFAULT_PIECE_SIZE = 64 * 1024 * 1024;

/** A file's pieces, in order: what `upload` prints and `deal add-pieces` and `download` read. */
export interface Manifest {
  file: string;
  size: number;
  pieceSize: number;
  pieces: { root: string; size: number; offset: number }[];
}

/** Roots a byte range of a file by streaming it through the builder. */
export async function rootOfFileRange(file: string, offset: number, size: number): Promise<PieceRoot> {
  const builder = new PieceTreeBuilder(size);
  for await (const chunk of createReadStream(file, {
    start: offset,
    end: offset + size - 1,
    highWaterMark: 1 << 20,
  })) {
    builder.update(chunk as Buffer);
  }
  return builder.finish();
}

/** The file's pieces with their roots (computed locally), without sending anything. */
export async function manifestOf(file: string, pieceSize = DEFAULT_PIECE_SIZE): Promise<Manifest> {
  const { size } = await stat(file);
  if (size === 0)
    throw new StorageError(400, "empty_file", `${file} is empty: a piece has at least one byte`);
  const pieces: Manifest["pieces"] = [];
  for (let offset = 0; offset < size; offset += pieceSize) {
    const length = Math.min(pieceSize, size - offset);
    const { root } = await rootOfFileRange(file, offset, length);
    pieces.push({ root, size: length, offset });
  }
  return { file, size, pieceSize, pieces };
}

/** A JSON error body's code and message, or the status line. */
async function errorOf(res: http.IncomingMessage): Promise<StorageError> {
  let text = "";
  for await (const chunk of res) text += (chunk as Buffer).toString();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code)
      return new StorageError(res.statusCode ?? 500, body.error.code, body.error.message ?? "");
  } catch {
    // not JSON
  }
  return new StorageError(
    res.statusCode ?? 500,
    "http_error",
    `HTTP ${res.statusCode}: ${text.slice(0, 200)}`,
  );
}

/** One HTTP request with an optional streamed body; resolves with the response (not yet read). */
function request(
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  body?: Readable,
): Promise<http.IncomingMessage> {
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers }, resolve);
    req.on("error", reject);
    if (body) {
      body.on("error", (e) => req.destroy(e));
      body.pipe(req);
    } else {
      req.end();
    }
  });
}

function pieceUrl(provider: string, root: string, suffix = ""): URL {
  return new URL(`v1/pieces/${root}${suffix}`, provider.endsWith("/") ? provider : provider + "/");
}

/** Uploads one piece (a byte range of a file) to a provider agent. */
export async function uploadPiece(
  provider: string,
  file: string,
  piece: { root: string; size: number; offset: number },
): Promise<void> {
  const body = createReadStream(file, {
    start: piece.offset,
    end: piece.offset + piece.size - 1,
    highWaterMark: 1 << 20,
  });
  const res = await request(
    pieceUrl(provider, piece.root),
    "PUT",
    { "content-type": "application/octet-stream", "content-length": piece.size },
    body,
  );
  if (res.statusCode !== 201) throw await errorOf(res);
  res.resume();
}

/** Roots a file's pieces locally and uploads each to the provider agent. */
export async function uploadFile(
  provider: string,
  file: string,
  pieceSize = DEFAULT_PIECE_SIZE,
): Promise<Manifest> {
  const manifest = await manifestOf(file, pieceSize);
  for (const piece of manifest.pieces) await uploadPiece(provider, file, piece);
  return manifest;
}

/**
 * Downloads a piece into `out` (appending at `position` when given, for a multi-piece file),
 * recomputing its root on the way; on a mismatch the output file is deleted and a `root_mismatch`
 * StorageError thrown.
 */
export async function downloadPiece(
  provider: string,
  root: string,
  out: string,
  options: { size?: number; append?: boolean } = {},
): Promise<PieceRoot> {
  const res = await request(pieceUrl(provider, root, "/bytes"), "GET", {});
  if (res.statusCode !== 200) throw await errorOf(res);
  const size = Number(res.headers["content-length"]);
  if (!Number.isSafeInteger(size) || size < 1 || (options.size !== undefined && size !== options.size)) {
    res.destroy();
    throw new StorageError(502, "size_mismatch", `the provider sends ${size} bytes for ${root}`);
  }
  const builder = new PieceTreeBuilder(size);
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        builder.update(chunk);
        done(null, chunk);
      } catch (e) {
        done(e as Error);
      }
    },
  });
  try {
    await pipeline(res, hasher, createWriteStream(out, { flags: options.append ? "a" : "w" }));
    const got = builder.finish();
    if (got.root !== root.toLowerCase()) {
      throw new StorageError(502, "root_mismatch", `the bytes received root to ${got.root}, not ${root}`);
    }
    return got;
  } catch (e) {
    await rm(out, { force: true });
    if (e instanceof StorageError) throw e;
    throw new StorageError(502, "download_failed", `downloading ${root}: ${(e as Error).message}`);
  }
}

/** Downloads every piece of a manifest, in order, into one file (deleted if any piece fails). */
export async function downloadFile(provider: string, manifest: Manifest, out: string): Promise<void> {
  await rm(out, { force: true });
  for (const [i, piece] of manifest.pieces.entries()) {
    await downloadPiece(provider, piece.root, out, { size: piece.size, append: i > 0 });
  }
}
