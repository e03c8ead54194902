/**
 * A long list stored as JSON chunks, one row each, written and read back one chunk at a time (both
 * backends): a chain index's devices (chain-index.ts) and an epoch result's owners. One JSON value
 * per list stopped scaling: a 1.44M-device chain index was ~521 million characters (V8's strings
 * end at ~537 million), and a 1.44M-owner result's ~194 MB value cost the verdict write ~4 times
 * that at once (the string, its builder, the driver's UTF-8 copy and SQLite's). A chunk is a few MB.
 */
import { fromJson, toJson } from "./json.js";

/** Items per stored chunk. */
export const LIST_CHUNK = 16_384;

/** The chunks a list is stored as: how many, and the text of each (made when asked for). */
export interface ChunkedList {
  readonly chunks: number;
  chunk(i: number): string;
}

export function chunkedList(items: readonly unknown[]): ChunkedList {
  return {
    chunks: Math.ceil(items.length / LIST_CHUNK),
    chunk: (i) => toJson(items.slice(i * LIST_CHUNK, (i + 1) * LIST_CHUNK)),
  };
}

/**
 * The list stored as `chunks` chunks, given their texts in order (undefined: a chunk is missing,
 * an error naming `what`: "<what> chunk i of n is missing").
 */
export function listFromChunks<T>(
  what: string,
  chunks: number,
  text: (i: number) => string | undefined,
): T[] {
  const items: T[] = [];
  for (let i = 0; i < chunks; i++) addChunk(items, what, i, chunks, text(i));
  return items;
}

/** The same with chunks read asynchronously (PostgreSQL). */
export async function listFromChunksAsync<T>(
  what: string,
  chunks: number,
  text: (i: number) => Promise<string | undefined>,
): Promise<T[]> {
  const items: T[] = [];
  for (let i = 0; i < chunks; i++) addChunk(items, what, i, chunks, await text(i));
  return items;
}

function addChunk<T>(items: T[], what: string, i: number, chunks: number, text: string | undefined): void {
  if (text === undefined) throw new Error(`${what} chunk ${i} of ${chunks} is missing`);
  for (const item of fromJson<T[]>(text)) items.push(item);
}
