/**
 * Keccak-256 (the Ethereum hash: original Keccak padding 0x01, not SHA3's 0x06), on our
 * WebAssembly permutation (keccak-wasm.ts, native 64-bit lanes), checked against @noble/hashes.
 *
 * Why our own: issue 15 allowed it only if every library cost more than 20% on the 1,000,000-owner
 * Merkle tree or on the oracle's end-to-end verification. A benchmark measured it
 * (bench/results/keccak.json: 7 interleaved rounds, best rounds in CPU time, one 2-core machine;
 * the bench swapped the implementations in through a switch in this file and left with it: it is
 * bench/keccak.ts at commit 724e47c):
 * hash-wasm 4.13.0 costs 1.27x on the tree (4.20 s against 3.31 s) and 1.04x on verification
 * (80.0 against 77.1 us per report), with ~1.5M 32-byte hashes/s against our ~2.4M (each call
 * allocates views and copies its digest); @noble/hashes 2.0.1 costs 8.6x on the tree and 1.5x on
 * verification (~0.11M hashes/s). So ours stays, and only the WebAssembly one: the JavaScript
 * permutation that sat beside it as reference and fallback cost 2.5x on the tree and was removed
 * (it is in the history before the commit that removed it). An oracle needs WebAssembly, which
 * every Node since 8 and every current browser has.
 */
import {
  BATCH_BYTES,
  BATCH_IN_OFFSET,
  BATCH_OUT_OFFSET,
  BLOCK_OFFSET,
  instantiateKeccakWasm,
  STATE_OFFSET,
} from "./keccak-wasm.js";

const RATE = 136; // bytes absorbed per permutation for a 256-bit capacity of 512 bits

const wasm = instantiateKeccakWasm();

/** keccak256 of data[offset, offset + length) written to out[outOffset, outOffset + 32). */
export function keccak256Into(
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  const mem = wasm.memory;
  mem.fill(0, STATE_OFFSET, STATE_OFFSET + 200);
  let pos = offset;
  const end = offset + length;
  while (end - pos >= RATE) {
    for (let i = 0; i < RATE; i++) mem[BLOCK_OFFSET + i] = data[pos + i]!;
    wasm.absorb();
    pos += RATE;
  }
  const rest = end - pos;
  for (let i = 0; i < rest; i++) mem[BLOCK_OFFSET + i] = data[pos + i]!;
  mem.fill(0, BLOCK_OFFSET + rest, BLOCK_OFFSET + RATE);
  mem[BLOCK_OFFSET + rest] = 0x01;
  mem[BLOCK_OFFSET + RATE - 1] = mem[BLOCK_OFFSET + RATE - 1]! | 0x80;
  wasm.absorb();
  for (let i = 0; i < 32; i++) out[outOffset + i] = mem[STATE_OFFSET + i]!;
}

/** Runs a batch function over `src` in calls of up to BATCH_BYTES, 32 bytes out per `itemBytes` in. */
function batch(
  run: (count: number, input: number, output: number) => void,
  itemBytes: number,
  src: Uint8Array,
  out: Uint8Array,
): void {
  if (src.length % itemBytes !== 0 || out.length < (src.length / itemBytes) * 32) {
    throw new RangeError(
      `batch of ${src.length} bytes is not whole ${itemBytes}-byte items fitting the output`,
    );
  }
  const mem = wasm.memory;
  const perCall = BATCH_BYTES / itemBytes;
  const items = src.length / itemBytes;
  for (let i = 0; i < items; i += perCall) {
    const count = Math.min(perCall, items - i);
    mem.set(src.subarray(i * itemBytes, (i + count) * itemBytes), BATCH_IN_OFFSET);
    run(count, BATCH_IN_OFFSET, BATCH_OUT_OFFSET);
    out.set(mem.subarray(BATCH_OUT_OFFSET, BATCH_OUT_OFFSET + count * 32), i * 32);
  }
}

