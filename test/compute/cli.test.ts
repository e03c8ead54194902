import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import { keccak256 } from "ethers";
import pngjs from "pngjs";

import { matmulInput, runJob } from "@hexmesh/compute";

const CLI = fileURLToPath(new URL("../../packages/compute/bin/hexmesh-compute.js", import.meta.url));
const MATMUL = fileURLToPath(new URL("../../packages/compute/dist/jobs/matmul.wasm", import.meta.url));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hexmesh-compute CLI", function () {
  // Each test starts the CLI one to three times: 22-36 s for the slowest on a shared 2-core runner,
  // and over 60 s with a 40M-report close beside it.
  this.timeout(180_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), "hexmesh-compute-cli-"))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("render writes a PNG of the requested size and prints its hashes", async function () {
    const out = path.join(dir, "frame.png");
    const r = cli([
      "render",
      "--out",
      out,
      "--width",
      "40",
      "--height",
      "30",
      "--samples",
      "2",
      "--seed",
      "9",
    ]);
    expect(r.status, r.stderr).to.equal(0);
    const printed = JSON.parse(r.stdout) as {
      outputHash: string;
      outputBytes: number;
      out: string;
      specHash: string;
    };
    const bytes = await readFile(out);
    expect(printed.outputHash).to.equal(keccak256(bytes));
    expect(printed.outputBytes).to.equal(bytes.length);
    const png = pngjs.PNG.sync.read(bytes);
    expect([png.width, png.height]).to.deep.equal([40, 30]);
  });

  it("run and spec agree on the spec hash; run writes the output", async function () {
    const input = path.join(dir, "input.bin");
    await writeFile(input, matmulInput({ n: 8, seed: 3 }));
    const out = path.join(dir, "c.bin");
    const run = cli(["run", "--program", MATMUL, "--input", input, "--out", out]);
    expect(run.status, run.stderr).to.equal(0);
    const spec = cli(["spec", "--program", MATMUL, "--input", input]);
    expect(spec.status, spec.stderr).to.equal(0);
    const ran = JSON.parse(run.stdout) as {
      specHash: string;
      outputHash: string;
      ticks: string;
      units: number;
    };
    // The metered work, as the runner counts it in process: the bill a provider would commit.
    const inProcess = await runJob(await readFile(MATMUL), matmulInput({ n: 8, seed: 3 }));
    expect(ran.ticks).to.equal(inProcess.ticks.toString());
    expect(ran.units).to.equal(1);
    const specced = JSON.parse(spec.stdout) as { specHash: string; programHash: string; spec: string };
    expect(ran.specHash).to.equal(specced.specHash);
    expect(specced.specHash).to.equal(keccak256(specced.spec));
    expect(specced.programHash).to.equal(keccak256(await readFile(MATMUL)));
    expect(ran.outputHash).to.equal(keccak256(await readFile(out)));
    expect((await readFile(out)).length).to.equal(8 * 8 * 4);
  });

  it("a failed job exits 1 with its code; bad arguments and files exit 2", async function () {
    const input = path.join(dir, "input.bin");
    await writeFile(input, matmulInput({ n: 512, seed: 1 }));
    const over = cli(["run", "--program", MATMUL, "--input", input, "--memory-mib", "2"]);
    expect(over.status).to.equal(1);
    expect(over.stderr).to.match(/job failed: memory-limit/);
    const slow = cli([
      "render",
      "--out",
      path.join(dir, "x.png"),
      "--width",
      "1024",
      "--height",
      "1024",
      "--time-ms",
      "200",
    ]);
    expect(slow.status).to.equal(1);
    expect(slow.stderr).to.match(/job failed: time-limit/);
    const missing = cli(["run", "--program", path.join(dir, "nope.wasm"), "--input", input]);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.match(/cannot read the program/);
    const notWasm = cli(["run", "--program", input, "--input", input]);
    expect(notWasm.status).to.equal(1);
    expect(notWasm.stderr).to.match(/malformed-program/);
    const badArg = cli(["render", "--out", path.join(dir, "y.png"), "--width", "-3"]);
    expect(badArg.status).to.equal(2);
    expect(badArg.stderr).to.match(/must be a positive integer/);
    const noOut = cli(["render"]);
    expect(noOut.status).to.equal(2);
    expect(noOut.stderr).to.match(/--out/);
    expect(cli(["--help"]).status).to.equal(0);
  });
});
