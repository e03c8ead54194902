/**
 * `serve` with config key `compute`: the service's own round (every second here) indexes ComputeJobs
 * over JSON-RPC on localhost, records the spot check with its sending account, re-executes the cheat's
 * job, signs the verdict and serves it at GET /v1/compute/verdicts/:jobId; with `compute.withheld` it
 * probes an honest job's output (served nowhere here) and serves the probe.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { exampleProgram, matmulInput, putBlob, runJob, startBlobServer } from "@hexmesh/compute";
import { startService, validateConfig, type RunningService } from "@hexmesh/oracle";
import { jobSpecOf } from "@hexmesh/protocol";

import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { hardhatKey } from "../../helpers/compute-agent.js";
import { CLASS_CPU, deadlineIn, deployCompute, ORACLES, RESULT, Tier } from "../../helpers/compute.js";
import { createRegistryNetwork } from "../../helpers/registryFixture.js";

const connection = await createRegistryNetwork();
const { ethers, networkHelpers } = connection;

describe("serve: the compute oracle's round", function () {
  this.timeout(180_000);
  let dir: string;
  let rpc: JsonRpcEndpoint;
  let blobs: { url: string; close(): Promise<void> };
  let service: RunningService | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-compute-serve-"));
    rpc = await serveJsonRpc(connection.provider);
    blobs = await startBlobServer({
      dir: path.join(dir, "blobs"),
      host: "127.0.0.1",
      port: 0,
      maxBytes: 1 << 24,
    });
  });
  after(async () => {
    await service?.close();
    await blobs.close();
    await rpc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("indexes, records the spot check, re-executes, signs and serves the verdict on a cheat", async function () {
    const fx = await deployCompute(ethers, networkHelpers);
    const program = await exampleProgram("matmul");
    const input = matmulInput({ n: 8, seed: 3 });
    const { specBytes, specHash } = jobSpecOf(program, input);
    for (const b of [specBytes, program, input]) await putBlob(blobs.url, b);
    await fx.jobs
      .connect(fx.customer)
      .createJob(specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Standard);
    const cheat = await fx.jobs.jobCount();
    await fx.jobs.connect(fx.providerB).acceptJob(cheat, fx.cpuB);
    await fx.jobs.connect(fx.providerB).commitResult(cheat, RESULT, 1n);
    await fx.jobs
      .connect(fx.customer)
      .createJob(specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Standard);
    const honest = await fx.jobs.jobCount();
    await fx.jobs.connect(fx.providerA).acceptJob(honest, fx.cpuA);
    await fx.jobs.connect(fx.providerA).commitResult(honest, (await runJob(program, input)).outputHash, 1n);
    await networkHelpers.mine(1);

    const config = validateConfig({
      listen: { host: "127.0.0.1", port: 0 },
      store: { backend: "sqlite", path: path.join(dir, "oracle.sqlite") },
      chain: {
        rpcUrl: rpc.url,
        addresses: {
          registry: await fx.registry.getAddress(),
          vault: await fx.vault.getAddress(),
          controller: await fx.controller.getAddress(),
          distributor: await fx.oracleDistributor.getAddress(),
        },
        fromBlock: 0,
      },
      oracleKey: ORACLES[0]!.privateKey,
      posterKey: hardhatKey(9).privateKey, // fx.verifier: sends recordSpotCheck
      ingest: { signatureThreads: 0 },
      compute: {
        jobs: await fx.jobs.getAddress(),
        distributor: await fx.oracleDistributor.getAddress(),
        fromBlock: 0,
        intervalMs: 1_000,
        prover: fx.prover.address,
        sources: [blobs.url],
        cacheDir: path.join(dir, "cache"),
        benchmark: { sender: fx.customer.address },
        // Provider A's registered endpoint is down; the market's server does not hold the output.
        withheld: { timeoutMs: 1_000, endpoints: { [fx.providerA.address]: "http://127.0.0.1:9" } },
      },
      log: { level: "silent" },
    });
    service = await startService(config);
    expect(service.compute).to.not.equal(undefined);
    const until = Date.now() + 60_000;
    let body:
      | { check: { outcome: string } | null; verdicts: { signer: string; provider: string }[] }
      | undefined;
    for (;;) {
      const res = await fetch(`${service.url}/v1/compute/verdicts/${cheat}`);
      if (res.status === 200) {
        body = (await res.json()) as typeof body;
        if (body!.verdicts.length > 0) break;
      }
      if (Date.now() > until) throw new Error(`no verdict served: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(body!.check!.outcome).to.equal("fraud");
    expect(body!.verdicts[0]!.signer).to.equal(ORACLES[0]!.address.toLowerCase());
    expect(body!.verdicts[0]!.provider).to.equal(fx.providerB.address.toLowerCase());
    expect((await fx.jobs.job(cheat)).checkRecorded).to.equal(true);
    // The honest job re-executes to a match (units too) and its output is probed: one failure counted.
    const probeUntil = Date.now() + 60_000;
    let probed: { check: { outcome: string } | null; probe: { failures: number; detail: string } | null };
    for (;;) {
      probed = (await (await fetch(`${service.url}/v1/compute/verdicts/${honest}`)).json()) as typeof probed;
      if (probed.probe !== null && probed.check !== null) break;
      if (Date.now() > probeUntil) throw new Error(`no probe served: ${JSON.stringify(probed)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(probed.check!.outcome).to.equal("match");
    expect(probed.probe!.failures).to.equal(1);
    expect(probed.probe!.detail).to.contain("http://127.0.0.1:9").and.contain(blobs.url);
  });
});
