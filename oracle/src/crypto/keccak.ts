/**
 * Keccak-256 (the Ethereum hash: original Keccak padding 0x01, not SHA3's 0x06).
 *
 * Why our own: the oracle hashes several times per report (EIP-712 struct hash, digest, payload
 * rebuild, witness rank) and ~3,000,000 times per 1M-owner Merkle tree; @noble/hashes does ~130k
 * 64-byte hashes/s on this machine. The permutation runs in WebAssembly (keccak-wasm.ts, native
 * 64-bit lanes); the JavaScript permutation below (32-bit halves in locals, bytes read explicitly
 * little-endian) is the reference and the fallback. Both are checked against @noble/hashes.
 */
import { BLOCK_OFFSET, instantiateKeccakWasm, STATE_OFFSET } from "./keccak-wasm.js";

const RATE = 136; // bytes absorbed per permutation for a 256-bit capacity of 512 bits

// Round constants, split into low/high 32-bit halves.
const RC_LO = new Int32Array([
  0x00000001, 0x00008082, 0x0000808a, 0x80008000, 0x0000808b, 0x80000001, 0x80008081, 0x00008009, 0x0000008a,
  0x00000088, 0x80008009, 0x8000000a, 0x8000808b, 0x0000008b, 0x00008089, 0x00008003, 0x00008002, 0x00000080,
  0x0000800a, 0x8000000a, 0x80008081, 0x00008080, 0x80000001, 0x80008008,
]);
const RC_HI = new Int32Array([
  0x00000000, 0x00000000, 0x80000000, 0x80000000, 0x00000000, 0x00000000, 0x80000000, 0x80000000, 0x00000000,
  0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x80000000, 0x80000000, 0x80000000, 0x80000000, 0x80000000,
  0x00000000, 0x80000000, 0x80000000, 0x80000000, 0x00000000, 0x80000000,
]);

