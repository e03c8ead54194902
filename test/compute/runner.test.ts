import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { concat, keccak256 } from "ethers";
import pngjs from "pngjs";

import {
  DEFAULT_LIMITS,
  exampleProgram,
  FileContentStore,
  JobError,
  matmulInput,
  pathTracerInput,
  runJob,
  runJobBySpec,
  type JobErrorCode,
} from "@hexmesh/compute";
import { decodeJobSpec, encodeJobSpec, jobSpecOf, toHex, unitsOfTicks } from "@hexmesh/protocol";

const MiB = 1024 * 1024;

async function expectJobError(run: Promise<unknown>, code: JobErrorCode, text?: RegExp): Promise<JobError> {
  try {
    await run;
  } catch (error) {
    expect(error).to.be.instanceOf(JobError);
    const jobError = error as JobError;
    expect(jobError.code, jobError.message).to.equal(code);
    if (text) expect(jobError.message).to.match(text);
    return jobError;
  }
  throw new Error(`expected a ${code} JobError, the job succeeded`);
}

/** The matrix product job in JavaScript, from its description in jobs/matmul.ts. */
function matmulReference(n: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  const a = Array.from({ length: n * n }, next);
  const b = Array.from({ length: n * n }, next);
  const c = new Uint32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum = (sum + Math.imul(a[i * n + k]!, b[k * n + j]!)) >>> 0;
      c[i * n + j] = sum;
    }
  return new Uint8Array(c.buffer);
}

// ------------------------------------------------------------- hand-assembled test programs

const bytesOf = (text: string) => [text.length, ...new TextEncoder().encode(text)];
const section = (id: number, content: number[]) => [id, content.length, ...content];

/** A one-function WASI-shaped module; `body` is the code of `_start` (without the final `end`). */
function tinyModule(options: {
  importMemory?: { module: string; name: string; minimum: number };
  ownMemory?: number;
  importFunction?: { module: string; name: string };
  exportStart?: boolean;
  /** Exports the function once more under this name. */
  exportAlso?: string;
  body?: number[];
}): Uint8Array {
  const imports: number[][] = [];
  if (options.importFunction)
    imports.push([
      ...bytesOf(options.importFunction.module),
      ...bytesOf(options.importFunction.name),
      0x00,
      0,
    ]);
  if (options.importMemory)
    imports.push([
      ...bytesOf(options.importMemory.module),
      ...bytesOf(options.importMemory.name),
      0x02,
      0x00,
      options.importMemory.minimum,
    ]);
  const exports: number[][] = [];
  if (options.exportStart !== false)
    exports.push([...bytesOf("_start"), 0x00, imports.length && options.importFunction ? 1 : 0]);
  if (options.importMemory || options.ownMemory !== undefined) exports.push([...bytesOf("memory"), 0x02, 0]);
  if (options.exportAlso !== undefined)
    exports.push([...bytesOf(options.exportAlso), 0x00, imports.length && options.importFunction ? 1 : 0]);
  const body = [0x00, ...(options.body ?? []), 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 0, 0]),
    ...(imports.length ? section(2, [imports.length, ...imports.flat()]) : []),
    ...section(3, [1, 0]),
    ...(options.ownMemory !== undefined ? section(5, [1, 0x00, options.ownMemory]) : []),
    ...section(7, [exports.length, ...exports.flat()]),
    ...section(10, [1, body.length, ...body]),
  ]);
}

const ENV_MEMORY = { module: "env", name: "memory", minimum: 1 };

