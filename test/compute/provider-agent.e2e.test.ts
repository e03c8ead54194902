/**
 * A frame rendered by a provider agent is paid (issue 18): on Hardhat's chain served as JSON-RPC on
 * localhost, a customer's blob server (`hexmesh-compute blobs serve`), the provider agent
 * (`hexmesh-compute provider start`) and the customer's commands, each a separate process. The
 * customer submits the path tracer; the operator accepts; the agent fetches, renders, serves and
 * commits; the customer fetches the frame (a PNG whose hash is the commitment); the job finalizes
 * and UsageRecorded pays the provider. Then the agent is killed mid-run (SIGKILL): restarted, it
 * runs the job again and commits; with maxAttempts 1 it gives the job up, which expires with a
 * refund and a strike.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { keccak256 } from "ethers";
import pngjs from "pngjs";

import { exampleProgram, pathTracerInput, ProviderState, runJob } from "@hexmesh/compute";

import { serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import {
  computeCli,
  computeJson,
  hardhatKey,
  PATH_TRACER,
  startComputeProcess,
  waitForLog,
  writeKeyFile,
} from "../helpers/compute-agent.js";
import {
  CLASS_CPU,
  CPU_PRICE,
  deployCompute,
  HOUR,
  RefundReason,
  Status,
  SUBNET_COMPUTE,
  Tier,
  type ComputeSystem,
} from "../helpers/compute.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";
import { freePort, stopProcessGroup } from "../helpers/service.js";

const connection = await createRegistryNetwork();
const { ethers, networkHelpers } = connection;

type Proc = ReturnType<typeof startComputeProcess>;

describe("compute: provider agent and client commands against a node on localhost", function () {
  this.timeout(240_000);
  let fx: ComputeSystem;
  let rpc: JsonRpcEndpoint;
  let dir: string;
  let customerBlobs: { proc: Proc; url: string };
  let agent: Proc | undefined;
  let agentBlobs: string;
  let customerKey: string;
  const configFile = () => path.join(dir, "provider.json");
  const chainArgs = () => ["--rpc", rpc.url, "--compute-jobs", fx.jobs.target as string];

  function writeConfig(overrides: Record<string, unknown> = {}) {
    writeFileSync(
      configFile(),
      JSON.stringify({
        key: "provider.key",
        rpc: rpc.url,
        computeJobs: fx.jobs.target,
        devices: [{ id: fx.cpuA.toString(), class: CLASS_CPU }],
        state: "state/provider.sqlite",
        blobs: { dir: "outputs", port: Number(new URL(agentBlobs).port) },
        sources: [customerBlobs.url],
        pollMs: 100,
        commitMarginSec: 60,
        ...overrides,
      }),
    );
  }

  async function startAgent(): Promise<Proc> {
    agent = startComputeProcess(["provider", "start", "--config", configFile()]);
    await waitForLog(agent, "started");
    return agent;
  }

  async function stopAgent(signal: NodeJS.Signals = "SIGTERM") {
    await stopProcessGroup(agent?.child, signal);
    agent = undefined;
  }

  async function submit(
    input: Uint8Array,
    maxUnits = 500,
    deadline = "2h",
    extra: string[] = [],
  ): Promise<bigint> {
    const inputFile = path.join(dir, `input-${Date.now()}.bin`);
    writeFileSync(inputFile, input);
    const out = await computeJson<{ jobId: string }>([
      "submit",
      PATH_TRACER,
      "--input",
      inputFile,
      "--class",
      String(CLASS_CPU),
      "--max-units",
      String(maxUnits),
      "--deadline",
      deadline,
      "--blobs",
      customerBlobs.url,
      "--key",
      customerKey,
      ...extra,
      ...chainArgs(),
    ]);
    return BigInt(out.jobId);
  }

  const status = async (id: bigint) => (await fx.jobs.job(id)).status;
  async function waitStatus(id: bigint, want: bigint, ms = 120_000) {
    const until = Date.now() + ms;
    while ((await status(id)) !== want) {
      if (Date.now() > until) throw new Error(`job ${id} still ${await status(id)}:\n${agent?.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async function () {
    fx = await deployCompute(ethers, networkHelpers);
    rpc = await serveJsonRpc(connection.provider);
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-compute-e2e-"));
    const provider = hardhatKey(7);
    const customer = hardhatKey(3);
    expect(provider.address).to.equal(fx.providerA.address);
    expect(customer.address).to.equal(fx.customer.address);
    writeKeyFile(dir, "provider", provider);
    customerKey = writeKeyFile(dir, "customer", customer);
    const port = await freePort();
    const proc = startComputeProcess([
      "blobs",
      "serve",
      "--dir",
      path.join(dir, "customer-blobs"),
      "--port",
      String(port),
    ]);
    await waitForLog(proc, "listening");
    customerBlobs = { proc, url: `http://127.0.0.1:${port}` };
    agentBlobs = `http://127.0.0.1:${await freePort()}`;
    writeConfig();
  });

  after(async function () {
    await stopAgent("SIGKILL").catch(() => {});
    await stopProcessGroup(customerBlobs?.proc.child, "SIGTERM");
    await rpc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a frame rendered by the provider agent is fetched, matches the commitment, and is paid", async function () {
    await startAgent();
    const input = pathTracerInput({ width: 64, height: 48, samples: 4, seed: 11 });
    const id = await submit(input);
    expect(await status(id)).to.equal(Status.Open);
    const locked = await fx.credits.locked(fx.customer.address, fx.jobs.target);
    expect(locked).to.equal(500n * CPU_PRICE);

    // The customer's view before a provider: open, no result; fetching has nothing to fetch.
    const open = await computeJson(["job", id.toString(), ...chainArgs()]);
    expect(open).to.include({ status: "Open", provider: null, resultHash: null, maxUnits: 500 });
    const early = await computeCli([
      "fetch",
      id.toString(),
      "--out",
      path.join(dir, "x"),
      "--blobs",
      agentBlobs,
      ...chainArgs(),
    ]);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.contain(`job ${id} has no committed result (status Open)`);

    // The operator accepts (its decision); the running agent picks the job up from the chain.
    const accepted = await computeJson(["provider", "accept", id.toString(), "--config", configFile()]);
    expect(accepted).to.include({ jobId: id.toString(), status: "accepted", deviceId: fx.cpuA.toString() });
    const committed = await waitForLog(agent!, "committed", { jobId: id.toString() });
    await waitStatus(id, Status.Committed);
    const job = await fx.jobs.job(id);
    expect(job.resultHash).to.equal(committed.resultHash);
    expect(job.usedUnits).to.be.within(1n, 500n);

    const view = await computeJson(["job", id.toString(), ...chainArgs()]);
    expect(view).to.include({
      status: "Committed",
      provider: fx.providerA.address,
      deviceId: fx.cpuA.toString(),
      resultHash: job.resultHash,
      usedUnits: Number(job.usedUnits),
    });

    // The frame, from the agent's blob server: a PNG of the requested size hashing to the commitment.
    const frame = path.join(dir, "frame.png");
    const fetched = await computeJson([
      "fetch",
      id.toString(),
      "--out",
      frame,
      "--blobs",
      customerBlobs.url, // the customer's server does not hold it: the next one is tried
      "--blobs",
      agentBlobs,
      ...chainArgs(),
    ]);
    const bytes = readFileSync(frame);
    expect(fetched).to.include({ resultHash: job.resultHash, bytes: bytes.length, out: frame });
    expect(keccak256(bytes)).to.equal(job.resultHash);
    const png = pngjs.PNG.sync.read(bytes);
    expect([png.width, png.height]).to.deep.equal([64, 48]);

    // After the acceptance window anyone finalizes: the used units are consumed for the provider.
    await networkHelpers.time.increase(24n * HOUR);
    const consumed = job.usedUnits * CPU_PRICE;
    await expect(fx.jobs.connect(fx.outsider).finalize(id))
      .to.emit(fx.credits, "UsageRecorded")
      .withArgs(
        SUBNET_COMPUTE,
        await fx.controller.currentEpoch(),
        fx.providerA.address,
        consumed,
        fx.customer.address,
      );
    expect(await fx.credits.locked(fx.customer.address, fx.jobs.target)).to.equal(0n);
    expect((await computeJson(["job", id.toString(), ...chainArgs()])).status).to.equal("Finalized");
    await stopAgent();
  });

  const stateOf = (id: bigint) => {
    const state = new ProviderState(path.join(dir, "state", "provider.sqlite"));
    try {
      return state.get(id);
    } finally {
      state.close();
    }
  };

  /** Submits a render of about 2-3 s, accepts it and kills the agent (SIGKILL) while it runs. */
  async function killMidRun(): Promise<bigint> {
    await startAgent();
    const id = await submit(pathTracerInput({ width: 160, height: 120, samples: 96, seed: 5 }), 100_000);
    await computeJson(["provider", "accept", id.toString(), "--config", configFile()]);
    await waitForLog(agent!, "running", { jobId: id.toString() });
    await stopAgent("SIGKILL");
    expect(stateOf(id)).to.include({ status: "running", attempts: 1 });
    expect(await status(id)).to.equal(Status.Accepted);
    return id;
  }

  it("killed mid-run, the restarted agent runs the job again from the start and commits it", async function () {
    writeConfig();
    const id = await killMidRun();
    await startAgent();
    expect(await waitForLog(agent!, "resuming", { jobId: id.toString() })).to.include({ attempts: 1 });
    await waitForLog(agent!, "committed", { jobId: id.toString() });
    expect(stateOf(id)).to.include({ status: "committed", attempts: 2 });
    const job = await fx.jobs.job(id);
    expect(job.status).to.equal(Status.Committed);
    const frame = path.join(dir, "resumed.png");
    await computeJson(["fetch", id.toString(), "--out", frame, "--blobs", agentBlobs, ...chainArgs()]);
    expect(keccak256(readFileSync(frame))).to.equal(job.resultHash);
    expect(pngjs.PNG.sync.read(readFileSync(frame)).width).to.equal(160);
    await stopAgent();
  });

  it("with maxAttempts 1 a run cut short is given up cleanly: the job expires, refunded, with a strike", async function () {
    writeConfig({ maxAttempts: 1 });
    const id = await killMidRun();
    await startAgent();
    expect(await waitForLog(agent!, "given-up", { jobId: id.toString() })).to.include({
      reason: "crashed-repeatedly",
    });
    expect(stateOf(id)).to.include({ status: "given-up", reason: "crashed-repeatedly", attempts: 1 });
    await stopAgent();
    expect(await status(id)).to.equal(Status.Accepted);
    const deadline = (await fx.jobs.job(id)).deadline;
    await networkHelpers.time.increaseTo(deadline + 1n);
    const locked = await fx.credits.locked(fx.customer.address, fx.jobs.target);
    await expect(fx.jobs.connect(fx.outsider).expire(id))
      .to.emit(fx.jobs, "JobRefunded")
      .withArgs(id, RefundReason.MissedDeadline, 100_000n * CPU_PRICE)
      .and.to.emit(fx.jobs, "StrikeRecorded");
    expect(await fx.credits.locked(fx.customer.address, fx.jobs.target)).to.equal(
      locked - 100_000n * CPU_PRICE,
    );
  });

  it("auto-accepts the jobs its rules allow (class, price, size), and no others", async function () {
    writeConfig({ autoAccept: [{ class: CLASS_CPU, minPricePerUnit: Number(CPU_PRICE), maxUnits: 1_000 }] });
    await startAgent();
    const big = await submit(pathTracerInput({ width: 8, height: 8, samples: 1, seed: 1 }), 1_001);
    const small = await submit(pathTracerInput({ width: 8, height: 8, samples: 1, seed: 2 }), 1_000);
    await waitForLog(agent!, "committed", { jobId: small.toString() });
    expect((await fx.jobs.job(small)).provider).to.equal(fx.providerA.address);
    expect(await status(big)).to.equal(Status.Open);
    expect(stateOf(big)).to.equal(undefined);
    await fx.jobs.connect(fx.customer).cancelJob(big);
    await stopAgent();
  });

  it("accepts a job directed to its device (submit --device); never one directed to another device, even by its rules", async function () {
    writeConfig({ autoAccept: [{ class: CLASS_CPU, minPricePerUnit: Number(CPU_PRICE), maxUnits: 1_000 }] });
    await startAgent();
    const other = await submit(pathTracerInput({ width: 8, height: 8, samples: 1, seed: 4 }), 100, "2h", [
      "--device",
      fx.cpuB.toString(),
    ]);
    const mine = await submit(pathTracerInput({ width: 8, height: 8, samples: 1, seed: 5 }), 100, "2h", [
      "--device",
      fx.cpuA.toString(),
    ]);
    await waitForLog(agent!, "committed", { jobId: mine.toString() });
    expect((await fx.jobs.job(mine)).provider).to.equal(fx.providerA.address);
    expect((await fx.jobs.job(mine)).deviceId).to.equal(fx.cpuA);
    expect(await status(other)).to.equal(Status.Open);
    expect(stateOf(other)).to.equal(undefined);
    await fx.jobs.connect(fx.customer).cancelJob(other);
    await stopAgent();
    // A submit of the path tracer (as its own input) with `extra` arguments.
    const submitWith = (extra: string[]) =>
      computeCli([
        "submit",
        PATH_TRACER,
        ...["--input", PATH_TRACER, "--max-units", "5", "--deadline", "1h", "--blobs", customerBlobs.url],
        ...["--key", customerKey, ...extra, ...chainArgs()],
      ]);
    const verified = await submitWith(["--device", fx.cpuA.toString(), "--tier", "verified"]);
    expect(verified.code).to.equal(1);
    expect(verified.stderr).to.contain("Standard tier");
    const neither = await submitWith([]);
    expect(neither.code).to.equal(2);
    expect(neither.stderr).to.contain("give --class, or --device");
    const badDevice = await submitWith(["--device", "0x12"]);
    expect(badDevice.code).to.equal(2);
  });

  it("gives up a job whose deadline is too near, and a program that fails, with their reasons", async function () {
    writeConfig({ commitMarginSec: 2 * 3_600 });
    await startAgent();
    const near = await submit(pathTracerInput({ width: 8, height: 8, samples: 1, seed: 3 }), 100, "1h");
    await computeJson(["provider", "accept", near.toString(), "--config", configFile()]);
    expect(await waitForLog(agent!, "given-up", { jobId: near.toString() })).to.include({
      reason: "deadline-too-close",
    });
    await stopAgent();
    writeConfig();
    await startAgent();
    // Width 0 is refused by the path tracer: it exits 2.
    const bad = await submit(pathTracerInput({ width: 0, height: 8, samples: 1, seed: 3 }), 100);
    await computeJson(["provider", "accept", bad.toString(), "--config", configFile()]);
    await waitForLog(agent!, "given-up", { jobId: bad.toString() });
    expect(stateOf(bad)).to.include({ status: "given-up", reason: "job-failed" });
    expect(stateOf(bad)!.detail).to.match(/^exit: /);
    await stopAgent();
  });

  it("the commands refuse what they cannot do, with exit codes and reasons", async function () {
    const unknown = await computeCli(["job", "999", ...chainArgs()]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/no job 999 \(jobs are 1\.\.\d+\)/);
    const badId = await computeCli(["job", "0x1", ...chainArgs()]);
    expect(badId.code).to.equal(2);
    const noRpc = await computeCli(["job", "1", "--compute-jobs", fx.jobs.target as string]);
    expect(noRpc.code).to.equal(2);
    expect(noRpc.stderr).to.contain("--rpc is required (or set HEXMESH_RPC)");
    const noContract = await computeCli([
      "job",
      "1",
      "--rpc",
      rpc.url,
      "--compute-jobs",
      "0x" + "12".repeat(20),
    ]);
    expect(noContract.code).to.equal(1);
    expect(noContract.stderr).to.contain("no contract at");
    const badDeadline = await computeCli([
      "submit",
      PATH_TRACER,
      "--input",
      PATH_TRACER,
      "--class",
      String(CLASS_CPU),
      "--max-units",
      "5",
      "--deadline",
      "tomorrow",
      "--blobs",
      customerBlobs.url,
      "--key",
      customerKey,
      ...chainArgs(),
    ]);
    expect(badDeadline.code).to.equal(1);
    expect(badDeadline.stderr).to.contain("--deadline must be a duration");
    // The GPU class has no price: the contract's refusal is decoded.
    const unpriced = await computeCli([
      "submit",
      PATH_TRACER,
      "--input",
      PATH_TRACER,
      "--class",
      "8",
      "--max-units",
      "5",
      "--deadline",
      "1h",
      "--blobs",
      customerBlobs.url,
      "--key",
      customerKey,
      ...chainArgs(),
    ]);
    expect(unpriced.code).to.equal(1);
    expect(unpriced.stderr).to.contain("ComputeClassNotPriced(deviceClass=8)");
    const badConfig = await computeCli(["provider", "status", "--config", path.join(dir, "missing.json")]);
    expect(badConfig.code).to.equal(2);
    expect(badConfig.stderr).to.contain("cannot read config");
  });

  it("fetch refuses an output whose bytes do not hash to the committed result", async function () {
    // A job committed with a hash whose bytes no server holds: a lying provider's server sends others.
    const id = await submit(pathTracerInput({ width: 8, height: 8, samples: 1, seed: 4 }), 100);
    await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
    await fx.jobs.connect(fx.providerA).commitResult(id, keccak256("0x1234"), 1);
    const { createServer } = await import("node:http");
    const liar = createServer((_req, res) => res.end("not the output"));
    await new Promise<void>((r) => liar.listen(0, "127.0.0.1", r));
    const port = (liar.address() as { port: number }).port;
    try {
      const r = await computeCli([
        "fetch",
        id.toString(),
        "--out",
        path.join(dir, "lie"),
        "--blobs",
        `http://127.0.0.1:${port}`,
        ...chainArgs(),
      ]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(
        /content-mismatch: no blob server had 0x[0-9a-f]{64} \(http:\/\/127\.0\.0\.1:\d+: sent bytes hashing to 0x/,
      );
    } finally {
      liar.closeAllConnections();
      liar.close();
    }
  });

  it("runs its half of a Verified job (the second provider): the results match and the job is committed", async function () {
    writeConfig();
    await startAgent();
    const input = pathTracerInput({ width: 12, height: 8, samples: 1, seed: 21 });
    const id = await submit(input, 100, "2h", ["--tier", "verified"]);
    expect((await fx.jobs.job(id)).tier).to.equal(BigInt(Tier.Verified));
    expect(await fx.credits.locked(fx.customer.address, fx.jobs.target)).to.be.gte(2n * 100n * CPU_PRICE);
    await fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB);
    expect(await status(id)).to.equal(Status.Open); // waits for its second provider
    await computeJson(["provider", "accept", id.toString(), "--config", configFile()]);
    const honest = (await runJob(await exampleProgram("pathtracer"), input)).outputHash;
    await fx.jobs.connect(fx.providerB).commitResult(id, honest, 1);
    const log = await waitForLog(agent!, "committed", { jobId: id.toString() });
    expect(log.resultHash).to.equal(honest);
    await waitStatus(id, Status.Committed);
    const second = await fx.jobs.secondProvider(id);
    expect([second.provider, second.committed, second.resultHash]).to.deep.equal([
      fx.providerA.address,
      true,
      honest,
    ]);
    await stopAgent();
  });
});
