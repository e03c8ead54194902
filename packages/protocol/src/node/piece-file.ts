/**
 * Piece roots and proofs of files on disk, streamed: a file of any size is read in chunks through
 * the one tree builder (PieceTreeBuilder), never held in memory (O(height) hashes and one chunk).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

import { PieceTreeBuilder, type PieceProof, type PieceRoot } from "../storage/piece.js";

/** Root of the file at `path`, and proofs of the leaves in `prove` (one pass over the file). */
export async function pieceOfFile(
  path: string,
  prove: readonly number[] = [],
): Promise<{ piece: PieceRoot; proofs: PieceProof[] }> {
  const { size } = await stat(path);
  const builder = new PieceTreeBuilder(size, prove);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    builder.update(chunk as Buffer);
  }
  const piece = builder.finish();
  return { piece, proofs: builder.proofs() };
}