describe("compute: example jobs and the runner", function () {
  this.timeout(60_000);

  describe("the path tracer", function () {
    it("renders a frame to a PNG a decoder opens, of the requested size, with an image in it", async function () {
      const program = await exampleProgram("pathtracer");
      const result = await runJob(program, pathTracerInput({ width: 48, height: 32, samples: 4, seed: 7 }));
      const png = pngjs.PNG.sync.read(Buffer.from(result.output));
      expect([png.width, png.height]).to.deep.equal([48, 32]);
      // Not a blank frame: the spheres, the floor and the sky give many distinct colours.
      const colours = new Set<number>();
      for (let i = 0; i < png.data.length; i += 4) colours.add(png.data.readUInt32BE(i));
      expect(colours.size).to.be.greaterThan(100);
      expect(result.outputHash).to.equal(keccak256(result.output));
    });

    it("same program and input: byte-identical output on repeated runs; another seed: another frame", async function () {
      const program = await exampleProgram("pathtracer");
      const input = pathTracerInput({ width: 24, height: 16, samples: 3, seed: 42 });
      const runs = await Promise.all([
        runJob(program, input),
        runJob(program, input),
        runJob(program, input),
      ]);
      expect(new Set(runs.map((r) => r.outputHash)).size).to.equal(1);
      expect(Buffer.from(runs[0]!.output).equals(Buffer.from(runs[2]!.output))).to.equal(true);
      const other = await runJob(program, pathTracerInput({ width: 24, height: 16, samples: 3, seed: 43 }));
      expect(other.outputHash).to.not.equal(runs[0]!.outputHash);
    });

    it("renders the same bytes on every machine: a pinned frame", async function () {
      // Pinned when the job was written; a verifier on any engine must reproduce it (IEEE-exact
      // operations only). A change to the job is a new program, so a new pin.
      const result = await runJob(
        await exampleProgram("pathtracer"),
        pathTracerInput({ width: 16, height: 12, samples: 2, seed: 1 }),
      );
      expect(result.outputHash).to.equal(
        "0x115c4da8b2ef42908665dd4fc2fbe6ea06c42c2b67a6a591ced04135d9639c61",
      );
      expect(result.output.length).to.equal(656);
    });

    it("refuses a malformed input with its exit code and message", async function () {
      const program = await exampleProgram("pathtracer");
      await expectJobError(runJob(program, new Uint8Array(15)), "exit", /code 2: input must be 16 bytes/);
      await expectJobError(
        runJob(program, pathTracerInput({ width: 0, height: 16, samples: 1, seed: 1 })),
        "exit",
        /width and height must be in \[1, 1024\]/,
      );
      await expectJobError(
        runJob(program, pathTracerInput({ width: 8, height: 8, samples: 2000, seed: 1 })),
        "exit",
        /samples must be in \[1, 1024\]/,
      );
    });
  });

  describe("the matrix product", function () {
    it("computes A × B mod 2^32 exactly as a JavaScript reference does, the same on every run", async function () {
      const program = await exampleProgram("matmul");
      for (const [n, seed] of [
        [1, 0],
        [17, 5],
        [40, 0xffff_ffff],
      ] as const) {
        const input = matmulInput({ n, seed });
        const [a, b] = await Promise.all([runJob(program, input), runJob(program, input)]);
        expect(Buffer.from(a.output).equals(Buffer.from(matmulReference(n, seed))), `n=${n}`).to.equal(true);
        expect(a.outputHash).to.equal(b.outputHash);
      }
      await expectJobError(
        runJob(program, matmulInput({ n: 0, seed: 1 })),
        "exit",
        /n must be in \[1, 2048\]/,
      );
      await expectJobError(runJob(program, new Uint8Array(9)), "exit", /input must be 8 bytes/);
    });
  });

  describe("metered units", function () {
    it("counts ticks (function entries and loop iterations) from the program: the same on every run, pinned, growing with the work", async function () {
      this.timeout(180_000); // five runs, each a worker and a metering pass: slow on a loaded machine
      const program = await exampleProgram("matmul");
      const input = matmulInput({ n: 64, seed: 20_261_205 });
      const [a, b] = await Promise.all([runJob(program, input), runJob(program, input)]);
      // Pinned: a change of the metering changes every provider's bill, so it must be deliberate.
      expect(a.ticks).to.equal(1_876_954n);
      expect(b.ticks).to.equal(a.ticks);
      const bigger = await runJob(program, matmulInput({ n: 128, seed: 20_261_205 }));
      expect(bigger.ticks > 7n * a.ticks).to.equal(true);
      expect(unitsOfTicks(bigger.ticks)).to.equal(2n);
      // Metering does not change what the job computes.
      expect(Buffer.from(a.output).equals(Buffer.from(matmulReference(64, 20_261_205)))).to.equal(true);
      const frame = await runJob(
        await exampleProgram("pathtracer"),
        pathTracerInput({ width: 16, height: 12, samples: 2, seed: 1 }),
      );
      expect(frame.ticks > 0n).to.equal(true);
      expect(
        (
          await runJob(
            await exampleProgram("pathtracer"),
            pathTracerInput({ width: 16, height: 12, samples: 2, seed: 1 }),
          )
        ).ticks,
      ).to.equal(frame.ticks);
    });

    it("refuses a program V8 accepts but the meter cannot read (a malformed name section), and one exporting the meter's name", async function () {
      const name = new TextEncoder().encode("name");
      // A custom "name" section whose subsection claims 200 bytes it does not have: V8 ignores it.
      const badNames = Uint8Array.from([0, 7, name.length, ...name, 1, 200]);
      const program = Uint8Array.from([...tinyModule({ importMemory: ENV_MEMORY }), ...badNames]);
      await expectJobError(runJob(program, new Uint8Array(0)), "malformed-program", /cannot be metered/);
      const after = await runJob(tinyModule({ importMemory: ENV_MEMORY }), new Uint8Array(0));
      expect(after.ticks).to.equal(1n);
      // A program may not bring its own counter under the meter's name.
      await expectJobError(
        runJob(tinyModule({ importMemory: ENV_MEMORY, exportAlso: "hexmesh_ticks" }), new Uint8Array(0)),
        "malformed-program",
        /exports hexmesh_ticks, the runner's meter/,
      );
    });

    it("counts one tick for a command that only enters _start", async function () {
      const result = await runJob(tinyModule({ importMemory: ENV_MEMORY }), new Uint8Array(0));
      expect(result.ticks).to.equal(1n);
    });
  });

  describe("specs and running by content hash", function () {
    let dir: string;
    beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), "hexmesh-store-"))));
    afterEach(async () => rm(dir, { recursive: true, force: true }));

    it("specHash = keccak256(keccak256(program) ‖ keccak256(input)); the spec round-trips", async function () {
      const program = await exampleProgram("matmul");
      const input = matmulInput({ n: 3, seed: 9 });
      const { spec, specBytes, specHash } = jobSpecOf(program, input);
      expect(spec.programHash).to.equal(keccak256(program));
      expect(spec.inputHash).to.equal(keccak256(input));
      expect(specHash).to.equal(keccak256(concat([keccak256(program), keccak256(input)])));
      expect(decodeJobSpec(specBytes)).to.deep.equal(spec);
      expect(toHex(encodeJobSpec(spec))).to.equal(toHex(specBytes));
      expect(() => decodeJobSpec(new Uint8Array(63))).to.throw(/64 bytes, got 63/);
      expect(() => encodeJobSpec({ ...spec, inputHash: "0x12" })).to.throw(/inputHash is not 32-byte hex/);
      const result = await runJob(program, input);
      expect(result.specHash).to.equal(specHash);
      expect(result.programHash).to.equal(spec.programHash);
    });

    it("runs a job from its specHash alone through a content store, and refuses tampered or missing content", async function () {
      const store = new FileContentStore(dir);
      const program = await exampleProgram("pathtracer");
      const input = pathTracerInput({ width: 8, height: 8, samples: 1, seed: 3 });
      const { specBytes, specHash } = jobSpecOf(program, input);
      expect(await store.put(program)).to.equal(keccak256(program));
      const inputHash = await store.put(input);
      expect(await store.put(specBytes)).to.equal(specHash);
      const bySpec = await runJobBySpec(specHash, store);
      const direct = await runJob(program, input);
      expect(bySpec.outputHash).to.equal(direct.outputHash);
      expect(bySpec.specHash).to.equal(specHash);

      await writeFile(
        path.join(dir, inputHash.slice(2)),
        pathTracerInput({ width: 8, height: 8, samples: 1, seed: 4 }),
      );
      await expectJobError(
        runJobBySpec(specHash, store),
        "content-mismatch",
        new RegExp(`stored as ${inputHash}`),
      );
      const unknown = keccak256("0x1234") as `0x${string}`;
      await expectJobError(runJobBySpec(unknown, store), "not-found", new RegExp(unknown));
      await expectJobError(store.get(unknown), "not-found");
      try {
        await store.get("0xzz" as `0x${string}`);
        expect.fail("a malformed hash was accepted");
      } catch (error) {
        expect((error as Error).message).to.match(/not a 32-byte hash/);
      }
    });
  });

  describe("limits", function () {
    it("stops a job at its time limit", async function () {
      const program = await exampleProgram("pathtracer");
      const started = performance.now();
      await expectJobError(
        runJob(program, pathTracerInput({ width: 512, height: 512, samples: 64, seed: 1 }), { timeMs: 300 }),
        "time-limit",
        /past its time limit of 300 ms/,
      );
      expect(performance.now() - started).to.be.lessThan(5_000);
    });

    it("stops a job over its memory limit; the same job within its limit runs", async function () {
      const program = await exampleProgram("matmul");
      // n = 512 needs 3 MiB of matrices: over a 2 MiB limit, within 8 MiB.
      await expectJobError(
        runJob(program, matmulInput({ n: 512, seed: 1 }), { memoryBytes: 2 * MiB }),
        "memory-limit",
        /cannot double within its limit of 2097152 bytes/,
      );
      // One allocation larger than all the room left (n = 1024: a 4 MiB matrix) traps at once, far
      // below the limit; it is stopped all the same, and the message gives the memory figures.
      await expectJobError(
        runJob(program, matmulInput({ n: 1024, seed: 1 }), { memoryBytes: 2 * MiB }),
        "trap",
        /memory in use \d+ of a 2097152-byte limit/,
      );
      const ok = await runJob(program, matmulInput({ n: 64, seed: 1 }), { memoryBytes: 2 * MiB });
      expect(ok.memoryBytes).to.be.at.most(2 * MiB);
      // A program whose memory import asks for more than the limit is refused before it runs.
      await expectJobError(
        runJob(tinyModule({ importMemory: { ...ENV_MEMORY, minimum: 40 } }), new Uint8Array(0), {
          memoryBytes: 2 * MiB,
        }),
        "memory-limit",
        /needs 2621440 bytes of memory to start/,
      );
    });

    it("refuses output over its limit and limits that are not positive integers", async function () {
      const program = await exampleProgram("matmul");
      await expectJobError(
        runJob(program, matmulInput({ n: 32, seed: 1 }), { outputBytes: 4095 }),
        "output-limit",
        /wrote 4096 bytes, over the limit of 4095/,
      );
      for (const limits of [{ timeMs: 0 }, { memoryBytes: -1 }, { outputBytes: 1.5 }]) {
        try {
          await runJob(program, matmulInput({ n: 2, seed: 1 }), limits);
          expect.fail("accepted bad limits");
        } catch (error) {
          expect(error).to.be.instanceOf(RangeError);
        }
      }
      expect(DEFAULT_LIMITS.memoryBytes).to.equal(256 * MiB);
    });

    it("a trap that is not about memory is reported as a trap", async function () {
      await expectJobError(
        runJob(tinyModule({ importMemory: ENV_MEMORY, body: [0x00] }), new Uint8Array(0)),
        "trap",
        /unreachable/,
      );
    });
  });

  describe("malformed programs", function () {
    const cases: [string, Uint8Array, RegExp][] = [
      ["not WebAssembly", new TextEncoder().encode("#!/bin/sh\necho hi\n"), /not a valid WebAssembly module/],
      [
        "a truncated module",
        new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01]),
        /not a valid/,
      ],
      [
        "no _start export",
        tinyModule({ importMemory: ENV_MEMORY, exportStart: false }),
        /no _start function export/,
      ],
      ["its own memory", tinyModule({ ownMemory: 1 }), /must import its memory as env.memory/],
      [
        "an import outside WASI",
        tinyModule({ importMemory: ENV_MEMORY, importFunction: { module: "env", name: "now" } }),
        /import env.now \(function\) is not allowed/,
      ],
      [
        "memory under another name",
        tinyModule({ importMemory: { module: "env", name: "heap", minimum: 1 } }),
        /import env.heap \(memory\) is not allowed/,
      ],
    ];
    for (const [name, bytes, message] of cases)
      it(`refuses ${name}`, async function () {
        await expectJobError(runJob(bytes, new Uint8Array(0)), "malformed-program", message);
      });

    it("runs a well-formed minimal command (the hand-assembled modules are valid)", async function () {
      const result = await runJob(tinyModule({ importMemory: ENV_MEMORY }), new Uint8Array(0));
      expect(result.output.length).to.equal(0);
      expect(result.outputHash).to.equal(keccak256("0x"));
    });
  });
});
