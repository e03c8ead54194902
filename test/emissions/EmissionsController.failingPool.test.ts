import { expect } from "chai";
import { network } from "hardhat";

import type { RevertingDistributorMock } from "../../typechain-types/index.js";
import { COMPUTE, COVERAGE, deployRewardsSystem, GENESIS_ALLOCATION, MESH } from "../helpers/rewards.js";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

const EMISSION = MESH(1000);

/** Coverage (a real distributor, 40%) and compute (a mock that can refuse, 20%); staking 30%, treasury 10%. */
async function twoPools() {
  const sys = await deployRewardsSystem(ethers, { initialEmission: EMISSION, epochLength: 3600n });
  const mock = (await ethers.deployContract("RevertingDistributorMock", [
    COMPUTE,
  ])) as unknown as RevertingDistributorMock;
  await sys.controller.connect(sys.admin).addPool(COMPUTE, await mock.getAddress());
  await sys.controller.connect(sys.admin).setSplit(3_000, 1_000, [4_000, 2_000]);
  return { ...sys, mock };
}

async function endEpochs(fx: Awaited<ReturnType<typeof twoPools>>, count: bigint) {
  const next = await fx.controller.endedEpochs();
  await time.increaseTo(fx.genesisTime + (next + count) * fx.epochLength);
}

