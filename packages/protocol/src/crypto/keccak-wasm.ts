/**
 * Keccak-f[1600] as a WebAssembly function, assembled here at load time (no binary blob in the
 * repository: this file is the source). WebAssembly has native 64-bit rotations: the permutation
 * ran 2.5x faster on the 1M-owner tree than the 32-bit-halves JavaScript one that keccak.ts had
 * beside it until issue 15 (bench/results/keccak.json). Results are checked against @noble/hashes
 * (test/protocol/crypto/keccak.test.ts).
 *
 * Memory layout (33 pages of 64 KiB): round constants at RC (24 x 8 bytes, data segment), the state
 * at STATE (25 lanes, little-endian as Keccak specifies and WebAssembly guarantees), one input
 * block at BLOCK (136 bytes) in the first page; then BATCH_IN and BATCH_OUT, 1 MiB each.
 *
 * Exports: absorb() xors the block into the state and permutes; pieceLeaves(count, in, out) writes
 * keccak256(0x00 ‖ leaf) of `count` 32-byte leaves at `in` to `out`; pieceNodes(count, in, out) writes
 * keccak256(0x01 ‖ left ‖ right) of `count` 64-byte pairs at `in` to `out` (the piece tree's two
 * hashes, packages/protocol/src/storage/piece.ts: one call per level of up to 1 MiB instead of one
 * per node, which is what bounds a tree build in JavaScript; `in` and `out` are byte offsets in
 * memory, BATCH_IN and BATCH_OUT for a batch, so a block's levels can be hashed from one buffer to
 * the other without leaving WebAssembly memory); memory.
 *
 * The two batch functions run two permutations at once in WebAssembly SIMD (128-bit vectors, two
 * 64-bit lanes): 1.6x the hashes per CPU-second of the scalar permutation on this machine (200 against
 * 323 ns per hash, bench/results/storage.json has the tree build). So the module needs a runtime with
 * WebAssembly SIMD: Node 16.4+ and every current browser. Unrolling the 24 rounds was slower (250 ns
 * with two rounds per loop pass, worse fully unrolled): V8 keeps a one-round loop body in registers.
 */

export const RC_OFFSET = 0;
export const STATE_OFFSET = 256;
export const BLOCK_OFFSET = 512;
/** Input of the batch functions: 1 MiB from the second page. */
export const BATCH_IN_OFFSET = 65_536;
/** Output of the batch functions: 1 MiB after the input. */
export const BATCH_OUT_OFFSET = BATCH_IN_OFFSET + (1 << 20);
/** Largest input of one batch call, in bytes. */
export const BATCH_BYTES = 1 << 20;
const MEMORY_PAGES = (BATCH_OUT_OFFSET + BATCH_BYTES) / 65_536;

const ROUND_CONSTANTS = [
  0x0000000000000001n,
  0x0000000000008082n,
  0x800000000000808an,
  0x8000000080008000n,
  0x000000000000808bn,
  0x0000000080000001n,
  0x8000000080008081n,
  0x8000000000008009n,
  0x000000000000008an,
  0x0000000000000088n,
  0x0000000080008009n,
  0x000000008000000an,
  0x000000008000808bn,
  0x800000000000008bn,
  0x8000000000008089n,
  0x8000000000008003n,
  0x8000000000008002n,
  0x8000000000000080n,
  0x000000000000800an,
  0x800000008000000an,
  0x8000000080008081n,
  0x8000000000008080n,
  0x0000000080000001n,
  0x8000000080008008n,
];

// Rotation offsets r[x][y].
const ROT = [
  [0, 36, 3, 41, 18],
  [1, 44, 10, 45, 2],
  [62, 6, 43, 15, 61],
  [28, 55, 25, 21, 56],
  [27, 20, 39, 8, 14],
];

