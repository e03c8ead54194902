/**
 * The compute oracle's re-execution check against ComputeJobs on Hardhat's chain and a blob server on
 * localhost: jobs selected by a spot check or disputed are found from the logs; an honest result
 * matches; a wrong hash is fraud with the real output's hash as evidence, and the verdict the oracle
 * signs has the digest ComputeJobs computes and recovers to the oracle; a program that fails is fraud
 * too; missing content, the oracle's own limits and uncommitted jobs are inconclusive, with reasons.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { recoverAddress, Wallet } from "ethers";

import { exampleProgram, pathTracerInput, putBlob, runJob, startBlobServer } from "@hexmesh/compute";
import { ComputeJobs__factory } from "@hexmesh/contracts";
import { ComputeChecker, signFraudVerdict, verdictOf } from "@hexmesh/oracle/compute/check";
import { OracleKey } from "@hexmesh/oracle/post/sign";
import { contentHash, FraudReason, jobSpecOf, usedUnitsOf, type Hex } from "@hexmesh/protocol";

import { CLASS_CPU, deployCompute, Tier, type ComputeSystem } from "../../helpers/compute.js";
import { createRegistryNetwork } from "../../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

describe("compute oracle: re-executing selected and disputed jobs", function () {
  this.timeout(120_000);
  let fx: ComputeSystem;
  let dir: string;
  let blobs: Awaited<ReturnType<typeof startBlobServer>>;
  let checker: ComputeChecker;
  let program: Uint8Array;
  /** The oracle reads ComputeJobs through @hexmesh/contracts' binding, as in production. */
  const bindings = () => ComputeJobs__factory.connect(fx.jobs.target as string, ethers.provider);

  /** Uploads the job's blobs (unless told not to), creates it, providerA accepts and commits `result`. */
  async function committed(input: Uint8Array, result: Hex | "honest", upload = true) {
    const { specBytes, specHash } = jobSpecOf(program, input);
    if (upload) for (const b of [program, input, specBytes]) await putBlob(blobs.url, b);
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 7_200n;
    await fx.jobs.connect(fx.customer).createJob(specHash, CLASS_CPU, 100, deadline, Tier.Standard);
    const id = await fx.jobs.jobCount();
    await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
    // An honest provider commits the output and the units the runner metered (what re-execution measures).
    const run = result === "honest" ? await runJob(program, input) : undefined;
    await fx.jobs
      .connect(fx.providerA)
      .commitResult(id, run?.outputHash ?? result, run === undefined ? 3 : usedUnitsOf(run.ticks, 100));
    await networkHelpers.mine(1);
    await fx.jobs.connect(fx.outsider).recordSpotCheck(id);
    return id;
  }

  before(async function () {
    fx = await deployCompute(ethers, networkHelpers);
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-compute-check-"));
    blobs = await startBlobServer({
      dir: path.join(dir, "blobs"),
      host: "127.0.0.1",
      port: 0,
      maxBytes: 1 << 24,
    });
    checker = new ComputeChecker(bindings(), {
      sources: [blobs.url],
      cacheDir: path.join(dir, "cache"),
    });
    program = await exampleProgram("pathtracer");
  });
  after(async function () {
    await blobs?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("confirms an honest result; finds a wrong one, with the real output's hash as evidence, and signs its verdict", async function () {
    const input = pathTracerInput({ width: 16, height: 12, samples: 2, seed: 1 });
    const honest = await committed(input, "honest");
    const lie = `0x${"ab".repeat(32)}` as Hex;
    const cheat = await committed(input, lie);
    const latest = await ethers.provider.getBlockNumber();
    expect(await checker.jobsToCheck(0, latest)).to.include.members([honest, cheat]);

    expect(await checker.check(honest)).to.include({ outcome: "match" });
    const found = await checker.check(cheat);
    const real = (await runJob(program, input)).outputHash;
    expect(found).to.include({
      outcome: "fraud",
      reason: "wrong-result",
      evidenceHash: real,
      committedHash: lie,
      provider: fx.providerA.address.toLowerCase(),
    });

    const oracle = Wallet.createRandom();
    const verdict = verdictOf(found, {
      prover: fx.outsider.address,
      oracleSetVersion: 1n,
      deadline: 10n ** 10n,
    });
    expect(verdict).to.include({ jobId: cheat, reason: FraudReason.WrongResult, evidenceHash: real });
    const signature = signFraudVerdict(new OracleKey(oracle), 31337n, fx.jobs.target as string, verdict);
    const onChainDigest = await fx.jobs.verdictDigest(verdict);
    expect(recoverAddress(onChainDigest, signature.signature)).to.equal(oracle.address);
    const match = await checker.check(honest);
    expect(() =>
      verdictOf(match, { prover: fx.outsider.address, oracleSetVersion: 1n, deadline: 1n }),
    ).to.throw(/no fraud to sign \(match\)/);
  });

  it("a program that fails on re-execution is fraud; missing content, the oracle's limits and uncommitted jobs are inconclusive", async function () {
    const failing = await committed(
      pathTracerInput({ width: 0, height: 8, samples: 1, seed: 1 }),
      `0x${"cd".repeat(32)}`,
    );
    const r = await checker.check(failing);
    expect(r).to.include({
      outcome: "fraud",
      reason: "fails-on-reexecution",
      evidenceHash: contentHash(new TextEncoder().encode("job-error:exit")),
    });

    const unavailable = await committed(
      pathTracerInput({ width: 8, height: 8, samples: 1, seed: 77 }),
      `0x${"ef".repeat(32)}`,
      false,
    );
    const u = await checker.check(unavailable);
    expect(u).to.include({ outcome: "inconclusive", reason: "content-unavailable" });
    expect(u.detail).to.contain("not-found");
    expect(() => verdictOf(u, { prover: fx.outsider.address, oracleSetVersion: 1n, deadline: 1n })).to.throw(
      /no fraud to sign/,
    );

    const slow = new ComputeChecker(bindings(), {
      sources: [blobs.url],
      cacheDir: path.join(dir, "cache"),
      limits: { memoryBytes: 65_536 },
    });
    const big = await committed(
      pathTracerInput({ width: 256, height: 256, samples: 1, seed: 2 }),
      `0x${"12".repeat(32)}`,
    );
    expect(await slow.check(big)).to.include({ outcome: "inconclusive", reason: "reexecution-limit" });

    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 7_200n;
    await fx.jobs
      .connect(fx.customer)
      .createJob(`0x${"5e".repeat(32)}`, CLASS_CPU, 100, deadline, Tier.Standard);
    expect(await checker.check(await fx.jobs.jobCount())).to.include({
      outcome: "inconclusive",
      reason: "not-committed",
    });
  });

  it("finds a disputed job once (selected and disputed), only within the block range", async function () {
    const input = pathTracerInput({ width: 8, height: 8, samples: 1, seed: 5 });
    const from = (await ethers.provider.getBlockNumber()) + 1;
    const id = await committed(input, "honest");
    await fx.jobs.connect(fx.customer).dispute(id, `0x${"e1".repeat(32)}`);
    const to = await ethers.provider.getBlockNumber();
    expect(await checker.jobsToCheck(from, to)).to.deep.equal([id]);
    expect(await checker.jobsToCheck(to + 1, to)).to.deep.equal([]);
  });
});
