/**
 * The aggregator's posting account behind an ethers JSON-RPC provider (BrowserProvider over the
 * in-process chain: the same JsonRpcApiProvider code as a node URL, answer cache included).
 */
import { expect } from "chai";
import { BrowserProvider, Wallet, ZeroHash, id } from "ethers";
import { network } from "hardhat";

import { MeshToken__factory, RewardsDistributor__factory } from "../../typechain-types/index.js";
import { OwnerMerkleTree } from "../../oracle/src/commit/merkle.js";
import { EpochRootAggregator } from "../../oracle/src/post/aggregator.js";
import { OracleKey } from "../../oracle/src/post/sign.js";
import type { Hex } from "../../oracle/src/util/hex.js";

const MESH = 10n ** 18n;

describe("oracle: EpochRootAggregator posting account", function () {
  it("reads the poster's nonce from the node, not from the provider's answer cache", async function () {
    const { ethers, provider: eip1193 } = await network.create();
    const [admin] = await ethers.getSigners();
    const oracles = [1, 2, 3]
      .map((i) => new Wallet(id(`aggregator oracle ${i}`)))
      .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const token = await new MeshToken__factory(admin).deploy(admin!.address, 1000n * MESH, admin!.address);
    const distributor = await new RewardsDistributor__factory(admin).deploy(
      await token.getAddress(),
      id("hexmesh.coverage"),
      admin!.address,
      admin!.address,
      oracles.map((o) => o.address),
      2,
      3600,
    );
    await (await distributor.grantRole(id("FUNDER_ROLE"), admin!.address)).wait();
    await (await distributor.fundEpoch(0, 100n * MESH)).wait();

    // The poster talks to the chain through an ethers JSON-RPC provider, which answers a repeated
    // getTransactionCount from a 250 ms cache.
    const rpc = new BrowserProvider(eip1193);
    const poster = new Wallet(id("aggregator poster"), rpc);
    await (await admin!.sendTransaction({ to: poster.address, value: MESH })).wait();
    const cached = await rpc.getTransactionCount(poster.address, "pending");
    // The account sends a transaction of its own (through the node, not this provider), so the
    // cached count is now one behind.
    await (await admin!.sendTransaction({ to: poster.address, value: 1n })).wait();
    await (await poster.connect(ethers.provider).sendTransaction({ to: admin!.address, value: 1n })).wait();
    expect(await ethers.provider.getTransactionCount(poster.address, "pending")).to.equal(cached + 1);

    const owners = [{ owner: `0x${"11".repeat(20)}` as Hex, amount: MESH }];
    const tree = OwnerMerkleTree.build(owners);
    const aggregator = new EpochRootAggregator(distributor.connect(poster), { baseDelayMs: 1 });
    const req = await aggregator.request({
      epoch: 0n,
      root: tree.root,
      totalCumulative: MESH,
      dataHash: id("d") as Hex,
    });
    const sigs = oracles.slice(0, 2).map((o) => new OracleKey(o).sign(req.domain, req.value));

    const outcome = await aggregator.post(req, sigs);
    expect(outcome.status).to.equal("posted");
    expect(await ethers.provider.getTransactionCount(poster.address)).to.equal(cached + 2);
    expect((await distributor.pendingRoot())[1]).to.equal(tree.root);
  });

  it("refuses to post through a binding without a signer", async function () {
    const { ethers } = await network.create();
    const [admin] = await ethers.getSigners();
    const token = await new MeshToken__factory(admin).deploy(admin!.address, 0n, admin!.address);
    const oracle = new Wallet(id("aggregator lone oracle"));
    const distributor = await new RewardsDistributor__factory(admin).deploy(
      await token.getAddress(),
      id("hexmesh.coverage"),
      admin!.address,
      admin!.address,
      [oracle.address],
      1,
      3600,
    );
    await (await distributor.grantRole(id("FUNDER_ROLE"), admin!.address)).wait();
    await (await distributor.fundEpoch(0, 0n)).wait();
    const readOnly = distributor.connect(ethers.provider);
    const aggregator = new EpochRootAggregator(readOnly, { baseDelayMs: 1 });
    const root = OwnerMerkleTree.build([{ owner: `0x${"22".repeat(20)}` as Hex, amount: 0n }]).root;
    const req = await aggregator.request({ epoch: 0n, root, totalCumulative: 0n, dataHash: id("d") as Hex });
    const sig = new OracleKey(oracle).sign(req.domain, req.value);
    const error = await aggregator.post(req, [sig]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(error)).to.contain("the distributor binding has no signer");
    expect((await distributor.pendingRoot())[1]).to.equal(ZeroHash);
  });
});
