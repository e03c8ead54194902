/**
 * The web app's hexmesh.json parsing (packages/web/src/lib/config.ts): the optional credits ledger
 * the credits, storage and compute pages read, and the optional storage and compute distributors the
 * owner page claims from, accepted, left out, or refused with their problem named.
 */
import { expect } from "chai";

import { ConfigError, parseConfig, rewardDistributors } from "../../packages/web/src/lib/config.js";

const base = {
  chainId: 31337,
  rpcUrl: "http://127.0.0.1:8545",
  oracleUrl: "",
  addresses: {
    token: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    registry: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
    vault: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
    controller: "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9",
    distributor: "0xdc64a140aa3e981100a9beca4e685f962f0cf6c9",
  },
  fromBlock: 3,
};

describe("web app configuration (hexmesh.json)", function () {
  it("takes the credits ledger's address, checksummed", function () {
    const cfg = parseConfig({
      ...base,
      addresses: { ...base.addresses, credits: "0x0165878a594ca255338adfa4d48449f69242eb8f" },
    });
    expect(cfg.addresses.credits).to.equal("0x0165878A594ca255338adfa4d48449f69242Eb8F");
    expect(cfg.fromBlock).to.equal(3n);
  });

  it("leaves the credits ledger out when hexmesh.json does", function () {
    const cfg = parseConfig(base);
    expect(cfg.addresses.credits).to.equal(undefined);
    expect(Object.keys(cfg.addresses)).to.not.include("credits");
  });

  it("refuses a credits ledger that is not an address, naming it with every other problem", function () {
    const bad = () =>
      parseConfig({ ...base, chainId: 0, addresses: { ...base.addresses, credits: "0x1234" } });
    expect(bad).to.throw(ConfigError, /addresses\.credits: a 0x address \(or left out\)/);
    expect(bad).to.throw(ConfigError, /chainId: a positive integer/);
    expect(() => parseConfig({ ...base, addresses: { ...base.addresses, credits: 7 } })).to.throw(
      ConfigError,
      /addresses\.credits/,
    );
  });

  it("takes the storage and compute distributors, checksummed; the owner page's sections follow them", function () {
    const cfg = parseConfig({
      ...base,
      addresses: {
        ...base.addresses,
        storageDistributor: "0x2279b7a0a67db372996a5fab50d91eaa73d2ebe6",
        computeDistributor: "0x8a791620dd6260079bf849dc5567adc3f2fdc318",
      },
    });
    expect(cfg.addresses.storageDistributor).to.equal("0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6");
    expect(cfg.addresses.computeDistributor).to.equal("0x8A791620dd6260079BF849Dc5567aDC3F2FdC318");
    expect(rewardDistributors(cfg)).to.deep.equal([
      { work: "coverage", distributor: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9" },
      { work: "storage", distributor: "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6" },
      { work: "compute", distributor: "0x8A791620dd6260079BF849Dc5567aDC3F2FdC318" },
    ]);
    // One of them alone: coverage and that kind.
    const computeOnly = parseConfig({
      ...base,
      addresses: { ...base.addresses, computeDistributor: "0x8a791620dd6260079bf849dc5567adc3f2fdc318" },
    });
    expect(rewardDistributors(computeOnly).map((r) => r.work)).to.deep.equal(["coverage", "compute"]);
  });

  it("leaves the storage and compute distributors out when hexmesh.json does: coverage only", function () {
    const cfg = parseConfig(base);
    expect(Object.keys(cfg.addresses)).to.not.include.members(["storageDistributor", "computeDistributor"]);
    expect(rewardDistributors(cfg).map((r) => r.work)).to.deep.equal(["coverage"]);
  });

  it("refuses a storage or compute distributor that is not an address, naming each", function () {
    const bad = () =>
      parseConfig({
        ...base,
        addresses: { ...base.addresses, storageDistributor: "0xabc", computeDistributor: 42 },
      });
    expect(bad).to.throw(ConfigError, /addresses\.storageDistributor: a 0x address \(or left out\)/);
    expect(bad).to.throw(ConfigError, /addresses\.computeDistributor: a 0x address \(or left out\)/);
    expect(() => parseConfig({ ...base, addresses: { ...base.addresses, computeDistributor: "" } })).to.throw(
      ConfigError,
      /addresses\.computeDistributor/,
    );
  });
});
