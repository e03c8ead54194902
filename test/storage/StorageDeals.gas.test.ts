import { expect } from "chai";
import hre from "hardhat";

import { createRegistryNetwork } from "../helpers/registryFixture.js";
import { measureStorageGas, STORAGE_GAS_BUDGETS } from "../helpers/storage.js";

const { ethers, networkHelpers } = await createRegistryNetwork();

describe("StorageDeals gas budgets (receipt gasUsed)", function () {
  before(function () {
    // Coverage instrumentation adds gas to every call: budgets only mean something without it.
    if (hre.globalOptions.coverage) this.skip();
  });

  it("provePossession with K = 5 on 2^30 leaves < 250,000; addPieces of one piece (the first too) < 120,000", async function () {
    const gas = await measureStorageGas(ethers, networkHelpers);
    console.log("      storage gas:", gas);
    for (const [key, budget] of Object.entries(STORAGE_GAS_BUDGETS)) {
      expect(gas[key]! < budget, `${key}: ${gas[key]} >= ${budget}`).to.equal(true);
    }
  });
});