describe("EmissionsController: a failing pool does not stop the others", function () {
  it("holds a reverting distributor's share, pays everyone else, and pays the held amount with its next epoch", async function () {
    const fx = await loadFixture(twoPools);
    const controllerAddr = await fx.controller.getAddress();
    const mockAddr = await fx.mock.getAddress();
    const coverageAddr = await fx.distributor.getAddress();
    const computeShare = (EMISSION * 2_000n) / 10_000n;
    const coverageShare = (EMISSION * 4_000n) / 10_000n;
    await fx.mock.setFailing(true, false);

    await endEpochs(fx, 1n);
    await expect(fx.controller.distribute(1))
      .to.emit(fx.controller, "PoolFundingHeld")
      .withArgs(COMPUTE, 0n, mockAddr, computeShare)
      .and.to.emit(fx.controller, "PoolFunded")
      .withArgs(COVERAGE, 0n, coverageAddr, coverageShare);
    expect(await fx.token.balanceOf(coverageAddr)).to.equal(coverageShare);
    expect(await fx.token.balanceOf(await fx.vault.getAddress())).to.equal((EMISSION * 3_000n) / 10_000n);
    expect(await fx.token.balanceOf(fx.treasury.address)).to.equal(
      GENESIS_ALLOCATION + (EMISSION * 1_000n) / 10_000n,
    );
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(computeShare);
    expect(await fx.token.balanceOf(controllerAddr)).to.equal(computeShare);
    expect(await fx.token.totalSupply()).to.equal(GENESIS_ALLOCATION + EMISSION);

    // Two more epochs in one call, still failing: the held amount grows, nothing is lost.
    await endEpochs(fx, 2n);
    await fx.controller.distribute(2);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(3n * computeShare);
    expect(await fx.token.balanceOf(controllerAddr)).to.equal(3n * computeShare);

    // The distributor recovers: its next epoch carries everything held.
    await fx.mock.setFailing(false, false);
    await endEpochs(fx, 1n);
    await expect(fx.controller.distribute(1))
      .to.emit(fx.controller, "PoolFunded")
      .withArgs(COMPUTE, 3n, mockAddr, 4n * computeShare);
    expect(await fx.mock.totalFunded()).to.equal(4n * computeShare);
    expect(await fx.token.balanceOf(mockAddr)).to.equal(4n * computeShare);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(0n);
    expect(await fx.token.balanceOf(controllerAddr)).to.equal(0n);
    expect(await fx.token.totalSupply()).to.equal(GENESIS_ALLOCATION + 4n * EMISSION);
    expect(await fx.token.balanceOf(coverageAddr)).to.equal(4n * coverageShare);
  });

  it("within one catch-up call, a later accepted epoch takes what an earlier one left held", async function () {
    const fx = await loadFixture(twoPools);
    const computeShare = (EMISSION * 2_000n) / 10_000n;
    // Held from one failed call, then a two-epoch call that succeeds: the first epoch carries it.
    await fx.mock.setFailing(true, false);
    await endEpochs(fx, 1n);
    await fx.controller.distribute(1);
    await fx.mock.setFailing(false, false);
    await endEpochs(fx, 2n);
    const mockAddr = await fx.mock.getAddress();
    await expect(fx.controller.distribute(2))
      .to.emit(fx.controller, "PoolFunded")
      .withArgs(COMPUTE, 1n, mockAddr, 2n * computeShare)
      .and.to.emit(fx.controller, "PoolFunded")
      .withArgs(COMPUTE, 2n, mockAddr, computeShare);
    expect(await fx.token.balanceOf(mockAddr)).to.equal(3n * computeShare);
  });

  it("an epoch refused after an accepted one in the same call is held; a zero-share pool still gets its held amount", async function () {
    const fx = await loadFixture(twoPools);
    const computeShare = (EMISSION * 2_000n) / 10_000n;
    const mockAddr = await fx.mock.getAddress();
    await fx.mock.setFailOnlyEpoch(1);
    await endEpochs(fx, 2n);
    await expect(fx.controller.distribute(2))
      .to.emit(fx.controller, "PoolFunded")
      .withArgs(COMPUTE, 0n, mockAddr, computeShare)
      .and.to.emit(fx.controller, "PoolFundingHeld")
      .withArgs(COMPUTE, 1n, mockAddr, computeShare);
    expect(await fx.token.balanceOf(mockAddr)).to.equal(computeShare);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(computeShare);
    // Governance takes the pool's share away; the held amount is still owed and paid.
    await fx.controller.connect(fx.admin).setSplit(3_000, 1_000, [6_000, 0]);
    await endEpochs(fx, 1n);
    await expect(fx.controller.distribute(1))
      .to.emit(fx.controller, "PoolFunded")
      .withArgs(COMPUTE, 2n, mockAddr, computeShare);
    expect(await fx.token.balanceOf(mockAddr)).to.equal(2n * computeShare);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(0n);
    expect(await fx.token.balanceOf(await fx.controller.getAddress())).to.equal(0n);
  });

  it("a distributor that burns all its gas is held too, and a replacement distributor receives the held share", async function () {
    const fx = await loadFixture(twoPools);
    const computeShare = (EMISSION * 2_000n) / 10_000n;
    await fx.mock.setFailing(true, true);
    await endEpochs(fx, 1n);
    const tx = await fx.controller.distribute(1);
    const receipt = await tx.wait();
    expect(receipt!.status).to.equal(1);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(computeShare);
    expect(await fx.token.balanceOf(await fx.distributor.getAddress())).to.equal(
      (EMISSION * 4_000n) / 10_000n,
    );

    const replacement = (await ethers.deployContract("RevertingDistributorMock", [
      COMPUTE,
    ])) as unknown as RevertingDistributorMock;
    await fx.controller.connect(fx.admin).setPoolDistributor(COMPUTE, await replacement.getAddress());
    await endEpochs(fx, 1n);
    await fx.controller.distribute(1);
    expect(await fx.token.balanceOf(await replacement.getAddress())).to.equal(2n * computeShare);
    expect(await fx.token.balanceOf(await fx.mock.getAddress())).to.equal(0n);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(0n);
  });

  it("refuses to start a distributor's call without gas for it, so a caller cannot starve a healthy pool", async function () {
    const fx = await loadFixture(twoPools);
    // Below the up-front reserve (DISTRIBUTE_GAS_FIXED + DISTRIBUTE_GAS_PER_FUNDING per epoch and pool).
    await endEpochs(fx, 3n);
    await expect(fx.controller.distribute(3, { gasLimit: 130_000 })).to.be.revertedWithCustomError(
      fx.controller,
      "EmissionsGasReserveTooLow",
    );
    // Above the reserve, but a distributor that uses its whole FUND_EPOCH_GAS leaves too little for the
    // next call: the controller refuses to start it rather than record a healthy pool as failed.
    await fx.mock.setFailing(true, true);
    await expect(fx.controller.distribute(3, { gasLimit: 450_000 })).to.be.revertedWithCustomError(
      fx.controller,
      "EmissionsInsufficientGas",
    );
    expect(await fx.controller.nextEpoch()).to.equal(0n);
    expect(await fx.controller.heldFor(COMPUTE)).to.equal(0n);
    expect(await fx.controller.FUND_EPOCH_GAS()).to.equal(100_000n);
  });
});
