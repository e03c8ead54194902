import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Signature, verifyTypedData, type Wallet } from "ethers";

import {
  RewardsDistributor__factory,
  StorageDeals__factory,
  StorageSuspensions__factory,
  type StorageDeals,
} from "@hexmesh/contracts";
import { StorageIndexer } from "@hexmesh/oracle/storage/indexer";
import { SeedKeeper } from "@hexmesh/oracle/storage/keeper";
import { fetchRange, RetrievalProber } from "@hexmesh/oracle/storage/probe";
import { retrievalScores } from "@hexmesh/oracle/storage/score";
import { peerProposals, StorageOracle } from "@hexmesh/oracle/storage/service";
import { StorageStore } from "@hexmesh/oracle/storage/store";
import { SuspensionKeeper } from "@hexmesh/oracle/storage/suspend";
import { storageEpochInputs } from "@hexmesh/oracle/storage/verifier";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import {
  buildPieceProofs,
  probeRange,
  RETRIEVAL_RESULT_TYPES,
  retrievalDomain,
  retrievalOutcomeCode,
  storageSuspensionsDomain,
  type RetrievalOutcome,
} from "@hexmesh/protocol";

import { createRegistryNetwork } from "../../helpers/registryFixture.js";
import { buildProofs, DAY, WINDOW } from "../../helpers/storage.js";
import {
  deployOracleStorage,
  randomPiece,
  serveOracleApi,
  startRangeServer,
  type OracleStorageSystem,
  type RangeServer,
} from "./helpers.js";

const { ethers, networkHelpers } = await createRegistryNetwork();
const { loadFixture, time, mine } = networkHelpers;

const fixture = () => deployOracleStorage(ethers, networkHelpers);

interface Oracle {
  wallet: Wallet;
  sqlite: SqliteStore;
  store: StorageStore;
  prober: RetrievalProber;
  suspensions: SuspensionKeeper;
}

