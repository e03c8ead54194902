/**
 * An oracle without chain.firstEpoch derives its first epoch from the chain and says which and why:
 * nothing posted yet, the epoch of chain.fromBlock (every oracle reading from that block agrees);
 * a root already posted, the next epoch if its store holds the posted epoch's result, else a refusal
 * that says how to join. A configured chain.firstEpoch is used as is.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { EpochService, type ChainContracts } from "@hexmesh/oracle";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../../scripts/demo/suite.js";

describe("oracle service: the first epoch derived from the chain when chain.firstEpoch is not set", function () {
  this.timeout(120_000);

  let suite: Suite;
  let dir: string;
  let contracts: ChainContracts;
  let epoch4Block: number;
  let rpc: JsonRpcEndpoint;
  const stores: SqliteStore[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-first-epoch-"));
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 1, threshold: 1 });
    rpc = await serveJsonRpc(connection.provider);
    contracts = {
      registry: suite.registry,
      vault: suite.vault,
      controller: suite.controller,
      distributor: suite.distributor,
    } as unknown as ChainContracts;
    // A block in the middle of epoch 4, then epochs 0 to 6 end and are distributed.
    await suite.time.increaseTo(suite.genesisTime + 4n * suite.epochLength + suite.epochLength / 2n);
    epoch4Block = await suite.ethers.provider.getBlockNumber();
    // Past epoch 6's close guard (its end, the witness windows and the close grace).
    await suite.time.increaseTo(suite.genesisTime + 7n * suite.epochLength + 600n);
    while ((await suite.controller.nextEpoch()) < 7n) await (await suite.controller.distribute(8)).wait();
  });

  after(async function () {
    for (const s of stores) await s.close();
    await rpc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const service = async (name: string, o: { fromBlock: number; firstEpoch?: bigint }) => {
    const store = new SqliteStore({ path: path.join(dir, `${name}.sqlite`) });
    await store.migrate();
    stores.push(store);
    const notices: string[] = [];
    const epochs = new EpochService(store, contracts, suite.oracleKeys[0]!, {
      ...o,
      notice: (m) => notices.push(m),
    });
    return { store, epochs, notices };
  };

  it("nothing posted, deployment before genesis: starts at epoch 0 and says so once", async function () {
    const { epochs, notices } = await service("genesis", { fromBlock: suite.deployBlock });
    await epochs.close(3n).then(
      () => expect.fail("closed epoch 3 without epoch 2"),
      (e: Error) =>
        expect(e.message).to.match(
          /epoch 2 has no stored result.*first epoch is 0, derived from the chain \(chain\.firstEpoch not set\)/,
        ),
    );
    expect(notices).to.deep.equal([
      `chain.firstEpoch is not set and nothing has been posted on the distributor yet: starting at epoch 0, ` +
        `the epoch of block ${suite.deployBlock} (chain.fromBlock, time ${(await suite.ethers.provider.getBlock(suite.deployBlock))!.timestamp}), ` +
        `where every oracle reading from that block starts`,
    ]);
    expect((await epochs.close(0n)).epoch).to.equal(0n);
    expect((await epochs.close(1n)).epoch).to.equal(1n);
    expect(notices).to.have.length(1);
  });

  it("nothing posted, reading from a block in epoch 4: closes epoch 4 without epoch 3, then 5 on it", async function () {
    const { epochs, notices } = await service("epoch4", { fromBlock: epoch4Block });
    expect((await epochs.close(4n)).epoch).to.equal(4n);
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(
      new RegExp(`starting at epoch 4, the epoch of block ${epoch4Block} \\(chain\\.fromBlock`),
    );
    expect((await epochs.close(5n)).epoch).to.equal(5n);
  });

  it("hexmesh-oracle close-epoch says the derived epoch and why on stderr, its JSON alone on stdout", async function () {
    const { registry, vault, controller, distributor } = await suiteAddresses(suite);
    const config = path.join(dir, "cli.json");
    writeFileSync(
      config,
      JSON.stringify({
        listen: { host: "127.0.0.1", port: 0 },
        store: { backend: "sqlite", path: path.join(dir, "cli.sqlite") },
        chain: {
          rpcUrl: rpc.url,
          addresses: { registry, vault, controller, distributor },
          fromBlock: epoch4Block,
        },
        log: { level: "silent" },
      }),
    );
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [path.resolve("packages/oracle/bin/hexmesh-oracle.js"), "-c", config, ...args],
          { env: { ...process.env, HEXMESH_ORACLE_KEY: suite.oracleKeys[0]!.privateKey } },
          (err, stdout, stderr) =>
            resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
        );
      });
    const early = await cli(["close-epoch", "5"]);
    expect(early.code, early.stderr).to.not.equal(0);
    expect(early.stderr).to.match(/starting at epoch 4, the epoch of block \d+ \(chain\.fromBlock/);
    expect(early.stderr).to.match(/epoch 4 has no stored result.*first epoch is 4, derived from the chain/);
    const closed = await cli(["close-epoch", "4"]);
    expect(closed.code, closed.stderr).to.equal(0);
    expect(closed.stderr).to.contain(
      `chain.firstEpoch is not set and nothing has been posted on the distributor yet: starting at epoch 4, the epoch of block ${epoch4Block}`,
    );
    expect(JSON.parse(closed.stdout)).to.deep.include({ epoch: "4", reports: 0 });
  });

  it("a configured chain.firstEpoch is used as is, with no chain read and no notice", async function () {
    const { epochs, notices } = await service("configured", { fromBlock: suite.deployBlock, firstEpoch: 5n });
    expect((await epochs.firstEpoch()).epoch).to.equal(5n);
    await epochs.close(6n).then(
      () => expect.fail("closed epoch 6 without epoch 5"),
      (e: Error) =>
        expect(e.message).to.match(/epoch 5 has no stored result.*first epoch is chain\.firstEpoch \(5\)/),
    );
    expect(notices).to.deep.equal([]);
  });

  it("a root posted for epoch 5: continues at 6 with epoch 5's result stored, refuses without it", async function () {
    // Epoch 5's result (one owner earned 1 MESH), signed by the oracle and posted.
    const { store, epochs, notices } = await service("posted", {
      fromBlock: suite.deployBlock,
      firstEpoch: 5n,
    });
    const owner = `0x${"ab".repeat(20)}` as Hex;
    const amount = 10n ** 18n;
    const tree = OwnerMerkleTree.build([{ owner, amount }]);
    await store.putEpochResult(
      {
        epoch: 5n,
        root: tree.root,
        totalCumulative: amount,
        dataHash: id("epoch 5 data") as Hex,
        snapshotBlock: 1,
        summary: {
          reports: 0,
          valid: 0,
          beacons: 0,
          witnesses: 0,
          rejected: {},
          devices: 1,
          owners: 1,
          pool: amount.toString(),
          distributed: amount.toString(),
          dust: "0",
        },
        owners: [{ owner, amount, cumulative: amount }],
        computedAt: 0,
      },
      [],
    );
    await epochs.sign(5n);
    const posting = {
      ...contracts,
      distributor: suite.distributor.connect(suite.deployer),
    } as unknown as ChainContracts;
    expect((await epochs.post(5n, posting)).status).to.equal("posted");
    expect((await suite.distributor.pendingRoot()).epoch).to.equal(5n);
    expect(notices).to.deep.equal([]);

    const joined = await service("posted", { fromBlock: suite.deployBlock });
    expect(await joined.epochs.firstEpoch()).to.deep.equal({
      epoch: 6n,
      setting: "6, derived from the chain (chain.firstEpoch not set)",
    });
    expect(joined.notices).to.deep.equal([
      "chain.firstEpoch is not set: epoch 5 is the last one posted on the distributor (pending) and this " +
        "oracle's store holds its result, so it continues at epoch 6",
    ]);

    const fresh = await service("fresh", { fromBlock: suite.deployBlock });
    await fresh.epochs.close(6n).then(
      () => expect.fail("closed epoch 6 without epoch 5's result"),
      (e: Error) =>
        expect(e.message).to.match(
          new RegExp(
            `chain\\.firstEpoch is not set and epoch 5 is already posted on the distributor \\(pending root ${tree.root}\\), ` +
              `but this oracle's store has no result for it.*Join with a copy of the store of an oracle that closed epoch 5`,
          ),
        ),
    );
    expect(fresh.notices).to.deep.equal([]);
    // A failed derivation is not remembered: asked again, it reads the chain again.
    await fresh.epochs.firstEpoch().then(
      () => expect.fail("derived"),
      (e: Error) => expect(e.message).to.match(/epoch 5 is already posted/),
    );
  });
});
