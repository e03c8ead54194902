import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";

import {
  approveAndStake,
  deployStaking,
  EPOCH,
  fundAndNotify,
  PRECISION,
  type StakingFixture,
} from "../helpers/staking.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const MESH = (n: bigint) => n * PRECISION;
const D = EPOCH;

async function base() {
  return deployStaking(ethers);
}

/** Alice (100 MESH) staked well before anything is notified. */
async function aliceStaked() {
  const fx = await deployStaking(ethers);
  const [alice, bob, carol] = fx.stakers;
  await approveAndStake(fx, alice!, MESH(100n));
  return { ...fx, alice: alice!, bob: bob!, carol: carol! };
}

/** Rounding slack of a view: the carry (< total active stake / PRECISION wei) plus flooring. */
function slack(totalActive: bigint, checkpoints = 1n) {
  return totalActive / PRECISION + 1n + checkpoints;
}

function expectNear(actual: bigint, ideal: bigint, maxBelow: bigint, what: string) {
  expect(actual <= ideal, `${what}: ${actual} above the ideal ${ideal}`).to.equal(true);
  expect(ideal - actual <= maxBelow, `${what}: ${actual} is ${ideal - actual} below ${ideal}`).to.equal(true);
}

function expectWithin(actual: bigint, ideal: bigint, bound: bigint, what: string) {
  const diff = actual > ideal ? actual - ideal : ideal - actual;
  expect(diff <= bound, `${what}: ${actual} is ${diff} from the model's ${ideal} (bound ${bound})`).to.equal(
    true,
  );
}

/** The vault never owes more than it holds, and never promises more than it reserved. */
async function expectSolvent(fx: StakingFixture, accounts: HardhatEthersSigner[]) {
  const { vault, token } = fx;
  const balance = await token.balanceOf(await vault.getAddress());
  const active = await vault.totalActiveStake();
  const pending = await vault.totalPendingUnstake();
  const reserved = await vault.rewardsReserved();
  expect(balance >= active + pending + reserved, "balance covers stakes and reserve").to.equal(true);
  let owed = 0n;
  for (const a of accounts) owed += await vault.earned(a.address);
  owed += (await vault.streamingRewards()) + (await vault.treasuryRewardsDue());
  expect(owed <= reserved, `owed ${owed} > reserved ${reserved}`).to.equal(true);
  expect(owed <= balance - active - pending, "claimable <= balance - stakes - pending").to.equal(true);
  return { balance, active, pending, reserved, owed };
}

