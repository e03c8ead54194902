/**
 * Usage-linked rewards through the oracle's one epoch path, on the in-process Hardhat chain: a router
 * buys credits by burning MESH, spenders registered by governance record usage (`consume`) for the
 * coverage subnetwork's epoch 0 (and, to be left out, for epoch 1 and for another subnetwork), the
 * oracle closes epoch 0, and the test recomputes every provider's reward from the chain's raw logs
 * and the price source at the snapshot block. The oracle signs only while its result reconciles with
 * the logs; the root it posts pays a provider on chain.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { id, type BaseContract } from "ethers";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";

import { buildApi, EpochService, ResultSets, type ChainContracts } from "@hexmesh/oracle";
import { OracleClient } from "@hexmesh/oracle/api/client";
import { rewardPriceAt } from "@hexmesh/oracle/chain/indexer";
import { Ingestor } from "@hexmesh/oracle/service/ingest";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { InlineAuthenticator } from "@hexmesh/oracle/verify/prepare";
import { reverifyEpoch } from "@hexmesh/oracle/watch/reverify";
import {
  auditEpochEncoding,
  OwnerMerkleTree,
  SUBNETWORK_COVERAGE,
  subnetworkId,
  type Hex,
} from "@hexmesh/protocol";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { serveJsonRpc } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, MESH, type Suite } from "../../../scripts/demo/suite.js";

const UNLIMITED = 2n ** 128n - 1n;
const SUBNETWORK_COMPUTE = subnetworkId("hexmesh.subnetwork.compute");

describe("oracle service: usage-linked rewards reconciled with UsageRecorded logs", function () {
  this.timeout(180_000);

  let suite: Suite;
  let connection: NetworkConnection;
  let dir: string;
  let store: SqliteStore;
  let epochs: EpochService;
  let contracts: ChainContracts;
  let spender: HardhatEthersSigner;
  let router: HardhatEthersSigner;
  let providerA: Hex;
  let providerB: Hex;

  /** Governance through the timelock, as on a real deployment: schedule every call, one delay, execute. */
  async function govern(target: BaseContract, calls: string[], label: string) {
    const gov = suite.timelock.connect(suite.admin);
    const zero = `0x${"00".repeat(32)}`;
    const delay = await suite.timelock.getMinDelay();
    const to = await target.getAddress();
    for (const [i, data] of calls.entries())
      await (await gov.schedule(to, 0n, data, zero, id(`${label} ${i}`), delay)).wait();
    await suite.time.increaseTo(BigInt(await suite.time.latest()) + delay);
    for (const [i, data] of calls.entries())
      await (await gov.execute(to, 0n, data, zero, id(`${label} ${i}`))).wait();
  }

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-usage-"));
    connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 1, threshold: 1 });
    const signers = await suite.ethers.getSigners();
    spender = signers[5]!;
    const computeSpender = signers[6]!;
    router = signers[7]!;
    providerA = signers[8]!.address.toLowerCase() as Hex;
    providerB = signers[9]!.address.toLowerCase() as Hex;
    const credits = suite.credits;
    await govern(
      credits,
      [
        credits.interface.encodeFunctionData("registerSpender", [spender.address, SUBNETWORK_COVERAGE]),
        credits.interface.encodeFunctionData("registerSpender", [computeSpender.address, SUBNETWORK_COMPUTE]),
      ],
      "register spenders",
    );
    expect(await suite.time.latest()).to.be.below(Number(suite.genesisTime));

    // The router buys credits with 100 MESH at $0.05 (5,000,000 credits) and authorizes both spenders.
    await (await suite.token.connect(suite.treasury).transfer(router.address, MESH(100))).wait();
    await (await suite.token.connect(router).approve(await credits.getAddress(), MESH(100))).wait();
    await (await credits.connect(router).burnForCredits(MESH(100), 0n, router.address)).wait();
    await (await credits.connect(router).approveSpender(spender.address, UNLIMITED)).wait();
    await (await credits.connect(router).approveSpender(computeSpender.address, UNLIMITED)).wait();

    // Epoch 0's usage, recorded after it ended (settlement), before the oracle closes it.
    const e = suite.epochLength;
    await suite.time.increaseTo(suite.genesisTime + e + 600n);
    const c = credits.connect(spender);
    await (await c.consume(router.address, 0n, providerA, 100_000n)).wait(); // $0.10
    await (await c.consume(router.address, 0n, providerB, 30_000n)).wait(); // $0.03
    await (await c.consume(router.address, 0n, providerA, 20_000n)).wait(); // $0.02
    await (await c.consume(router.address, 1n, providerA, 7_000n)).wait(); // epoch 1: not this epoch's
    await (await credits.connect(computeSpender).consume(router.address, 0n, providerB, 9_000n)).wait(); // compute
    while ((await suite.controller.nextEpoch()) < 1n) await (await suite.controller.distribute(8)).wait();

    contracts = {
      registry: suite.registry,
      vault: suite.vault,
      controller: suite.controller,
      distributor: suite.distributor,
      usage: { credits: suite.credits, subnetwork: SUBNETWORK_COVERAGE },
    } as unknown as ChainContracts;
    store = new SqliteStore({ path: path.join(dir, "oracle.sqlite") });
    await store.migrate();
    epochs = new EpochService(store, contracts, suite.oracleKeys[0]!, {
      fromBlock: suite.deployBlock,
      firstEpoch: 0n,
    });
  });

  after(async function () {
    await store?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("close pays each provider its logs' credits at rewardPrice less 5%, recomputed from the raw logs", async function () {
    const result = await epochs.close(0n);
    const index = (await store.getChainIndex(0n))!;

    // Independently of the oracle: the raw logs through eth_getLogs, the price at the snapshot block.
    const credits = suite.credits;
    const logs = await suite.ethers.provider.getLogs({
      address: await credits.getAddress(),
      topics: [credits.interface.getEvent("UsageRecorded").topicHash],
      fromBlock: suite.deployBlock,
      toBlock: "latest",
    });
    const sums = new Map<string, bigint>();
    for (const log of logs) {
      const ev = credits.interface.parseLog(log)!;
      if (ev.args.subnetwork !== SUBNETWORK_COVERAGE || ev.args.epoch !== 0n) continue;
      const p = (ev.args.provider as string).toLowerCase();
      sums.set(p, (sums.get(p) ?? 0n) + (ev.args.credits as bigint));
    }
    expect(Object.fromEntries(sums)).to.deep.equal({ [providerA]: 120_000n, [providerB]: 30_000n });
    const price = await suite.meshPrice.rewardPrice({ blockTag: index.snapshotBlock });
    expect(price).to.equal(5n * 10n ** 16n);
    const expected = (c: bigint) => (c * 9_500n * 10n ** 30n) / (price * 10_000n);
    expect(expected(120_000n)).to.equal((228n * MESH(1)) / 100n); // $0.12 / $0.05 × 0.95 = 2.28 MESH

    // No device did coverage work: the leaves are the usage rewards alone.
    const amounts = Object.fromEntries(result.owners.map((o) => [o.owner, o.amount]));
    expect(amounts).to.deep.equal({ [providerA]: expected(120_000n), [providerB]: expected(30_000n) });
    expect(result.summary.usage).to.deep.include({
      shareBps: 8_000,
      feeBps: 500,
      price: price.toString(),
      paid: (expected(120_000n) + expected(30_000n)).toString(),
    });
    expect(index.usage!.records).to.have.length(3);
    expect(index.usage!.priceBlock).to.equal(index.snapshotBlock);
    // The rest of the pool is not lost: it stays for later epochs (dust, as today).
    expect(BigInt(result.summary.dust) + BigInt(result.summary.distributed)).to.equal(index.pool);
  });

  it("GET /v1/epochs/0/results lists the usage records and rewards; the encoding (version 2) audits clean", async function () {
    const domain = {
      chainId: 31337n,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
    const app = await buildApi({
      store,
      ingestor: new Ingestor(store, {
        clock: Date.now,
        authenticator: new InlineAuthenticator(domain, []),
        limits: {
          perDevicePerMinute: 1,
          clientReportsPerMinute: 1,
          perDevicePerWindow: 1,
          beaconWindowMs: 1,
        },
      }),
      limits: { bodyBytes: 64 * 1024, batchMax: 1, batchesPerMinute: 10 },
      results: new ResultSets(store),
    });
    try {
      const client = new OracleClient(await app.listen({ host: "127.0.0.1", port: 0 }));
      const doc = await client.results(0n);
      expect(doc.encodingVersion).to.equal(2);
      expect(doc.usage!.subnetwork).to.equal(SUBNETWORK_COVERAGE);
      expect(doc.usage!.records.map((r) => [r.provider, r.credits])).to.deep.equal([
        [providerA, "100000"],
        [providerB, "30000"],
        [providerA, "20000"],
      ]);
      expect(doc.usage!.providers.map((p) => [p.provider, p.credits, p.reward])).to.deep.equal(
        [
          [providerA, "120000", ((228n * MESH(1)) / 100n).toString()],
          [providerB, "30000", ((57n * MESH(1)) / 100n).toString()],
        ].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
      );
      const summary = (await client.epoch(0n)).summary;
      expect(summary.usage!.paid).to.equal(doc.usage!.paid);
      expect(summary.usage!.providers).to.deep.equal(doc.usage!.providers);
      const stored = (await store.getEpochResult(0n))!;
      const { bytes } = await client.encoding(0n);
      expect(bytes[8]).to.equal(2);
      // The watcher's --reverify: the epoch recomputed from the oracle's inputs and the chain (usage
      // included, through JSON-RPC) gives the same root and dataHash, and its usage reconciles.
      const rpc = await serveJsonRpc(connection.provider);
      try {
        const { token: _token, ...addresses } = await suiteAddresses(suite);
        const again = await reverifyEpoch(
          {
            rpcUrl: rpc.url,
            addresses: { ...addresses, credits: await suite.credits.getAddress() },
            fromBlock: suite.deployBlock,
            inputsFrom: client.baseUrl,
          },
          0n,
        );
        expect([again.root, again.dataHash]).to.deep.equal([stored.root, stored.dataHash]);
      } finally {
        await rpc.close();
      }
      const audit = auditEpochEncoding(bytes, {
        posted: {
          epoch: 0n,
          root: stored.root,
          totalCumulative: stored.totalCumulative,
          dataHash: stored.dataHash,
        },
      });
      expect(audit.findings).to.deep.equal([]);
    } finally {
      await app.close();
    }
  });

  it("signs a result that reconciles, posts it, and the provider claims its usage reward on chain", async function () {
    const sig = await epochs.sign(0n);
    expect(sig.signer).to.equal(suite.oracleKeys[0]!.address.toLowerCase());
    const outcome = await epochs.post(0n, contracts);
    expect(outcome.status).to.equal("posted");
    await suite.time.increaseTo(BigInt(await suite.time.latest()) + suite.challengeWindow + 1n);
    const stored = (await store.getEpochResult(0n))!;
    const tree = OwnerMerkleTree.build(stored.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })));
    const a = stored.owners.find((o) => o.owner === providerA)!;
    const before = await suite.token.balanceOf(providerA);
    await (await suite.distributor.claim(providerA, a.cumulative, tree.proof(providerA))).wait();
    expect((await suite.token.balanceOf(providerA)) - before).to.equal(a.cumulative);
  });

  it("refuses to sign when a UsageRecorded log of the epoch is missing from its result", async function () {
    // A late record for epoch 0, after the close: the stored result no longer pays what the logs say.
    await (await suite.credits.connect(spender).consume(router.address, 0n, providerB, 1_000n)).wait();
    let error: Error | undefined;
    await epochs.sign(0n).catch((e: Error) => (error = e));
    expect(error?.name).to.equal("UsageReconciliationError");
    expect(error?.message).to.match(/refusing to sign epoch 0/);
    expect(error?.message).to.match(
      new RegExp(`:${providerB}:${router.address.toLowerCase()}:1000 is missing`),
    );
    expect(error?.message).to.match(new RegExp(`provider ${providerB}: .* its logs give`));
  });

  it("values usage at 0 when the price source is stale at the block (usage unpaid, not an error)", async function () {
    await suite.time.increaseTo(BigInt(await suite.time.latest()) + 31n * 86_400n);
    await suite.ethers.provider.send("evm_mine", []);
    const head = await suite.ethers.provider.getBlockNumber();
    expect(await rewardPriceAt(suite.credits, head)).to.equal(0n);
    expect(await suite.meshPrice.isFresh({ blockTag: head })).to.equal(false);
  });
});
