/**
 * How a chain index is stored (both backends): the index without its devices as one JSON value in
 * chain_index.data, and its devices in chunks (chunked.ts), one JSON array per chain_index_devices
 * row, read back one chunk at a time. One value per index stopped scaling: at 1.44M devices its
 * text was ~521 million characters (V8's strings end at ~537 million) and ~0.5 GB of heap on its
 * own while parsed; a chunk is ~6 MB.
 */
import type { DeviceRecord } from "@hexmesh/protocol";

import { chunkedList, LIST_CHUNK, listFromChunks, listFromChunksAsync } from "./chunked.js";
import { fromJson, toJson } from "./json.js";
import type { StoredChainIndex } from "./types.js";

/** Devices per stored chunk. */
export const CHAIN_INDEX_CHUNK = LIST_CHUNK;

/** The rows `index` is stored as: the index without devices, and its devices' chunks in order. */
export function chainIndexRows(index: StoredChainIndex): {
  data: string;
  chunks: number;
  chunk(i: number): string;
} {
  return { data: toJson({ ...index, devices: [] }), ...chunkedList(index.devices) };
}

/**
 * The index stored as `data` with `chunks` device chunks (null: a row written before migration 13,
 * its devices inside data), given the chunk texts in order (undefined: a chunk is missing). The
 * caller reads them in one transaction, so a concurrent putChainIndex is seen whole or not at all.
 */
export function chainIndexFromRows(
  epoch: bigint,
  data: string,
  chunks: number | null,
  texts: (i: number) => string | undefined,
): StoredChainIndex {
  const head = fromJson<StoredChainIndex>(data);
  if (chunks === null) return head;
  return { ...head, devices: listFromChunks<DeviceRecord>(devicesOf(epoch), chunks, texts) };
}

/** The same with chunks read asynchronously (PostgreSQL). */
export async function chainIndexFromRowsAsync(
  epoch: bigint,
  data: string,
  chunks: number | null,
  texts: (i: number) => Promise<string | undefined>,
): Promise<StoredChainIndex> {
  const head = fromJson<StoredChainIndex>(data);
  if (chunks === null) return head;
  return { ...head, devices: await listFromChunksAsync<DeviceRecord>(devicesOf(epoch), chunks, texts) };
}

const devicesOf = (epoch: bigint) => `chain index of epoch ${epoch}: device`;
