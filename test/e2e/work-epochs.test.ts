/**
 * Issues 18 and 19 end to end: storage and compute epochs through the one epoch path, on the suite
 * deployed with the project's Ignition module, served as JSON-RPC on localhost, with three oracle
 * services (2-of-3 sets) over HTTP on localhost. A storage provider proves a data set on chain and a
 * compute provider's paid job is accepted in epoch 1; each oracle closes the storage and the compute
 * epoch on its own (the same root), all sign, oracle 0 collects the others' signatures over HTTP
 * (`?work=`) and posts to the kind's distributor; after the challenge window each provider's owner
 * claims its MESH; each kind's result set and encoding are published (`?work=`) and audit clean
 * against the root on chain, and the root watcher confirms each kind's pending root. Bad paths: a root posted to the wrong subnetwork's distributor, a signature of
 * another kind, a kind the oracle does not serve; the same inputs give byte-identical results.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import { EpochRootAggregator, EpochService, type StoredEpochResult } from "@hexmesh/oracle";
import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import {
  BENCHMARK_MAX_UNITS,
  BENCHMARK_OUTPUT_HASH,
  benchmarkJob,
  ComputeIndexer,
  ComputeStore,
} from "@hexmesh/oracle/compute/index";
import { WorkDistributorError, WorkNotServedError } from "@hexmesh/oracle/service/work";
import { StorageIndexer } from "@hexmesh/oracle/storage/indexer";
import { StorageStore, type StoredRetrieval } from "@hexmesh/oracle/storage/store";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { RootWatcher, type WatcherOptions } from "@hexmesh/oracle/watch/watcher";
import {
  auditEpochEncoding,
  DEFAULT_USAGE_PARAMS,
  RETRIEVAL_RESULT_TYPES,
  retrievalDomain,
  retrievalOutcomeCode,
  SUBNETWORK_COMPUTE,
  SUBNETWORK_STORAGE,
  usageRewards,
  type Hex,
} from "@hexmesh/protocol";

import { suiteAddresses } from "../../deploy/lib/suite.js";
import { closeEpoch, passChallengeWindow } from "../../scripts/demo/epoch.js";
import { demoWallet, fund, startOperator, type Operator } from "../../scripts/demo/operators.js";
import { OracleSet, type PostedEpoch } from "../../scripts/demo/oracles.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import {
  COMPUTE_CLASS_SUBNETWORK,
  COMPUTE_CPU_CLASS,
  deployDemoSuite,
  MESH,
  STORAGE_CLASS,
  STORAGE_CLASS_SUBNETWORK,
  type Suite,
} from "../../scripts/demo/suite.js";
import { workOracleOptions } from "../../scripts/demo/work-epochs.js";
import { buildProofs, type StorageSystem } from "../helpers/storage.js";

const UNLIMITED = 2n ** 128n - 1n;
const HOUR = 3_600n;
const PIECE = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff);

describe("E2E: storage and compute epochs through the one epoch path, three oracles over localhost", function () {
  this.timeout(300_000);

  let suite: Suite;
  let rpc: JsonRpcEndpoint;
  let oracles: OracleSet;
  let storageOp: Operator;
  let computeOp: Operator;
  let dataSet: bigint;
  let storageEpoch: PostedEpoch;
  let computeEpoch: PostedEpoch;
  let dir: string;
  let benchmarkSender: string;

  const owners = (r: StoredEpochResult) => r.owners.map((o) => o.owner);

  /** `key`'s signed refusal of `probed`'s range on another day (what a refused probe of that day signs). */
  const refusal = async (probed: StoredRetrieval, day: bigint, key: Suite["oracleKeys"][number]) => {
    const value = {
      dataSetId: probed.dataSetId,
      day,
      pieceRoot: probed.pieceRoot,
      firstLeaf: probed.firstLeaf,
      count: probed.count,
      outcome: retrievalOutcomeCode("refused"),
      answerHash: probed.answerHash,
    };
    const domain = retrievalDomain(suite.chainId, await suite.storageDeals.getAddress());
    const signature = await key.signTypedData({ ...domain }, RETRIEVAL_RESULT_TYPES, value);
    return { ...probed, day, outcome: "refused", signer: key.address, signature };
  };

  /** The compute kind over `store`: its own ComputeJobs index, the same benchmark sender. */
  const computeOf = (store: SqliteStore) => {
    const computeStore = new ComputeStore(store.storageSql(), { benchmarkSender });
    return {
      distributor: suite.computeDistributor,
      classSubnetwork: COMPUTE_CLASS_SUBNETWORK,
      usage: { credits: suite.credits, subnetwork: SUBNETWORK_COMPUTE },
      store: computeStore,
      indexer: new ComputeIndexer(suite.computeJobs, computeStore, { fromBlock: suite.deployBlock }),
    };
  };

  before(async function () {
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 3, threshold: 2, approveMakerAtDeploy: true });
    const { time } = suite;
    rpc = await serveJsonRpc(connection.provider);
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-work-epochs-"));

    // Epoch 0: a storage provider (device of the storage class, bonded) and a client with credits
    // open a data set; its first period ends (and is proven) in epoch 1.
    await time.increaseTo(suite.genesisTime + HOUR);
    storageOp = await startOperator(suite, "storage A", STORAGE_CLASS, MESH(1_000));
    computeOp = await startOperator(suite, "compute A", COMPUTE_CPU_CLASS, MESH(1_000));
    const provider = suite.ethers.provider;
    const client = demoWallet("work epochs client", provider);
    await fund(suite, client.address, MESH(40));
    await (await suite.token.connect(client).approve(await suite.credits.getAddress(), MESH(40))).wait();
    await (await suite.credits.connect(client).burnForCredits(MESH(40), 0n, client.address)).wait();
    const deals = suite.storageDeals;
    const jobs = suite.computeJobs;
    for (const spender of [await deals.getAddress(), await jobs.getAddress()])
      await (await suite.credits.connect(client).approveSpender(spender, UNLIMITED)).wait();
    await (await deals.connect(client).createDataSet(storageOp.deviceId)).wait();
    dataSet = await deals.dataSetCount();
    await (await deals.connect(storageOp.wallet).acceptDataSet(dataSet)).wait();
    const { buildPieceProofs } = await import("@hexmesh/protocol");
    await (
      await deals
        .connect(client)
        .addPieces(dataSet, [{ root: buildPieceProofs(PIECE, []).piece.root, size: PIECE.length }])
    ).wait();
    const collateral = await deals.requiredCollateral(dataSet);
    await (await suite.token.connect(storageOp.wallet).approve(await deals.getAddress(), collateral)).wait();
    await (await deals.connect(storageOp.wallet).depositCollateral(dataSet, collateral)).wait();

    // Epoch 1: the period's proof window; anyone arms the challenge, the provider proves it.
    const { periodEnd } = await deals.dataSet(dataSet);
    expect(periodEnd).to.be.greaterThan(suite.genesisTime + suite.epochLength);
    await time.increaseTo(periodEnd - 1_800n + 60n);
    await (await deals.connect(client).recordSeed(dataSet)).wait();
    await connection.networkHelpers.mine(1);
    const fx = { deals, ethers: suite.ethers } as unknown as StorageSystem;
    const proofs = await buildProofs(fx, dataSet, [PIECE]);
    await (await deals.connect(storageOp.wallet).provePossession(dataSet, proofs)).wait();

    // Epoch 1: a paid compute job (accepted, committed, accepted by the customer: UsageRecorded).
    await (await suite.token.connect(computeOp.wallet).approve(await jobs.getAddress(), MESH(1_000))).wait();
    await (await jobs.connect(computeOp.wallet).depositCollateral(MESH(1_000))).wait();
    const now = BigInt(await time.latest());
    await (
      await jobs
        .connect(client)
        .createJob(keccak256(toUtf8Bytes("spec")), COMPUTE_CPU_CLASS, 500, now + 2n * HOUR, 0)
    ).wait();
    const jobId = await jobs.jobCount();
    await (await jobs.connect(computeOp.wallet).acceptJob(jobId, computeOp.deviceId)).wait();
    await (
      await jobs.connect(computeOp.wallet).commitResult(jobId, keccak256(toUtf8Bytes("out")), 300)
    ).wait();
    await (await jobs.connect(client).acceptResult(jobId)).wait();
    // The day's availability benchmark: a job directed at the device by the benchmark sender (the
    // client's account here), answered with the pinned output.
    const { specHash } = await benchmarkJob();
    await (
      await jobs
        .connect(client)
        .createDirectedJob(specHash, computeOp.deviceId, BENCHMARK_MAX_UNITS, now + 2n * HOUR)
    ).wait();
    const benchmarkId = await jobs.jobCount();
    await (await jobs.connect(computeOp.wallet).acceptJob(benchmarkId, computeOp.deviceId)).wait();
    await (
      await jobs
        .connect(computeOp.wallet)
        .commitResult(benchmarkId, BENCHMARK_OUTPUT_HASH, BENCHMARK_MAX_UNITS)
    ).wait();
    benchmarkSender = client.address;

    await closeEpoch(suite, 1n);
    const poster = new Wallet(keccak256(toUtf8Bytes("work epochs poster")));
    await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
    oracles = await OracleSet.start({
      rpcUrl: rpc.url,
      addresses: { ...(await suiteAddresses(suite)), credits: await suite.credits.getAddress() },
      fromBlock: suite.deployBlock,
      oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
      posterKey: poster.privateKey,
      firstEpoch: 1,
      dir,
      ...(await workOracleOptions(suite, { prover: poster.address, benchmarkSender })),
    });
  });

  after(async function () {
    await oracles?.stop();
    await rpc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("each oracle probes the data set; the storage epoch's scores follow the set's signed results", async function () {
    // Each oracle probes the day once (the provider serves no endpoint: every probe fails alike).
    // That day is epoch 2's; each oracle's own signed probes of epoch 1's day and the two before
    // (the same range, refused) are what epoch 1's score folds: 0.95^3 < 0.9, usage scaled.
    for (const [i, s] of oracles.services.entries()) {
      await s.storage!.round();
      const own = new StorageStore(s.store.storageSql());
      const [today] = await own.retrievals();
      expect(today!.outcome).to.not.equal("ok");
      for (const back of [1n, 2n, 3n])
        await own.putRetrieval(await refusal(today!, today!.day - back, suite.oracleKeys[i]!));
    }
    storageEpoch = await oracles.runWorkEpoch(1n, "storage");
    const [r] = storageEpoch.results;
    // The usage reward is the unscaled one × the agreed score (three refused days: 857,375 ppm):
    // sign reconciled it against the UsageRecorded logs with the same scores.
    const index = (await oracles.services[1]!.store.getChainIndex(1n, "storage"))!;
    const provider = storageOp.wallet.address.toLowerCase() as Hex;
    const unscaled = usageRewards(index.pool, index.usage!, DEFAULT_USAGE_PARAMS).providers[0]!;
    const scaled = usageRewards(
      index.pool,
      index.usage!,
      DEFAULT_USAGE_PARAMS,
      new Map([[provider, 857_375]]),
    ).providers[0]!;
    expect(scaled.reward).to.be.lessThan(unscaled.reward);
    expect(r!.summary.usage!.providers[0]!.reward).to.equal(scaled.reward.toString());
    expect(storageEpoch.outcome.status).to.equal("posted");
    expect(owners(r!)).to.deep.equal([storageOp.wallet.address.toLowerCase()]);
    expect(r!.summary.devices).to.equal(1);
    // Paid usage of the proven period (UsageRecorded under the storage subnetwork) is in the result.
    expect(r!.summary.usage?.providers.map((p) => p.provider)).to.deep.equal([
      storageOp.wallet.address.toLowerCase(),
    ]);
    // The distributor holds the posted root pending, for the storage subnetwork.
    const [epoch, root] = await suite.storageDistributor.pendingRoot();
    expect([epoch, root.toLowerCase()]).to.deep.equal([1n, r!.root]);
    // Each oracle fetched its peers' signed results: two peers × four days of the one data set.
    for (const s of oracles.services) {
      const sql = s.store.storageSql();
      const peers = await sql.all("SELECT signer FROM storage_peer_retrievals ORDER BY signer");
      expect(peers).to.have.length(8);
    }
    // The coverage distributor is untouched.
    expect((await suite.distributor.pendingRoot())[1]).to.equal(`0x${"00".repeat(32)}`);
  });

  it("a retrieval result reaching an oracle after its storage close is left for the next: the closed epoch still reconciles and rebuilds", async function () {
    // Oracle 2 signs a refusal of a day of epoch 1 that no oracle had probed, after epoch 1 closed:
    // folded into epoch 1 it would be a fourth failed day (0.95^4) and change the usage reward.
    const s = oracles.services[2]!;
    const own = new StorageStore(s.store.storageSql());
    const [today] = await own.retrievals();
    const day = today!.day - 4n;
    expect(await own.putRetrieval(await refusal(today!, day, suite.oracleKeys[2]!))).to.equal(true);
    // Epoch 1 reads what its close read: its usage reconciles (signing again would), and its result
    // set rebuilds to the root the distributor holds.
    await s.epochs!.reconcileUsage(1n, "storage");
    const set = await new OracleClient(oracles.urls[2]!).results(1n, "storage");
    expect(set.root).to.equal(storageEpoch.results[2]!.root);
    expect(set.usage!.providers[0]!.score).to.equal(857_375);
    // The next close folds it.
    expect((await own.setRetrievalsThrough(today!.day, 2n)).map((r) => r.day)).to.not.include(day);
    expect(await own.foldRetrievals(today!.day, 2n)).to.be.greaterThan(0);
    expect((await own.setRetrievalsThrough(today!.day, 2n)).map((r) => r.day)).to.include(day);
  });

  it("compute: the paid job's usage pays the provider, posted to the compute distributor", async function () {
    computeEpoch = await oracles.runWorkEpoch(1n, "compute");
    const [r] = computeEpoch.results;
    expect(computeEpoch.outcome.status).to.equal("posted");
    expect(owners(r!)).to.deep.equal([computeOp.wallet.address.toLowerCase()]);
    // The paid job: 300 units at $0.001 (the benchmark is paid when its window ends, not yet).
    expect(r!.summary.usage?.providers[0]?.credits).to.equal("300000");
    // The passed benchmark weighs the device in the availability pool.
    expect(r!.summary.devices).to.equal(1);
    expect(BigInt(r!.summary.distributed)).to.be.greaterThan(BigInt(r!.summary.usage!.paid));
    expect(BigInt(r!.summary.usage!.providers[0]!.reward)).to.be.greaterThan(0n);
    const [epoch, root] = await suite.computeDistributor.pendingRoot();
    expect([epoch, root.toLowerCase()]).to.deep.equal([1n, r!.root]);
  });

  it("serves each kind's epoch and signature by ?work=, coverage's route unchanged", async function () {
    const client = new OracleClient(oracles.urls[1]!);
    const sig = await client.epochSignature(1n, "storage");
    expect(sig.root).to.equal(storageEpoch.results[1]!.root);
    expect((await client.epoch(1n, "compute")).root).to.equal(computeEpoch.results[1]!.root);
    const coverage = await client.epochSignature(1n).catch((e: unknown) => e);
    expect(coverage).to.be.instanceOf(OracleApiError);
    expect(coverage).to.include({ status: 404, apiMessage: "this oracle has not signed epoch 1" });
    const res = await fetch(`${oracles.urls[1]}/v1/epochs/1/signature?work=radio`);
    expect(res.status).to.equal(400);
  });

  it("publishes each kind's result set and encoding by ?work=, audited against the root its distributor holds", async function () {
    const client = new OracleClient(oracles.urls[2]!);
    for (const [work, distributor, posted, op] of [
      ["storage", suite.storageDistributor, storageEpoch, storageOp],
      ["compute", suite.computeDistributor, computeEpoch, computeOp],
    ] as const) {
      // The root as posted on chain (RootPosted), what anyone checks the published set against.
      const [ev] = await distributor.queryFilter(distributor.filters.RootPosted(1n));
      const onChain = {
        epoch: 1n,
        root: ev!.args.root.toLowerCase() as Hex,
        totalCumulative: ev!.args.totalCumulative,
        dataHash: ev!.args.dataHash.toLowerCase() as Hex,
      };
      expect(onChain.root).to.equal(posted.results[2]!.root);

      const doc = await client.results(1n, work);
      expect(doc).to.include({ kind: work, epoch: "1", root: onChain.root, dataHash: onChain.dataHash });
      const owner = op.wallet.address.toLowerCase();
      expect(doc.owners.map((o) => o.owner)).to.deep.equal([owner]);
      expect(doc.owners[0]!.cumulative).to.equal(posted.results[2]!.owners[0]!.cumulative.toString());
      expect(doc.devices.map((d) => [d.id, d.owner])).to.deep.equal([
        [`0x${op.deviceId.toString(16).padStart(64, "0")}`, owner],
      ]);
      expect(BigInt(doc.devices[0]!.reward)).to.be.greaterThan(0n);
      // Paid usage is published with the set: the provider's credits and reward.
      expect(doc.usage!.providers.map((p) => p.provider)).to.deep.equal([owner]);
      expect(doc.usage!.providers[0]!.reward).to.equal(
        posted.results[2]!.summary.usage!.providers[0]!.reward,
      );

      // The canonical bytes audit clean against the chain's root, and decode to the same owners.
      const { bytes, root, dataHash } = await client.encoding(1n, work);
      expect([root, dataHash]).to.deep.equal([onChain.root, onChain.dataHash]);
      // Storage's usage value is scaled by the agreed retrieval score, published with the set (the
      // encoding holds none): checked against it, and refused without it.
      const scores = new Map(
        doc.usage!.providers.flatMap((p) =>
          p.score === undefined ? [] : [[p.provider as Hex, p.score] as const],
        ),
      );
      expect([...scores.values()]).to.deep.equal(work === "storage" ? [857_375] : []);
      const audit = auditEpochEncoding(bytes, {
        posted: onChain,
        chainId: suite.chainId,
        usageScores: scores,
      });
      expect(audit.findings).to.deep.equal([]);
      if (work === "storage")
        expect(auditEpochEncoding(bytes, { posted: onChain }).findings.map((f) => f.code)).to.include(
          "usage_mismatch",
        );
      expect(audit.rebuiltRoot).to.equal(onChain.root);
      expect(audit.decoded!.owners.map((o) => o.owner)).to.deep.equal([owner]);
    }
    // The kinds' sets are told apart: storage's is not compute's, and coverage's epoch 1 was not closed.
    expect((await client.results(1n, "storage")).root).to.not.equal(
      (await client.results(1n, "compute")).root,
    );
    const coverage = await client.results(1n).catch((e: unknown) => e);
    expect(coverage).to.be.instanceOf(OracleApiError);
    expect(coverage).to.include({ status: 404, code: "epoch_not_closed" });
    const notClosed = await client.encoding(2n, "storage").catch((e: unknown) => e);
    expect(notClosed).to.include({
      status: 404,
      code: "epoch_not_closed",
      apiMessage: "storage epoch 2 has not been closed by this oracle",
    });
    const unknown = await fetch(`${oracles.urls[2]}/v1/epochs/1/results?work=radio`);
    expect(unknown.status).to.equal(400);
  });

  it("the root watcher checks a storage or compute distributor's pending root against that kind's sets", async function () {
    const provider = new JsonRpcProvider(rpc.url);
    const watcherOf = (distributor: string, extra: Partial<WatcherOptions> = {}) =>
      new RootWatcher({
        provider,
        distributor,
        oracles: oracles.urls,
        fromBlock: suite.deployBlock,
        evidenceDir: path.join(dir, "evidence"),
        ...extra,
      });
    for (const [work, distributor, posted] of [
      ["storage", suite.storageDistributor, storageEpoch],
      ["compute", suite.computeDistributor, computeEpoch],
    ] as const) {
      const watcher = watcherOf(await distributor.getAddress());
      expect(await watcher.kind()).to.equal(work);
      const [check] = await watcher.poll();
      // Every oracle's set of the kind confirms it: no finding, nothing written, no veto.
      expect(check!.posted.root).to.equal(posted.results[0]!.root);
      expect(check!.oracles.map((o) => [o.verdict, o.findings])).to.deep.equal(
        oracles.urls.map(() => ["confirms", []]),
      );
      expect(check).to.include({ outcome: "confirmed", action: "none" });
    }
    // Re-verification recomputes coverage epochs from reports: refused on a storage distributor.
    const reverifying = watcherOf(await suite.storageDistributor.getAddress(), {
      reverify: {
        rpcUrl: rpc.url,
        addresses: await suiteAddresses(suite),
        fromBlock: suite.deployBlock,
        inputsFrom: oracles.urls[0]!,
      },
    });
    const refused = await reverifying.poll().catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(Error);
    expect((refused as Error).message).to.match(/--reverify recomputes coverage epochs.*is storage's/);
    provider.destroy();
  });

  it("the providers' owners claim their MESH after the challenge window, with proofs from GET /v1/owners/:address?work=", async function () {
    const oracle = new OracleClient(oracles.urls[2]!);
    // Inside the challenge window each kind's proof is served marked pending, nothing claimable yet.
    for (const [work, op] of [
      ["storage", storageOp],
      ["compute", computeOp],
    ] as const) {
      const pending = await oracle.owner(op.wallet.address, { epoch: "1", work });
      expect(pending).to.include({ work, status: "pending", claimable: "0" });
    }
    for (const [distributor, posted, op] of [
      [suite.storageDistributor, storageEpoch, storageOp],
      [suite.computeDistributor, computeEpoch, computeOp],
    ] as const) {
      const work = distributor === suite.storageDistributor ? "storage" : "compute";
      const owner = op.wallet.address.toLowerCase() as Hex;
      await passChallengeWindow({ distributor, time: suite.time });
      // The owner asks an oracle for its proof (GET /v1/owners/:address?work=) and claims with it.
      const claim = await oracle.owner(owner, { work });
      const leaf = posted.results[0]!.owners.find((o) => o.owner === owner)!;
      expect(claim).to.include({
        work,
        epoch: "1",
        root: posted.results[0]!.root,
        status: "live",
        cumulative: leaf.cumulative.toString(),
        claimable: leaf.cumulative.toString(),
      });
      const before = await suite.token.balanceOf(owner);
      await (await distributor.claim(owner, BigInt(claim.cumulative), claim.proof)).wait();
      expect((await suite.token.balanceOf(owner)) - before).to.equal(leaf.cumulative);
      expect(leaf.cumulative).to.be.greaterThan(0n);
      expect(await oracle.owner(owner, { work })).to.include({ claimed: claim.cumulative, claimable: "0" });
    }
    // The coverage distributor has no root: its route says so, apart from the kinds that have one.
    const none = await oracle.owner(storageOp.wallet.address).catch((e: unknown) => e);
    expect(none).to.be.instanceOf(OracleApiError);
    expect(none).to.include({ status: 404, apiMessage: "no root is live yet" });
  });

  it("refuses a storage root for the coverage distributor, another kind's signature, a kind not served", async function () {
    const wallet = suite.oracleKeys[0]!.connect(suite.ethers.provider);
    // An oracle whose works.storage.distributor is (wrongly) the coverage distributor.
    const wrongStore = new SqliteStore({ path: path.join(dir, "wrong.sqlite") });
    await wrongStore.migrate();
    const { storageWork, computeWork } = await import("@hexmesh/oracle/service/work");
    const base = {
      registry: suite.registry,
      vault: suite.vault,
      controller: suite.controller,
      distributor: suite.distributor,
    };
    const wrong = new EpochService(wrongStore, base, wallet, {
      fromBlock: suite.deployBlock,
      firstEpoch: 1n,
      works: [
        storageWork({
          distributor: suite.distributor,
          classSubnetwork: STORAGE_CLASS_SUBNETWORK,
          store: new StorageStore(wrongStore.storageSql()),
        }),
      ],
    });
    const refused = await wrong.close(1n, undefined, "storage").catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(WorkDistributorError);
    expect((refused as Error).message).to.include(`not the storage subnetwork ${SUBNETWORK_STORAGE}`);
    expect(await wrongStore.getEpochResult(1n, "storage")).to.equal(null);

    // A kind this oracle does not serve: a clear error naming the config key.
    const notServed = await wrong.close(1n, undefined, "compute").catch((e: unknown) => e);
    expect(notServed).to.be.instanceOf(WorkNotServedError);
    expect((notServed as Error).message).to.include("add works.compute");

    // Collect refuses a peer's signature of another kind's root: oracle 1 serves its storage
    // signature where oracle 0 asks for compute (a peer at the same URL answering the wrong kind).
    const computeService = new EpochService(wrongStore, base, wallet, {
      fromBlock: suite.deployBlock,
      firstEpoch: 1n,
      works: [computeWork(computeOf(wrongStore))],
    });
    const closed = await computeService.close(1n, undefined, "compute");
    expect(closed.root).to.equal(computeEpoch.results[0]!.root);
    const storageSig = await new OracleClient(oracles.urls[1]!).epochSignature(1n, "storage");
    const req = await new EpochRootAggregator(suite.computeDistributor).request({
      epoch: 1n,
      root: closed.root,
      totalCumulative: closed.totalCumulative,
      dataHash: closed.dataHash,
    });
    expect(
      new EpochRootAggregator(suite.computeDistributor).verified(req, [
        { signer: storageSig.signer as Hex, signature: storageSig.signature as Hex },
      ]),
    ).to.deep.equal([]);
    // Over HTTP: a server that answers ?work=compute with its storage signature is refused.
    const { createServer } = await import("node:http");
    const liar = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(storageSig));
    });
    await new Promise<void>((r) => liar.listen(0, "127.0.0.1", () => r()));
    const port = (liar.address() as { port: number }).port;
    const logged: string[] = [];
    const collecting = new EpochService(wrongStore, base, wallet, {
      fromBlock: suite.deployBlock,
      firstEpoch: 1n,
      log: (msg) => logged.push(msg),
      works: [computeWork(computeOf(wrongStore))],
    });
    expect(await collecting.collect(1n, [`http://127.0.0.1:${port}`], undefined, "compute")).to.equal(0);
    expect(logged).to.include("peer signature refused");
    liar.close();
    await wrongStore.close();
  });

  it("the same inputs give byte-identical results: a fresh oracle re-closes both kinds to the same bytes", async function () {
    const again = new SqliteStore({ path: path.join(dir, "again.sqlite") });
    await again.migrate();
    const { storageWork, computeWork } = await import("@hexmesh/oracle/service/work");
    // The storage inputs: oracle 0's own and peers' signed results copied as they are.
    const src = oracles.services[0]!.store.storageSql();
    const dst = again.storageSql();
    for (const table of ["storage_retrievals", "storage_peer_retrievals"])
      for (const row of await src.all(`SELECT * FROM ${table}`)) {
        const cols = Object.keys(row);
        await dst.run(
          `INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
          cols.map((c) => row[c] as string | number | null),
        );
      }
    const storageStore = new StorageStore(dst);
    const service = new EpochService(
      again,
      {
        registry: suite.registry,
        vault: suite.vault,
        controller: suite.controller,
        distributor: suite.distributor,
      },
      suite.oracleKeys[1]!.connect(suite.ethers.provider),
      {
        fromBlock: suite.deployBlock,
        firstEpoch: 1n,
        works: [
          storageWork({
            distributor: suite.storageDistributor,
            classSubnetwork: STORAGE_CLASS_SUBNETWORK,
            store: storageStore,
            indexer: new StorageIndexer(suite.storageDeals, storageStore, { fromBlock: suite.deployBlock }),
            usage: { credits: suite.credits, subnetwork: SUBNETWORK_STORAGE },
          }),
          computeWork(computeOf(again)),
        ],
      },
    );
    for (const [work, posted] of [
      ["storage", storageEpoch],
      ["compute", computeEpoch],
    ] as const) {
      const r = await service.close(1n, undefined, work);
      const first = posted.results[0]!;
      expect([r.root, r.dataHash, r.totalCumulative]).to.deep.equal([
        first.root,
        first.dataHash,
        first.totalCumulative,
      ]);
      expect(r.owners).to.deep.equal(first.owners);
      expect(await again.getChainIndex(1n, work)).to.deep.equal(
        await oracles.services[0]!.store.getChainIndex(1n, work),
      );
    }
    await again.close();
  });
});
