/**
 * Where a piece's tree levels sit in its `tree` file (see store.ts): levels 1..height-1, level by
 * level, 32 bytes a node; level h holds ceil(leafCount / 2^h) nodes.
 */
export const NODE_BYTES = 32;

/** Nodes of level h: ceil(leafCount / 2^h). */
export function levelWidth(leafCount: number, level: number): number {
  return Math.ceil(leafCount / 2 ** level);
}

/** Byte offset of level h (h >= 1) in the tree file. */
export function levelOffset(leafCount: number, level: number): number {
  let offset = 0;
  for (let h = 1; h < level; h++) offset += levelWidth(leafCount, h) * NODE_BYTES;
  return offset;
}
