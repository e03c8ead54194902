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

import { pathTracerInput, ProviderState } from "@hexmesh/compute";

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
  Status,
  SUBNET_COMPUTE,
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
        unitMs: 50,
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

  async function submit(input: Uint8Array, maxUnits = 500, deadline = "2h"): Promise<bigint> {
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
});