describe("storage oracle: indexing, seed keeper, retrieval probes, scores and suspensions", function () {
  this.timeout(120_000);
  let dir: string;
  let servers: RangeServer[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-storage-oracle-"));
  });
  afterEach(async () => {
    for (const s of servers) await s.close();
    servers = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function oracle(sys: OracleStorageSystem, wallet: Wallet, name: string): Promise<Oracle> {
    const sqlite = new SqliteStore({ path: path.join(dir, `${name}.sqlite`) });
    await sqlite.migrate();
    const store = new StorageStore(sqlite.storageSql());
    const deals = StorageDeals__factory.connect(await sys.deals.getAddress(), ethers.provider);
    const domain = retrievalDomain(sys.chainId, await sys.deals.getAddress());
    const suspensions = StorageSuspensions__factory.connect(await sys.suspensions.getAddress(), sys.keeper);
    const distributor = RewardsDistributor__factory.connect(
      await sys.distributor.getAddress(),
      ethers.provider,
    );
    return {
      wallet,
      sqlite,
      store,
      prober: new RetrievalProber(deals, store, wallet, domain, { timeoutMs: 1_000 }),
      suspensions: new SuspensionKeeper(
        suspensions,
        distributor,
        store,
        wallet,
        storageSuspensionsDomain(sys.chainId, await sys.suspensions.getAddress()),
      ),
    };
  }

  /** The oracle's real API on localhost (with its suspension proposals when `proposals`). */
  async function apiFor(o: Oracle, proposals: boolean) {
    return serveOracleApi(
      o.sqlite,
      proposals ? { storageProposals: (d: bigint) => o.suspensions.proposals(d) } : {},
    );
  }

  const dealsAs = async (sys: OracleStorageSystem, signer = sys.keeper): Promise<StorageDeals> =>
    StorageDeals__factory.connect(await sys.deals.getAddress(), signer);

  /** A data set of `pieces` with the provider owning `device`, accepted, funded, collateralised. */
  async function openWith(sys: OracleStorageSystem, device: bigint, pieces: Uint8Array[]): Promise<bigint> {
    const provider = device === sys.storageDevice ? sys.provider : sys.outsider;
    await sys.deals.connect(sys.client).createDataSet(device);
    const id = await sys.deals.dataSetCount();
    await sys.deals.connect(provider).acceptDataSet(id);
    const inputs = pieces.map((p) => ({ root: buildPieceProofs(p, []).piece.root, size: p.length }));
    await sys.deals.connect(sys.client).addPieces(id, inputs);
    await sys.deals.connect(provider).depositCollateral(id, await sys.deals.requiredCollateral(id));
    return id;
  }

  it("indexes data sets, pieces and periods idempotently; the keeper arms and records every seed in the window", async function () {
    const sys = await loadFixture(fixture);
    const a = [randomPiece(5_000), randomPiece(300)];
    const id = await openWith(sys, sys.storageDevice, a);
    await sys.deals.connect(sys.client).createDataSet(sys.secondDevice); // proposed only: not live
    const o = await oracle(sys, sys.oracles[0]!, "a");
    const indexer = new StorageIndexer(await dealsAs(sys), o.store, { fromBlock: 0, chunkBlocks: 7 });
    const first = await indexer.run();
    expect(first.logs).to.be.greaterThan(0);
    expect((await o.store.liveDataSets()).map((d) => d.id)).to.deep.equal([id]);
    const pieces = await o.store.pieces(id);
    expect(pieces.map((p) => [p.root, p.size])).to.deep.equal(
      a.map((p) => [buildPieceProofs(p, []).piece.root.toLowerCase(), p.length]),
    );
    expect(pieces[1]!.firstLeaf).to.equal(157n); // ceil(5000 / 32)
    expect((await o.store.dataSet(2n))!.status).to.equal("proposed");
    // Re-reading the same blocks changes nothing.
    await o.store.setCursor(0);
    await indexer.run();
    expect(await o.store.pieces(id)).to.deep.equal(pieces);

    const keeper = new SeedKeeper(await dealsAs(sys), o.store);
    expect(await keeper.tick()).to.deep.equal([]); // window not open yet
    const ds = await sys.deals.dataSet(id);
    await time.increaseTo(ds.periodEnd - WINDOW);
    expect(await keeper.tick()).to.deep.equal([{ dataSetId: id, action: "armed" }]);
    expect(await keeper.tick()).to.deep.equal([]); // challenge block not mined yet
    await mine(1);
    expect(await keeper.tick()).to.deep.equal([{ dataSetId: id, action: "recorded" }]);
    expect(await keeper.tick()).to.deep.equal([]);
    const armed = await sys.deals.dataSet(id);
    expect(armed.seed).to.not.equal(ethers.ZeroHash);
    // The provider proves period 0 on the keeper's seed: indexed with its block time and challenged leaves.
    await sys.deals.connect(sys.provider).provePossession(id, await buildProofs(sys, id, a));
    const provenAt = await time.latest();
    await indexer.run();
    const p0 = (await o.store.periods(id)).find((p) => p.period === 0n)!;
    expect([p0.paid! > 0n, p0.provenAt, p0.challengedLeaves]).to.deep.equal([true, provenAt, 167n]);
    const inputs = await storageEpochInputs(o.store, (provenAt - 10) * 1000, (provenAt + 1) * 1000);
    expect(inputs.proven).to.deep.equal([
      {
        dataSetId: id,
        deviceId: sys.storageDevice,
        provider: sys.provider.address.toLowerCase(),
        period: 0n,
        challengedLeaves: 167n,
      },
    ]);
    expect(
      (await storageEpochInputs(o.store, (provenAt + 1) * 1000, (provenAt + 100) * 1000)).proven,
    ).to.deep.equal([]);

    // A second keeper that saw the old state loses the race: a benign revert, not an error.
    const other = new SeedKeeper(await dealsAs(sys, sys.outsider), o.store);
    await time.increaseTo(armed.periodEnd + DAY - WINDOW);
    await keeper.tick();
    await mine(1);
    await keeper.tick();
    const raced = await other.tick();
    expect(raced).to.deep.equal([]); // the seed is recorded: nothing due
    await indexer.run();
    const periods = await o.store.periods(id);
    expect(periods.filter((p) => p.seed !== null).map((p) => p.period)).to.deep.equal([0n, 1n]);
    expect(periods.find((p) => p.period === 0n)!.outcome).to.equal("Proven");
    await o.sqlite.close();
  });

  it("a seed the client armed and recorded first needs nothing from the keeper", async function () {
    const sys = await loadFixture(fixture);
    const id = await openWith(sys, sys.storageDevice, [randomPiece(2_000)]);
    const o = await oracle(sys, sys.oracles[0]!, "race");
    await new StorageIndexer(await dealsAs(sys), o.store, { fromBlock: 0 }).run();
    const ds = await sys.deals.dataSet(id);
    await time.increaseTo(ds.periodEnd - WINDOW);
    // The client arms and records the seed itself before the keeper's tick.
    await (await dealsAs(sys, sys.client)).recordSeed(id);
    await mine(1);
    await (await dealsAs(sys, sys.client)).recordSeed(id);
    expect(await new SeedKeeper(await dealsAs(sys), o.store).tick()).to.deep.equal([]);
    await o.sqlite.close();
  });

  it("probes one deterministic range a day, signs the result, scores refusals and wrong bytes down and suspends below 0.6", async function () {
    const sys = await loadFixture(fixture);
    const honestPieces = [randomPiece(9_000), randomPiece(100)];
    const badPieces = [randomPiece(7_000)];
    const honest = await startRangeServer(honestPieces, "honest");
    const bad = await startRangeServer(badPieces, "refuse");
    servers.push(honest, bad);
    await sys.deals.connect(sys.provider).setEndpoint(sys.storageDevice, honest.url);
    await sys.deals.connect(sys.outsider).setEndpoint(sys.secondDevice, bad.url);
    const good = await openWith(sys, sys.storageDevice, honestPieces);
    const poor = await openWith(sys, sys.secondDevice, badPieces);

    const oracles = [
      await oracle(sys, sys.oracles[0]!, "o0"),
      await oracle(sys, sys.oracles[1]!, "o1"),
      await oracle(sys, sys.oracles[2]!, "o2"),
    ];
    for (const o of oracles) await new StorageIndexer(await dealsAs(sys), o.store, { fromBlock: 0 }).run();

    const day0 = await oracles[0]!.prober.chainDay();
    // Day 0: every oracle probes the same range of each data set and signs the same result.
    const results = await Promise.all(oracles.map((o) => o.prober.tick(day0)));
    for (const r of results)
      expect(r.map((x) => [x.dataSetId, x.outcome])).to.deep.equal([
        [good, "ok"],
        [poor, "refused"],
      ]);
    const ranges = results.map((r) => r.map((x) => [x.pieceRoot, x.firstLeaf, x.count, x.answerHash]));
    expect(ranges[1]).to.deep.equal(ranges[0]);
    expect(ranges[2]).to.deep.equal(ranges[0]);
    const expected = probeRange(
      good,
      day0,
      (await oracles[0]!.store.pieces(good)).map((p) => p),
    );
    expect(results[0]![0]!.firstLeaf).to.equal(BigInt(expected!.firstLeaf));
    expect(results[0]![0]!.count).to.equal(expected!.count);
    const r0 = results[0]![0]!;
    const signer = verifyTypedData(
      { ...retrievalDomain(sys.chainId, await sys.deals.getAddress()) },
      RETRIEVAL_RESULT_TYPES,
      {
        dataSetId: r0.dataSetId,
        day: r0.day,
        pieceRoot: r0.pieceRoot,
        firstLeaf: r0.firstLeaf,
        count: r0.count,
        outcome: retrievalOutcomeCode("ok"),
        answerHash: r0.answerHash,
      },
      r0.signature,
    );
    expect(signer).to.equal(sys.oracles[0]!.address);
    expect(Signature.from(r0.signature).serialized).to.equal(r0.signature);
    // A second tick the same day probes nothing again.
    expect(await oracles[0]!.prober.tick(day0)).to.deep.equal([]);
    expect(honest.requests.length).to.equal(3);

    // Wrong bytes from now on: caught by the proof, scored like a refusal.
    bad.behaviour = "corrupt";
    for (let d = 1n; d <= 9n; d++) for (const o of oracles) await o.prober.tick(day0 + d);
    const last = await oracles[0]!.store.retrieval(poor, day0 + 9n);
    expect(last!.outcome).to.equal("bad_proof");
    const scores = await retrievalScores(oracles[0]!.store, day0 + 9n);
    const byDevice = new Map(scores.map((s) => [s.deviceId, s]));
    expect(byDevice.get(sys.storageDevice)!.score).to.equal(1_000_000);
    // Ten failures: 0.95^10 = 0.5987 (integer EMA: 598,735 ppm) < 0.6.
    expect(byDevice.get(sys.secondDevice)!.score).to.equal(598_735);
    expect(byDevice.get(sys.secondDevice)!.suspend).to.equal(true);
    expect(byDevice.get(sys.secondDevice)!.failures).to.equal(10);

    // Every oracle proposes the same update; one oracle alone is short of the threshold (2).
    const day = day0 + 9n;
    expect(await oracles[0]!.suspensions.submit(day, [])).to.deep.equal([
      { deviceId: sys.secondDevice, suspended: true, outcome: "short", detail: "1 of 2 signatures" },
    ]);
    // The peers serve their proposals over their APIs; oracle 0 collects them there.
    const peerApis = await Promise.all(oracles.slice(1).map((o) => apiFor(o, true)));
    let peers: Awaited<ReturnType<typeof peerProposals>>;
    try {
      peers = await peerProposals([...peerApis.map((p) => p.url), "http://127.0.0.1:1"], day, 2_000);
    } finally {
      for (const p of peerApis) await p.app.close();
    }
    expect(peers.map((p) => p.value)).to.deep.equal([
      (await oracles[0]!.suspensions.proposals(day))[0]!.value,
      (await oracles[0]!.suspensions.proposals(day))[0]!.value,
    ]);
    expect(peers.map((p) => p.signer)).to.deep.equal(
      oracles.slice(1).map((o) => o.wallet.address.toLowerCase()),
    );
    // A forged peer signature (signed by a non-member) is ignored; the quorum goes through.
    const outsiderWallet = ethers.Wallet.createRandom();
    const forged = { ...peers[0]!, signer: outsiderWallet.address, signature: peers[0]!.signature };
    const sent = await oracles[0]!.suspensions.submit(day, [forged, ...peers]);
    expect(sent.map((s) => [s.deviceId, s.suspended, s.outcome])).to.deep.equal([
      [sys.secondDevice, true, "sent"],
    ]);
    expect(await sys.suspensions.isSuspended(sys.secondDevice)).to.equal(true);
    await expect(sys.deals.connect(sys.client).createDataSet(sys.secondDevice))
      .to.be.revertedWithCustomError(sys.deals, "StorageDeviceSuspended")
      .withArgs(sys.secondDevice);
    // The honest provider still takes new deals, and nothing more is proposed.
    await expect(sys.deals.connect(sys.client).createDataSet(sys.storageDevice)).to.emit(
      sys.deals,
      "DataSetCreated",
    );
    expect(await oracles[1]!.suspensions.proposals(day)).to.deep.equal([]);

    // The oracle's API serves the results per data set and per provider.
    const { app, url } = await apiFor(oracles[0]!, false);
    try {
      const byDataSet = (await (
        await fetch(`${url}/v1/storage/retrievals?dataSet=${poor}&limit=3`)
      ).json()) as {
        retrievals: { day: string; outcome: RetrievalOutcome; signer: string }[];
      };
      expect(byDataSet.retrievals.map((r) => [r.day, r.outcome])).to.deep.equal([
        [(day0 + 9n).toString(), "bad_proof"],
        [(day0 + 8n).toString(), "bad_proof"],
        [(day0 + 7n).toString(), "bad_proof"],
      ]);
      expect(byDataSet.retrievals[0]!.signer).to.equal(sys.oracles[0]!.address.toLowerCase());
      const prov = (await (await fetch(`${url}/v1/storage/providers/${sys.outsider.address}`)).json()) as {
        score: number;
        devices: { device: string; suspend: boolean }[];
        retrievals: unknown[];
      };
      expect(prov.score).to.equal(598_735);
      expect(prov.devices).to.have.length(1);
      expect(prov.devices[0]!.suspend).to.equal(true);
      expect(prov.retrievals).to.have.length(10);
      const bad400 = await fetch(`${url}/v1/storage/retrievals?dataSet=x`);
      expect(bad400.status).to.equal(400);
      expect(((await bad400.json()) as { code: string }).code).to.equal("invalid_request");
      const unknown = (await (await fetch(`${url}/v1/storage/providers/${ethers.ZeroAddress}`)).json()) as {
        score: number;
        devices: unknown[];
      };
      expect(unknown).to.deep.include({ score: 1_000_000, devices: [] });
      // Without storage configured the proposals route answers 503 no_storage_oracle.
      const none = await fetch(`${url}/v1/storage/suspensions?day=${day}`);
      expect(none.status).to.equal(503);
      expect(((await none.json()) as { code: string }).code).to.equal("no_storage_oracle");
    } finally {
      await app.close();
    }

    // Recovered (serves honestly again): scores climb back and the oracles reinstate it at 0.6.
    bad.behaviour = "honest";
    await oracles[0]!.prober.tick(day0 + 10n);
    const back = await retrievalScores(oracles[0]!.store, day0 + 10n);
    expect(back.find((s) => s.deviceId === sys.secondDevice)!.score).to.equal(618_798);
    const peers2 = (await oracles[1]!.suspensions.proposals(day0 + 10n)).length;
    expect(peers2).to.equal(0); // oracle 1 has not probed day 10 yet: it does not agree
    await oracles[1]!.prober.tick(day0 + 10n);
    const again = await oracles[0]!.suspensions.submit(
      day0 + 10n,
      await oracles[1]!.suspensions.proposals(day0 + 10n),
    );
    expect(again.map((s) => [s.suspended, s.outcome])).to.deep.equal([[false, "sent"]]);
    expect(await sys.suspensions.isSuspended(sys.secondDevice)).to.equal(false);
    for (const o of oracles) await o.sqlite.close();
  });

  it("a round indexes, keeps the seeds, probes once a day and proposes nothing while scores are healthy", async function () {
    const sys = await loadFixture(fixture);
    const pieces = [randomPiece(3_000)];
    const agent = await startRangeServer(pieces, "honest");
    servers.push(agent);
    await sys.deals.connect(sys.provider).setEndpoint(sys.storageDevice, agent.url);
    const id = await openWith(sys, sys.storageDevice, pieces);
    const o = await oracle(sys, sys.oracles[0]!, "round");
    const round = new StorageOracle(
      new StorageIndexer(await dealsAs(sys), o.store, { fromBlock: 0 }),
      o.prober,
      o.suspensions,
      new SeedKeeper(await dealsAs(sys), o.store),
      [],
      true,
    );
    await time.increaseTo((await sys.deals.dataSet(id)).periodEnd - WINDOW);
    const first = await round.round();
    expect(first.indexed.logs).to.be.greaterThan(0);
    expect(first.seeds).to.deep.equal([{ dataSetId: id, action: "armed" }]);
    expect(first.probes.map((p) => [p.dataSetId, p.outcome])).to.deep.equal([[id, "ok"]]);
    expect(first.suspensions).to.deep.equal([]);
    await mine(1);
    const second = await round.round();
    expect(second.seeds).to.deep.equal([{ dataSetId: id, action: "recorded" }]);
    expect(second.probes).to.deep.equal([]); // today's probe is stored
    expect((await sys.deals.dataSet(id)).seed).to.not.equal(ethers.ZeroHash);
    await o.sqlite.close();
  });

  it("classifies every failure: no endpoint, unreachable, timeout, refused, malformed, wrong range", async function () {
    const piece = randomPiece(4_000);
    const root = buildPieceProofs(piece, []).piece.root;
    const check = async (endpoint: string, firstLeaf = 0, count = 4) =>
      (await fetchRange(endpoint, root, piece.length, firstLeaf, count, 300)).outcome;
    expect(await check("")).to.equal("unreachable");
    expect(await check("not a url")).to.equal("unreachable");
    const gone = await startRangeServer([piece], "honest");
    const goneUrl = gone.url;
    await gone.close();
    expect(await check(goneUrl)).to.equal("unreachable");
    const hang = await startRangeServer([piece], "hang");
    servers.push(hang);
    expect(await check(hang.url)).to.equal("timeout");
    const refuse = await startRangeServer([piece], "refuse");
    servers.push(refuse);
    expect(await check(refuse.url)).to.equal("refused");
    const corrupt = await startRangeServer([piece], "corrupt");
    servers.push(corrupt);
    expect(await check(corrupt.url)).to.equal("bad_proof");
    const honest = await startRangeServer([piece], "honest");
    servers.push(honest);
    expect(await check(honest.url)).to.equal("ok");
    expect(await check(`${honest.url}/`)).to.equal("ok");
    // Another piece's server answers 404 for our root: refused.
    const other = await startRangeServer([randomPiece(100)], "honest");
    servers.push(other);
    expect(await check(other.url)).to.equal("refused");
    // A server answering not-JSON, and one answering another range.
    const { createServer } = await import("node:http");
    const text = createServer((_q, s) => s.writeHead(200).end("hello"));
    await new Promise<void>((r) => text.listen(0, "127.0.0.1", r));
    const shifted = createServer((q, s) => {
      const u = new URL(q.url!, "http://x");
      const leaf = Number(u.searchParams.get("leaf")) + 1;
      const { piece: p, proofs } = buildPieceProofs(piece, [leaf, leaf + 1, leaf + 2, leaf + 3]);
      s.writeHead(200).end(JSON.stringify({ root: p.root, size: p.size, firstLeaf: leaf, proofs }));
    });
    await new Promise<void>((r) => shifted.listen(0, "127.0.0.1", r));
    try {
      const port = (s: typeof text) => (s.address() as { port: number }).port;
      expect(await check(`http://127.0.0.1:${port(text)}`)).to.equal("malformed");
      expect(await check(`http://127.0.0.1:${port(shifted)}`)).to.equal("wrong_leaf");
    } finally {
      text.close();
      shifted.close();
    }
  });
});
