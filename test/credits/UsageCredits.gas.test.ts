import { expect } from "chai";
import hre, { network } from "hardhat";

import { CREDITS_GAS_BUDGETS, measureCreditsGas } from "../helpers/credits.js";

const { ethers } = await network.create();

describe("UsageCredits gas budgets (receipt gasUsed)", function () {
  before(function () {
    // Coverage instrumentation adds gas to every call: budgets only mean something without it.
    if (hre.globalOptions.coverage) this.skip();
  });

  it("credits.burnForCredits < 90,000 (new beneficiary)", async function () {
    const gas = await measureCreditsGas(ethers);
    console.log("      credits gas:", gas);
    for (const [key, budget] of Object.entries(CREDITS_GAS_BUDGETS)) {
      expect(gas[key]! < budget, `${key}: ${gas[key]} >= ${budget}`).to.equal(true);
    }
  });
});
