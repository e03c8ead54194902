/**
 * Keccak-f[1600] as a WebAssembly function, assembled here at load time (no binary blob in the
 * repository: this file is the source). WebAssembly has native 64-bit rotations: the permutation
 * ran 2.5x faster on the 1M-owner tree than the 32-bit-halves JavaScript one that keccak.ts had
 * beside it until issue 15 (bench/results/keccak.json). Results are checked against @noble/hashes
 * (test/protocol/crypto/keccak.test.ts).
 *
 * Memory layout (one 64 KiB page): round constants at RC (24 x 8 bytes, data segment), the state
 * at STATE (25 lanes, little-endian as Keccak specifies and WebAssembly guarantees), one input
 * block at BLOCK (136 bytes).
 *
 * Exports: absorb() xors the block into the state and permutes; memory.
 */

export const RC_OFFSET = 0;
export const STATE_OFFSET = 256;
export const BLOCK_OFFSET = 512;

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
  i64And: 0x83,
  i64Xor: 0x85,
  i64Rotl: 0x89,
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

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Body of absorb(): locals a0..a24, b0..b24, c0..c4, d (i64) and round (i32). */
function absorbBody(): number[] {
  const A = (i: number) => i; // a_i
  const B = (i: number) => 25 + i; // b_i
  const C = (x: number) => 50 + x; // c_x
  const D = 55;
  const ROUND = 56; // i32
  const code: number[] = [];
  const get = (l: number) => code.push(OP.localGet, ...uleb(l));
  const set = (l: number) => code.push(OP.localSet, ...uleb(l));
  const i32 = (v: number) => code.push(OP.i32Const, ...sleb(v));
  const i64 = (v: number) => code.push(OP.i64Const, ...sleb(v));
  const load = (offset: number) => code.push(OP.i64Load, 3, ...uleb(offset)); // align 2^3
  const store = (offset: number) => code.push(OP.i64Store, 3, ...uleb(offset));

  // a_i = state_i ^ (i < 17 ? block_i : 0)
  for (let i = 0; i < 25; i++) {
    i32(0);
    load(STATE_OFFSET + 8 * i);
    if (i < 17) {
      i32(0);
      load(BLOCK_OFFSET + 8 * i);
      code.push(OP.i64Xor);
    }
    set(A(i));
  }
  i32(0);
  set(ROUND);
  code.push(OP.block, 0x40, OP.loop, 0x40);
  // θ
  for (let x = 0; x < 5; x++) {
    get(A(x));
    for (let y = 1; y < 5; y++) {
      get(A(x + 5 * y));
      code.push(OP.i64Xor);
    }
    set(C(x));
  }
  for (let x = 0; x < 5; x++) {
    get(C((x + 4) % 5));
    get(C((x + 1) % 5));
    i64(1);
    code.push(OP.i64Rotl, OP.i64Xor);
    set(D);
    for (let y = 0; y < 5; y++) {
      get(A(x + 5 * y));
      get(D);
      code.push(OP.i64Xor);
      set(A(x + 5 * y));
    }
  }
  // ρ and π: b[y][2x + 3y] = rotl(a[x][y], r[x][y])
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) {
      get(A(x + 5 * y));
      const r = ROT[x]![y]!;
      if (r !== 0) {
        i64(r);
        code.push(OP.i64Rotl);
      }
      set(B(y + 5 * ((2 * x + 3 * y) % 5)));
    }
  }
  // χ: a[x][y] = b[x][y] ^ (~b[x+1][y] & b[x+2][y])
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      get(B(x + 5 * y));
      get(B(((x + 1) % 5) + 5 * y));
      i64(-1);
      code.push(OP.i64Xor);
      get(B(((x + 2) % 5) + 5 * y));
      code.push(OP.i64And, OP.i64Xor);
      set(A(x + 5 * y));
    }
  }
  // ι: a0 ^= RC[round]
  get(A(0));
  get(ROUND);
  i32(8);
  code.push(0x6c); // i32.mul
  load(RC_OFFSET);
  code.push(OP.i64Xor);
  set(A(0));
  // round++ ; loop while round < 24
  get(ROUND);
  i32(1);
  code.push(OP.i32Add);
  set(ROUND);
  get(ROUND);
  i32(24);
  code.push(OP.i32LtU, OP.brIf, 0, OP.end, OP.end);
  for (let i = 0; i < 25; i++) {
    i32(0);
    get(A(i));
    store(STATE_OFFSET + 8 * i);
  }
  code.push(OP.end);
  // locals: 56 x i64, 1 x i32
  const locals = vec([
    [...uleb(56), 0x7e],
    [...uleb(1), 0x7f],
  ]);
  return [...locals, ...code];
}

function rcBytes(): number[] {
  const out: number[] = [];
  for (const rc of ROUND_CONSTANTS)
    for (let i = 0; i < 8; i++) out.push(Number((rc >> BigInt(8 * i)) & 0xffn));
  return out;
}

export function assembleKeccakModule(): Uint8Array {
  const body = absorbBody();
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version 1
    ...section(1, vec([[0x60, 0x00, 0x00]])), // type 0: () -> ()
    ...section(3, vec([[0x00]])), // function 0 has type 0
    ...section(5, vec([[0x00, 0x01]])), // one memory, min 1 page
    ...section(
      7,
      vec([
        [...uleb(6), ..."absorb".split("").map((c) => c.charCodeAt(0)), 0x00, 0x00],
        [...uleb(6), ..."memory".split("").map((c) => c.charCodeAt(0)), 0x02, 0x00],
      ]),
    ),
    ...section(10, vec([[...uleb(body.length), ...body]])),
    ...section(11, vec([[0x00, OP.i32Const, ...sleb(RC_OFFSET), OP.end, ...uleb(192), ...rcBytes()]])),
  ];
  return new Uint8Array(bytes);
}

export interface KeccakWasm {
  readonly absorb: () => void;
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
  const memory = instance.exports["memory"] as { readonly buffer: ArrayBuffer };
  return { absorb, memory: new Uint8Array(memory.buffer) };
}
