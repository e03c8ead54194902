/**
 * Where a piece's tree levels sit in its `tree` file (see store.ts): levels FIRST_STORED_LEVEL..
 * height-1, level by level, 32 bytes a node; level h holds ceil(leafCount / 2^h) nodes.
 */
export const NODE_BYTES = 32;

/**
 * The lowest level a tree file keeps. The levels below it are hashed again from the piece's bytes
 * when a proof needs them: one aligned chunk of 2^5 leaves (1 KiB read, 63 hashes, well under a
 * millisecond). Keeping levels 1-4 would make the file 16x larger (about the piece's size instead
 * of 1/16 of it) and writing them cost ~10% of a 1 GiB build's CPU (page-cache copies, profiled).
 */
export const FIRST_STORED_LEVEL = 5;

/** Nodes of level h: ceil(leafCount / 2^h). */
export function levelWidth(leafCount: number, level: number): number {
  return Math.ceil(leafCount / 2 ** level);
}

/**
 * Byte offset of level h (h >= `firstLevel`) in a tree file whose lowest level is `firstLevel`;
 * levelOffset(leafCount, height, firstLevel) is the file's size.
 */
export function levelOffset(leafCount: number, level: number, firstLevel = FIRST_STORED_LEVEL): number {
  let offset = 0;
  for (let h = firstLevel; h < level; h++) offset += levelWidth(leafCount, h) * NODE_BYTES;
  return offset;
}
