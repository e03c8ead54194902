/**
 * The compute oracle as a service (issue 18), on Hardhat's chain served as JSON-RPC on localhost (the
 * oracles' indexers, checkers and sending accounts reach it as they reach any node), with three oracles'
 * real APIs on localhost: a cheating provider's spot-checked job is re-executed, 2 of 3 verdict signatures are
 * collected over HTTP and submitted once (a second submitter is `skipped`), the penalty executes after
 * the veto window; an honest job is not flagged; a vetoed penalty is not executed; forged peer
 * signatures and impostor oracles are ignored. The daily benchmark is sent as a directed job, accepted
 * and committed by a real provider agent, and the epoch inputs derived
 * from the index say it passed (and that a device which never accepted did not).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Signature, Wallet, type Signer } from "ethers";

import {
  exampleProgram,
  matmulInput,
  putBlob,
  runJob,
  startBlobServer,
  startProvider,
  validateProviderConfig,
  type RunningProvider,
} from "@hexmesh/compute";
import {
  ComputeJobs__factory,
  DeviceRegistry__factory,
  RewardsDistributor__factory,
} from "@hexmesh/contracts";
import { BENCHMARK_OUTPUT_HASH, benchmarkJob, BenchmarkSender } from "@hexmesh/oracle/compute/benchmark";
import { ComputeChecker } from "@hexmesh/oracle/compute/check";
import { ComputeIndexer } from "@hexmesh/oracle/compute/indexer";
import { computeEpochInputs, ComputeInputsNotReady } from "@hexmesh/oracle/compute/inputs";
import { ComputeStore } from "@hexmesh/oracle/compute/store";
import { VerdictDesk } from "@hexmesh/oracle/compute/verdicts";
import {
  DEFAULT_WITHHELD,
  OutputProber,
  withheldEvidence,
  type WithheldOptions,
} from "@hexmesh/oracle/compute/withheld";
import { OracleKey } from "@hexmesh/oracle/post/sign";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import {
  computeJobsDomain,
  FraudReason,
  fraudVerdictDigest,
  jobSpecOf,
  unitsOfTicks,
} from "@hexmesh/protocol";

import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { hardhatKey, writeKeyFile } from "../../helpers/compute-agent.js";
import {
  CLASS_CPU,
  deadlineIn,
  deployCompute,
  HOUR,
  ORACLES,
  PenaltyStatus,
  RESULT,
  Status,
  Tier,
  type ComputeSystem,
} from "../../helpers/compute.js";
import { createRegistryNetwork } from "../../helpers/registryFixture.js";
import { serveOracleApi } from "../../helpers/service.js";

const connection = await createRegistryNetwork();
const { ethers, networkHelpers } = connection;
const { loadFixture, time, mine } = networkHelpers;
const DAY = 86_400;

const fixture = () => deployCompute(ethers, networkHelpers);

interface Oracle {
  name: string;
  sqlite: SqliteStore;
  store: ComputeStore;
  indexer: ComputeIndexer;
  url: string;
  close(): Promise<void>;
}

describe("compute oracle: spot checks, verdict quorum over HTTP, penalties, daily benchmark", function () {
  this.timeout(180_000);
  let dir: string;
  let closers: (() => Promise<void>)[] = [];
  let blobs: { url: string; close(): Promise<void> };
  let job: { program: Uint8Array; input: Uint8Array; specHash: string; output: string };
  // The oracles reach the chain as they reach any node: JSON-RPC on localhost.
  let rpc: JsonRpcEndpoint;
  let node: JsonRpcProvider;
  /** Hardhat account `index` as a wallet on the node (the fixture's verifier is 9, its prover 11). */
  const account = (index: number) => new Wallet(hardhatKey(index).privateKey, node);

  before(async () => {
    rpc = await serveJsonRpc(connection.provider);
    node = new JsonRpcProvider(rpc.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    node.pollingInterval = 50;
  });
  after(async () => {
    node.destroy();
    await rpc.close();
  });

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-compute-oracle-"));
    blobs = await startBlobServer({
      dir: path.join(dir, "blobs"),
      host: "127.0.0.1",
      port: 0,
      maxBytes: 1 << 24,
    });
    closers.push(() => blobs.close());
    const program = await exampleProgram("matmul");
    const input = matmulInput({ n: 8, seed: 7 });
    const { specBytes, specHash } = jobSpecOf(program, input);
    for (const b of [specBytes, program, input]) await putBlob(blobs.url, b);
    job = { program, input, specHash, output: (await runJob(program, input)).outputHash };
  });
  afterEach(async () => {
    for (const c of closers.reverse()) await c();
    closers = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function oracle(fx: ComputeSystem, name: string, benchmarkSender?: string): Promise<Oracle> {
    const sqlite = new SqliteStore({ path: path.join(dir, `${name}.sqlite`) });
    await sqlite.migrate();
    const store = new ComputeStore(sqlite.storageSql(), benchmarkSender ? { benchmarkSender } : {});
    const reader = ComputeJobs__factory.connect(await fx.jobs.getAddress(), node);
    const { app, url } = await serveOracleApi(sqlite);
    const o: Oracle = {
      name,
      sqlite,
      store,
      indexer: new ComputeIndexer(reader, store, { fromBlock: 0 }),
      url,
      close: async () => {
        await app.close();
        await sqlite.close();
      },
    };
    closers.push(o.close);
    return o;
  }

  /**
   * The oracle's verdict desk signing with `key`, sending with `sender` (none: checks and signs only);
   * `detect`: the units tolerance and the withheld-output detector's settings (absent: not probed).
   */
  async function desk(
    fx: ComputeSystem,
    o: Oracle,
    key: Wallet,
    peers: Oracle[],
    sender?: Signer,
    detect: { unitsToleranceBps?: number; withheld?: Partial<WithheldOptions> } = {},
  ) {
    const jobsAddr = await fx.jobs.getAddress();
    const { chainId } = await ethers.provider.getNetwork();
    const withheld =
      detect.withheld === undefined
        ? {}
        : {
            withheld: new OutputProber(o.store, {
              ...DEFAULT_WITHHELD,
              endpoints: {},
              sources: [blobs.url],
              ...detect.withheld,
            }),
          };
    return new VerdictDesk(
      ComputeJobs__factory.connect(jobsAddr, sender ?? node),
      RewardsDistributor__factory.connect(await fx.oracleDistributor.getAddress(), node),
      o.store,
      new ComputeChecker(ComputeJobs__factory.connect(jobsAddr, node), {
        sources: [blobs.url],
        cacheDir: path.join(dir, `${o.name}-cache`),
        ...(detect.unitsToleranceBps !== undefined ? { unitsToleranceBps: detect.unitsToleranceBps } : {}),
      }),
      new OracleKey(key),
      { prover: fx.prover.address, chainId, peers: peers.map((p) => p.url), ...withheld },
      sender !== undefined,
    );
  }

  /** Each oracle indexes the chain and re-executes what is due; the checks, per oracle. */
  async function indexAndCheck(pairs: readonly (readonly [Oracle, VerdictDesk])[]) {
    const out = [];
    for (const [o, d] of pairs) {
      await o.indexer.run();
      out.push(await d.checkJobs());
    }
    return out;
  }

  /** A job of the matmul spec that `provider` accepts with `device` and commits `result` for, `units` used. */
  async function committed(
    fx: ComputeSystem,
    provider: Signer,
    device: bigint,
    result: string,
    units = 1n,
  ): Promise<bigint> {
    await fx.jobs
      .connect(fx.customer)
      .createJob(job.specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Standard);
    const id = await fx.jobs.jobCount();
    await fx.jobs.connect(provider).acceptJob(id, device);
    await fx.jobs.connect(provider).commitResult(id, result, units);
    return id;
  }

  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it("catches a cheat: 2 of 3 signatures gathered over HTTP, submitted once, penalty after the veto window; the honest job stays unflagged", async function () {
    const fx = await loadFixture(fixture);
    const oracles = [await oracle(fx, "a"), await oracle(fx, "b"), await oracle(fx, "c")];
    const honest = await committed(fx, fx.providerA, fx.cpuA, job.output);
    const cheat = await committed(fx, fx.providerB, fx.cpuB, RESULT);
    await mine(1);
    const desks = [
      await desk(fx, oracles[0]!, ORACLES[0]!, [oracles[1]!, oracles[2]!], account(9)),
      await desk(fx, oracles[1]!, ORACLES[1]!, [oracles[0]!, oracles[2]!]),
      await desk(fx, oracles[2]!, ORACLES[2]!, [oracles[0]!, oracles[1]!]),
    ];
    await oracles[0]!.indexer.run();
    // Both jobs are their providers' first: always selected.
    const spot = await desks[0]!.recordSpotChecks();
    expect(spot.map((s) => [s.jobId, s.action, s.outcome])).to.deep.equal([
      [honest, "spot-check", "sent"],
      [cheat, "spot-check", "sent"],
    ]);
    // An oracle that does not send records nothing.
    expect(await desks[1]!.recordSpotChecks()).to.deep.equal([]);
    for (const [i, o] of oracles.entries()) {
      await o.indexer.run();
      const checks = await desks[i]!.checkJobs();
      expect(checks.map((c) => [c.jobId, c.outcome, c.reason ?? null])).to.deep.equal([
        [honest, "match", null],
        [cheat, "fraud", "wrong-result"],
      ]);
      // Checked once: a second pass has nothing to do.
      expect(await desks[i]!.checkJobs()).to.deep.equal([]);
    }
    const honestView = await get(`${oracles[1]!.url}/v1/compute/verdicts/${honest}`);
    expect(honestView.status).to.equal(200);
    expect(honestView.body.check.outcome).to.equal("match");
    expect(honestView.body.verdicts).to.deep.equal([]);
    const cheatView = await get(`${oracles[1]!.url}/v1/compute/verdicts/${cheat}`);
    expect(cheatView.body.verdicts).to.have.length(1);
    expect(cheatView.body.verdicts[0]).to.include({
      jobId: cheat.toString(),
      provider: fx.providerB.address.toLowerCase(),
      reason: FraudReason.WrongResult,
      evidenceHash: job.output,
      prover: fx.prover.address.toLowerCase(),
      signer: ORACLES[1]!.address.toLowerCase(),
    });
    const checks = await get(`${oracles[0]!.url}/v1/compute/checks?outcome=fraud`);
    expect(checks.body.checks.map((c: { jobId: string }) => c.jobId)).to.deep.equal([cheat.toString()]);
    const jobs = await get(`${oracles[0]!.url}/v1/compute/jobs?provider=${fx.providerB.address}`);
    expect(jobs.body.jobs.map((j: { id: string; status: string }) => [j.id, j.status])).to.deep.equal([
      [cheat.toString(), "committed"],
    ]);

    // Oracle b also sends, but has not indexed oracle a's submission: its attempt is skipped, not an error.
    const lateDesk = await desk(fx, oracles[1]!, ORACLES[1]!, [oracles[0]!, oracles[2]!], account(11));
    const submitted = await desks[0]!.submitVerdicts();
    expect(submitted.map((s) => [s.jobId, s.action, s.outcome])).to.deep.equal([[cheat, "submit", "sent"]]);
    const pen = await fx.jobs.penalty(cheat);
    expect(pen.status).to.equal(PenaltyStatus.Scheduled);
    expect(pen.provider).to.equal(fx.providerB.address);
    expect((await fx.jobs.job(cheat)).status).to.equal(Status.Refunded);
    expect((await fx.jobs.job(honest)).status).to.equal(Status.Committed);
    const late = await lateDesk.submitVerdicts();
    expect(late.map((s) => [s.outcome, s.detail])).to.deep.equal([["skipped", "ComputeVerdictExists"]]);

    // Before the veto window closes nothing is due; after it, the penalty executes once.
    await oracles[0]!.indexer.run();
    expect(await desks[0]!.submitVerdicts()).to.deep.equal([]);
    expect(await desks[0]!.executePenalties()).to.deep.equal([]);
    await time.increase(4n * 24n * HOUR);
    const executed = await desks[0]!.executePenalties();
    expect(executed.map((s) => [s.jobId, s.action, s.outcome])).to.deep.equal([[cheat, "penalty", "sent"]]);
    expect((await fx.jobs.penalty(cheat)).status).to.equal(PenaltyStatus.Executed);
    await oracles[0]!.indexer.run();
    expect(await desks[0]!.executePenalties()).to.deep.equal([]);
    expect((await oracles[0]!.store.job(cheat))!.penalty).to.equal("executed");
  });

  it("a Verified job whose results differ: re-executed once, the provider whose result is not the output is convicted", async function () {
    const fx = await loadFixture(fixture);
    const [a, b] = [await oracle(fx, "a"), await oracle(fx, "b")];
    const deskA = await desk(fx, a, ORACLES[0]!, [b], account(9));
    const deskB = await desk(fx, b, ORACLES[1]!, [a]);
    await fx.jobs
      .connect(fx.customer)
      .createJob(job.specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Verified);
    const id = await fx.jobs.jobCount();
    await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
    await fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB);
    await fx.jobs.connect(fx.providerA).commitResult(id, job.output, 1n);
    await expect(fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 1n))
      .to.emit(fx.jobs, "VerifiedResultsCompared")
      .withArgs(id, false);
    for (const [o, d] of [
      [a, deskA],
      [b, deskB],
    ] as const) {
      await o.indexer.run();
      expect((await o.store.job(id))!).to.deep.include({ status: "disputed", resultsDiffer: true });
      const [check] = await d.checkJobs();
      expect(check).to.deep.include({
        jobId: id,
        outcome: "fraud",
        reason: "wrong-result",
        provider: fx.providerB.address.toLowerCase(),
        committedHash: RESULT,
        evidenceHash: job.output,
      });
    }
    expect((await deskA.submitVerdicts()).map((s) => s.outcome)).to.deep.equal(["sent"]);
    const pen = await fx.jobs.penalty(id);
    expect(pen.provider).to.equal(fx.providerB.address);
    expect(pen.status).to.equal(PenaltyStatus.Scheduled);
  });

  it("a job whose content is on no source yet is checked again next round, then convicted", async function () {
    const fx = await loadFixture(fixture);
    const a = await oracle(fx, "a");
    const deskA = await desk(fx, a, ORACLES[0]!, [], account(9));
    const program = await exampleProgram("matmul");
    const input = matmulInput({ n: 8, seed: 99 });
    const late = jobSpecOf(program, input);
    await fx.jobs
      .connect(fx.customer)
      .createJob(late.specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Standard);
    const id = await fx.jobs.jobCount();
    await fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB);
    await fx.jobs.connect(fx.providerB).commitResult(id, RESULT, 1n);
    await mine(1);
    await a.indexer.run();
    await deskA.recordSpotChecks();
    await a.indexer.run();
    const [first] = await deskA.checkJobs();
    expect(first).to.deep.include({ jobId: id, outcome: "inconclusive", reason: "content-unavailable" });
    expect((await get(`${a.url}/v1/compute/verdicts/${id}`)).body).to.deep.equal({
      jobId: id.toString(),
      check: null,
      probe: null,
      verdicts: [],
    });
    for (const b of [late.specBytes, program, input]) await putBlob(blobs.url, b);
    const [second] = await deskA.checkJobs();
    expect(second).to.deep.include({ jobId: id, outcome: "fraud", reason: "wrong-result" });
    expect(await deskA.checkJobs()).to.deep.equal([]);
  });

  it("re-signs its verdicts when the oracle set changes before submission; the old set's are never sent", async function () {
    const fx = await loadFixture(fixture);
    const [a, b] = [await oracle(fx, "a"), await oracle(fx, "b")];
    const deskA = await desk(fx, a, ORACLES[0]!, [b], account(9));
    const deskB = await desk(fx, b, ORACLES[1]!, [a]);
    const cheat = await committed(fx, fx.providerB, fx.cpuB, RESULT);
    await mine(1);
    await a.indexer.run();
    await deskA.recordSpotChecks();
    await indexAndCheck([
      [a, deskA],
      [b, deskB],
    ]);
    const before = await fx.oracleDistributor.oracleSetVersion();
    // Same members, a new version: every signature under the old one is dead on chain.
    await fx.oracleDistributor.connect(fx.admin).setOracleSet(
      ORACLES.map((o) => o.address),
      2n,
    );
    expect(await deskA.submitVerdicts()).to.deep.equal([]);
    // The next round re-signs under the new version (nothing is re-executed) and submits.
    expect(
      await indexAndCheck([
        [a, deskA],
        [b, deskB],
      ]),
    ).to.deep.equal([[], []]);
    expect((await a.store.verdicts(cheat)).map((v) => v.oracleSetVersion)).to.deep.equal([
      before + 1n,
      before,
    ]);
    expect((await deskA.submitVerdicts()).map((s) => [s.jobId, s.outcome])).to.deep.equal([[cheat, "sent"]]);
    expect((await fx.jobs.penalty(cheat)).status).to.equal(PenaltyStatus.Scheduled);
  });

  it("does not execute a vetoed penalty", async function () {
    const fx = await loadFixture(fixture);
    const [a, b] = [await oracle(fx, "a"), await oracle(fx, "b")];
    const deskA = await desk(fx, a, ORACLES[0]!, [b], account(9));
    const deskB = await desk(fx, b, ORACLES[1]!, [a]);
    const cheat = await committed(fx, fx.providerB, fx.cpuB, RESULT);
    await mine(1);
    await a.indexer.run();
    await deskA.recordSpotChecks();
    await indexAndCheck([
      [a, deskA],
      [b, deskB],
    ]);
    expect((await deskA.submitVerdicts()).map((s) => s.outcome)).to.deep.equal(["sent"]);
    await fx.jobs.connect(fx.guardian).vetoPenalty(cheat);
    await time.increase(5n * 24n * HOUR);
    await a.indexer.run();
    expect((await a.store.job(cheat))!.penalty).to.equal("vetoed");
    expect(await deskA.executePenalties()).to.deep.equal([]);
    expect((await fx.jobs.penalty(cheat)).status).to.equal(PenaltyStatus.Vetoed);
  });

  it("ignores forged peer signatures and impostor oracles; answers 404 for a job it has not indexed", async function () {
    const fx = await loadFixture(fixture);
    const [a, impostor, forger, b] = [
      await oracle(fx, "a"),
      await oracle(fx, "impostor"),
      await oracle(fx, "forger"),
      await oracle(fx, "b"),
    ];
    const outsider = new Wallet(Wallet.createRandom().privateKey);
    const deskA = await desk(fx, a, ORACLES[0]!, [impostor, forger, b], account(9));
    const deskImpostor = await desk(fx, impostor, outsider, []);
    const deskB = await desk(fx, b, ORACLES[1]!, []);
    const cheat = await committed(fx, fx.providerB, fx.cpuB, RESULT);
    await mine(1);
    await a.indexer.run();
    await deskA.recordSpotChecks();
    await indexAndCheck([
      [a, deskA],
      [impostor, deskImpostor],
    ]);
    // The forger serves oracle c's name on the same verdict, signed by someone else.
    await forger.indexer.run();
    const [own] = await a.store.verdicts(cheat);
    const { chainId } = await ethers.provider.getNetwork();
    const digest = fraudVerdictDigest(computeJobsDomain(chainId, await fx.jobs.getAddress()), {
      ...own!,
      reason: FraudReason.WrongResult,
    });
    await forger.store.putVerdict({
      ...own!,
      signer: ORACLES[2]!.address,
      signature: Signature.from(outsider.signingKey.sign(digest)).serialized,
    });
    const short = await deskA.submitVerdicts();
    expect(short.map((s) => [s.outcome, s.detail])).to.deep.equal([["short", "1 of 2 signatures"]]);
    expect((await fx.jobs.penalty(cheat)).status).to.equal(PenaltyStatus.None);
    // A real member's signature arrives: sent.
    await b.indexer.run();
    await deskB.checkJobs();
    expect((await deskA.submitVerdicts()).map((s) => s.outcome)).to.deep.equal(["sent"]);

    const unknown = await get(`${a.url}/v1/compute/verdicts/999`);
    expect(unknown.status).to.equal(404);
    expect(unknown.body.code).to.equal("unknown_job");
    expect((await get(`${a.url}/v1/compute/verdicts/abc`)).status).to.equal(400);
    expect((await get(`${a.url}/v1/compute/jobs?status=lost`)).status).to.equal(400);
  });

  describe("detectors: inflated units and withheld outputs", function () {
    let agents: RunningProvider[] = [];
    afterEach(async () => {
      for (const a of agents) await a.stop();
      agents = [];
    });

    /**
     * Three oracles probing outputs with the given providers' endpoints (3 failures an hour apart, a
     * 4-hour grace); the first sends. Their desks, in the same order.
     */
    async function probingOracles(fx: ComputeSystem, endpoints: Record<string, string>) {
      const settings = {
        attempts: 3,
        spacingSeconds: 3_600,
        graceSeconds: 4 * 3_600,
        timeoutMs: 2_000,
        endpoints,
      };
      const oracles = [await oracle(fx, "a"), await oracle(fx, "b"), await oracle(fx, "c")];
      const desks = [];
      for (const [i, o] of oracles.entries())
        desks.push(
          await desk(
            fx,
            o,
            ORACLES[i]!,
            oracles.filter((p) => p !== o),
            i === 0 ? account(9) : undefined,
            {
              withheld: settings,
            },
          ),
        );
      return { oracles, desks };
    }

    /** The penalty of `id` is scheduled against `provider` for `reason`, and the customer refunded. */
    async function expectScheduled(fx: ComputeSystem, id: bigint, provider: string, reason: number) {
      const pen = await fx.jobs.penalty(id);
      expect(pen.status).to.equal(PenaltyStatus.Scheduled);
      expect(pen.provider).to.equal(provider);
      expect(pen.reason).to.equal(BigInt(reason));
      expect((await fx.jobs.job(id)).status).to.equal(Status.Refunded);
    }

    it("inflated units: re-execution meters fewer units than committed; 2 of 3 sign UnitsInflated, submitted once, penalty after the veto; within tolerance is not flagged; a forged signature is ignored", async function () {
      const fx = await loadFixture(fixture);
      const oracles = [await oracle(fx, "a"), await oracle(fx, "b"), await oracle(fx, "c")];
      const forger = await oracle(fx, "forger");
      // The job meters 1 unit (a few thousand ticks); 100% tolerance allows 2.
      const { ticks } = await runJob(job.program, job.input);
      expect(unitsOfTicks(ticks)).to.equal(1n);
      const detect = { unitsToleranceBps: 10_000 };
      const honest = await committed(fx, fx.providerA, fx.cpuA, job.output, 1n);
      const within = await committed(fx, fx.providerA, fx.cpuA, job.output, 2n);
      const inflated = await committed(fx, fx.providerB, fx.cpuB, job.output, 5n);
      await mine(1);
      const desks = [
        await desk(fx, oracles[0]!, ORACLES[0]!, [forger, oracles[1]!, oracles[2]!], account(9), detect),
        await desk(fx, oracles[1]!, ORACLES[1]!, [oracles[0]!, oracles[2]!], undefined, detect),
        await desk(fx, oracles[2]!, ORACLES[2]!, [oracles[0]!, oracles[1]!], undefined, detect),
      ];
      await oracles[0]!.indexer.run();
      expect((await desks[0]!.recordSpotChecks()).map((s) => s.outcome)).to.deep.equal([
        "sent",
        "sent",
        "sent",
      ]);
      await oracles[0]!.indexer.run();
      const [checksA] = await indexAndCheck([[oracles[0]!, desks[0]!]]);
      expect(checksA!.map((c) => [c.jobId, c.outcome, c.reason ?? null, c.detail])).to.deep.equal([
        [honest, "match", null, `committed 1 units, metered 1 (${ticks} ticks)`],
        [within, "match", null, `committed 2 units, metered 1 (${ticks} ticks)`],
        [inflated, "fraud", "units-inflated", `committed 5 units, metered 1 (${ticks} ticks)`],
      ]);
      const [own] = await oracles[0]!.store.verdicts(inflated);
      expect(own).to.deep.include({
        provider: fx.providerB.address.toLowerCase(),
        reason: FraudReason.UnitsInflated,
      });
      // The forger serves oracle c's name on the identical verdict, signed by an outsider: ignored.
      const outsider = new Wallet(Wallet.createRandom().privateKey);
      const { chainId } = await ethers.provider.getNetwork();
      const digest = fraudVerdictDigest(computeJobsDomain(chainId, await fx.jobs.getAddress()), {
        ...own!,
        reason: FraudReason.UnitsInflated,
      });
      await forger.indexer.run();
      await forger.store.putVerdict({
        ...own!,
        signer: ORACLES[2]!.address,
        signature: Signature.from(outsider.signingKey.sign(digest)).serialized,
      });
      expect((await desks[0]!.submitVerdicts()).map((s) => [s.outcome, s.detail])).to.deep.equal([
        ["short", "1 of 2 signatures"],
      ]);
      // b and c re-execute and sign the identical verdict: sent once with 2 of the 3 valid signatures.
      await indexAndCheck([
        [oracles[1]!, desks[1]!],
        [oracles[2]!, desks[2]!],
      ]);
      const sent = await desks[0]!.submitVerdicts();
      expect(sent.map((s) => [s.jobId, s.outcome, s.detail])).to.deep.equal([
        [inflated, "sent", "2 of 3 signatures"],
      ]);
      await expectScheduled(fx, inflated, fx.providerB.address, FraudReason.UnitsInflated);
      const late = await (
        await desk(fx, oracles[1]!, ORACLES[1]!, [oracles[0]!], account(11), detect)
      ).submitVerdicts();
      expect(late.map((s) => [s.outcome, s.detail])).to.deep.equal([["skipped", "ComputeVerdictExists"]]);
      // The honest jobs are never flagged, and are paid their committed units after the window.
      for (const id of [honest, within]) {
        expect(await oracles[1]!.store.verdicts(id)).to.deep.equal([]);
        expect((await fx.jobs.penalty(id)).status).to.equal(PenaltyStatus.None);
      }
      await time.increase(4n * 24n * HOUR);
      await oracles[0]!.indexer.run();
      expect((await desks[0]!.executePenalties()).map((s) => [s.jobId, s.outcome])).to.deep.equal([
        [inflated, "sent"],
      ]);
      expect((await fx.jobs.penalty(inflated)).status).to.equal(PenaltyStatus.Executed);
      await fx.jobs.finalize(within);
      expect((await fx.jobs.job(within)).status).to.equal(Status.Finalized);

      // With no tolerance the same 2 units for a 1-unit job are inflated.
      const strict = await desk(fx, oracles[2]!, ORACLES[2]!, [], undefined, { unitsToleranceBps: 0 });
      const again = await committed(fx, fx.providerA, fx.cpuA, job.output, 2n);
      await mine(1);
      await oracles[0]!.indexer.run();
      await desks[0]!.recordSpotChecks();
      await oracles[2]!.indexer.run();
      expect((await strict.checkJobs()).map((c) => [c.jobId, c.outcome, c.reason])).to.deep.equal([
        [again, "fraud", "units-inflated"],
      ]);
    });

    it("withheld output: real agents commit; the one that stops serving is convicted after 3 spaced failures and the grace (2 of 3, once, penalty after the veto); the one serving late within the grace is not", async function () {
      const fx = await loadFixture(fixture);
      const jobsAddr = await fx.jobs.getAddress();
      /** providerA (account 7) or providerB (8)'s agent, on `port` (0: any), serving its device. */
      const startAgent = async (index: 7 | 8, device: bigint, port: number) => {
        const config = validateProviderConfig(
          {
            key: writeKeyFile(dir, `provider-${index}`, hardhatKey(index)),
            rpc: rpc.url,
            computeJobs: jobsAddr,
            devices: [{ id: device.toString(), class: CLASS_CPU }],
            state: `provider-${index}.sqlite`,
            blobs: { dir: `outputs-${index}`, port },
            sources: [blobs.url],
            pollMs: 100,
            commitMarginSec: 60,
          },
          "test config",
          dir,
        );
        const running = await startProvider(config, () => {});
        agents.push(running);
        return running;
      };
      const stopAgent = async (running: RunningProvider) => {
        agents = agents.filter((a) => a !== running);
        await running.stop();
      };
      let agentA = await startAgent(7, fx.cpuA, 0);
      const agentB = await startAgent(8, fx.cpuB, 0);
      const ids: bigint[] = [];
      for (const [provider, device] of [
        [fx.providerA, fx.cpuA],
        [fx.providerB, fx.cpuB],
      ] as const) {
        await fx.jobs
          .connect(fx.customer)
          .createJob(job.specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Standard);
        const id = await fx.jobs.jobCount();
        await fx.jobs.connect(provider).acceptJob(id, device);
        ids.push(id);
      }
      const [late, withheld] = ids as [bigint, bigint];
      const until = Date.now() + 60_000;
      for (const id of ids)
        while ((await fx.jobs.job(id)).status !== Status.Committed) {
          if (Date.now() > until) throw new Error(`the agent did not commit job ${id}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      // The agents bill the units the program meters: what every oracle's re-execution measures.
      for (const id of ids) expect((await fx.jobs.job(id)).usedUnits).to.equal(1n);
      // Both providers' servers go down: A comes back within the grace, B never does.
      const endpointA = agentA.blobUrl;
      const portA = Number(new URL(endpointA).port);
      await stopAgent(agentA);
      await stopAgent(agentB);
      const { oracles, desks } = await probingOracles(fx, {
        [fx.providerA.address]: endpointA,
        [fx.providerB.address]: agentB.blobUrl,
      });
      /** A round on every oracle: index, re-execute, probe; the probes' outcomes per oracle. */
      const round = async () => {
        const out = [];
        for (const [i, o] of oracles.entries()) {
          await o.indexer.run();
          await desks[i]!.checkJobs();
          out.push((await desks[i]!.probeOutputs()).map((p) => [p.jobId, p.outcome, p.failures]));
        }
        return out;
      };
      await mine(1);
      // The draws are not recorded yet: probes count failures, but no verdict while a re-execution may come.
      expect(await round()).to.deep.equal(
        Array(3).fill([
          [late, "failed", 1],
          [withheld, "failed", 1],
        ]),
      );
      expect((await round())[0]).to.deep.equal([
        [late, "waiting", 1],
        [withheld, "waiting", 1],
      ]);
      await oracles[0]!.indexer.run();
      await desks[0]!.recordSpotChecks();
      await time.increase(HOUR);
      // Both are the providers' first jobs: re-executed, and they match (units too).
      expect(await round()).to.deep.equal(
        Array(3).fill([
          [late, "failed", 2],
          [withheld, "failed", 2],
        ]),
      );
      expect((await oracles[0]!.store.check(late))!.outcome).to.equal("match");
      expect((await oracles[0]!.store.check(withheld))!.outcome).to.equal("match");
      // A's server is back on its registered endpoint: served, and never probed again.
      agentA = await startAgent(7, fx.cpuA, portA);
      await time.increase(HOUR);
      expect(await round()).to.deep.equal(
        Array(3).fill([
          [late, "served", 2],
          [withheld, "failed", 3],
        ]),
      );
      // Three failures, but the grace (4 h from the commit) has not passed: nothing signed yet.
      expect(await oracles[0]!.store.verdicts(withheld)).to.deep.equal([]);
      await time.increase(2n * HOUR);
      expect(await round()).to.deep.equal(Array(3).fill([[withheld, "withheld", 4]]));
      const view = await get(`${oracles[1]!.url}/v1/compute/verdicts/${withheld}`);
      expect(view.body.probe).to.include({ failures: 4 });
      expect(view.body.probe.withheldAt).to.be.a("number");
      expect(view.body.probe.detail).to.match(/no blob server had/);
      expect(view.body.verdicts[0]).to.include({
        provider: fx.providerB.address.toLowerCase(),
        reason: FraudReason.OutputWithheld,
        evidenceHash: withheldEvidence(withheld, (await fx.jobs.job(withheld)).resultHash),
      });
      const lateView = await get(`${oracles[1]!.url}/v1/compute/verdicts/${late}`);
      expect(lateView.body.probe.servedAt).to.be.a("number");
      expect(lateView.body.verdicts).to.deep.equal([]);
      expect(await round()).to.deep.equal(Array(3).fill([]));

      const sent = await desks[0]!.submitVerdicts();
      expect(sent.map((s) => [s.jobId, s.outcome, s.detail])).to.deep.equal([
        [withheld, "sent", "2 of 3 signatures"],
      ]);
      await expectScheduled(fx, withheld, fx.providerB.address, FraudReason.OutputWithheld);
      const second = await (
        await desk(fx, oracles[1]!, ORACLES[1]!, [oracles[0]!], account(11))
      ).submitVerdicts();
      expect(second.map((s) => [s.outcome, s.detail])).to.deep.equal([["skipped", "ComputeVerdictExists"]]);
      await oracles[0]!.indexer.run();
      expect(await desks[0]!.submitVerdicts()).to.deep.equal([]);
      await time.increase(4n * 24n * HOUR);
      expect((await desks[0]!.executePenalties()).map((s) => [s.jobId, s.outcome])).to.deep.equal([
        [withheld, "sent"],
      ]);
      expect((await fx.jobs.penalty(withheld)).status).to.equal(PenaltyStatus.Executed);
      // The late-but-served job is paid after its window like any honest one.
      await fx.jobs.finalize(late);
      expect((await fx.jobs.job(late)).status).to.equal(Status.Finalized);
    });

    it("withheld output of a Verified job: served when either provider's endpoint has it; when neither has, the verdict names the first provider and the second is unlocked, unpaid", async function () {
      const fx = await loadFixture(fixture);
      // Two Verified jobs of different inputs (so different outputs), each committed by both
      // providers with its true output: the results match, and neither is re-executed.
      const runs = [];
      for (const seed of [11, 12]) {
        const input = matmulInput({ n: 8, seed });
        const { specBytes, specHash } = jobSpecOf(job.program, input);
        for (const b of [specBytes, input]) await putBlob(blobs.url, b);
        const run = await runJob(job.program, input);
        await fx.jobs
          .connect(fx.customer)
          .createJob(specHash, CLASS_CPU, 10n, await deadlineIn(fx, 2n), Tier.Verified);
        const id = await fx.jobs.jobCount();
        await fx.jobs.connect(fx.providerA).acceptJob(id, fx.cpuA);
        await fx.jobs.connect(fx.providerB).acceptJob(id, fx.cpuB);
        await fx.jobs.connect(fx.providerA).commitResult(id, run.outputHash, 1n);
        await expect(fx.jobs.connect(fx.providerB).commitResult(id, run.outputHash, 1n))
          .to.emit(fx.jobs, "VerifiedResultsCompared")
          .withArgs(id, true);
        runs.push({ id, run });
      }
      const [served, withheld] = runs.map((r) => r.id) as [bigint, bigint];
      // Only the second provider's endpoint holds the first job's output; A's endpoint is down and
      // the market's blob server has neither output.
      const endpointB = await startBlobServer({
        dir: path.join(dir, "outputs-b"),
        host: "127.0.0.1",
        port: 0,
        maxBytes: 1 << 24,
      });
      closers.push(() => endpointB.close());
      await putBlob(endpointB.url, runs[0]!.run.output);
      const { oracles, desks } = await probingOracles(fx, {
        [fx.providerA.address]: "http://127.0.0.1:9/",
        [fx.providerB.address]: endpointB.url,
      });
      const round = async () => {
        const out = [];
        for (const [i, o] of oracles.entries()) {
          await o.indexer.run();
          out.push((await desks[i]!.probeOutputs()).map((p) => [p.jobId, p.outcome, p.failures]));
        }
        return out;
      };
      for (const o of oracles) {
        await o.indexer.run();
        expect((await o.store.job(withheld))!).to.deep.include({
          tier: 1,
          status: "committed",
          provider: fx.providerA.address.toLowerCase(),
          secondProvider: fx.providerB.address.toLowerCase(),
          resultHash: runs[1]!.run.outputHash,
        });
      }
      // No draw is awaited (a Verified job is never drawn): failures count from the first round.
      expect(await round()).to.deep.equal(
        Array(3).fill([
          [served, "served", 0],
          [withheld, "failed", 1],
        ]),
      );
      for (let n = 2; n <= 3; n++) {
        await time.increase(HOUR);
        expect(await round()).to.deep.equal(Array(3).fill([[withheld, "failed", n]]));
      }
      await time.increase(2n * HOUR);
      expect(await round()).to.deep.equal(Array(3).fill([[withheld, "withheld", 4]]));
      const view = await get(`${oracles[1]!.url}/v1/compute/verdicts/${withheld}`);
      expect(view.body.verdicts[0]).to.include({
        provider: fx.providerA.address.toLowerCase(),
        reason: FraudReason.OutputWithheld,
        evidenceHash: withheldEvidence(withheld, runs[1]!.run.outputHash),
      });
      const listed = await get(`${oracles[1]!.url}/v1/compute/jobs?provider=${fx.providerB.address}`);
      expect(
        listed.body.jobs.map((j: { id: string; secondProvider: string }) => [j.id, j.secondProvider]),
      ).to.deep.equal([withheld, served].map((id) => [id.toString(), fx.providerB.address.toLowerCase()]));

      const lockedB = (await fx.jobs.providerAccount(fx.providerB.address)).locked;
      const collateralB = (await fx.jobs.secondProvider(withheld)).collateral;
      const sent = await desks[0]!.submitVerdicts();
      expect(sent.map((s) => [s.jobId, s.outcome, s.detail])).to.deep.equal([
        [withheld, "sent", "2 of 3 signatures"],
      ]);
      await expectScheduled(fx, withheld, fx.providerA.address, FraudReason.OutputWithheld);
      expect((await fx.jobs.providerAccount(fx.providerB.address)).locked).to.equal(lockedB - collateralB);
      // The served job is paid to both after its window.
      await time.increase(DAY);
      await fx.jobs.finalize(served);
      expect((await fx.jobs.job(served)).status).to.equal(Status.Finalized);
    });
  });

  describe("daily availability benchmark", function () {
    let agent: RunningProvider | undefined;
    afterEach(async () => {
      await agent?.stop();
      agent = undefined;
    });

    it("pins the benchmark's output: the runner computes BENCHMARK_OUTPUT_HASH", async function () {
      const b = await benchmarkJob();
      expect((await runJob(b.program, b.input)).outputHash).to.equal(BENCHMARK_OUTPUT_HASH);
    });

    it("sends one benchmark a day per active compute device; a real agent accepts and passes it; the inputs say so", async function () {
      const fx = await loadFixture(fixture);
      const sender = fx.customer.address;
      const o = await oracle(fx, "sender", sender);
      const jobsAddr = await fx.jobs.getAddress();
      const benchmarks = new BenchmarkSender(
        ComputeJobs__factory.connect(jobsAddr, account(3)), // fx.customer
        DeviceRegistry__factory.connect(await fx.registry.getAddress(), node),
        o.store,
        { registryFromBlock: 0, classes: [CLASS_CPU], deadlineSeconds: 900, publish: [blobs.url] },
      );
      // Start early in a UTC day, so the whole test runs within it.
      const dayStart = (Math.floor((await time.latest()) / DAY) + 1) * DAY;
      await time.increaseTo(dayStart + 60);
      await o.indexer.run();
      const sent = await benchmarks.tick();
      expect(sent.map((s) => [s.deviceId, s.outcome])).to.deep.equal(
        [fx.cpuA, fx.cpuB].sort((x, y) => (x < y ? -1 : 1)).map((d) => [d, "sent"]),
      );
      const jobA = BigInt(sent.find((s) => s.deviceId === fx.cpuA)!.detail);
      expect((await fx.jobs.job(jobA)).deviceId).to.equal(fx.cpuA);
      // The same day again: nothing more (once indexed).
      await o.indexer.run();
      expect(await benchmarks.tick()).to.deep.equal([]);

      // providerA's agent (its own process loop, over JSON-RPC on localhost) accepts the directed job and commits.
      const config = validateProviderConfig(
        {
          key: writeKeyFile(dir, "provider", hardhatKey(7)),
          rpc: rpc.url,
          computeJobs: jobsAddr,
          devices: [{ id: fx.cpuA.toString(), class: CLASS_CPU }],
          state: "provider.sqlite",
          blobs: { dir: "outputs", port: 0 },
          sources: [blobs.url],
          pollMs: 100,
          commitMarginSec: 60,
        },
        "test config",
        dir,
      );
      expect(config.acceptDirected).to.equal(true);
      // An agent told not to accept directed jobs leaves it open, round after round.
      const rounds: string[] = [];
      agent = await startProvider(
        { ...config, acceptDirected: false, state: path.join(dir, "off.sqlite") },
        (e) => rounds.push(e),
      );
      await new Promise((r) => setTimeout(r, 1_000));
      await agent.stop();
      agent = undefined;
      expect(rounds).to.include("started").and.not.include("accepted");
      expect((await fx.jobs.job(jobA)).status).to.equal(Status.Open);
      agent = await startProvider(config, () => {});
      const until = Date.now() + 60_000;
      while ((await fx.jobs.job(jobA)).status !== Status.Committed) {
        if (Date.now() > until) throw new Error("the agent did not commit the benchmark");
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await fx.jobs.job(jobA)).resultHash).to.equal(BENCHMARK_OUTPUT_HASH);
      expect((await fx.jobs.job(jobA)).provider).to.equal(fx.providerA.address);
      // The sender pays the passed benchmark at once (the other device's is still open: not paid).
      await o.indexer.run();
      expect(await benchmarks.payPassed()).to.deep.equal([jobA]);
      expect((await fx.jobs.job(jobA)).status).to.equal(Status.Finalized);
      await o.indexer.run();
      expect(await benchmarks.payPassed()).to.deep.equal([]);
      // A device onboarded later the same day gets its benchmark in the next round, and only it.
      const later = await fx.onboard(fx.outsider.address, CLASS_CPU);
      await o.indexer.run();
      expect((await benchmarks.tick()).map((b) => [b.deviceId, b.outcome])).to.deep.equal([[later, "sent"]]);

      // The day's inputs cannot be derived before the index has passed the day's end.
      await o.indexer.run();
      let notReady: unknown;
      await computeEpochInputs(o.store, dayStart * 1000, (dayStart + DAY) * 1000).catch(
        (e) => (notReady = e),
      );
      expect(notReady).to.be.instanceOf(ComputeInputsNotReady);
      // Past the day's end and every benchmark's deadline (sent before the end, 900 s each).
      await time.increaseTo(dayStart + DAY + 1_000);
      await mine(1);
      await o.indexer.run();
      const inputs = await computeEpochInputs(o.store, dayStart * 1000, (dayStart + DAY) * 1000);
      const byDevice = new Map(inputs.benchmarks.map((b) => [b.deviceId, b]));
      expect(byDevice.get(fx.cpuA)).to.include({ passed: true });
      expect(byDevice.get(fx.cpuA)!.latencyMs).to.be.a("number").and.at.least(0);
      expect(byDevice.get(fx.cpuB)).to.deep.include({ passed: false, reason: "not-accepted" });
      expect(byDevice.get(later)).to.deep.include({ passed: false, reason: "not-accepted" });
      expect(inputs.benchmarks).to.have.length(3);
      // Another oracle's index of the same chain gives byte-identical inputs.
      const other = await oracle(fx, "other", sender);
      await other.indexer.run();
      expect(await computeEpochInputs(other.store, dayStart * 1000, (dayStart + DAY) * 1000)).to.deep.equal(
        inputs,
      );
      // Without the configured sender the inputs refuse to guess.
      let refused: unknown;
      await computeEpochInputs(
        new ComputeStore(o.sqlite.storageSql()),
        dayStart * 1000,
        (dayStart + DAY) * 1000,
      ).catch((e) => (refused = e));
      expect(String(refused)).to.match(/benchmark sender/);
    });
  });
});