/** The Keccak-f[1600] permutation over 25 lanes stored as s[2i] = low half, s[2i + 1] = high half. */
export function keccakF1600(s: Int32Array): void {
  for (let round = 0; round < 24; round++) {
    // θ
    const c0l = s[0]! ^ s[10]! ^ s[20]! ^ s[30]! ^ s[40]!;
    const c0h = s[1]! ^ s[11]! ^ s[21]! ^ s[31]! ^ s[41]!;
    const c1l = s[2]! ^ s[12]! ^ s[22]! ^ s[32]! ^ s[42]!;
    const c1h = s[3]! ^ s[13]! ^ s[23]! ^ s[33]! ^ s[43]!;
    const c2l = s[4]! ^ s[14]! ^ s[24]! ^ s[34]! ^ s[44]!;
    const c2h = s[5]! ^ s[15]! ^ s[25]! ^ s[35]! ^ s[45]!;
    const c3l = s[6]! ^ s[16]! ^ s[26]! ^ s[36]! ^ s[46]!;
    const c3h = s[7]! ^ s[17]! ^ s[27]! ^ s[37]! ^ s[47]!;
    const c4l = s[8]! ^ s[18]! ^ s[28]! ^ s[38]! ^ s[48]!;
    const c4h = s[9]! ^ s[19]! ^ s[29]! ^ s[39]! ^ s[49]!;
    // d[x] = c[x - 1] ^ rotl1(c[x + 1])
    const d0l = c4l ^ ((c1l << 1) | (c1h >>> 31));
    const d0h = c4h ^ ((c1h << 1) | (c1l >>> 31));
    const d1l = c0l ^ ((c2l << 1) | (c2h >>> 31));
    const d1h = c0h ^ ((c2h << 1) | (c2l >>> 31));
    const d2l = c1l ^ ((c3l << 1) | (c3h >>> 31));
    const d2h = c1h ^ ((c3h << 1) | (c3l >>> 31));
    const d3l = c2l ^ ((c4l << 1) | (c4h >>> 31));
    const d3h = c2h ^ ((c4h << 1) | (c4l >>> 31));
    const d4l = c3l ^ ((c0l << 1) | (c0h >>> 31));
    const d4h = c3h ^ ((c0h << 1) | (c0l >>> 31));
    // θ applied to every lane, then ρ (rotate by the lane's offset) and π (B[y][2x + 3y] = A[x][y]).
    const t00l = s[0]! ^ d0l;
    const t00h = s[1]! ^ d0h;
    const b00l = t00l;
    const b00h = t00h;
    const t01l = s[2]! ^ d1l;
    const t01h = s[3]! ^ d1h;
    const b10l = (t01l << 1) | (t01h >>> 31);
    const b10h = (t01h << 1) | (t01l >>> 31);
    const t02l = s[4]! ^ d2l;
    const t02h = s[5]! ^ d2h;
    const b20l = (t02h << 30) | (t02l >>> 2);
    const b20h = (t02l << 30) | (t02h >>> 2);
    const t03l = s[6]! ^ d3l;
    const t03h = s[7]! ^ d3h;
    const b05l = (t03l << 28) | (t03h >>> 4);
    const b05h = (t03h << 28) | (t03l >>> 4);
    const t04l = s[8]! ^ d4l;
    const t04h = s[9]! ^ d4h;
    const b15l = (t04l << 27) | (t04h >>> 5);
    const b15h = (t04h << 27) | (t04l >>> 5);
    const t05l = s[10]! ^ d0l;
    const t05h = s[11]! ^ d0h;
    const b16l = (t05h << 4) | (t05l >>> 28);
    const b16h = (t05l << 4) | (t05h >>> 28);
    const t06l = s[12]! ^ d1l;
    const t06h = s[13]! ^ d1h;
    const b01l = (t06h << 12) | (t06l >>> 20);
    const b01h = (t06l << 12) | (t06h >>> 20);
    const t07l = s[14]! ^ d2l;
    const t07h = s[15]! ^ d2h;
    const b11l = (t07l << 6) | (t07h >>> 26);
    const b11h = (t07h << 6) | (t07l >>> 26);
    const t08l = s[16]! ^ d3l;
    const t08h = s[17]! ^ d3h;
    const b21l = (t08h << 23) | (t08l >>> 9);
    const b21h = (t08l << 23) | (t08h >>> 9);
    const t09l = s[18]! ^ d4l;
    const t09h = s[19]! ^ d4h;
    const b06l = (t09l << 20) | (t09h >>> 12);
    const b06h = (t09h << 20) | (t09l >>> 12);
    const t10l = s[20]! ^ d0l;
    const t10h = s[21]! ^ d0h;
    const b07l = (t10l << 3) | (t10h >>> 29);
    const b07h = (t10h << 3) | (t10l >>> 29);
    const t11l = s[22]! ^ d1l;
    const t11h = s[23]! ^ d1h;
    const b17l = (t11l << 10) | (t11h >>> 22);
    const b17h = (t11h << 10) | (t11l >>> 22);
    const t12l = s[24]! ^ d2l;
    const t12h = s[25]! ^ d2h;
    const b02l = (t12h << 11) | (t12l >>> 21);
    const b02h = (t12l << 11) | (t12h >>> 21);
    const t13l = s[26]! ^ d3l;
    const t13h = s[27]! ^ d3h;
    const b12l = (t13l << 25) | (t13h >>> 7);
    const b12h = (t13h << 25) | (t13l >>> 7);
    const t14l = s[28]! ^ d4l;
    const t14h = s[29]! ^ d4h;
    const b22l = (t14h << 7) | (t14l >>> 25);
    const b22h = (t14l << 7) | (t14h >>> 25);
    const t15l = s[30]! ^ d0l;
    const t15h = s[31]! ^ d0h;
    const b23l = (t15h << 9) | (t15l >>> 23);
    const b23h = (t15l << 9) | (t15h >>> 23);
    const t16l = s[32]! ^ d1l;
    const t16h = s[33]! ^ d1h;
    const b08l = (t16h << 13) | (t16l >>> 19);
    const b08h = (t16l << 13) | (t16h >>> 19);
    const t17l = s[34]! ^ d2l;
    const t17h = s[35]! ^ d2h;
    const b18l = (t17l << 15) | (t17h >>> 17);
    const b18h = (t17h << 15) | (t17l >>> 17);
    const t18l = s[36]! ^ d3l;
    const t18h = s[37]! ^ d3h;
    const b03l = (t18l << 21) | (t18h >>> 11);
    const b03h = (t18h << 21) | (t18l >>> 11);
    const t19l = s[38]! ^ d4l;
    const t19h = s[39]! ^ d4h;
    const b13l = (t19l << 8) | (t19h >>> 24);
    const b13h = (t19h << 8) | (t19l >>> 24);
    const t20l = s[40]! ^ d0l;
    const t20h = s[41]! ^ d0h;
    const b14l = (t20l << 18) | (t20h >>> 14);
    const b14h = (t20h << 18) | (t20l >>> 14);
    const t21l = s[42]! ^ d1l;
    const t21h = s[43]! ^ d1h;
    const b24l = (t21l << 2) | (t21h >>> 30);
    const b24h = (t21h << 2) | (t21l >>> 30);
    const t22l = s[44]! ^ d2l;
    const t22h = s[45]! ^ d2h;
    const b09l = (t22h << 29) | (t22l >>> 3);
    const b09h = (t22l << 29) | (t22h >>> 3);
    const t23l = s[46]! ^ d3l;
    const t23h = s[47]! ^ d3h;
    const b19l = (t23h << 24) | (t23l >>> 8);
    const b19h = (t23l << 24) | (t23h >>> 8);
    const t24l = s[48]! ^ d4l;
    const t24h = s[49]! ^ d4h;
    const b04l = (t24l << 14) | (t24h >>> 18);
    const b04h = (t24h << 14) | (t24l >>> 18);
    // χ and ι.
    s[0] = b00l ^ (~b01l & b02l) ^ RC_LO[round]!;
    s[1] = b00h ^ (~b01h & b02h) ^ RC_HI[round]!;
    s[2] = b01l ^ (~b02l & b03l);
    s[3] = b01h ^ (~b02h & b03h);
    s[4] = b02l ^ (~b03l & b04l);
    s[5] = b02h ^ (~b03h & b04h);
    s[6] = b03l ^ (~b04l & b00l);
    s[7] = b03h ^ (~b04h & b00h);
    s[8] = b04l ^ (~b00l & b01l);
    s[9] = b04h ^ (~b00h & b01h);
    s[10] = b05l ^ (~b06l & b07l);
    s[11] = b05h ^ (~b06h & b07h);
    s[12] = b06l ^ (~b07l & b08l);
    s[13] = b06h ^ (~b07h & b08h);
    s[14] = b07l ^ (~b08l & b09l);
    s[15] = b07h ^ (~b08h & b09h);
    s[16] = b08l ^ (~b09l & b05l);
    s[17] = b08h ^ (~b09h & b05h);
    s[18] = b09l ^ (~b05l & b06l);
    s[19] = b09h ^ (~b05h & b06h);
    s[20] = b10l ^ (~b11l & b12l);
    s[21] = b10h ^ (~b11h & b12h);
    s[22] = b11l ^ (~b12l & b13l);
    s[23] = b11h ^ (~b12h & b13h);
    s[24] = b12l ^ (~b13l & b14l);
    s[25] = b12h ^ (~b13h & b14h);
    s[26] = b13l ^ (~b14l & b10l);
    s[27] = b13h ^ (~b14h & b10h);
    s[28] = b14l ^ (~b10l & b11l);
    s[29] = b14h ^ (~b10h & b11h);
    s[30] = b15l ^ (~b16l & b17l);
    s[31] = b15h ^ (~b16h & b17h);
    s[32] = b16l ^ (~b17l & b18l);
    s[33] = b16h ^ (~b17h & b18h);
    s[34] = b17l ^ (~b18l & b19l);
    s[35] = b17h ^ (~b18h & b19h);
    s[36] = b18l ^ (~b19l & b15l);
    s[37] = b18h ^ (~b19h & b15h);
    s[38] = b19l ^ (~b15l & b16l);
    s[39] = b19h ^ (~b15h & b16h);
    s[40] = b20l ^ (~b21l & b22l);
    s[41] = b20h ^ (~b21h & b22h);
    s[42] = b21l ^ (~b22l & b23l);
    s[43] = b21h ^ (~b22h & b23h);
    s[44] = b22l ^ (~b23l & b24l);
    s[45] = b22h ^ (~b23h & b24h);
    s[46] = b23l ^ (~b24l & b20l);
    s[47] = b23h ^ (~b24h & b20h);
    s[48] = b24l ^ (~b20l & b21l);
    s[49] = b24h ^ (~b20h & b21h);
  }
}