/** keccak256(0x00 ‖ leaf) of every 32-byte leaf in `leaves`, in order, into `out` (the piece tree's leaf hash). */
export function keccakPieceLeavesInto(leaves: Uint8Array, out: Uint8Array): void {
  batch(wasm.pieceLeaves, 32, leaves, out);
}

/** keccak256(0x01 ‖ left ‖ right) of every 64-byte pair in `pairs`, in order, into `out` (its node hash). */
export function keccakPieceNodesInto(pairs: Uint8Array, out: Uint8Array): void {
  batch(wasm.pieceNodes, 64, pairs, out);
}

/**
 * The leaf hashes and levels 1..log2(leafCount) of one block of `leafCount` whole 32-byte leaves (a
 * power of two, at most BATCH_BYTES of them), hashed without leaving WebAssembly memory: `fill`
 * writes the leaves into the view it is given (a tree build reads its file straight into it), each
 * level is hashed from one buffer into the other, and `level(h, nodes)` sees level h (h >= 1) as a
 * view into WebAssembly memory, valid only during that call. No copy of the leaves or of any level
 * is made in between (batch calls copy 2 MiB in and out per MiB of leaves).
 */
export function keccakPieceBlock(
  leafCount: number,
  fill: (leaves: Uint8Array) => void,
  level: (h: number, nodes: Uint8Array) => void,
): void {
  if (
    !Number.isInteger(leafCount) ||
    leafCount < 1 ||
    leafCount * 32 > BATCH_BYTES ||
    (leafCount & (leafCount - 1)) !== 0
  ) {
    throw new RangeError(`a block of ${leafCount} leaves is not a power of two up to ${BATCH_BYTES / 32}`);
  }
  const mem = wasm.memory;
  fill(mem.subarray(BATCH_IN_OFFSET, BATCH_IN_OFFSET + leafCount * 32));
  wasm.pieceLeaves(leafCount, BATCH_IN_OFFSET, BATCH_OUT_OFFSET);
  let [from, to] = [BATCH_OUT_OFFSET, BATCH_IN_OFFSET];
  for (let h = 1, count = leafCount / 2; count >= 1; h++, count /= 2) {
    wasm.pieceNodes(count, from, to);
    level(h, mem.subarray(to, to + count * 32));
    [from, to] = [to, from];
  }
}

/** keccak256(data) as a new 32-byte array. */
export function keccak256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  keccak256Into(data, 0, data.length, out, 0);
  return out;
}

/**
 * Incremental keccak256 for inputs that do not fit one buffer (the canonical epoch encoding can
 * be gigabytes). Keeps its own state (25 little-endian lanes as bytes), so it may be interleaved
 * with other streams and with keccak256Into calls.
 */
export class Keccak256Stream {
  private readonly lanes = new Uint8Array(200);
  private readonly block = new Uint8Array(RATE);
  private filled = 0;
  private finished = false;

  update(data: Uint8Array): this {
    if (this.finished) throw new Error("Keccak256Stream: update after digest");
    let pos = 0;
    while (pos < data.length) {
      const take = Math.min(RATE - this.filled, data.length - pos);
      this.block.set(data.subarray(pos, pos + take), this.filled);
      this.filled += take;
      pos += take;
      if (this.filled === RATE) {
        this.absorb();
        this.filled = 0;
      }
    }
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new Error("Keccak256Stream: digest called twice");
    this.finished = true;
    this.block.fill(0, this.filled);
    this.block[this.filled] = this.block[this.filled]! ^ 0x01;
    this.block[RATE - 1] = this.block[RATE - 1]! ^ 0x80;
    this.absorb();
    return this.lanes.slice(0, 32);
  }

  private absorb(): void {
    const mem = wasm.memory;
    mem.set(this.lanes, STATE_OFFSET);
    mem.set(this.block, BLOCK_OFFSET);
    wasm.absorb();
    this.lanes.set(mem.subarray(STATE_OFFSET, STATE_OFFSET + 200));
  }
}
