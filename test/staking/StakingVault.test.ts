import { expect } from "chai";
import { network } from "hardhat";

import type { StakingVault } from "../../typechain-types/index.js";
import {
  approveAndStake,
  COOLDOWN,
  DAY,
  deployStaking,
  EPOCH,
  fundAndNotify,
  PRECISION,
  signPermit,
  type StakingFixture,
} from "../helpers/staking.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const MESH = (n: bigint) => n * PRECISION;

async function base() {
  return deployStaking(ethers);
}

/** Two stakers in, alice with 100 MESH active. */
async function withStake() {
  const fx = await deployStaking(ethers);
  const [alice, bob] = fx.stakers;
  await approveAndStake(fx, alice!, MESH(100n));
  return { ...fx, alice: alice!, bob: bob! };
}

function stakers(fx: StakingFixture) {
  const [alice, bob, carol] = fx.stakers;
  return { alice: alice!, bob: bob!, carol: carol! };
}

describe("StakingVault", function () {
  describe("deployment", function () {
    it("stores its parameters, grants the admin and starts with defaults", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { vault, token, registry, treasury, admin } = fx;
      expect(await vault.mesh()).to.equal(await token.getAddress());
      expect(await vault.deviceRegistry()).to.equal(await registry.getAddress());
      expect(await vault.treasury()).to.equal(treasury.address);
      expect(await vault.rewardsDuration()).to.equal(EPOCH);
      expect(await vault.cooldown()).to.equal(COOLDOWN);
      expect(await vault.maxSlashBps()).to.equal(await vault.DEFAULT_MAX_SLASH_BPS());
      expect(await vault.maxSlashBps()).to.equal(1000n);
      expect(await vault.minStakePerDevice()).to.equal(0n);
      expect(await vault.totalActiveStake()).to.equal(0n);
      expect(await vault.totalPendingUnstake()).to.equal(0n);
      expect(await vault.rewardsReserved()).to.equal(0n);
      expect(await vault.rewardRate()).to.equal(0n);
      expect(await vault.periodFinish()).to.equal(0n);
      expect(await vault.streamingRewards()).to.equal(0n);
      expect(await vault.treasuryRewardsDue()).to.equal(0n);
      expect(await vault.paused()).to.equal(false);
      expect(await vault.hasRole(await vault.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await vault.GUARDIAN_ROLE()).to.equal(ethers.id("GUARDIAN_ROLE"));
      expect(await vault.SLASHER_ROLE()).to.equal(ethers.id("SLASHER_ROLE"));
      expect(await vault.REWARDS_NOTIFIER_ROLE()).to.equal(ethers.id("REWARDS_NOTIFIER_ROLE"));
      expect(await vault.MIN_COOLDOWN()).to.equal(DAY);
      expect(await vault.MAX_COOLDOWN()).to.equal(30n * DAY);
      expect(await vault.MAX_SLASH_BPS_LIMIT()).to.equal(5000n);
    });

    it("emits its initial parameters", async function () {
      const { token, registry, treasury, admin } = await networkHelpers.loadFixture(base);
      const factory = await ethers.getContractFactory("StakingVault");
      const vault = await factory.deploy(
        admin.address,
        await token.getAddress(),
        await registry.getAddress(),
        treasury.address,
        EPOCH,
        COOLDOWN,
      );
      const tx = vault.deploymentTransaction()!;
      await expect(tx).to.emit(vault, "TreasuryUpdated").withArgs(ethers.ZeroAddress, treasury.address);
      await expect(tx).to.emit(vault, "CooldownUpdated").withArgs(0n, COOLDOWN);
      await expect(tx).to.emit(vault, "MaxSlashBpsUpdated").withArgs(0n, 1000n);
    });

    it("supports the IStakingVault, IAccessControl and ERC-165 interfaces only", async function () {
      const { vault } = await networkHelpers.loadFixture(base);
      const iface = (await ethers.getContractAt("IStakingVault", await vault.getAddress())).interface;
      let id = 0n;
      iface.forEachFunction((f) => {
        id ^= BigInt(f.selector);
      });
      expect(await vault.supportsInterface(ethers.toBeHex(id, 4))).to.equal(true);
      expect(await vault.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await vault.supportsInterface("0x01ffc9a7")).to.equal(true); // ERC-165
      expect(await vault.supportsInterface("0xffffffff")).to.equal(false);
    });

    it("rejects zero addresses", async function () {
      const { token, registry, treasury, admin } = await networkHelpers.loadFixture(base);
      const factory = await ethers.getContractFactory("StakingVault");
      const args = [admin.address, await token.getAddress(), await registry.getAddress(), treasury.address];
      for (let i = 0; i < args.length; i++) {
        const bad = [...args];
        bad[i] = ethers.ZeroAddress;
        await expect(
          factory.deploy(bad[0]!, bad[1]!, bad[2]!, bad[3]!, EPOCH, COOLDOWN),
        ).to.be.revertedWithCustomError(factory, "StakingZeroAddress");
      }
    });

    it("rejects a rewards duration or a cooldown out of bounds", async function () {
      const { token, registry, treasury, admin } = await networkHelpers.loadFixture(base);
      const factory = await ethers.getContractFactory("StakingVault");
      const a = [
        admin.address,
        await token.getAddress(),
        await registry.getAddress(),
        treasury.address,
      ] as const;
      await expect(factory.deploy(...a, 59n, COOLDOWN))
        .to.be.revertedWithCustomError(factory, "StakingRewardsDurationOutOfBounds")
        .withArgs(59n, 60n, 365n * DAY);
      await expect(factory.deploy(...a, 365n * DAY + 1n, COOLDOWN))
        .to.be.revertedWithCustomError(factory, "StakingRewardsDurationOutOfBounds")
        .withArgs(365n * DAY + 1n, 60n, 365n * DAY);
      await expect(factory.deploy(...a, EPOCH, DAY - 1n))
        .to.be.revertedWithCustomError(factory, "StakingCooldownOutOfBounds")
        .withArgs(DAY - 1n, DAY, 30n * DAY);
      await expect(factory.deploy(...a, EPOCH, 30n * DAY + 1n))
        .to.be.revertedWithCustomError(factory, "StakingCooldownOutOfBounds")
        .withArgs(30n * DAY + 1n, DAY, 30n * DAY);
      // the bounds themselves are accepted
      await factory.deploy(...a, 60n, DAY);
      await factory.deploy(...a, 365n * DAY, 30n * DAY);
    });
  });

  describe("stake", function () {
    it("moves MESH into active stake and emits Staked", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      const vaultAddress = await fx.vault.getAddress();
      await fx.token.connect(alice).approve(vaultAddress, MESH(150n));
      await expect(fx.vault.connect(alice).stake(MESH(100n)))
        .to.emit(fx.vault, "Staked")
        .withArgs(alice.address, MESH(100n))
        .and.to.emit(fx.token, "Transfer")
        .withArgs(alice.address, vaultAddress, MESH(100n));
      await fx.vault.connect(alice).stake(MESH(50n));
      expect(await fx.vault.activeStakeOf(alice.address)).to.equal(MESH(150n));
      expect(await fx.vault.totalActiveStake()).to.equal(MESH(150n));
      expect(await fx.token.balanceOf(vaultAddress)).to.equal(MESH(150n));
      expect(await fx.vault.nextRequestId(alice.address)).to.equal(1n);
    });

    it("rejects a zero amount", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await expect(fx.vault.connect(stakers(fx).alice).stake(0n)).to.be.revertedWithCustomError(
        fx.vault,
        "StakingZeroAmount",
      );
    });

    it("rejects an amount beyond the uint96 range every MESH balance fits", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await expect(fx.vault.connect(stakers(fx).alice).stake(2n ** 96n))
        .to.be.revertedWithCustomError(fx.vault, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
    });

    it("fails without an allowance, and when the staker lacks the MESH", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      await expect(fx.vault.connect(alice).stake(1n)).to.be.revertedWithCustomError(
        fx.token,
        "ERC20InsufficientAllowance",
      );
      await fx.token.connect(fx.outsider).approve(await fx.vault.getAddress(), 1n);
      await expect(fx.vault.connect(fx.outsider).stake(1n)).to.be.revertedWithCustomError(
        fx.token,
        "ERC20InsufficientBalance",
      );
    });

    it("is refused while paused", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      await fx.token.connect(alice).approve(await fx.vault.getAddress(), 1n);
      await fx.vault.connect(fx.guardian).pause();
      await expect(fx.vault.connect(alice).stake(1n)).to.be.revertedWithCustomError(
        fx.vault,
        "EnforcedPause",
      );
    });
  });

  describe("stakeWithPermit", function () {
    it("approves through the permit and stakes in one transaction", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      const vaultAddress = await fx.vault.getAddress();
      const deadline = BigInt(await time.latest()) + 600n;
      const sig = await signPermit(ethers, fx.token, alice, vaultAddress, MESH(70n), deadline);
      await expect(fx.vault.connect(alice).stakeWithPermit(MESH(70n), deadline, sig.v, sig.r, sig.s))
        .to.emit(fx.vault, "Staked")
        .withArgs(alice.address, MESH(70n));
      expect(await fx.vault.activeStakeOf(alice.address)).to.equal(MESH(70n));
      expect(await fx.token.allowance(alice.address, vaultAddress)).to.equal(0n);
      expect(await fx.token.nonces(alice.address)).to.equal(1n);
    });

    it("still stakes when someone front-ran the permit", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      const vaultAddress = await fx.vault.getAddress();
      const deadline = BigInt(await time.latest()) + 600n;
      const sig = await signPermit(ethers, fx.token, alice, vaultAddress, MESH(70n), deadline);
      // The signature leaks from the mempool and is submitted first by someone else.
      await fx.token
        .connect(fx.outsider)
        .permit(alice.address, vaultAddress, MESH(70n), deadline, sig.v, sig.r, sig.s);
      await expect(fx.vault.connect(alice).stakeWithPermit(MESH(70n), deadline, sig.v, sig.r, sig.s))
        .to.emit(fx.vault, "Staked")
        .withArgs(alice.address, MESH(70n));
      expect(await fx.vault.activeStakeOf(alice.address)).to.equal(MESH(70n));
    });

    it("fails on an invalid or expired permit when no allowance covers the stake", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice, bob } = stakers(fx);
      const vaultAddress = await fx.vault.getAddress();
      const deadline = BigInt(await time.latest()) + 600n;
      // signed by bob for alice's tokens: the token rejects it, so the allowance decides
      const forged = await signPermit(ethers, fx.token, bob, vaultAddress, MESH(70n), deadline);
      await expect(
        fx.vault.connect(alice).stakeWithPermit(MESH(70n), deadline, forged.v, forged.r, forged.s),
      ).to.be.revertedWithCustomError(fx.token, "ERC20InsufficientAllowance");
      const past = BigInt(await time.latest()) - 1n;
      const expired = await signPermit(ethers, fx.token, alice, vaultAddress, MESH(70n), past);
      await expect(
        fx.vault.connect(alice).stakeWithPermit(MESH(70n), past, expired.v, expired.r, expired.s),
      ).to.be.revertedWithCustomError(fx.token, "ERC20InsufficientAllowance");
      // an existing allowance makes the same failed permit harmless
      await fx.token.connect(alice).approve(vaultAddress, MESH(70n));
      await fx.vault.connect(alice).stakeWithPermit(MESH(70n), past, expired.v, expired.r, expired.s);
      expect(await fx.vault.activeStakeOf(alice.address)).to.equal(MESH(70n));
    });

    it("is refused while paused, and rejects zero", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      const vaultAddress = await fx.vault.getAddress();
      const deadline = BigInt(await time.latest()) + 600n;
      const sig = await signPermit(ethers, fx.token, alice, vaultAddress, 0n, deadline);
      await expect(
        fx.vault.connect(alice).stakeWithPermit(0n, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(fx.vault, "StakingZeroAmount");
      await fx.vault.connect(fx.guardian).pause();
      await expect(
        fx.vault.connect(alice).stakeWithPermit(1n, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(fx.vault, "EnforcedPause");
    });
  });

  describe("requestUnstake", function () {
    it("moves active stake into numbered requests that unlock after the cooldown", async function () {
      const fx = await networkHelpers.loadFixture(withStake);
      const { vault, alice } = fx;
      expect(await vault.connect(alice).requestUnstake.staticCall(MESH(30n))).to.equal(1n);
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await expect(vault.connect(alice).requestUnstake(MESH(30n)))
        .to.emit(vault, "UnstakeRequested")
        .withArgs(alice.address, 1n, MESH(30n), t1 + COOLDOWN);
      await expect(vault.connect(alice).requestUnstake(MESH(20n)))
        .to.emit(vault, "UnstakeRequested")
        .withArgs(alice.address, 2n, MESH(20n), t1 + 1n + COOLDOWN);
      expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(50n));
      expect(await vault.pendingUnstakeOf(alice.address)).to.equal(MESH(50n));
      expect(await vault.totalActiveStake()).to.equal(MESH(50n));
      expect(await vault.totalPendingUnstake()).to.equal(MESH(50n));
      expect(await vault.unstakeRequest(alice.address, 1n)).to.deep.equal([MESH(30n), t1 + COOLDOWN]);
      expect(await vault.unstakeRequest(alice.address, 2n)).to.deep.equal([MESH(20n), t1 + 1n + COOLDOWN]);
      expect(await vault.nextRequestId(alice.address)).to.equal(3n);
      // ids are per staker
      await approveAndStake(fx, fx.bob, MESH(10n));
      expect(await vault.connect(fx.bob).requestUnstake.staticCall(MESH(10n))).to.equal(1n);
    });

    it("rejects zero, more than the active stake, and a staker without stake", async function () {
      const { vault, alice, bob } = await networkHelpers.loadFixture(withStake);
      await expect(vault.connect(alice).requestUnstake(0n)).to.be.revertedWithCustomError(
        vault,
        "StakingZeroAmount",
      );
      await expect(vault.connect(alice).requestUnstake(MESH(100n) + 1n))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientStake")
        .withArgs(MESH(100n), MESH(100n) + 1n);
      await vault.connect(alice).requestUnstake(MESH(60n));
      // pending stake is no longer available
      await expect(vault.connect(alice).requestUnstake(MESH(41n)))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientStake")
        .withArgs(MESH(40n), MESH(41n));
      await expect(vault.connect(bob).requestUnstake(1n))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientStake")
        .withArgs(0n, 1n);
    });

    it("uses the cooldown in force when requested: a later change applies to new requests only", async function () {
      const { vault, alice, admin } = await networkHelpers.loadFixture(withStake);
      await vault.connect(alice).requestUnstake(MESH(10n));
      const [, unlock1] = await vault.unstakeRequest(alice.address, 1n);
      await vault.connect(admin).setCooldown(2n * DAY);
      await vault.connect(alice).requestUnstake(MESH(10n));
      const [, unlock2] = await vault.unstakeRequest(alice.address, 2n);
      expect(unlock2).to.equal(BigInt(await time.latest()) + 2n * DAY);
      expect(unlock2 < unlock1).to.equal(true);
      await time.increaseTo(unlock2);
      await vault.connect(alice).withdraw(2n);
      await expect(vault.connect(alice).withdraw(1n))
        .to.be.revertedWithCustomError(vault, "StakingRequestNotMatured")
        .withArgs(1n, unlock1);
      expect((await vault.unstakeRequest(alice.address, 1n))[1]).to.equal(unlock1);
    });

    it("is refused while paused", async function () {
      const { vault, alice, guardian } = await networkHelpers.loadFixture(withStake);
      await vault.connect(guardian).pause();
      await expect(vault.connect(alice).requestUnstake(1n)).to.be.revertedWithCustomError(
        vault,
        "EnforcedPause",
      );
    });
  });

  describe("cancelUnstake", function () {
    it("returns the request to active stake, before or after it matured", async function () {
      const { vault, alice } = await networkHelpers.loadFixture(withStake);
      await vault.connect(alice).requestUnstake(MESH(30n));
      await vault.connect(alice).requestUnstake(MESH(20n));
      await expect(vault.connect(alice).cancelUnstake(1n))
        .to.emit(vault, "UnstakeCancelled")
        .withArgs(alice.address, 1n, MESH(30n));
      expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(80n));
      expect(await vault.pendingUnstakeOf(alice.address)).to.equal(MESH(20n));
      expect(await vault.totalActiveStake()).to.equal(MESH(80n));
      expect(await vault.totalPendingUnstake()).to.equal(MESH(20n));
      expect(await vault.unstakeRequest(alice.address, 1n)).to.deep.equal([0n, 0n]);
      await time.increase(COOLDOWN + 1n);
      await expect(vault.connect(alice).cancelUnstake(2n))
        .to.emit(vault, "UnstakeCancelled")
        .withArgs(alice.address, 2n, MESH(20n));
      expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(100n));
      expect(await vault.totalPendingUnstake()).to.equal(0n);
    });

    it("rejects an unknown, cancelled, withdrawn or another staker's request", async function () {
      const { vault, alice, bob } = await networkHelpers.loadFixture(withStake);
      await expect(vault.connect(alice).cancelUnstake(1n))
        .to.be.revertedWithCustomError(vault, "StakingUnknownRequest")
        .withArgs(alice.address, 1n);
      await vault.connect(alice).requestUnstake(MESH(30n));
      await vault.connect(alice).requestUnstake(MESH(30n));
      await expect(vault.connect(bob).cancelUnstake(1n))
        .to.be.revertedWithCustomError(vault, "StakingUnknownRequest")
        .withArgs(bob.address, 1n);
      await vault.connect(alice).cancelUnstake(1n);
      await expect(vault.connect(alice).cancelUnstake(1n))
        .to.be.revertedWithCustomError(vault, "StakingUnknownRequest")
        .withArgs(alice.address, 1n);
      await time.increase(COOLDOWN);
      await vault.connect(alice).withdraw(2n);
      await expect(vault.connect(alice).cancelUnstake(2n))
        .to.be.revertedWithCustomError(vault, "StakingUnknownRequest")
        .withArgs(alice.address, 2n);
    });

    it("is refused while paused", async function () {
      const { vault, alice, guardian } = await networkHelpers.loadFixture(withStake);
      await vault.connect(alice).requestUnstake(MESH(30n));
      await vault.connect(guardian).pause();
      await expect(vault.connect(alice).cancelUnstake(1n)).to.be.revertedWithCustomError(
        vault,
        "EnforcedPause",
      );
    });
  });

  describe("withdraw", function () {
    it("pays a matured request exactly at its unlock time, once", async function () {
      const { vault, token, alice } = await networkHelpers.loadFixture(withStake);
      await vault.connect(alice).requestUnstake(MESH(40n));
      const [, unlock] = await vault.unstakeRequest(alice.address, 1n);
      await time.setNextBlockTimestamp(unlock - 1n);
      await expect(vault.connect(alice).withdraw(1n))
        .to.be.revertedWithCustomError(vault, "StakingRequestNotMatured")
        .withArgs(1n, unlock);
      await time.setNextBlockTimestamp(unlock);
      const before = await token.balanceOf(alice.address);
      await expect(vault.connect(alice).withdraw(1n))
        .to.emit(vault, "Withdrawn")
        .withArgs(alice.address, 1n, MESH(40n))
        .and.to.emit(token, "Transfer")
        .withArgs(await vault.getAddress(), alice.address, MESH(40n));
      expect(await token.balanceOf(alice.address)).to.equal(before + MESH(40n));
      expect(await vault.pendingUnstakeOf(alice.address)).to.equal(0n);
      expect(await vault.totalPendingUnstake()).to.equal(0n);
      expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(60n));
      await expect(vault.connect(alice).withdraw(1n))
        .to.be.revertedWithCustomError(vault, "StakingUnknownRequest")
        .withArgs(alice.address, 1n);
    });

    it("works while paused: nothing stops a matured withdrawal", async function () {
      const { vault, token, alice, guardian } = await networkHelpers.loadFixture(withStake);
      await vault.connect(alice).requestUnstake(MESH(40n));
      await vault.connect(guardian).pause();
      await time.increase(COOLDOWN);
      await expect(vault.connect(alice).withdraw(1n)).to.changeTokenBalances(
        ethers,
        token,
        [alice, vault],
        [MESH(40n), -MESH(40n)],
      );
    });

    it("rejects another staker's request id", async function () {
      const { vault, alice, bob } = await networkHelpers.loadFixture(withStake);
      await vault.connect(alice).requestUnstake(MESH(40n));
      await time.increase(COOLDOWN);
      await expect(vault.connect(bob).withdraw(1n))
        .to.be.revertedWithCustomError(vault, "StakingUnknownRequest")
        .withArgs(bob.address, 1n);
    });
  });

  describe("claimRewards", function () {
    it("pays what accrued, resets it, and lowers the reserve", async function () {
      const fx = await networkHelpers.loadFixture(withStake);
      const { vault, token, alice } = fx;
      await fundAndNotify(fx, MESH(1000n));
      await time.increase(EPOCH);
      const owed = await vault.earned(alice.address);
      // Below the notified amount by at most the accumulator's carry (< total stake / PRECISION wei,
      // paid out with the next stream) plus one wei of flooring.
      expect(owed).to.be.lessThanOrEqual(MESH(1000n));
      expect(owed).to.be.greaterThanOrEqual(MESH(1000n) - MESH(100n) / PRECISION - 1n);
      const paid = await vault.connect(alice).claimRewards.staticCall();
      expect(paid).to.equal(owed);
      await expect(vault.connect(alice).claimRewards())
        .to.emit(vault, "RewardsClaimed")
        .withArgs(alice.address, owed)
        .and.to.emit(token, "Transfer")
        .withArgs(await vault.getAddress(), alice.address, owed);
      expect(await vault.earned(alice.address)).to.equal(0n);
      expect(await vault.rewardsReserved()).to.equal(MESH(1000n) - owed);
      await expect(vault.connect(alice).claimRewards()).to.be.revertedWithCustomError(
        vault,
        "StakingNothingToClaim",
      );
    });

    it("rejects a staker with nothing accrued", async function () {
      const { vault, bob } = await networkHelpers.loadFixture(withStake);
      await expect(vault.connect(bob).claimRewards()).to.be.revertedWithCustomError(
        vault,
        "StakingNothingToClaim",
      );
    });

    it("is refused while paused, and pays after unpause", async function () {
      const fx = await networkHelpers.loadFixture(withStake);
      await fundAndNotify(fx, MESH(10n));
      await time.increase(3600);
      await fx.vault.connect(fx.guardian).pause();
      await expect(fx.vault.connect(fx.alice).claimRewards()).to.be.revertedWithCustomError(
        fx.vault,
        "EnforcedPause",
      );
      await fx.vault.connect(fx.guardian).unpause();
      await expect(fx.vault.connect(fx.alice).claimRewards()).to.emit(fx.vault, "RewardsClaimed");
    });
  });

  describe("pause", function () {
    it("guardian pauses; guardian or admin unpauses; nobody else", async function () {
      const { vault, guardian, admin, alice } = await networkHelpers.loadFixture(withStake);
      const GUARDIAN = await vault.GUARDIAN_ROLE();
      await expect(vault.connect(alice).pause())
        .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, GUARDIAN);
      await expect(vault.connect(admin).pause())
        .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, GUARDIAN);
      await expect(vault.connect(guardian).pause()).to.emit(vault, "Paused").withArgs(guardian.address);
      await expect(vault.connect(guardian).pause()).to.be.revertedWithCustomError(vault, "EnforcedPause");
      await expect(vault.connect(alice).unpause())
        .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, GUARDIAN);
      await expect(vault.connect(admin).unpause()).to.emit(vault, "Unpaused").withArgs(admin.address);
      await expect(vault.connect(admin).unpause()).to.be.revertedWithCustomError(vault, "ExpectedPause");
      await vault.connect(guardian).pause();
      await expect(vault.connect(guardian).unpause()).to.emit(vault, "Unpaused").withArgs(guardian.address);
    });
  });

  describe("governance parameters", function () {
    async function expectAdminOnly(vault: StakingVault, call: Promise<unknown>, who: string) {
      await expect(call)
        .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
        .withArgs(who, await vault.DEFAULT_ADMIN_ROLE());
    }

    it("setCooldown: admin only, within [1 day, 30 days], emits", async function () {
      const { vault, admin, guardian } = await networkHelpers.loadFixture(base);
      await expectAdminOnly(vault, vault.connect(guardian).setCooldown(DAY), guardian.address);
      await expect(vault.connect(admin).setCooldown(DAY - 1n))
        .to.be.revertedWithCustomError(vault, "StakingCooldownOutOfBounds")
        .withArgs(DAY - 1n, DAY, 30n * DAY);
      await expect(vault.connect(admin).setCooldown(30n * DAY + 1n))
        .to.be.revertedWithCustomError(vault, "StakingCooldownOutOfBounds")
        .withArgs(30n * DAY + 1n, DAY, 30n * DAY);
      await expect(vault.connect(admin).setCooldown(30n * DAY))
        .to.emit(vault, "CooldownUpdated")
        .withArgs(COOLDOWN, 30n * DAY);
      expect(await vault.cooldown()).to.equal(30n * DAY);
      await vault.connect(admin).setCooldown(DAY);
      expect(await vault.cooldown()).to.equal(DAY);
    });

    it("setMaxSlashBps: admin only, at most 5000, zero allowed, emits", async function () {
      const { vault, admin, slasher } = await networkHelpers.loadFixture(base);
      await expectAdminOnly(vault, vault.connect(slasher).setMaxSlashBps(10n), slasher.address);
      await expect(vault.connect(admin).setMaxSlashBps(5001n))
        .to.be.revertedWithCustomError(vault, "StakingMaxSlashBpsTooHigh")
        .withArgs(5001n, 5000n);
      await expect(vault.connect(admin).setMaxSlashBps(5000n))
        .to.emit(vault, "MaxSlashBpsUpdated")
        .withArgs(1000n, 5000n);
      await vault.connect(admin).setMaxSlashBps(0n);
      expect(await vault.maxSlashBps()).to.equal(0n);
    });

    it("setMinStakePerDevice: admin only, emits", async function () {
      const { vault, admin, outsider } = await networkHelpers.loadFixture(base);
      await expectAdminOnly(vault, vault.connect(outsider).setMinStakePerDevice(1n), outsider.address);
      await expect(vault.connect(admin).setMinStakePerDevice(MESH(500n)))
        .to.emit(vault, "MinStakePerDeviceUpdated")
        .withArgs(0n, MESH(500n));
      expect(await vault.minStakePerDevice()).to.equal(MESH(500n));
    });

    it("setTreasury: admin only, non-zero, emits", async function () {
      const { vault, admin, treasury, outsider } = await networkHelpers.loadFixture(base);
      await expectAdminOnly(vault, vault.connect(outsider).setTreasury(outsider.address), outsider.address);
      await expect(vault.connect(admin).setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        vault,
        "StakingZeroAddress",
      );
      await expect(vault.connect(admin).setTreasury(outsider.address))
        .to.emit(vault, "TreasuryUpdated")
        .withArgs(treasury.address, outsider.address);
      expect(await vault.treasury()).to.equal(outsider.address);
    });
  });

  describe("device bonds", function () {
    it("bonds every device while the bond is zero", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      for (let id = 1n; id <= 3n; id++) await fx.registry.mint(alice.address, id);
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(3n);
      expect(await fx.vault.bondedDeviceCount(fx.outsider.address)).to.equal(0n);
    });

    it("bonds min(devices, active stake / bond); pending requests do not count", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const { alice } = stakers(fx);
      await fx.vault.connect(fx.admin).setMinStakePerDevice(MESH(100n));
      for (let id = 1n; id <= 4n; id++) await fx.registry.mint(alice.address, id);
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(0n);
      await approveAndStake(fx, alice, MESH(250n));
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(2n); // floor(250 / 100)
      await approveAndStake(fx, alice, MESH(250n));
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(4n); // capped by 4 devices
      await fx.registry.burn(4n);
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(3n);
      await fx.vault.connect(alice).requestUnstake(MESH(201n));
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(2n); // 299 active
      await fx.vault.connect(fx.admin).setMinStakePerDevice(MESH(299n) + 1n);
      expect(await fx.vault.bondedDeviceCount(alice.address)).to.equal(0n);
    });
  });
});
