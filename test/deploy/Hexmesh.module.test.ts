import { readFileSync } from "node:fs";

import { keccak_256 } from "@noble/hashes/sha3.js";
import { expect } from "chai";
import { AbiCoder, ZeroAddress } from "ethers";

import {
  buildHexmeshModule,
  coveragePoolBps,
  HexmeshParameterError,
  loadHexmeshParameters,
  parseHexmeshParameters,
  ROLES,
  SUBNETWORK_COMPUTE,
  SUBNETWORK_COVERAGE,
  SUBNETWORK_STORAGE,
} from "../../deploy/lib/hexmesh.js";
import type { RewardsDistributor } from "../../typechain-types/index.js";
import { deployHexmeshInProcess, LOCAL_PARAMETERS, type HexmeshInProcess } from "../helpers/deploy.js";

/** A fresh, mutable copy of the committed localhost parameters file. */
const raw = () => JSON.parse(readFileSync(LOCAL_PARAMETERS, "utf8")) as { Hexmesh: Record<string, any> };
describe("deploy: Hexmesh Ignition module", function () {
  let fx: HexmeshInProcess;
  let deployer: string;

  before(async function () {
    fx = await deployHexmeshInProcess();
    deployer = (await fx.ethers.getSigners())[0]!.address;
  });

  /** The constructor arguments in the transaction that created `address` (a contract without libraries). */
  async function constructorArgs(name: string, address: string): Promise<unknown[]> {
    const provider = fx.ethers.provider;
    const factory = await fx.ethers.getContractFactory(name);
    for (let b = 1; b <= fx.deployedAtBlock; b++) {
      for (const tx of (await provider.getBlock(b, true))!.prefetchedTransactions) {
        if ((await provider.getTransactionReceipt(tx.hash))!.contractAddress !== address) continue;
        const encoded = "0x" + tx.data.slice(factory.bytecode.length);
        return [...AbiCoder.defaultAbiCoder().decode(factory.interface.deploy.inputs, encoded)];
      }
    }
    throw new Error(`no creation transaction for ${name} at ${address}`);
  }

  it("deploys the token with the genesis supply at the treasury and the controller as its minter", async function () {
    expect(await fx.token.balanceOf(fx.params.treasury)).to.equal(fx.params.genesisSupply);
    expect(await fx.token.totalSupply()).to.equal(fx.params.genesisSupply);
    expect(await fx.token.minter()).to.equal(await fx.controller.getAddress());
    expect(await fx.token.minterAdmin()).to.equal(ZeroAddress);
  });

  it("wires the emissions controller to the vault and the coverage distributor", async function () {
    const controller = await fx.controller.getAddress();
    const e = fx.params.emissions;
    expect(await fx.controller.token()).to.equal(await fx.token.getAddress());
    expect(await fx.controller.stakingVault()).to.equal(await fx.vault.getAddress());
    expect(await fx.controller.treasury()).to.equal(fx.params.treasury);
    expect(await fx.controller.genesisTime()).to.equal(BigInt(e.genesisTime));
    expect(await fx.controller.epochLength()).to.equal(BigInt(e.epochLength));
    expect(await fx.controller.emissionCap()).to.equal(e.emissionCap);
    const [pool] = await fx.controller.pools();
    expect(pool!.subnetwork).to.equal(SUBNETWORK_COVERAGE);
    expect(pool!.distributor).to.equal(await fx.distributor.getAddress());
    expect(await fx.vault.hasRole(ROLES.REWARDS_NOTIFIER, controller)).to.equal(true);
    expect(await fx.distributor.hasRole(ROLES.FUNDER, controller)).to.equal(true);
    expect(await fx.distributor.subnetwork()).to.equal(SUBNETWORK_COVERAGE);
    expect(await fx.distributor.threshold()).to.equal(BigInt(fx.params.coverage.threshold));
    expect(await fx.distributor.challengeWindow()).to.equal(BigInt(fx.params.coverage.challengeWindow));
    for (const o of fx.params.coverage.oracles) expect(await fx.distributor.isOracle(o)).to.equal(true);
  });

  it("mints the first epoch's emission through the controller into the vault, distributor and treasury", async function () {
    const e = fx.params.emissions;
    const now = BigInt((await fx.ethers.provider.getBlock("latest"))!.timestamp);
    const target = BigInt(e.genesisTime) + BigInt(e.epochLength);
    if (now < target) await fx.connection.networkHelpers.time.increaseTo(target);
    const supply = await fx.token.totalSupply();
    const pools: [RewardsDistributor, number][] = [
      [fx.distributor, coveragePoolBps(fx.params)],
      [fx.storageDistributor, fx.params.storage.poolBps],
      [fx.computeDistributor, fx.params.compute.poolBps],
    ];
    const balances = async () =>
      Promise.all(
        [...pools.map(([d]) => d.getAddress()), fx.params.treasury, await fx.vault.getAddress()].map(
          async (a) => fx.token.balanceOf(await a),
        ),
      );
    const before = await balances();
    await fx.controller.distribute(1);
    const after = await balances();
    expect(await fx.token.totalSupply()).to.equal(supply + e.initialEmission);
    const share = (bps: number) => (e.initialEmission * BigInt(bps)) / 10_000n;
    for (const [i, [, bps]] of pools.entries()) expect(after[i]! - before[i]!).to.equal(share(bps));
    const toStaking = share(e.stakingBps);
    expect(after[4]! - before[4]!).to.equal(toStaking);
    // The treasury takes its share plus the rounding remainder (here: its share exactly).
    expect(after[3]! - before[3]!).to.equal(
      e.initialEmission - pools.reduce((t, [, bps]) => t + share(bps), 0n) - toStaking,
    );
    expect(after[3]! - before[3]!).to.equal(share(e.treasuryBps));
  });

  it("adds the storage and compute pools after coverage's, each with its distributor, and sets the split", async function () {
    const pools = await fx.controller.pools();
    expect(pools.map((p) => [p.subnetwork, p.distributor, p.bps])).to.deep.equal([
      [SUBNETWORK_COVERAGE, await fx.distributor.getAddress(), BigInt(coveragePoolBps(fx.params))],
      [SUBNETWORK_STORAGE, await fx.storageDistributor.getAddress(), BigInt(fx.params.storage.poolBps)],
      [SUBNETWORK_COMPUTE, await fx.computeDistributor.getAddress(), BigInt(fx.params.compute.poolBps)],
    ]);
    // localhost.json gives the new pools the treasury's former 10%: coverage keeps 70%, staking 20%.
    expect(coveragePoolBps(fx.params)).to.equal(7_000);
    expect(await fx.controller.split()).to.deep.equal([
      BigInt(fx.params.emissions.stakingBps),
      BigInt(fx.params.emissions.treasuryBps),
    ]);
    const controller = await fx.controller.getAddress();
    for (const [d, subnetwork, set] of [
      [fx.storageDistributor, SUBNETWORK_STORAGE, fx.params.storage],
      [fx.computeDistributor, SUBNETWORK_COMPUTE, fx.params.compute],
    ] as const) {
      expect(await d.subnetwork()).to.equal(subnetwork);
      expect(await d.token()).to.equal(await fx.token.getAddress());
      expect(await d.hasRole(ROLES.FUNDER, controller)).to.equal(true);
      expect(await d.threshold()).to.equal(BigInt(set.threshold));
      expect(await d.challengeWindow()).to.equal(BigInt(set.challengeWindow));
      for (const o of set.oracles) expect(await d.isOracle(o)).to.equal(true);
      expect(await d.isOracle(deployer)).to.equal(false);
    }
  });

  it("deploys StorageDeals and ComputeJobs on the suite as the ledger's storage and compute spenders", async function () {
    // The markets keep their wiring in immutables without getters: read the creation transactions.
    const suiteArgs = async (classSubnetwork: number, admin: string) => [
      await fx.credits.getAddress(),
      await fx.registry.getAddress(),
      await fx.vault.getAddress(),
      await fx.controller.getAddress(),
      BigInt(classSubnetwork),
      admin,
    ];
    // StorageDeals starts with the deployer as admin, to point it at StorageSuspensions, and hands it over.
    expect(await constructorArgs("StorageDeals", await fx.storageDeals.getAddress())).to.deep.equal(
      await suiteArgs(fx.params.storage.classSubnetwork, deployer),
    );
    expect(await fx.storageDeals.suspensions()).to.equal(await fx.storageSuspensions.getAddress());
    expect(
      await constructorArgs("StorageSuspensions", await fx.storageSuspensions.getAddress()),
    ).to.deep.equal([await fx.storageDistributor.getAddress()]);
    // Fraud verdicts are signed by the compute distributor's oracle set; the guardian holds the veto.
    expect(await fx.computeJobs.oracleDistributor()).to.equal(await fx.computeDistributor.getAddress());
    expect(await fx.computeJobs.hasRole(ROLES.GUARDIAN, fx.params.guardian)).to.equal(true);
    // ComputeJobs starts with the deployer as admin, to price the classes, and hands it over (below).
    expect(await constructorArgs("ComputeJobs", await fx.computeJobs.getAddress())).to.deep.equal(
      await suiteArgs(fx.params.compute.classSubnetwork, deployer),
    );
    expect(await fx.credits.spenderSubnetwork(await fx.storageDeals.getAddress())).to.equal(
      SUBNETWORK_STORAGE,
    );
    expect(await fx.credits.spenderSubnetwork(await fx.computeJobs.getAddress())).to.equal(
      SUBNETWORK_COMPUTE,
    );
    // Storage and compute start at the contracts' defaults: $2.50 per TiB-month, K = 5, 10% spot checks.
    expect(await fx.storageDeals.pricePerTiBMonth()).to.equal(await fx.storageDeals.DEFAULT_PRICE());
    expect(await fx.storageDeals.challengeCount()).to.equal(await fx.storageDeals.DEFAULT_CHALLENGES());
    expect(await fx.computeJobs.checkProbability()).to.equal(await fx.computeJobs.DEFAULT_CHECK_BPS());
  });

  it("maps device classes to subnetworks and prices every compute class in ComputeJobs", async function () {
    const { storage, compute } = fx.params;
    const classes = fx.params.registry.deviceClasses;
    const of = (n: number) => classes.filter((c) => c.subnetwork === n).map((c) => c.id);
    expect(of(0)).to.deep.equal([1, 2]);
    expect(of(storage.classSubnetwork)).to.deep.equal([3]);
    expect(of(compute.classSubnetwork)).to.deep.equal([4, 5, 6]); // CPU, two GPU models
    for (const c of classes) {
      expect((await fx.registry.deviceClassInfo(c.id)).subnetwork).to.equal(BigInt(c.subnetwork));
    }
    expect(compute.prices.map((p) => p.deviceClass)).to.deep.equal(of(compute.classSubnetwork));
    for (const p of compute.prices) {
      expect(await fx.computeJobs.priceOf(p.deviceClass)).to.equal(BigInt(p.creditsPerUnit));
    }
    for (const id of [...of(0), ...of(storage.classSubnetwork)])
      expect(await fx.computeJobs.priceOf(id)).to.equal(0n);
  });

  it("makes ComputeJobs the vault's slasher and nothing else", async function () {
    expect(await fx.vault.hasRole(ROLES.SLASHER, await fx.computeJobs.getAddress())).to.equal(true);
    for (const other of [fx.storageDeals, fx.dataTransfer, fx.distributor, fx.controller, fx.credits]) {
      expect(await fx.vault.hasRole(ROLES.SLASHER, await other.getAddress())).to.equal(false);
    }
    expect(await fx.vault.hasRole(ROLES.SLASHER, await fx.timelock.getAddress())).to.equal(false);
  });

  it("links the registry to the deployed P256Verifier and sets classes, fee and makers", async function () {
    expect(await fx.registry.mesh()).to.equal(await fx.token.getAddress());
    const code = await fx.ethers.provider.getCode(fx.p256);
    expect(code.length).to.be.greaterThan(2);
    expect(await fx.registry.assertFee()).to.equal(fx.params.registry.assertFee);
    for (const c of fx.params.registry.deviceClasses) {
      const info = await fx.registry.deviceClassInfo(c.id);
      expect(info.enabled).to.equal(c.enabled);
      expect(info.subnetwork).to.equal(BigInt(c.subnetwork));
      expect(info.onboardingFee).to.equal(c.onboardingFee);
    }
    for (const mk of fx.params.registry.makers) {
      const info = await fx.registry.makerInfo(mk.id);
      expect(info.signer).to.equal(mk.signer);
      expect(info.allowance).to.equal(BigInt(mk.allowance));
    }
  });

  it("configures the vault", async function () {
    expect(await fx.vault.mesh()).to.equal(await fx.token.getAddress());
    expect(await fx.vault.deviceRegistry()).to.equal(await fx.registry.getAddress());
    expect(await fx.vault.treasury()).to.equal(fx.params.treasury);
    expect(await fx.vault.cooldown()).to.equal(BigInt(fx.params.vault.cooldown));
    expect(await fx.vault.rewardsDuration()).to.equal(BigInt(fx.params.vault.rewardsDuration));
    expect(await fx.vault.minStakePerDevice()).to.equal(fx.params.vault.minStakePerDevice);
  });

  it("hands DEFAULT_ADMIN_ROLE to the timelock and GUARDIAN_ROLE to the guardian everywhere", async function () {
    const timelock = await fx.timelock.getAddress();
    for (const c of [fx.registry, fx.vault, fx.distributor, fx.storageDistributor, fx.computeDistributor]) {
      expect(await c.hasRole(ROLES.DEFAULT_ADMIN, timelock)).to.equal(true);
      expect(await c.hasRole(ROLES.GUARDIAN, fx.params.guardian)).to.equal(true);
    }
    for (const c of [fx.controller, fx.storageDeals, fx.computeJobs])
      expect(await c.hasRole(ROLES.DEFAULT_ADMIN, timelock)).to.equal(true);
    expect(await fx.registry.hasRole(ROLES.DENYLIST, fx.params.denylister)).to.equal(true);
    expect(await fx.timelock.hasRole(ROLES.DEFAULT_ADMIN, timelock)).to.equal(true);
    expect(await fx.timelock.getMinDelay()).to.equal(BigInt(fx.params.timelock.minDelay));
    expect(await fx.timelock.getMinDelay()).to.be.greaterThan(await fx.vault.cooldown());
    for (const p of fx.params.timelock.proposers) {
      expect(await fx.timelock.hasRole(ROLES.PROPOSER, p)).to.equal(true);
      expect(await fx.timelock.hasRole(ROLES.CANCELLER, p)).to.equal(true);
    }
    for (const e of fx.params.timelock.executors)
      expect(await fx.timelock.hasRole(ROLES.EXECUTOR, e)).to.equal(true);
  });

  it("deploys the credits ledger on MESH with the governed price, both administered by the timelock", async function () {
    const timelock = await fx.timelock.getAddress();
    const price = await fx.ethers.getContractAt("GovernedPrice", await fx.meshPrice.getAddress());
    expect(await fx.credits.token()).to.equal(await fx.token.getAddress());
    expect(await fx.credits.priceSource()).to.equal(await price.getAddress());
    expect(await fx.credits.hasRole(ROLES.DEFAULT_ADMIN, timelock)).to.equal(true);
    expect(await price.hasRole(ROLES.DEFAULT_ADMIN, timelock)).to.equal(true);
    const p = fx.params.credits.price;
    expect(p.source).to.equal("governed");
    expect((await price.latestPrice())[0]).to.equal(p.source === "governed" ? p.initialPrice : 0n);
    expect(await price.isFresh()).to.equal(true);
    expect(await fx.credits.totalBought()).to.equal(0n);
  });

  it("deploys the coverage data-transfer settlement as the ledger's coverage spender, on the distributor's oracle set", async function () {
    const settlement = await fx.dataTransfer.getAddress();
    expect(await fx.credits.spenderSubnetwork(settlement)).to.equal(SUBNETWORK_COVERAGE);
    expect(await fx.dataTransfer.credits()).to.equal(await fx.credits.getAddress());
    expect(await fx.dataTransfer.distributor()).to.equal(await fx.distributor.getAddress());
    expect(await fx.dataTransfer.epochClock()).to.deep.equal([
      await fx.controller.genesisTime(),
      await fx.controller.epochLength(),
    ]);
    expect(await fx.dataTransfer.creditsPerPacketAt(0n)).to.equal(BigInt(fx.params.credits.creditsPerPacket));
    expect(await fx.dataTransfer.hasRole(ROLES.DEFAULT_ADMIN, await fx.timelock.getAddress())).to.equal(true);
  });

  it("deploys a quorum price instead when the parameters ask for one", async function () {
    const file = raw();
    const oracles = file.Hexmesh.coverage.oracles as string[];
    file.Hexmesh.credits = { price: { source: "quorum", oracles, threshold: 2 } };
    const other = await deployHexmeshInProcess(parseHexmeshParameters(file));
    const quorum = await other.ethers.getContractAt("QuorumPrice", await other.meshPrice.getAddress());
    expect(await quorum.threshold()).to.equal(2n);
    expect(await quorum.oracles()).to.deep.equal(oracles);
    expect(await quorum.isFresh()).to.equal(false); // no price until the oracles submit one
    expect(await other.credits.priceSource()).to.equal(await quorum.getAddress());
  });

  it("leaves the deployer without any role", async function () {
    const price = await fx.ethers.getContractAt("GovernedPrice", await fx.meshPrice.getAddress());
    for (const c of [
      fx.registry,
      fx.vault,
      fx.timelock,
      fx.distributor,
      fx.controller,
      fx.credits,
      fx.dataTransfer,
      price,
      fx.storageDistributor,
      fx.computeDistributor,
      fx.storageDeals,
      fx.computeJobs,
    ]) {
      for (const role of Object.values(ROLES)) {
        expect(await c.hasRole(role, deployer), `${await c.getAddress()} role ${role}`).to.equal(false);
      }
    }
    expect(await fx.token.minterAdmin()).to.equal(ZeroAddress);
  });

  it("lets the timelock act only after its delay", async function () {
    const [, , , , proposer] = await fx.ethers.getSigners();
    const data = fx.vault.interface.encodeFunctionData("setMinStakePerDevice", [123n]);
    const target = await fx.vault.getAddress();
    const delay = BigInt(fx.params.timelock.minDelay);
    await expect(fx.vault.setMinStakePerDevice(1n)).to.be.revertedWithCustomError(
      fx.vault,
      "AccessControlUnauthorizedAccount",
    );
    await fx.timelock.connect(proposer!).schedule(target, 0, data, ZeroHashSalt, ZeroHashSalt, delay);
    await expect(
      fx.timelock.connect(proposer!).execute(target, 0, data, ZeroHashSalt, ZeroHashSalt),
    ).to.be.revertedWithCustomError(fx.timelock, "TimelockUnexpectedOperationState");
    await fx.connection.networkHelpers.time.increase(delay);
    await fx.timelock.connect(proposer!).execute(target, 0, data, ZeroHashSalt, ZeroHashSalt);
    expect(await fx.vault.minStakePerDevice()).to.equal(123n);
  });

  it("reports deploy gas per contract", async function () {
    const provider = fx.ethers.provider;
    const latest = fx.deployedAtBlock;
    const names = new Map<string, string>([
      [await fx.timelock.getAddress(), "HexmeshTimelock"],
      [await fx.token.getAddress(), "MeshToken"],
      [fx.p256, "P256Verifier"],
      [await fx.registry.getAddress(), "DeviceRegistry"],
      [await fx.vault.getAddress(), "StakingVault"],
      [await fx.distributor.getAddress(), "RewardsDistributor"],
      [await fx.controller.getAddress(), "EmissionsController"],
      [await fx.meshPrice.getAddress(), "GovernedPrice"],
      [await fx.credits.getAddress(), "UsageCredits"],
      [await fx.dataTransfer.getAddress(), "DataTransferSettlement"],
      [await fx.storageDistributor.getAddress(), "StorageDistributor (RewardsDistributor)"],
      [await fx.computeDistributor.getAddress(), "ComputeDistributor (RewardsDistributor)"],
      [await fx.storageDeals.getAddress(), "StorageDeals"],
      [await fx.storageSuspensions.getAddress(), "StorageSuspensions"],
      [await fx.computeJobs.getAddress(), "ComputeJobs"],
    ]);
    const gas: Record<string, bigint> = {};
    let wiring = 0n;
    for (let b = 1; b <= latest; b++) {
      const block = await provider.getBlock(b, true);
      for (const tx of block!.prefetchedTransactions) {
        const receipt = await provider.getTransactionReceipt(tx.hash);
        const name = receipt!.contractAddress ? names.get(receipt!.contractAddress) : undefined;
        if (name !== undefined) gas[name] = receipt!.gasUsed;
        else if (tx.from === deployer) wiring += receipt!.gasUsed;
      }
    }
    expect(Object.keys(gas)).to.have.members([...names.values()]);
    console.log("      deploy gas:", { ...gas, wiringCalls: wiring });
  });

  // Buys credits: after the test that checks the ledger starts empty.
  it("takes a customer's job for a priced compute class, locking its credits, and refuses other classes", async function () {
    const signers = await fx.ethers.getSigners();
    const treasury = signers.find((x) => x.address === fx.params.treasury)!;
    const customer = signers[7]!;
    await (await fx.token.connect(treasury).transfer(customer.address, 10n ** 20n)).wait();
    await (await fx.token.connect(customer).approve(await fx.credits.getAddress(), 10n ** 20n)).wait();
    await (await fx.credits.connect(customer).burnForCredits(10n ** 20n, 0n, customer.address)).wait();
    const jobs = fx.computeJobs.connect(customer);
    await (await fx.credits.connect(customer).approveSpender(await jobs.getAddress(), 10n ** 12n)).wait();
    const now = BigInt((await fx.ethers.provider.getBlock("latest"))!.timestamp);
    const spec = "0x" + "5e".repeat(32);
    const [cpu] = fx.params.compute.prices;
    await expect(jobs.createJob(spec, cpu!.deviceClass, 100n, now + 3_600n, 0))
      .to.emit(fx.credits, "CreditsLocked")
      .withArgs(customer.address, await jobs.getAddress(), 100n * BigInt(cpu!.creditsPerUnit));
    // A storage or coverage class has no compute price.
    for (const cls of [1, 3])
      await expect(jobs.createJob(spec, cls, 100n, now + 3_600n, 0))
        .to.be.revertedWithCustomError(jobs, "ComputeClassNotPriced")
        .withArgs(cls);
  });

  describe("parameter validation (before any transaction)", function () {
    it("accepts every committed parameters file except for the testnet placeholders", function () {
      expect(() => loadHexmeshParameters(LOCAL_PARAMETERS)).not.to.throw();
      for (const n of ["sepolia", "baseSepolia", "arbitrumSepolia", "optimismSepolia"]) {
        expect(() => loadHexmeshParameters(`deploy/parameters/${n}.json`)).to.throw(
          HexmeshParameterError,
          /treasury must be an address, got REPLACE_WITH/,
        );
      }
    });

    it("refuses a timelock delay that does not exceed the unstake cooldown", function () {
      const f = raw();
      f.Hexmesh.timelock.minDelay = f.Hexmesh.vault.cooldown;
      expect(() => buildHexmeshModule(parseHexmeshParameters(f))).to.throw(
        HexmeshParameterError,
        /timelock.minDelay \(86400 s\) must exceed vault.cooldown \(86400 s\)/,
      );
    });

    it("refuses out-of-bound cooldowns, bad amounts, zero addresses and duplicates", function () {
      const cases: [(h: Record<string, any>) => void, RegExp][] = [
        [(h) => (h.vault.cooldown = 3600), /vault.cooldown must be an integer in \[86400, 2592000\]/],
        [(h) => (h.vault.rewardsDuration = 1), /vault.rewardsDuration/],
        [(h) => (h.genesisSupply = 5), /genesisSupply must be a MESH amount/],
        [(h) => (h.guardian = ZeroAddress), /guardian must not be zero/],
        [(h) => (h.timelock.proposers = []), /timelock.proposers must not be empty/],
        [(h) => h.registry.deviceClasses.push(h.registry.deviceClasses[0]), /duplicate device class id/],
        [(h) => h.registry.makers.push(h.registry.makers[0]), /duplicate maker id/],
        [(h) => (h.registry.deviceClasses[0].enabled = "yes"), /enabled must be a boolean/],
        [(h) => (h.emissions.stakingBps = 6000), /emissions.stakingBps must be an integer in \[1000, 5000\]/],
        [(h) => (h.emissions.epochLength = 10), /emissions.epochLength/],
        [(h) => (h.emissions.initialEmission = "800000000"), /initialEmission must be above 0 and at most/],
        [(h) => (h.emissions.emissionCap = "800000000"), /must not exceed the 1,000,000,000 MESH cap/],
        [(h) => (h.emissions.genesisTime = "yesterday"), /emissions.genesisTime must be an integer/],
        [(h) => (h.coverage.threshold = 4), /coverage.threshold \(4\) exceeds the 3 oracles/],
        [(h) => h.coverage.oracles.push(h.coverage.oracles[0]), /coverage.oracles must be 1 to 32 distinct/],
        [(h) => (h.coverage.challengeWindow = 60), /coverage.challengeWindow/],
        [(h) => delete h.credits, /credits must be an object/],
        [(h) => delete h.storage, /storage must be an object/],
        [(h) => delete h.compute, /compute must be an object/],
        [(h) => (h.storage.threshold = 4), /storage.threshold \(4\) exceeds the 3 oracles/],
        [(h) => (h.compute.oracles = []), /compute.oracles must be 1 to 32 distinct/],
        [
          (h) => (h.storage.challengeWindow = 60),
          /storage.challengeWindow must be an integer in \[3600, 604800\]/,
        ],
        [(h) => (h.compute.poolBps = -1), /compute.poolBps must be an integer in \[0, 10000\]/],
        [(h) => (h.storage.classSubnetwork = 0), /storage.classSubnetwork must be an integer in \[1, 255\]/],
        [
          (h) => (h.storage.classSubnetwork = h.compute.classSubnetwork),
          /storage.classSubnetwork and compute.classSubnetwork must differ, both are 1/,
        ],
        [
          (h) => (h.storage.poolBps = 7_500),
          /stakingBps \+ emissions.treasuryBps \+ storage.poolBps \+ compute.poolBps must stay below 10000 \(coverage's pool gets the rest\), got 10000/,
        ],
        [
          (h) => (h.compute.prices[0].deviceClass = 3),
          /compute.prices\[0\].deviceClass 3 is not a registry class of compute.classSubnetwork 1/,
        ],
        [
          (h) => (h.compute.prices[1].deviceClass = h.compute.prices[0].deviceClass),
          /compute.prices: class 4 priced twice/,
        ],
        [
          (h) => (h.compute.prices[0].creditsPerUnit = 0),
          /compute.prices\[0\].creditsPerUnit must be an integer in \[1, 1000000000\]/,
        ],
        [(h) => (h.compute.prices = {}), /compute.prices must be an array/],
        [(h) => (h.registry.deviceClasses[2].name = 3), /registry.deviceClasses\[2\].name must be a string/],
        [(h) => (h.credits.price.source = "oracle"), /credits.price.source must be "governed" or "quorum"/],
        [
          (h) => (h.credits.creditsPerPacket = 0),
          /credits.creditsPerPacket must be an integer in \[1, 10000\]/,
        ],
        [
          (h) => (h.credits.creditsPerPacket = 10_001),
          /credits.creditsPerPacket must be an integer in \[1, 10000\]/,
        ],
        [(h) => (h.credits.price.initialPrice = "0"), /credits.price.initialPrice must be above 0/],
        [(h) => (h.credits.price.initialPrice = 0.05), /credits.price.initialPrice must be USD per MESH/],
        [
          (h) => (h.credits.price = { source: "quorum", oracles: [], threshold: 1 }),
          /credits.price.oracles must be 1 to 32 distinct/,
        ],
        [
          (h) => (h.credits.price = { source: "quorum", oracles: h.coverage.oracles, threshold: 4 }),
          /credits.price.threshold must be an integer in \[1, 3\]/,
        ],
      ];
      for (const [mutate, message] of cases) {
        const f = raw();
        mutate(f.Hexmesh);
        expect(() => parseHexmeshParameters(f)).to.throw(HexmeshParameterError, message);
      }
      expect(() => loadHexmeshParameters("deploy/parameters/nowhere.json")).to.throw(/cannot read/);
    });

    it("names the coverage, storage and compute subnetworks by documented hashes", function () {
      for (const [name, id] of [
        ["coverage", SUBNETWORK_COVERAGE],
        ["storage", SUBNETWORK_STORAGE],
        ["compute", SUBNETWORK_COMPUTE],
      ] as const) {
        const expected = Buffer.from(keccak_256(new TextEncoder().encode(`hexmesh.subnetwork.${name}`)));
        expect(id).to.equal("0x" + expected.toString("hex"));
      }
    });
  });
});

const ZeroHashSalt = "0x" + "00".repeat(32);
