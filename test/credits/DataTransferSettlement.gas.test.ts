import { expect } from "chai";
import hre, { network } from "hardhat";

import { measureSettlementGas, SETTLEMENT_GAS_BUDGETS } from "../helpers/settlement.js";

const { ethers } = await network.create();

describe("DataTransferSettlement gas budgets (receipt gasUsed)", function () {
  before(function () {
    // Coverage instrumentation adds gas to every call: budgets only mean something without it.
    if (hre.globalOptions.coverage) this.skip();
  });

  it("settle for 100 routers < 1,500,000", async function () {
    this.timeout(120_000);
    const gas = await measureSettlementGas(ethers);
    console.log("      settlement gas:", gas);
    for (const [key, budget] of Object.entries(SETTLEMENT_GAS_BUDGETS)) {
      expect(gas[key]! < budget, `${key}: ${gas[key]} >= ${budget}`).to.equal(true);
    }
  });
});
