import { expect } from "chai";
import hre, { network } from "hardhat";

import {
  approveAndStake,
  deployStaking,
  fundAndNotify,
  GAS_BUDGETS,
  measureStakingGas,
  PRECISION,
} from "../helpers/staking.js";

const { ethers, networkHelpers } = await network.create();

describe("StakingVault gas budgets (receipt gasUsed)", function () {
  before(function () {
    // Coverage instrumentation adds gas to every call: budgets only mean something without it.
    if (hre.globalOptions.coverage) this.skip();
  });

  it("first stake < 120,000; later stake, request unstake and withdraw < 80,000 each", async function () {
    const gas = await measureStakingGas(ethers, networkHelpers.time);
    for (const [key, budget] of Object.entries(GAS_BUDGETS)) {
      const used = gas[key];
      expect(used !== undefined, `${key} measured`).to.equal(true);
      expect(used! < budget, `${key}: ${used} >= ${budget}`).to.equal(true);
    }
  });

  it("the vault's very first stake, and a first stake after an unstaked stretch, stay under 120,000", async function () {
    const fx = await deployStaking(ethers);
    const [alice, bob] = fx.stakers;
    // very first stake: the token also opens the vault's balance slot
    const first = await (await approveAndStake(fx, alice!, 100n * PRECISION)).wait();
    expect(first!.gasUsed < GAS_BUDGETS["staking.stake.first"], `very first ${first!.gasUsed}`).to.equal(
      true,
    );
    // everyone leaves, rewards stream to the treasury, then a new staker arrives
    await fx.vault.connect(alice!).requestUnstake(100n * PRECISION);
    await fundAndNotify(fx, 1000n * PRECISION);
    await networkHelpers.time.increase(3600);
    const afterGap = await (await approveAndStake(fx, bob!, 100n * PRECISION)).wait();
    expect(afterGap!.gasUsed < GAS_BUDGETS["staking.stake.first"], `after gap ${afterGap!.gasUsed}`).to.equal(
      true,
    );
  });
});
