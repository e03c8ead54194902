import { expect } from "chai";
import { network } from "hardhat";

import type { RewardsDistributor } from "../../typechain-types/index.js";
import {
  buildTree,
  byAddress,
  COMPUTE,
  COVERAGE,
  deployRewardsSystem,
  distributorDomain,
  FUNDER_ROLE,
  GENESIS_ALLOCATION,
  MESH,
  oracleWallets,
  packedSignatures,
  proofOf,
  totalOf,
  type Entry,
} from "../helpers/rewards.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

/**
 * End to end over two subnetworks: the controller funds a coverage and a compute distributor,
 * each with its own oracle set; each posts cumulative roots for its own owners; owners claim.
 */
describe("Rewards flow (controller -> per-subnetwork distributors -> owners)", function () {
  async function twoSubnetworks() {
    const sys = await deployRewardsSystem(ethers, { epochLength: 3600n, initialEmission: MESH(1000) });
    const computeOracles = byAddress(oracleWallets(3, "compute oracle"));
    const compute = (await ethers.deployContract("RewardsDistributor", [
      await sys.token.getAddress(),
      COMPUTE,
      sys.admin.address,
      sys.guardian.address,
      computeOracles.map((o) => o.address),
      2,
      3600,
    ])) as unknown as RewardsDistributor;
    await compute.connect(sys.admin).grantRole(FUNDER_ROLE, await sys.controller.getAddress());
    // One timelock batch in production: add the pool and give it a share.
    await sys.controller.connect(sys.admin).addPool(COMPUTE, await compute.getAddress());
    await sys.controller.connect(sys.admin).setSplit(3000, 1000, [4000, 2000]);
    const signers = await ethers.getSigners();
    return { ...sys, compute, computeOracles, owners: signers.slice(4, 10) };
  }

  it("funds each pool its share, and each distributor pays only its own subnetwork's roots", async function () {
    const fx = await networkHelpers.loadFixture(twoSubnetworks);
    await time.increase(3n * 3600n);
    await fx.controller.distribute(3);
    const perEpoch = MESH(1000);
    expect((await fx.distributor.funding()).totalFunded).to.equal((perEpoch * 3n * 4000n) / 10_000n);
    expect((await fx.compute.funding()).totalFunded).to.equal((perEpoch * 3n * 2000n) / 10_000n);

    const [a, b, c, d] = fx.owners;
    const coverageEntries: Entry[] = [
      [a!.address, MESH(500)],
      [b!.address, MESH(600)],
    ];
    const computeEntries: Entry[] = [
      [c!.address, MESH(250)],
      [d!.address, MESH(300)],
    ];
    const coverageTree = buildTree(coverageEntries);
    const computeTree = buildTree(computeEntries);
    const coverageRoot = {
      epoch: 2n,
      root: coverageTree.root,
      totalCumulative: totalOf(coverageEntries),
      dataHash: ethers.id("coverage epoch 2"),
      oracleSetVersion: 1n,
    };
    const computeRoot = {
      epoch: 2n,
      root: computeTree.root,
      totalCumulative: totalOf(computeEntries),
      dataHash: ethers.id("compute epoch 2"),
      oracleSetVersion: 1n,
    };
    const coverageDomain = await distributorDomain(fx.distributor);
    const computeDomain = await distributorDomain(fx.compute);

    // The coverage oracles cannot post to the compute distributor (other set, other domain).
    await expect(
      fx.compute.postRoot(
        computeRoot,
        await packedSignatures(fx.oracles.slice(0, 2), computeDomain, computeRoot),
      ),
    ).to.be.revertedWithCustomError(fx.compute, "DistributorNotOracle");
    // Signatures made for the coverage distributor do not carry over either.
    await expect(
      fx.compute.postRoot(
        computeRoot,
        await packedSignatures(fx.computeOracles.slice(0, 2), coverageDomain, computeRoot),
      ),
    ).to.be.revertedWithCustomError(fx.compute, "DistributorNotOracle");

    await fx.distributor.postRoot(
      coverageRoot,
      await packedSignatures(fx.oracles.slice(0, 3), coverageDomain, coverageRoot),
    );
    await fx.compute.postRoot(
      computeRoot,
      await packedSignatures(fx.computeOracles.slice(1, 3), computeDomain, computeRoot),
    );
    await time.increase(6n * 3600n);

    // The compute distributor (1-hour window) is live; proofs do not cross distributors.
    await expect(
      fx.compute.claim(a!.address, MESH(500), proofOf(coverageTree, a!.address)),
    ).to.be.revertedWithCustomError(fx.compute, "DistributorInvalidProof");
    for (const [owner, amount] of coverageEntries) {
      await fx.distributor.claim(owner, amount, proofOf(coverageTree, owner));
    }
    for (const [owner, amount] of computeEntries) {
      await fx.compute.claim(owner, amount, proofOf(computeTree, owner));
    }
    for (const [owner, amount] of [...coverageEntries, ...computeEntries]) {
      expect(await fx.token.balanceOf(owner)).to.equal(amount);
    }
    // Dust stays in each distributor for later epochs.
    expect(await fx.token.balanceOf(await fx.distributor.getAddress())).to.equal(MESH(1200) - MESH(1100));
    expect(await fx.token.balanceOf(await fx.compute.getAddress())).to.equal(MESH(600) - MESH(550));
    // Everything minted is accounted for.
    const minted = (await fx.token.totalSupply()) - GENESIS_ALLOCATION;
    expect(minted).to.equal(await fx.controller.scheduledEmission(3));
    expect(await fx.distributor.subnetwork()).to.equal(COVERAGE);
  });

  it("an owner claims once for many epochs: the latest cumulative leaf pays everything", async function () {
    const fx = await networkHelpers.loadFixture(twoSubnetworks);
    const owner = fx.owners[0]!;
    const others = fx.owners.slice(1, 4);
    const domain = await distributorDomain(fx.distributor);
    let cumulative = 0n;
    let tree = buildTree([[owner.address, 0n]]);
    for (let epoch = 0n; epoch < 5n; epoch++) {
      await time.increase(3600n);
      await fx.controller.distribute(1);
      cumulative += MESH(100);
      const entries: Entry[] = [
        [owner.address, cumulative],
        ...others.map((o) => [o.address, MESH(1)] as Entry),
      ];
      tree = buildTree(entries);
      const value = {
        epoch,
        root: tree.root,
        totalCumulative: totalOf(entries),
        dataHash: ethers.ZeroHash,
        oracleSetVersion: 1n,
      };
      await fx.distributor.postRoot(value, await packedSignatures(fx.oracles.slice(2, 5), domain, value));
      await time.increase(6n * 3600n);
    }
    await expect(fx.distributor.claim(owner.address, MESH(500), proofOf(tree, owner.address)))
      .to.emit(fx.token, "Transfer")
      .withArgs(await fx.distributor.getAddress(), owner.address, MESH(500));
    expect(await fx.token.balanceOf(owner.address)).to.equal(MESH(500));
  });
});
