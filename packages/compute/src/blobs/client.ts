/**
 * The blob server's client: upload bytes under their hash, and fetch bytes by hash from the first of
 * several servers that holds them, refusing any that do not hash to what was asked.
 */
import { contentHash, type Hex } from "@hexmesh/protocol";

import { JobError } from "../errors.js";
import type { ContentStore, FileContentStore } from "../store.js";

const blobUrl = (base: string, hash: Hex) => `${base.replace(/\/+$/, "")}/v1/blobs/${hash}`;

export class BlobTransferError extends Error {
  override readonly name = "BlobTransferError";
}

/** Uploads `bytes` to the blob server at `base`; their hash. */
export async function putBlob(base: string, bytes: Uint8Array, timeoutMs = 60_000): Promise<Hex> {
  const hash = contentHash(bytes);
  let response: Response;
  try {
    response = await fetch(blobUrl(base, hash), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new BlobTransferError(`cannot reach the blob server ${base}: ${(e as Error).message}`);
  }
  if (response.status !== 200 && response.status !== 201)
    throw new BlobTransferError(
      `the blob server ${base} refused ${hash}: ${response.status} ${await response.text()}`,
    );
  return hash;
}

/**
 * Fetches the blob `hash` from the first server in `bases` that has it and whose bytes hash to it.
 * A server that does not have it, is unreachable or sends other bytes is skipped (each reason is
 * kept for the error); none: JobError "not-found" (or "content-mismatch" if a server sent wrong bytes).
 */
export async function fetchBlob(
  bases: readonly string[],
  hash: Hex,
  options: { maxBytes?: number; timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const problems: string[] = [];
  let mismatch = false;
  for (const base of bases) {
    try {
      const response = await fetch(blobUrl(base, hash), {
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
      if (!response.ok) {
        problems.push(`${base}: ${response.status}`);
        continue;
      }
      const declared = Number(response.headers.get("content-length") ?? "0");
      if (options.maxBytes !== undefined && declared > options.maxBytes) {
        problems.push(`${base}: ${declared} bytes, over the limit ${options.maxBytes}`);
        continue;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
        problems.push(`${base}: ${bytes.length} bytes, over the limit ${options.maxBytes}`);
        continue;
      }
      const actual = contentHash(bytes);
      if (actual !== hash) {
        mismatch = true;
        problems.push(`${base}: sent bytes hashing to ${actual}`);
        continue;
      }
      return bytes;
    } catch (e) {
      problems.push(`${base}: ${(e as Error).message}`);
    }
  }
  throw new JobError(
    mismatch ? "content-mismatch" : "not-found",
    `no blob server had ${hash} (${problems.join("; ") || "no servers given"})`,
  );
}

/**
 * A ContentStore over blob servers with a local cache: what is fetched is checked, then kept in
 * `cache`, so a job resumed after a crash does not fetch its program again.
 */
export class HttpContentStore implements ContentStore {
  constructor(
    readonly bases: readonly string[],
    readonly cache: FileContentStore,
    readonly maxBytes?: number,
  ) {}

  async get(hash: Hex): Promise<Uint8Array> {
    if (await this.cache.has(hash)) return this.cache.get(hash);
    const bytes = await fetchBlob(
      this.bases,
      hash,
      this.maxBytes !== undefined ? { maxBytes: this.maxBytes } : {},
    );
    await this.cache.put(bytes);
    return bytes;
  }
}