const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  i64Load: 0x29,
  i64Store: 0x37,
  i32Const: 0x41,
  i64Const: 0x42,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32LeS: 0x4c,
  i32GtS: 0x4a,
  select: 0x1b,
  if: 0x04,
  i64And: 0x83,
  i64Xor: 0x85,
  i64Rotl: 0x89,
  br: 0x0c,
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Signed LEB128 of a 64-bit constant (i64.const). */
function sleb64(n: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** SIMD opcodes (after the 0xfd prefix) of the two-lane permutation: each v128 holds one lane of two states. */
const SIMD = {
  prefix: 0xfd,
  load64Splat: 0x0a,
  load64Zero: 0x5d,
  load64Lane: 0x57,
  store64Lane: 0x5b,
  const: 0x0c,
  shuffle: 0x0d,
  andnot: 0x4f,
  or: 0x50,
  xor: 0x51,
  i64x2Shl: 0xcb,
  i64x2ShrU: 0xcd,
} as const;

/** The lanes of a state: one i64 per lane, or an i64x2 holding that lane of two states. */
type Lanes = "i64" | "i64x2";
const LANE_TYPE: Record<Lanes, number> = { i64: 0x7e, i64x2: 0x7b };

/**
 * Code emitters over one function's locals from `base`: a0..a24, b0..b24, c0..c4, d (i64, or v128
 * for two states at once) and the round constant's byte offset (i32).
 */
function emitter(base: number, lanes: Lanes) {
  const code: number[] = [];
  const A = (i: number) => base + i; // a_i
  const B = (i: number) => base + 25 + i; // b_i
  const C = (x: number) => base + 50 + x; // c_x
  const D = base + 55;
  const ROUND = base + 56; // i32: 8 x the round
  const get = (l: number) => code.push(OP.localGet, ...uleb(l));
  const set = (l: number) => code.push(OP.localSet, ...uleb(l));
  const i32 = (v: number) => code.push(OP.i32Const, ...sleb(v));
  const i64 = (v: number) => code.push(OP.i64Const, ...sleb(v));
  const load = (offset: number) => code.push(OP.i64Load, 3, ...uleb(offset)); // align 2^3
  const store = (offset: number) => code.push(OP.i64Store, 3, ...uleb(offset));
  const simd = (op: number, ...imm: number[]) => code.push(SIMD.prefix, ...uleb(op), ...imm);
  const simdLanes = lanes === "i64x2";
  const xor = () => (simdLanes ? simd(SIMD.xor) : code.push(OP.i64Xor));

  /**
   * Pushes rotl(local, r). WebAssembly SIMD has no 64-bit rotate: whole-byte rotations (8 and 56)
   * are one shuffle, the others two shifts and an or.
   */
  const rotl = (local: number, r: number) => {
    get(local);
    if (r === 0) return;
    if (!simdLanes) {
      i64(r);
      code.push(OP.i64Rotl);
    } else if (r % 8 === 0) {
      // byte j of a lane takes byte j - r/8 (mod 8) of the same lane
      get(local);
      simd(SIMD.shuffle, ...Array.from({ length: 16 }, (_, j) => (j & 8) | ((j - r / 8) & 7)));
    } else {
      i32(r);
      simd(SIMD.i64x2Shl);
      get(local);
      i32(64 - r);
      simd(SIMD.i64x2ShrU);
      simd(SIMD.or);
    }
  };

  /** The 24 rounds of Keccak-f[1600] on a0..a24 (a loop of one round: V8 keeps its body in registers). */
  const rounds = () => {
    i32(0);
    set(ROUND);
    code.push(OP.block, 0x40, OP.loop, 0x40);
    // θ
    for (let x = 0; x < 5; x++) {
      get(A(x));
      for (let y = 1; y < 5; y++) {
        get(A(x + 5 * y));
        xor();
      }
      set(C(x));
    }
    for (let x = 0; x < 5; x++) {
      get(C((x + 4) % 5));
      rotl(C((x + 1) % 5), 1);
      xor();
      set(D);
      for (let y = 0; y < 5; y++) {
        get(A(x + 5 * y));
        get(D);
        xor();
        set(A(x + 5 * y));
      }
    }
    // ρ and π: b[y][2x + 3y] = rotl(a[x][y], r[x][y])
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        rotl(A(x + 5 * y), ROT[x]![y]!);
        set(B(y + 5 * ((2 * x + 3 * y) % 5)));
      }
    }
    // χ: a[x][y] = b[x][y] ^ (~b[x+1][y] & b[x+2][y]); then ι: a0 ^= RC[round]
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++) {
        get(B(x + 5 * y));
        if (simdLanes) {
          get(B(((x + 2) % 5) + 5 * y));
          get(B(((x + 1) % 5) + 5 * y));
          simd(SIMD.andnot); // v128.andnot(p, q) is p & ~q
        } else {
          get(B(((x + 1) % 5) + 5 * y));
          i64(-1);
          code.push(OP.i64Xor);
          get(B(((x + 2) % 5) + 5 * y));
          code.push(OP.i64And);
        }
        xor();
        if (x === 0 && y === 0) {
          get(ROUND);
          if (simdLanes)
            simd(SIMD.load64Splat, 3, ...uleb(RC_OFFSET)); // in both lanes
          else load(RC_OFFSET);
          xor();
        }
        set(A(x + 5 * y));
      }
    }
    // next round while round < 24
    get(ROUND);
    i32(8);
    code.push(OP.i32Add);
    set(ROUND);
    get(ROUND);
    i32(8 * 24);
    code.push(OP.i32LtU, OP.brIf, 0, OP.end, OP.end);
  };
  return { code, A, get, set, i32, i64, load, store, simd, rounds };
}

