// Numeric kernel job: the product C = A × B of two n × n matrices of u32 entries, modulo 2^32.
// A and B are generated from the seed (a linear congruential generator), so the input stays small.
// Input (stdin, 8 bytes, little-endian u32): n, seed. Output (stdout): C row by row, n × n
// little-endian u32 (4·n² bytes). Integer arithmetic only: exact and deterministic everywhere.
import { fail, readStdin, u32At, writeStdout } from "./wasi";

const MAX_N: u32 = 2048;

function main(): void {
  const input = readStdin();
  if (input.length != 8) {
    fail(2, "input must be 8 bytes: n, seed (u32 little-endian)");
    return;
  }
  const n = u32At(input, 0);
  const seed = u32At(input, 4);
  if (n < 1 || n > MAX_N) {
    fail(2, "n must be in [1, " + MAX_N.toString() + "]");
    return;
  }
  const size = <i32>(n * n);
  const a = new Uint32Array(size);
  const b = new Uint32Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = state * 1664525 + 1013904223;
    a[i] = state;
  }
  for (let i = 0; i < size; i++) {
    state = state * 1664525 + 1013904223;
    b[i] = state;
  }
  const c = new Uint32Array(size);
  const dim = <i32>n;
  // i-k-j order: the inner loop walks rows of B and C contiguously.
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const aik = a[i * dim + k];
      const bRow = k * dim;
      const cRow = i * dim;
      for (let j = 0; j < dim; j++) c[cRow + j] += aik * b[bRow + j];
    }
  }
  writeStdout(Uint8Array.wrap(c.buffer));
}

main();