describe("StakingVault rewards", function () {
  describe("notifyRewards", function () {
    it("only the rewards notifier may notify", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await expect(fx.vault.connect(fx.admin).notifyRewards(1n))
        .to.be.revertedWithCustomError(fx.vault, "AccessControlUnauthorizedAccount")
        .withArgs(fx.admin.address, await fx.vault.REWARDS_NOTIFIER_ROLE());
    });

    it("refuses an amount the balance does not cover beyond stake, pending and reserved rewards", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const { vault, token, notifier, alice, bob } = fx;
      const vaultAddress = await vault.getAddress();
      // only stake in the vault: nothing to notify
      await expect(vault.connect(notifier).notifyRewards(1n))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientRewardBalance")
        .withArgs(MESH(100n), MESH(100n) + 1n);
      await fundAndNotify(fx, MESH(50n));
      // the 50 are reserved now: notifying them again is refused
      await expect(vault.connect(notifier).notifyRewards(1n))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientRewardBalance")
        .withArgs(MESH(150n), MESH(150n) + 1n);
      // pending requests are owed too
      await vault.connect(alice).requestUnstake(MESH(40n));
      await expect(vault.connect(notifier).notifyRewards(1n))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientRewardBalance")
        .withArgs(MESH(150n), MESH(150n) + 1n);
      // MESH sent to the vault outside staking can be streamed, to the last wei and no further
      await token.connect(bob).transfer(vaultAddress, MESH(7n));
      await expect(vault.connect(notifier).notifyRewards(MESH(7n) + 1n))
        .to.be.revertedWithCustomError(vault, "StakingInsufficientRewardBalance")
        .withArgs(MESH(157n), MESH(157n) + 1n);
      await expect(vault.connect(notifier).notifyRewards(MESH(7n))).to.emit(vault, "RewardsNotified");
      expect(await vault.rewardsReserved()).to.equal(MESH(57n));
    });

    it("sets the rate and the end of the stream, and emits them", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const amount = MESH(1000n) + 7n;
      await fx.token.connect(fx.notifier).mint(await fx.vault.getAddress(), amount);
      const t = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(t);
      const rate = (amount * PRECISION) / D;
      await expect(fx.vault.connect(fx.notifier).notifyRewards(amount))
        .to.emit(fx.vault, "RewardsNotified")
        .withArgs(fx.notifier.address, amount, rate, t + D);
      expect(await fx.vault.rewardRate()).to.equal(rate);
      expect(await fx.vault.periodFinish()).to.equal(t + D);
      expect(await fx.vault.lastUpdateTime()).to.equal(t);
      expect(await fx.vault.rewardsReserved()).to.equal(amount);
      expect(await fx.vault.streamingRewards()).to.equal((rate * D) / PRECISION);
    });

    it("accepts a zero amount as a no-op", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      await fundAndNotify(fx, MESH(10n));
      const [rate, finish, last] = [
        await fx.vault.rewardRate(),
        await fx.vault.periodFinish(),
        await fx.vault.lastUpdateTime(),
      ];
      await time.increase(100);
      await expect(fx.vault.connect(fx.notifier).notifyRewards(0n)).not.to.emit(fx.vault, "RewardsNotified");
      expect(await fx.vault.rewardRate()).to.equal(rate);
      expect(await fx.vault.periodFinish()).to.equal(finish);
      expect(await fx.vault.lastUpdateTime()).to.equal(last);
      expect(await fx.vault.rewardsReserved()).to.equal(MESH(10n));
    });

    it("works while paused (the emissions controller never stalls)", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      await fx.vault.connect(fx.guardian).pause();
      await expect(fundAndNotify(fx, MESH(10n))).to.emit(fx.vault, "RewardsNotified");
    });
  });

  describe("streaming", function () {
    it("streams linearly over the epoch and stops at its end", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const R = MESH(1000n);
      await fx.token.connect(fx.notifier).mint(await fx.vault.getAddress(), R);
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await fx.vault.connect(fx.notifier).notifyRewards(R);
      const perShareAtStart = await fx.vault.rewardPerShare();
      const s = slack(MESH(100n));
      await time.increaseTo(t1 + D / 4n);
      expectNear(await fx.vault.earned(fx.alice.address), R / 4n, s, "quarter");
      // the accumulator rose by the streamed amount per staked wei (scaled by PRECISION)
      const perShareGain = (await fx.vault.rewardPerShare()) - perShareAtStart;
      expect((perShareGain * MESH(100n)) / PRECISION).to.equal(await fx.vault.earned(fx.alice.address));
      expectNear(perShareGain, ((R / 4n) * PRECISION) / MESH(100n), s, "per-share gain");
      expectNear(await fx.vault.streamingRewards(), (3n * R) / 4n, 1n, "three quarters still streaming");
      await time.increaseTo(t1 + D / 2n);
      expectNear(await fx.vault.earned(fx.alice.address), R / 2n, s, "half");
      await time.increaseTo(t1 + D);
      const atEnd = await fx.vault.earned(fx.alice.address);
      expectNear(atEnd, R, s, "end");
      expect(await fx.vault.streamingRewards()).to.equal(0n);
      await time.increaseTo(t1 + 3n * D);
      expect(await fx.vault.earned(fx.alice.address)).to.equal(atEnd);
    });

    it("rolls the unstreamed rest of a stream into the next one", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const vaultAddress = await fx.vault.getAddress();
      const [R1, R2] = [MESH(1000n), MESH(600n)];
      await fx.token.connect(fx.notifier).mint(vaultAddress, R1 + R2);
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await fx.vault.connect(fx.notifier).notifyRewards(R1);
      await time.setNextBlockTimestamp(t1 + D / 2n);
      await expect(fx.vault.connect(fx.notifier).notifyRewards(R2))
        .to.emit(fx.vault, "RewardsNotified")
        .withArgs(fx.notifier.address, R2, (R2 * PRECISION + (R1 * PRECISION) / 2n) / D, t1 + D / 2n + D);
      // half of R1 was paid over the first half epoch; the other half joins R2 over a full epoch
      const s = slack(MESH(100n), 2n);
      await time.increaseTo(t1 + D);
      expectNear(
        await fx.vault.earned(fx.alice.address),
        R1 / 2n + (R2 + R1 / 2n) / 2n,
        s,
        "mid second stream",
      );
      await time.increaseTo(t1 + D / 2n + D);
      expectNear(await fx.vault.earned(fx.alice.address), R1 + R2, s, "after both");
    });

    it("staking just before a notification earns nothing extra", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const { vault, alice, bob, carol } = fx;
      const vaultAddress = await vault.getAddress();
      const R = MESH(1000n);
      await fx.token.connect(fx.notifier).mint(vaultAddress, 2n * R);
      await fx.token.connect(bob).approve(vaultAddress, MESH(100n));
      await fx.token.connect(carol).approve(vaultAddress, MESH(100n));
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await vault.connect(fx.notifier).notifyRewards(R);
      // the first epoch has streamed; bob stakes one second before the next notification
      await time.setNextBlockTimestamp(t1 + D + 10n);
      await vault.connect(bob).stake(MESH(100n));
      await time.setNextBlockTimestamp(t1 + D + 11n);
      await vault.connect(fx.notifier).notifyRewards(R);
      // nothing of the first epoch went to bob: it had already streamed to alice
      expect(await vault.earned(bob.address)).to.equal(0n);
      expectNear(await vault.earned(alice.address), R, slack(MESH(100n)), "alice's epoch");
      // carol stakes one second after the notification: bob's head start is one second of stream
      await time.setNextBlockTimestamp(t1 + D + 12n);
      await vault.connect(carol).stake(MESH(100n));
      await time.increaseTo(t1 + 3n * D);
      const s = slack(MESH(300n), 2n);
      const [a, b, c] = [
        await vault.earned(alice.address),
        await vault.earned(bob.address),
        await vault.earned(carol.address),
      ];
      expectNear(b, R / D / 2n + ((D - 1n) * R) / D / 3n, s, "bob");
      expectNear(c, ((D - 1n) * R) / D / 3n, s, "carol");
      expectNear(a + b + c, 2n * R, s, "everything streamed");
    });

    it("a cancel credits what the remaining active stake earned so far", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const { vault, alice } = fx;
      await vault.connect(alice).requestUnstake(MESH(40n));
      const R = MESH(600n);
      await fx.token.connect(fx.notifier).mint(await vault.getAddress(), R);
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await vault.connect(fx.notifier).notifyRewards(R);
      await time.setNextBlockTimestamp(t1 + D / 2n);
      await vault.connect(alice).cancelUnstake(1n);
      // alice's 60 active MESH were the whole stake for the first half; the cancel banks it
      expectNear(await vault.earned(alice.address), R / 2n, slack(MESH(60n)), "banked at cancel");
      await time.increaseTo(t1 + D);
      expectNear(await vault.earned(alice.address), R, slack(MESH(100n), 2n), "whole stream");
      expect(await vault.activeStakeOf(alice.address)).to.equal(MESH(100n));
    });

    it("stake under cooldown earns nothing; cancelled stake earns again", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const { vault, alice, bob } = fx;
      await approveAndStake(fx, bob, MESH(100n));
      const R = MESH(1000n);
      await fx.token.connect(fx.notifier).mint(await vault.getAddress(), R);
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await vault.connect(fx.notifier).notifyRewards(R);
      await time.setNextBlockTimestamp(t1 + D / 4n);
      await vault.connect(alice).requestUnstake(MESH(100n));
      await time.setNextBlockTimestamp(t1 + D / 2n);
      await vault.connect(alice).cancelUnstake(1n);
      await time.increaseTo(t1 + D);
      const s = slack(MESH(200n), 3n);
      // alice: 1/2 of the first quarter + nothing for a quarter + 1/2 of the last half
      expectNear(await vault.earned(alice.address), R / 8n + R / 4n, s, "alice");
      expectNear(await vault.earned(bob.address), R / 8n + R / 4n + R / 4n, s, "bob");
    });
  });

  describe("while nothing is staked", function () {
    it("sends what streams to the treasury, and the rest to stakers who arrive mid-stream", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const [alice] = fx.stakers;
      const R = MESH(1000n);
      await fx.token.connect(fx.notifier).mint(await fx.vault.getAddress(), R);
      await fx.token.connect(alice!).approve(await fx.vault.getAddress(), MESH(10n));
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await fx.vault.connect(fx.notifier).notifyRewards(R);
      await time.increaseTo(t1 + D / 4n);
      expectNear(await fx.vault.treasuryRewardsDue(), R / 4n, 1n, "treasury due after a quarter");
      await time.setNextBlockTimestamp(t1 + D / 4n + 1n);
      await fx.vault.connect(alice!).stake(MESH(10n));
      await time.increaseTo(t1 + 2n * D);
      const due = await fx.vault.treasuryRewardsDue();
      const earned = await fx.vault.earned(alice!.address);
      expectWithin(due, ((D / 4n + 1n) * R) / D, 1n, "treasury share");
      expectNear(earned, R - ((D / 4n + 1n) * R) / D, slack(MESH(10n)), "staker share");
      expectNear(due + earned, R, slack(MESH(10n)), "nothing lost");

      // anyone may release it; a second release finds nothing
      const before = await fx.token.balanceOf(fx.treasury.address);
      expect(await fx.vault.connect(fx.outsider).releaseTreasuryRewards.staticCall()).to.equal(due);
      await expect(fx.vault.connect(fx.outsider).releaseTreasuryRewards())
        .to.emit(fx.vault, "TreasuryRewardsReleased")
        .withArgs(fx.treasury.address, due);
      expect(await fx.token.balanceOf(fx.treasury.address)).to.equal(before + due);
      expect(await fx.vault.rewardsReserved()).to.equal(R - due);
      expect(await fx.vault.treasuryRewardsDue()).to.equal(0n);
      await expect(fx.vault.connect(fx.outsider).releaseTreasuryRewards()).not.to.emit(
        fx.vault,
        "TreasuryRewardsReleased",
      );
      expect(await fx.vault.connect(fx.outsider).releaseTreasuryRewards.staticCall()).to.equal(0n);
    });

    it("accounts a zero-stake stretch in the middle of a stream precisely", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      const { vault, token, alice, treasury } = fx;
      const R = MESH(999n) + 13n;
      await token.connect(fx.notifier).mint(await vault.getAddress(), R);
      const t1 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t1);
      await vault.connect(fx.notifier).notifyRewards(R);
      // alice's only stake goes into cooldown for the middle half: nothing is staked then
      await time.setNextBlockTimestamp(t1 + D / 4n);
      await vault.connect(alice).requestUnstake(MESH(100n));
      await time.setNextBlockTimestamp(t1 + (3n * D) / 4n);
      await vault.connect(alice).cancelUnstake(1n);
      await time.increaseTo(t1 + D);
      const s = slack(MESH(100n), 3n);
      expectNear(await vault.earned(alice.address), R / 2n, s, "alice");
      // the treasury may also get the accumulator's carry (< 100 wei here) when stake drops to zero
      expectWithin(await vault.treasuryRewardsDue(), R / 2n, s, "treasury");
      await expectSolvent(fx, [alice]);

      // the next notification releases the treasury's share by itself
      const due = await vault.treasuryRewardsDue();
      const treasuryBefore = await token.balanceOf(treasury.address);
      await expect(fundAndNotify(fx, MESH(1n)))
        .to.emit(vault, "TreasuryRewardsReleased")
        .withArgs(treasury.address, due);
      expect(await token.balanceOf(treasury.address)).to.equal(treasuryBefore + due);

      // what stakers are owed, what the treasury got and what still streams add up to the notified total
      const aliceBefore = await token.balanceOf(alice.address);
      await vault.connect(alice).claimRewards();
      const claimed = (await token.balanceOf(alice.address)) - aliceBefore;
      const notified = R + MESH(1n);
      const accounted = claimed + due + (await vault.streamingRewards());
      expect(accounted <= notified).to.equal(true);
      expect(notified - accounted <= s + 1n, `dust ${notified - accounted}`).to.equal(true);
      expect(await vault.rewardsReserved()).to.equal(notified - claimed - due);
    });

    it("sends a whole stream to the treasury when nobody stakes during it", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const R = MESH(500n) + 1n;
      await fundAndNotify(fx, R);
      await time.increase(2n * D);
      expectNear(await fx.vault.treasuryRewardsDue(), R, 1n, "all of it");
      await expect(fx.vault.releaseTreasuryRewards()).to.changeTokenBalances(
        ethers,
        fx.token,
        [fx.treasury, fx.vault],
        [await fx.vault.treasuryRewardsDue(), -(await fx.vault.treasuryRewardsDue())],
      );
    });

    it("treats stake that is all under cooldown as nothing staked", async function () {
      const fx = await networkHelpers.loadFixture(aliceStaked);
      await fx.vault.connect(fx.alice).requestUnstake(MESH(100n));
      await fundAndNotify(fx, MESH(100n));
      await time.increase(D);
      expectNear(await fx.vault.treasuryRewardsDue(), MESH(100n), 1n, "treasury");
      expect(await fx.vault.earned(fx.alice.address)).to.equal(0n);
    });

    it("pays the treasury in force at release time", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await fundAndNotify(fx, MESH(100n));
      await time.increase(D);
      await fx.vault.connect(fx.admin).setTreasury(fx.outsider.address);
      await expect(fx.vault.releaseTreasuryRewards())
        .to.emit(fx.vault, "TreasuryRewardsReleased")
        .withArgs(fx.outsider.address, await fx.vault.treasuryRewardsDue());
    });
  });

  describe("rounding", function () {
    it("splits amounts that do not divide evenly without ever paying more than notified", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const three = fx.stakers.slice(0, 3);
      for (const s of three) await approveAndStake(fx, s, MESH(1n));
      await fundAndNotify(fx, 10n); // 10 wei among three equal stakes
      await time.increase(D);
      const each = await Promise.all(three.map((s) => fx.vault.earned(s.address)));
      expect(each).to.deep.equal([3n, 3n, 3n]);
      for (const s of three) await fx.vault.connect(s).claimRewards();
      // the last wei waits in the vault, reserved, never owed twice
      expect(await fx.vault.rewardsReserved()).to.equal(1n);
      await expectSolvent(fx, three);
    });

    it("many stakers with odd amounts and odd rewards: tracks an exact model within bounded dust", async function () {
      const fx = await deployStaking(ethers, { rewardsDuration: 7_777n });
      const { vault, token, notifier } = fx;
      const people = fx.stakers; // 8 stakers
      const vaultAddress = await vault.getAddress();
      for (const p of people) await token.connect(p).approve(vaultAddress, ethers.MaxUint256);
      const duration = 7_777n;

      // Exact model in rationals (numerator/denominator bigints): ideal earnings of each staker.
      type Q = [bigint, bigint];
      const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));
      const norm = ([n, d]: Q): Q => {
        const g = gcd(n, d) || 1n;
        return [n / g, d / g];
      };
      const add = (a: Q, b: Q): Q => norm([a[0] * b[1] + b[0] * a[1], a[1] * b[1]]);
      const mul = (a: Q, b: Q): Q => norm([a[0] * b[0], a[1] * b[1]]);
      const floorQ = ([n, d]: Q) => n / d;
      const ideal = new Map<string, Q>(people.map((p) => [p.address, [0n, 1n]]));
      const active = new Map<string, bigint>(people.map((p) => [p.address, 0n]));
      let idealTreasury: Q = [0n, 1n];
      let remaining: Q = [0n, 1n]; // unstreamed
      let finish = 0n;
      let last = BigInt(await time.latest());
      const advanceModel = (to: bigint) => {
        const end = to < finish ? to : finish;
        if (end > last && remaining[0] !== 0n) {
          const streamed = mul(remaining, [end - last, finish - last]);
          remaining = add(remaining, [-streamed[0], streamed[1]]);
          const total = [...active.values()].reduce((a, b) => a + b, 0n);
          if (total === 0n) idealTreasury = add(idealTreasury, streamed);
          else for (const [k, v] of active) ideal.set(k, add(ideal.get(k)!, mul(streamed, [v, total])));
        }
        if (to > last) last = to;
      };

      let seed = 0x5eedn;
      const next53 = () => {
        seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
        return seed >> 11n;
      };
      const rand = (n: bigint) => ((next53() << 53n) | next53()) % n;
      const requests = new Map<string, bigint[]>(people.map((p) => [p.address, []]));
      let notified = 0n;
      let paid = 0n;
      let checkpoints = 0n;
      let maxTotal = 0n;
      const paidBy = new Map<string, bigint>(people.map((p) => [p.address, 0n]));
      const treasuryStart = await token.balanceOf(fx.treasury.address);

      for (let step = 0; step < 120; step++) {
        // forced: a notification before anyone stakes, and a run on the vault (everyone asks to
        // unstake everything) in the middle, so that streams cross unstaked stretches
        const run = step >= 60 && step < 60 + people.length;
        const who = run ? people[step - 60]! : people[Number(rand(BigInt(people.length)))]!;
        const kind = step === 0 ? 3n : run ? 5n : rand(10n);
        const reward = MESH(7n) + rand(MESH(300n)) + (step % 2 === 0 ? 1n : 13n);
        // the controller mints in its own block first; the model only sees the notification
        if (kind >= 3n && kind < 5n) await token.connect(notifier).mint(vaultAddress, reward);
        const t = BigInt(await time.latest()) + 1n + rand(duration / 3n);
        await time.setNextBlockTimestamp(t);
        advanceModel(t);
        if (kind < 3n) {
          const amount = 10n ** 17n + rand(10n ** 21n) + 1n; // odd-sized stakes
          await vault.connect(who).stake(amount);
          active.set(who.address, active.get(who.address)! + amount);
          checkpoints++;
        } else if (kind < 5n) {
          const amount = reward;
          await vault.connect(notifier).notifyRewards(amount);
          remaining = add(remaining, [amount, 1n]);
          finish = t + duration;
          notified += amount;
        } else if (kind < 7n) {
          const a = active.get(who.address)!;
          if (a === 0n) {
            await time.increaseTo(t);
            continue;
          }
          const amount = run || rand(4n) === 0n ? a : 1n + rand(a); // sometimes all of it
          const id = await vault.connect(who).requestUnstake.staticCall(amount);
          await vault.connect(who).requestUnstake(amount);
          requests.get(who.address)!.push(id);
          active.set(who.address, a - amount);
          checkpoints++;
        } else if (kind < 8n) {
          const ids = requests.get(who.address)!;
          if (ids.length === 0) {
            await time.increaseTo(t);
            continue;
          }
          const id = ids.pop()!;
          const [amount] = await vault.unstakeRequest(who.address, id);
          await vault.connect(who).cancelUnstake(id);
          active.set(who.address, active.get(who.address)! + amount);
          checkpoints++;
        } else {
          const owed = await vault.earned(who.address);
          if (owed === 0n) {
            await time.increaseTo(t);
            continue;
          }
          const before = await token.balanceOf(who.address);
          await vault.connect(who).claimRewards();
          const got = (await token.balanceOf(who.address)) - before;
          expect(got >= owed, "a claim pays at least what was earned a block earlier").to.equal(true);
          paid += got;
          paidBy.set(who.address, paidBy.get(who.address)! + got);
          checkpoints++;
        }
        const total = [...active.values()].reduce((a, b) => a + b, 0n);
        if (total > maxTotal) maxTotal = total;
        expect(await vault.totalActiveStake()).to.equal(total);

        await expectSolvent(fx, people);
        // per staker, paid plus claimable tracks the exact model; the slack is the accumulator's
        // carry (< total stake / PRECISION wei) moving between steps, plus one wei per checkpoint
        const bound = (maxTotal / PRECISION + 2n) * BigInt(step + 2);
        for (const p of people) {
          const got = paidBy.get(p.address)! + (await vault.earned(p.address));
          expectWithin(got, floorQ(ideal.get(p.address)!), bound, `staker ${p.address} at step ${step}`);
        }
      }

      // Let every stream end, pay everyone and the treasury, then compare with the model.
      const end = (finish > last ? finish : last) + 1n;
      await time.increaseTo(end);
      advanceModel(end);
      const dustBound = maxTotal / PRECISION + checkpoints + 4n + BigInt(people.length);
      await vault.releaseTreasuryRewards();
      // notifications released some of it along the way; nothing else pays the treasury here
      const toTreasury = (await token.balanceOf(fx.treasury.address)) - treasuryStart;
      for (const p of people) {
        if ((await vault.earned(p.address)) === 0n) continue;
        const before = await token.balanceOf(p.address);
        await vault.connect(p).claimRewards();
        const got = (await token.balanceOf(p.address)) - before;
        paid += got;
        paidBy.set(p.address, paidBy.get(p.address)! + got);
        checkpoints++;
      }
      for (const p of people) {
        expectWithin(
          paidBy.get(p.address)!,
          floorQ(ideal.get(p.address)!),
          dustBound * 4n,
          `final ${p.address}`,
        );
      }
      const dust = notified - paid - toTreasury;
      expect(dust >= 0n, "never paid more than notified").to.equal(true);
      expect(dust <= dustBound, `dust ${dust} > ${dustBound}`).to.equal(true);
      expect(await vault.rewardsReserved()).to.equal(dust);
      const balance = await token.balanceOf(vaultAddress);
      expect(balance).to.equal((await vault.totalActiveStake()) + (await vault.totalPendingUnstake()) + dust);
      expectWithin(toTreasury, floorQ(idealTreasury), dustBound, "treasury vs model");
      expect(notified > MESH(1000n), "the run notified real amounts").to.equal(true);
      expect(toTreasury > 0n, "the run had unstaked stretches").to.equal(true);
    });
  });
});
