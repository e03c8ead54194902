/**
 * The aggregator's posting account behind an ethers JSON-RPC provider (BrowserProvider over the
 * in-process chain: the same JsonRpcApiProvider code as a node URL, answer cache included).
 */
import { expect } from "chai";
import { BrowserProvider, id, Wallet, ZeroHash } from "ethers";
import { network } from "hardhat";

import { EpochRootAggregator, OracleKey } from "@hexmesh/oracle";
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import { deployRewardsSystem, MESH } from "../../helpers/rewards.js";

/** A rewards system on a fresh in-process chain with epoch 0 distributed, and a signed root for it. */
async function epochZeroReady() {
  const connection = await network.create();
  const { ethers, networkHelpers } = connection;
  const sys = await deployRewardsSystem(ethers);
  await networkHelpers.time.increase(sys.epochLength);
  await sys.controller.distribute(1);
  const tree = OwnerMerkleTree.build([{ owner: `0x${"11".repeat(20)}` as Hex, amount: MESH(1) }]);
  const root = { epoch: 0n, root: tree.root, totalCumulative: MESH(1), dataHash: id("d") as Hex };
  const sign = async (aggregator: EpochRootAggregator) => {
    const req = await aggregator.request(root);
    return { req, sigs: sys.oracles.map((o) => new OracleKey(o).sign(req.domain, req.value)) };
  };
  return { connection, ethers, sys, root, sign };
}

describe("oracle: EpochRootAggregator posting account", function () {
  it("reads the poster's nonce from the node, not from the provider's answer cache", async function () {
    const { connection, ethers, sys, root, sign } = await epochZeroReady();

    // The poster talks to the chain through an ethers JSON-RPC provider, which answers a repeated
    // getTransactionCount from a 250 ms cache.
    const rpc = new BrowserProvider(connection.provider);
    const poster = new Wallet(id("aggregator poster"), rpc);
    await (await sys.deployer.sendTransaction({ to: poster.address, value: MESH(1) })).wait();
    const cached = await rpc.getTransactionCount(poster.address, "pending");
    // The account sends a transaction of its own (through the node, not this provider), so the
    // cached count is now one behind.
    await (
      await poster.connect(ethers.provider).sendTransaction({ to: sys.deployer.address, value: 1n })
    ).wait();
    expect(await ethers.provider.getTransactionCount(poster.address, "pending")).to.equal(cached + 1);

    const aggregator = new EpochRootAggregator(sys.distributor.connect(poster), { baseDelayMs: 1 });
    const { req, sigs } = await sign(aggregator);
    const outcome = await aggregator.post(req, sigs);
    expect(outcome.status).to.equal("posted");
    expect(await ethers.provider.getTransactionCount(poster.address)).to.equal(cached + 2);
    expect((await sys.distributor.pendingRoot())[1]).to.equal(root.root);
  });

  it("refuses to post through a binding without a signer", async function () {
    const { ethers, sys, sign } = await epochZeroReady();
    const aggregator = new EpochRootAggregator(sys.distributor.connect(ethers.provider), { baseDelayMs: 1 });
    const { req, sigs } = await sign(aggregator);
    const error = await aggregator.post(req, sigs).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(error)).to.contain("the distributor binding has no signer");
    expect((await sys.distributor.pendingRoot())[1]).to.equal(ZeroHash);
  });
});