const wasm = instantiateKeccakWasm();
const state = new Int32Array(50);
const tail = new Uint8Array(RATE);

function absorbBlock(data: Uint8Array, offset: number): void {
  const s = state;
  for (let w = 0; w < RATE / 4; w++) {
    const o = offset + 4 * w;
    s[w] = s[w]! ^ (data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24));
  }
  keccakF1600(s);
}

/** keccak256 of data[offset, offset + length) written to out[outOffset, outOffset + 32). */
type KeccakInto = (
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
) => void;

/** The WebAssembly path of keccak256Into (the JavaScript one when WebAssembly is unavailable). */
function keccak256IntoWasm(
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  if (wasm === null) {
    keccak256IntoJs(data, offset, length, out, outOffset);
    return;
  }
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

/** The pure-JavaScript path of keccak256Into (reference implementation, fallback). */
export function keccak256IntoJs(
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  state.fill(0);
  let pos = offset;
  const end = offset + length;
  while (end - pos >= RATE) {
    absorbBlock(data, pos);
    pos += RATE;
  }
  const rest = end - pos;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = data[pos + i]!;
  tail[rest] = tail[rest]! ^ 0x01;
  tail[RATE - 1] = tail[RATE - 1]! ^ 0x80;
  absorbBlock(tail, 0);
  for (let w = 0; w < 8; w++) {
    const v = state[w]!;
    const o = outOffset + 4 * w;
    out[o] = v & 0xff;
    out[o + 1] = (v >>> 8) & 0xff;
    out[o + 2] = (v >>> 16) & 0xff;
    out[o + 3] = (v >>> 24) & 0xff;
  }
}

/**
 * Bench only, while bench/keccak.ts compares implementations. HEXMESH_KECCAK, read at load (worker
 * threads inherit the environment their pool was created with), picks keccak256Into's
 * implementation: "ours" (default: WebAssembly, JavaScript fallback), "ours-js", "hashwasm"
 * (hash-wasm, one reused hasher) or "noble" (@noble/hashes keccak_256); useKeccakForBench
 * switches this thread's afterwards.
 */
export let KECCAK_IMPL = globalThis.process?.env?.["HEXMESH_KECCAK"] ?? "ours";

async function selectKeccak(name: string): Promise<KeccakInto> {
  switch (name) {
    case "ours":
      return keccak256IntoWasm;
    case "ours-js":
      return keccak256IntoJs;
    case "hashwasm": {
      const { createKeccak } = await import("hash-wasm");
      const h = await createKeccak(256);
      return (data, offset, length, out, outOffset) => {
        h.init();
        h.update(offset === 0 && length === data.length ? data : data.subarray(offset, offset + length));
        out.set(h.digest("binary"), outOffset);
      };
    }
    case "noble": {
      const { keccak_256 } = await import("@noble/hashes/sha3.js");
      return (data, offset, length, out, outOffset) => {
        out.set(
          keccak_256(offset === 0 && length === data.length ? data : data.subarray(offset, offset + length)),
          outOffset,
        );
      };
    }
    default:
      throw new Error(`HEXMESH_KECCAK: unknown implementation ${name}`);
  }
}

/**
 * keccak256 of data[offset, offset + length) written to out[outOffset, outOffset + 32).
 * Allocation-free: the hot paths (Merkle tree, EIP-712 digests) call this with reused buffers.
 */
export let keccak256Into: KeccakInto = await selectKeccak(KECCAK_IMPL);

/** Bench only: switches this thread's keccak256Into (see HEXMESH_KECCAK). */
export async function useKeccakForBench(name: string): Promise<void> {
  keccak256Into = await selectKeccak(name);
  KECCAK_IMPL = name;
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
 * with keccak256Into calls.
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
    if (wasm !== null) {
      const mem = wasm.memory;
      mem.set(this.lanes, STATE_OFFSET);
      mem.set(this.block, BLOCK_OFFSET);
      wasm.absorb();
      this.lanes.set(mem.subarray(STATE_OFFSET, STATE_OFFSET + 200));
      return;
    }
    const s = new Int32Array(50);
    const l = this.lanes;
    for (let w = 0; w < 50; w++) {
      const o = 4 * w;
      const x =
        w < RATE / 4
          ? this.block[o]! |
            (this.block[o + 1]! << 8) |
            (this.block[o + 2]! << 16) |
            (this.block[o + 3]! << 24)
          : 0;
      s[w] = (l[o]! | (l[o + 1]! << 8) | (l[o + 2]! << 16) | (l[o + 3]! << 24)) ^ x;
    }
    keccakF1600(s);
    for (let w = 0; w < 50; w++) {
      const v = s[w]!;
      l[4 * w] = v & 0xff;
      l[4 * w + 1] = (v >>> 8) & 0xff;
      l[4 * w + 2] = (v >>> 16) & 0xff;
      l[4 * w + 3] = (v >>> 24) & 0xff;
    }
  }
}

/** Whether the WebAssembly permutation is in use (false: JavaScript fallback). */
export const KECCAK_WASM = wasm !== null;
