import { expect } from "chai";
import { network } from "hardhat";

import {
  approveAndStake,
  COOLDOWN,
  deployStaking,
  EPOCH,
  fundAndNotify,
  PRECISION,
} from "../helpers/staking.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const MESH = (n: bigint) => n * PRECISION;
const REASON = ethers.encodeBytes32String("bad-coverage-proof");

/** Alice holds 100 MESH active; the cap is raised to 50% to make the arithmetic visible. */
async function aliceStaked() {
  const fx = await deployStaking(ethers);
  const [alice, bob] = fx.stakers;
  await approveAndStake(fx, alice!, MESH(100n));
  return { ...fx, alice: alice!, bob: bob! };
}

describe("StakingVault slashing", function () {
  it("takes active stake, capped at maxSlashBps of the staker's total, and pays the treasury", async function () {
    const { vault, token, slasher, treasury, alice } = await networkHelpers.loadFixture(aliceStaked);
    // default cap: 10% of 100 MESH; asking for more takes the cap
    expect(await vault.connect(slasher).slash.staticCall(alice.address, MESH(50n), REASON)).to.equal(
      MESH(10n),
    );
    await expect(vault.connect(slasher).slash(alice.address, MESH(50n), REASON))
      .to.emit(vault, "Slashed")
      .withArgs(alice.address, slasher.address, REASON, MESH(10n), MESH(10n), 0n)
      .and.to.emit(token, "Transfer")
      .withArgs(await vault.getAddress(), treasury.address, MESH(10n));
    expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(90n));
    expect(await vault.totalActiveStake()).to.equal(MESH(90n));
    // below the cap, the amount asked for is taken exactly
    await expect(vault.connect(slasher).slash(alice.address, MESH(3n), REASON))
      .to.emit(vault, "Slashed")
      .withArgs(alice.address, slasher.address, REASON, MESH(3n), MESH(3n), 0n);
    expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(87n));
    expect(await token.balanceOf(await vault.getAddress())).to.equal(MESH(87n));
  });

  it("takes pending requests after active stake, through a debt their cancel or withdrawal absorbs", async function () {
    const { vault, token, slasher, admin, alice } = await networkHelpers.loadFixture(aliceStaked);
    await vault.connect(admin).setMaxSlashBps(5000n);
    await vault.connect(alice).requestUnstake(MESH(30n)); // id 1
    await vault.connect(alice).requestUnstake(MESH(25n)); // id 2
    await vault.connect(alice).requestUnstake(MESH(40n)); // id 3; 5 MESH stay active
    await expect(vault.connect(slasher).slash(alice.address, MESH(50n), REASON))
      .to.emit(vault, "Slashed")
      .withArgs(alice.address, slasher.address, REASON, MESH(50n), MESH(5n), MESH(45n));
    expect(await vault.activeStakeOf(alice.address)).to.equal(0n);
    expect(await vault.pendingUnstakeOf(alice.address)).to.equal(MESH(50n));
    expect(await vault.slashDebtOf(alice.address)).to.equal(MESH(45n));
    expect(await vault.totalPendingUnstake()).to.equal(MESH(50n));
    // the requests keep their face value; the debt comes out of the first ones closed
    expect((await vault.unstakeRequest(alice.address, 2n))[0]).to.equal(MESH(25n));
    await time.increase(COOLDOWN);
    await expect(vault.connect(alice).withdraw(2n))
      .to.emit(vault, "Withdrawn")
      .withArgs(alice.address, 2n, 0n);
    expect(await vault.slashDebtOf(alice.address)).to.equal(MESH(20n));
    expect(await vault.pendingUnstakeOf(alice.address)).to.equal(MESH(50n));
    await expect(vault.connect(alice).cancelUnstake(1n))
      .to.emit(vault, "UnstakeCancelled")
      .withArgs(alice.address, 1n, MESH(10n));
    expect(await vault.slashDebtOf(alice.address)).to.equal(0n);
    expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(10n));
    await expect(vault.connect(alice).withdraw(3n)).to.changeTokenBalances(
      ethers,
      token,
      [alice, vault],
      [MESH(40n), -MESH(40n)],
    );
    expect(await vault.pendingUnstakeOf(alice.address)).to.equal(0n);
    expect(await vault.totalPendingUnstake()).to.equal(0n);
    expect(await token.balanceOf(await vault.getAddress())).to.equal(MESH(10n));
  });

  it("reaches stake that is entirely under cooldown", async function () {
    const { vault, slasher, alice } = await networkHelpers.loadFixture(aliceStaked);
    await vault.connect(alice).requestUnstake(MESH(100n));
    await expect(vault.connect(slasher).slash(alice.address, MESH(100n), REASON))
      .to.emit(vault, "Slashed")
      .withArgs(alice.address, slasher.address, REASON, MESH(10n), 0n, MESH(10n));
    await time.increase(COOLDOWN);
    await expect(vault.connect(alice).withdraw(1n))
      .to.emit(vault, "Withdrawn")
      .withArgs(alice.address, 1n, MESH(90n));
  });

  it("splitting stake into many requests does not escape or dilute a slash", async function () {
    const { vault, slasher, admin, alice } = await networkHelpers.loadFixture(aliceStaked);
    await vault.connect(admin).setMaxSlashBps(5000n);
    for (let i = 0; i < 10; i++) await vault.connect(alice).requestUnstake(MESH(10n));
    await vault.connect(slasher).slash(alice.address, MESH(35n), REASON);
    await time.increase(COOLDOWN);
    let received = 0n;
    for (let id = 1n; id <= 10n; id++) {
      const tx = await vault.connect(alice).withdraw(id);
      const log = (await tx.wait())!.logs
        .map((l) => vault.interface.parseLog(l))
        .find((l) => l?.name === "Withdrawn");
      received += log!.args.amount as bigint;
    }
    expect(received).to.equal(MESH(65n));
    expect(await vault.slashDebtOf(alice.address)).to.equal(0n);
  });

  it("keeps rewards accrued before the slash and earns on the reduced stake after it", async function () {
    const fx = await networkHelpers.loadFixture(aliceStaked);
    const { vault, slasher, alice, bob } = fx;
    await approveAndStake(fx, bob, MESH(100n));
    const R = MESH(1000n);
    await fx.token.connect(fx.notifier).mint(await vault.getAddress(), R);
    const t1 = BigInt(await time.latest()) + 10n;
    await time.setNextBlockTimestamp(t1);
    await vault.connect(fx.notifier).notifyRewards(R);
    await time.setNextBlockTimestamp(t1 + EPOCH / 2n);
    await vault.connect(fx.admin).setMaxSlashBps(5000n);
    await time.setNextBlockTimestamp(t1 + EPOCH / 2n + 1n);
    await vault.connect(slasher).slash(alice.address, MESH(50n), REASON);
    await time.increaseTo(t1 + EPOCH);
    // first half 1:1, second half 50:100 (one second of difference is R / EPOCH)
    const aliceIdeal = R / 4n + R / 2n / 3n;
    const bobIdeal = R / 4n + ((R / 2n) * 2n) / 3n;
    const slack = R / EPOCH + 10n ** 3n;
    const [a, b] = [await vault.earned(alice.address), await vault.earned(bob.address)];
    expect(a > aliceIdeal - slack && a < aliceIdeal + slack, `alice ${a} vs ${aliceIdeal}`).to.equal(true);
    expect(b > bobIdeal - slack && b < bobIdeal + slack, `bob ${b} vs ${bobIdeal}`).to.equal(true);
  });

  it("rejects zero, a staker with nothing, a zero cap, and any caller but the slasher", async function () {
    const { vault, slasher, admin, alice, bob } = await networkHelpers.loadFixture(aliceStaked);
    await expect(vault.connect(slasher).slash(alice.address, 0n, REASON)).to.be.revertedWithCustomError(
      vault,
      "StakingZeroAmount",
    );
    await expect(vault.connect(slasher).slash(bob.address, 1n, REASON))
      .to.be.revertedWithCustomError(vault, "StakingNothingToSlash")
      .withArgs(bob.address);
    await vault.connect(admin).setMaxSlashBps(0n);
    await expect(vault.connect(slasher).slash(alice.address, 1n, REASON))
      .to.be.revertedWithCustomError(vault, "StakingNothingToSlash")
      .withArgs(alice.address);
    await vault.connect(admin).setMaxSlashBps(1000n);
    await expect(vault.connect(admin).slash(alice.address, 1n, REASON))
      .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
      .withArgs(admin.address, await vault.SLASHER_ROLE());
  });

  it("rounds the cap down on dust stakes", async function () {
    const fx = await networkHelpers.loadFixture(aliceStaked);
    await approveAndStake(fx, fx.bob, 9n);
    await expect(fx.vault.connect(fx.slasher).slash(fx.bob.address, 1n, REASON))
      .to.be.revertedWithCustomError(fx.vault, "StakingNothingToSlash")
      .withArgs(fx.bob.address);
    await approveAndStake(fx, fx.bob, 1n);
    await expect(fx.vault.connect(fx.slasher).slash(fx.bob.address, 5n, REASON))
      .to.emit(fx.vault, "Slashed")
      .withArgs(fx.bob.address, fx.slasher.address, REASON, 1n, 1n, 0n);
  });

  it("is refused while paused, so the guardian can stop a compromised slasher", async function () {
    const { vault, slasher, guardian, alice } = await networkHelpers.loadFixture(aliceStaked);
    await vault.connect(guardian).pause();
    await expect(vault.connect(slasher).slash(alice.address, 1n, REASON)).to.be.revertedWithCustomError(
      vault,
      "EnforcedPause",
    );
  });

  it("leaves the vault solvent: slashed MESH leaves with the stake it came from", async function () {
    const fx = await networkHelpers.loadFixture(aliceStaked);
    const { vault, token, slasher, alice } = fx;
    await fundAndNotify(fx, MESH(10n));
    await vault.connect(alice).requestUnstake(MESH(50n));
    await vault.connect(fx.admin).setMaxSlashBps(5000n);
    await vault.connect(slasher).slash(alice.address, MESH(70n), REASON);
    const balance = await token.balanceOf(await vault.getAddress());
    expect(balance).to.equal(
      (await vault.totalActiveStake()) +
        (await vault.totalPendingUnstake()) +
        (await vault.rewardsReserved()),
    );
  });
});
