/**
 * The example jobs, compiled from jobs/*.ts by AssemblyScript in `npm run build` into dist/jobs/,
 * and the encoders of their inputs.
 */
import { readFile } from "node:fs/promises";

export type ExampleJob = "pathtracer" | "matmul";

/** The compiled program of an example job. */
export async function exampleProgram(name: ExampleJob): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL(`./jobs/${name}.wasm`, import.meta.url)));
}

function u32s(values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`not a u32: ${v}`);
    view.setUint32(4 * i, v, true);
  });
  return out;
}

/** Input of the path tracer: frame size (1..1024 each), samples per pixel (1..1024), seed. */
export function pathTracerInput(frame: {
  width: number;
  height: number;
  samples: number;
  seed: number;
}): Uint8Array {
  return u32s([frame.width, frame.height, frame.samples, frame.seed]);
}

/** Input of the matrix product: n (1..2048) and the seed A and B are generated from. */
export function matmulInput(job: { n: number; seed: number }): Uint8Array {
  return u32s([job.n, job.seed]);
}