/** Locals of a function using emitter(base, lanes): 56 lanes then 1 x i32. */
const permutationLocals = (lanes: Lanes) => [
  [...uleb(56), LANE_TYPE[lanes]],
  [...uleb(1), 0x7f],
];

/** Body of absorb(): the state xor the block, permuted. */
function absorbBody(): number[] {
  const e = emitter(0, "i64");
  // a_i = state_i ^ (i < 17 ? block_i : 0)
  for (let i = 0; i < 25; i++) {
    e.i32(0);
    e.load(STATE_OFFSET + 8 * i);
    if (i < 17) {
      e.i32(0);
      e.load(BLOCK_OFFSET + 8 * i);
      e.code.push(OP.i64Xor);
    }
    e.set(e.A(i));
  }
  e.rounds();
  for (let i = 0; i < 25; i++) {
    e.i32(0);
    e.get(e.A(i));
    e.store(STATE_OFFSET + 8 * i);
  }
  e.code.push(OP.end);
  return [...vec(permutationLocals("i64")), ...e.code];
}

/** v128.const of one 64-bit value in both lanes. */
function splat64(v: bigint): number[] {
  const lane: number[] = [];
  for (let i = 0; i < 8; i++) lane.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return [...lane, ...lane];
}

/**
 * Body of pieceLeaves(count) (`node` false: keccak256(0x00 ‖ 32 bytes)) or pieceNodes(count) (`node`
 * true: keccak256(0x01 ‖ 64 bytes)): one padded block each (the message, then 0x01, then 0x80 in the
 * last of 136 bytes), absorbed into a zero state, the first 32 bytes of the state written out.
 *
 * Two messages per permutation: every lane is an i64x2 holding that lane of message i's state and of
 * message i + 1's (WebAssembly SIMD), so one pass of the 24 rounds hashes two tree nodes. A level is
 * thousands of independent hashes, which is what makes the lanes fill; an odd count hashes the last
 * message in both lanes and writes one. The message starts one byte in, so lane k is read unaligned
 * at input + 8k - 1.
 * Params count, in, out (0-2); local second message (3), then the permutation's from 4.
 */
function batchBody(node: boolean): number[] {
  const COUNT = 0;
  const IN = 1;
  const OUT = 2;
  const IN2 = 3;
  const e = emitter(4, "i64x2");
  const { code, A, get, set, i32, simd } = e;
  const vconst = (v: bigint) => simd(SIMD.const, ...splat64(v));
  /** Pushes lane `offset` of both messages: message i's bytes at in + offset, message i+1's at in2 + offset. */
  const loadPair = (offset: number) => {
    get(IN2);
    get(IN);
    simd(SIMD.load64Zero, 0, ...uleb(offset));
    simd(SIMD.load64Lane, 0, ...uleb(offset), 1);
  };

  const messageLanes = node ? 8 : 4; // lanes holding message bytes after lane 0
  const stride = node ? 64 : 32;
  code.push(OP.block, 0x40, OP.loop, 0x40);
  // while (count > 0)
  get(COUNT);
  i32(0);
  code.push(OP.i32LeS, OP.brIf, 1);
  // the second message: the next one, or this one again when it is the last
  get(IN);
  i32(stride);
  code.push(OP.i32Add);
  get(IN);
  get(COUNT);
  i32(1);
  code.push(OP.i32GtS, OP.select);
  set(IN2);
  // lane 0: the prefix byte, then the message's first 7 bytes
  loadPair(0);
  i32(8);
  simd(SIMD.i64x2Shl);
  if (node) {
    vconst(1n);
    simd(SIMD.or);
  }
  set(A(0));
  for (let k = 1; k < messageLanes; k++) {
    loadPair(8 * k - 1);
    set(A(k));
  }
  // the lane after the message: its last byte, then the padding's 0x01
  loadPair(stride - 8);
  i32(56);
  simd(SIMD.i64x2ShrU);
  vconst(0x100n);
  simd(SIMD.or);
  set(A(messageLanes));
  for (let i = messageLanes + 1; i < 25; i++) {
    vconst(i === 16 ? 1n << 63n : 0n); // 0x80 in byte 135
    set(A(i));
  }
  e.rounds();
  // the first 32 bytes of each state: lane 0 to out, lane 1 to out + 32 unless it repeated the last
  for (let i = 0; i < 4; i++) {
    get(OUT);
    get(A(i));
    simd(SIMD.store64Lane, 0, ...uleb(8 * i), 0);
  }
  get(COUNT);
  i32(1);
  code.push(OP.i32GtS, OP.if, 0x40);
  for (let i = 0; i < 4; i++) {
    get(OUT);
    get(A(i));
    simd(SIMD.store64Lane, 0, ...uleb(32 + 8 * i), 1);
  }
  code.push(OP.end);
  // in += 2 stride; out += 64; count -= 2
  get(IN);
  i32(2 * stride);
  code.push(OP.i32Add);
  set(IN);
  get(OUT);
  i32(64);
  code.push(OP.i32Add);
  set(OUT);
  get(COUNT);
  i32(2);
  code.push(OP.i32Sub);
  set(COUNT);
  code.push(OP.br, 0, OP.end, OP.end, OP.end);
  return [...vec([[...uleb(1), 0x7f], ...permutationLocals("i64x2")]), ...code];
}

