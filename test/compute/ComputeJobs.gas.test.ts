import { expect } from "chai";
import hre from "hardhat";

import { COMPUTE_GAS_BUDGETS, measureComputeGas } from "../helpers/compute.js";
import { createRegistryNetwork } from "../helpers/registryFixture.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

describe("ComputeJobs gas budgets (receipt gasUsed)", function () {
  before(function () {
    // Coverage instrumentation adds gas to every call: budgets only mean something without it.
    if (hre.globalOptions.coverage) this.skip();
  });

  it("createJob < 130,000; createDirectedJob < 170,000; commitResult < 80,000; finalize < 90,000", async function () {
    const gas = await measureComputeGas(ethers, networkHelpers);
    console.log("      compute gas:", gas);
    for (const [key, budget] of Object.entries(COMPUTE_GAS_BUDGETS)) {
      expect(gas[key]! < budget, `${key}: ${gas[key]} >= ${budget}`).to.equal(true);
    }
  });
});