function rcBytes(): number[] {
  const out: number[] = [];
  for (const rc of ROUND_CONSTANTS)
    for (let i = 0; i < 8; i++) out.push(Number((rc >> BigInt(8 * i)) & 0xffn));
  return out;
}

export function assembleKeccakModule(): Uint8Array {
  const name = (n: string) => [...uleb(n.length), ...n.split("").map((c) => c.charCodeAt(0))];
  const bodies = [absorbBody(), batchBody(false), batchBody(true)];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version 1
    ...section(
      1,
      vec([
        [0x60, 0x00, 0x00],
        [0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00],
      ]),
    ), // types: () -> (), (i32, i32, i32) -> ()
    ...section(3, vec([[0x00], [0x01], [0x01]])), // absorb, pieceLeaves, pieceNodes
    ...section(5, vec([[0x00, ...uleb(MEMORY_PAGES)]])), // one memory, its pages fixed
    ...section(
      7,
      vec([
        [...name("absorb"), 0x00, 0x00],
        [...name("pieceLeaves"), 0x00, 0x01],
        [...name("pieceNodes"), 0x00, 0x02],
        [...name("memory"), 0x02, 0x00],
      ]),
    ),
    ...section(10, vec(bodies.map((body) => [...uleb(body.length), ...body]))),
    ...section(11, vec([[0x00, OP.i32Const, ...sleb(RC_OFFSET), OP.end, ...uleb(192), ...rcBytes()]])),
  ];
  return new Uint8Array(bytes);
}

export interface KeccakWasm {
  readonly absorb: () => void;
  /** keccak256(0x00 ‖ leaf) of `count` leaves at memory offset `input` into `output` (count <= BATCH_BYTES / 32). */
  readonly pieceLeaves: (count: number, input: number, output: number) => void;
  /** keccak256(0x01 ‖ pair) of `count` 64-byte pairs at `input` into `output` (count <= BATCH_BYTES / 64). */
  readonly pieceNodes: (count: number, input: number, output: number) => void;
  readonly memory: Uint8Array;
}

// The project's TypeScript lib set has no DOM/WebAssembly typings: declare the few we use.
interface WasmGlobal {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** Instantiates the module; throws where WebAssembly is unavailable (there is no fallback). */
export function instantiateKeccakWasm(): KeccakWasm {
  const wa = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;
  if (wa === undefined) throw new Error("keccak256 needs WebAssembly, which this runtime lacks");
  const instance = new wa.Instance(new wa.Module(assembleKeccakModule()), {});
  const absorb = instance.exports["absorb"] as () => void;
  const pieceLeaves = instance.exports["pieceLeaves"] as KeccakWasm["pieceLeaves"];
  const pieceNodes = instance.exports["pieceNodes"] as KeccakWasm["pieceNodes"];
  const memory = instance.exports["memory"] as { readonly buffer: ArrayBuffer };
  return { absorb, pieceLeaves, pieceNodes, memory: new Uint8Array(memory.buffer) };
}
