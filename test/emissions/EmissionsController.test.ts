import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";

import type { EmissionsController, RewardsDistributor } from "../../typechain-types/index.js";
import {
  CAP,
  COMPUTE,
  COVERAGE,
  DEFAULT_ADMIN_ROLE,
  deployRewardsSystem,
  FUNDER_ROLE,
  GENESIS_ALLOCATION,
  MESH,
  type SystemOptions,
} from "../helpers/rewards.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

/** Reference model of the schedule: nominal halving emission, truncated at the cap. */
function modelEmissions(count: number, initial: bigint, halving: bigint, cap: bigint): bigint[] {
  const out: bigint[] = [];
  let emitted = 0n;
  for (let e = 0n; e < BigInt(count); e++) {
    const halvings = e / halving;
    const nominal = halvings >= 256n ? 0n : initial >> halvings;
    const amount = nominal < cap - emitted ? nominal : cap - emitted;
    out.push(amount);
    emitted += amount;
  }
  return out;
}

/** What one epoch's emission is split into, with the treasury taking the remainder. */
function splitOf(emission: bigint, poolBps: number[], stakingBps: number) {
  const pools = poolBps.map((b) => (emission * BigInt(b)) / 10_000n);
  const staking = (emission * BigInt(stakingBps)) / 10_000n;
  const treasury = emission - pools.reduce((s, p) => s + p, 0n) - staking;
  return { pools, staking, treasury };
}

async function deploy(opts: SystemOptions = {}) {
  const sys = await deployRewardsSystem(ethers, opts);
  const signers = await ethers.getSigners();
  return { ...sys, keeper: signers[4]!, outsider: signers[5]! };
}

const base = () => deploy();
const smallSchedule = () => deploy({ initialEmission: MESH(1000), halvingInterval: 2n, epochLength: 3600n });
// Cap reached in epoch 2: 1000 + 1000 + 500 (remainder of 2,500).
const capped = () =>
  deploy({ initialEmission: MESH(1000), halvingInterval: 100n, emissionCap: MESH(2500), epochLength: 3600n });

async function newDistributor(fx: Awaited<ReturnType<typeof deploy>>, subnetwork: string) {
  const d = (await ethers.deployContract("RewardsDistributor", [
    await fx.token.getAddress(),
    subnetwork,
    fx.admin.address,
    fx.guardian.address,
    fx.oracles.map((o) => o.address),
    3,
    6 * 3600,
  ])) as unknown as RewardsDistributor;
  await d.connect(fx.admin).grantRole(FUNDER_ROLE, await fx.controller.getAddress());
  return d;
}

describe("EmissionsController", function () {
  describe("deployment", function () {
    it("fixes the schedule, the first pool and the split, and is the token's minter", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const c = fx.controller;
      expect(await c.token()).to.equal(await fx.token.getAddress());
      expect(await fx.token.minter()).to.equal(await c.getAddress());
      expect(await c.genesisTime()).to.equal(fx.genesisTime);
      expect(await c.epochLength()).to.equal(86_400n);
      expect(await c.initialEmission()).to.equal(MESH(1_000_000));
      expect(await c.halvingInterval()).to.equal(365n);
      expect(await c.emissionCap()).to.equal(CAP - GENESIS_ALLOCATION);
      expect(await c.split()).to.deep.equal([3000n, 1000n]);
      const pools = await c.pools();
      expect(pools.length).to.equal(1);
      expect(pools[0]!.subnetwork).to.equal(COVERAGE);
      expect(pools[0]!.distributor).to.equal(await fx.distributor.getAddress());
      expect(pools[0]!.bps).to.equal(6000n);
      expect(await c.stakingVault()).to.equal(await fx.vault.getAddress());
      expect(await c.treasury()).to.equal(fx.treasury.address);
      expect(await c.hasRole(DEFAULT_ADMIN_ROLE, fx.admin.address)).to.equal(true);
      expect(await c.nextEpoch()).to.equal(0n);
      expect(await c.emitted()).to.equal(0n);
    });

    it("rejects zero addresses, schedules out of bounds and a cap the token cannot mint", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const factory = await ethers.getContractFactory("EmissionsController");
      const good = {
        token: await fx.token.getAddress(),
        admin: fx.admin.address,
        treasury: fx.treasury.address,
        stakingVault: await fx.vault.getAddress(),
        genesisTime: 0n,
        epochLength: 86_400n,
        initialEmission: MESH(1000),
        halvingInterval: 10n,
        emissionCap: MESH(1_000_000),
        stakingBps: 3000,
        treasuryBps: 1000,
        subnetwork: COVERAGE,
        distributor: await fx.distributor.getAddress(),
      };
      for (const key of ["token", "admin", "treasury", "stakingVault", "distributor"] as const) {
        await expect(factory.deploy({ ...good, [key]: ethers.ZeroAddress })).to.be.revertedWithCustomError(
          factory,
          "EmissionsZeroAddress",
        );
      }
      const badSchedules = [
        { epochLength: 59n },
        { epochLength: 30n * 86_400n + 1n },
        { halvingInterval: 0n },
        { halvingInterval: 2n ** 32n },
        { initialEmission: 0n },
        { initialEmission: MESH(1_000_000) + 1n },
      ];
      for (const bad of badSchedules) {
        await expect(factory.deploy({ ...good, ...bad })).to.be.revertedWithCustomError(
          factory,
          "EmissionsInvalidSchedule",
        );
      }
      const mintable = CAP - GENESIS_ALLOCATION;
      await expect(factory.deploy({ ...good, emissionCap: mintable + 1n }))
        .to.be.revertedWithCustomError(factory, "EmissionsCapExceedsToken")
        .withArgs(mintable + 1n, mintable);
      await expect(factory.deploy({ ...good, stakingBps: 999 }))
        .to.be.revertedWithCustomError(factory, "EmissionsStakingShareOutOfBounds")
        .withArgs(999n);
      await expect(factory.deploy({ ...good, treasuryBps: 2001 }))
        .to.be.revertedWithCustomError(factory, "EmissionsTreasuryShareOutOfBounds")
        .withArgs(2001n);
      // Shares over 100% together: still the share's own error, not an arithmetic panic on the pool's rest.
      await expect(factory.deploy({ ...good, stakingBps: 9500 }))
        .to.be.revertedWithCustomError(factory, "EmissionsStakingShareOutOfBounds")
        .withArgs(9500n);
      await expect(factory.deploy({ ...good, subnetwork: ethers.ZeroHash }))
        .to.be.revertedWithCustomError(factory, "EmissionsInvalidSubnetwork")
        .withArgs(ethers.ZeroHash);
      await expect(factory.deploy({ ...good, subnetwork: COMPUTE }))
        .to.be.revertedWithCustomError(factory, "EmissionsInvalidDistributor")
        .withArgs(good.distributor);
    });
  });

  describe("epoch clock", function () {
    it("counts no epoch before genesis, then whole ended epochs", async function () {
      const fx = await deploy({ genesisOffset: 1000n, epochLength: 3600n });
      expect(await fx.controller.currentEpoch()).to.equal(0n);
      expect(await fx.controller.endedEpochs()).to.equal(0n);
      await expect(fx.controller.distribute(1))
        .to.be.revertedWithCustomError(fx.controller, "EmissionsNothingToDistribute")
        .withArgs(0n, 0n);
      await time.increaseTo(fx.genesisTime + 3599n);
      expect(await fx.controller.currentEpoch()).to.equal(0n);
      expect(await fx.controller.endedEpochs()).to.equal(0n);
      await time.increaseTo(fx.genesisTime + 3600n);
      expect(await fx.controller.currentEpoch()).to.equal(1n);
      expect(await fx.controller.endedEpochs()).to.equal(1n);
      await time.increaseTo(fx.genesisTime + 3n * 3600n + 5n);
      expect(await fx.controller.endedEpochs()).to.equal(3n);
    });
  });

  describe("distribute", function () {
    it("mints an ended epoch's emission once, split between pool, staking and treasury", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await time.increase(fx.epochLength);
      const E = MESH(1_000_000);
      const { pools, staking, treasury } = splitOf(E, [6000], 3000);
      const treasuryBefore = await fx.token.balanceOf(fx.treasury.address);
      const tx = fx.controller.connect(fx.keeper).distribute(1);
      await expect(tx)
        .to.emit(fx.controller, "EpochDistributed")
        .withArgs(0n, E, pools[0], staking, treasury)
        .and.to.emit(fx.controller, "PoolFunded")
        .withArgs(COVERAGE, 0n, await fx.distributor.getAddress(), pools[0])
        .and.to.emit(fx.distributor, "EpochFunded")
        .withArgs(0n, pools[0], pools[0])
        .and.to.emit(fx.vault, "RewardsNotified")
        .withArgs(await fx.controller.getAddress(), staking);
      expect(await fx.token.balanceOf(await fx.distributor.getAddress())).to.equal(pools[0]);
      expect(await fx.token.balanceOf(await fx.vault.getAddress())).to.equal(staking);
      expect(await fx.token.balanceOf(fx.treasury.address)).to.equal(treasuryBefore + treasury);
      expect(await fx.token.totalSupply()).to.equal(GENESIS_ALLOCATION + E);
      expect(await fx.controller.nextEpoch()).to.equal(1n);
      expect(await fx.controller.emitted()).to.equal(E);
      // Exactly once.
      await expect(fx.controller.distribute(1))
        .to.be.revertedWithCustomError(fx.controller, "EmissionsNothingToDistribute")
        .withArgs(1n, 1n);
    });

    it("refuses the epoch in progress and a zero maxEpochs", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await expect(fx.controller.distribute(5))
        .to.be.revertedWithCustomError(fx.controller, "EmissionsNothingToDistribute")
        .withArgs(0n, 0n);
      await time.increase(fx.epochLength * 2n);
      await expect(fx.controller.distribute(0))
        .to.be.revertedWithCustomError(fx.controller, "EmissionsNothingToDistribute")
        .withArgs(0n, 2n);
    });

    it("distributes in order across calls, each epoch once", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      await time.increase(5n * 3600n);
      const first = await (await fx.controller.distribute(2)).wait();
      const second = await (await fx.controller.distribute(10)).wait();
      const epochsOf = (receipt: typeof first) =>
        receipt!.logs
          .map((l) => {
            try {
              return fx.controller.interface.parseLog(l);
            } catch {
              return null;
            }
          })
          .filter((p) => p?.name === "EpochDistributed")
          .map((p) => p!.args[0] as bigint);
      expect(epochsOf(first)).to.deep.equal([0n, 1n]);
      expect(epochsOf(second)).to.deep.equal([2n, 3n, 4n]);
      const funding = await fx.distributor.funding();
      expect(funding.firstEpoch).to.equal(0n);
      expect(funding.lastEpoch).to.equal(4n);
      expect(await fx.vault.notifications()).to.equal(2n); // one per call
    });

    it("catches up at most MAX_CATCHUP_EPOCHS per call", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      const max = await fx.controller.MAX_CATCHUP_EPOCHS();
      await time.increase((max + 8n) * 3600n);
      await fx.controller.distribute(1_000_000);
      expect(await fx.controller.nextEpoch()).to.equal(max);
      await fx.controller.distribute(ethers.MaxUint256);
      expect(await fx.controller.nextEpoch()).to.equal(max + 8n);
    });

    it("halves every halvingInterval epochs and matches the scheduled total", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      await time.increase(7n * 3600n);
      const receipt = await (await fx.controller.distribute(7)).wait();
      const emissions = receipt!.logs
        .map((l) => {
          try {
            return fx.controller.interface.parseLog(l);
          } catch {
            return null;
          }
        })
        .filter((p) => p?.name === "EpochDistributed")
        .map((p) => p!.args[1] as bigint);
      const E = MESH(1000);
      expect(emissions).to.deep.equal([E, E, E / 2n, E / 2n, E / 4n, E / 4n, E / 8n]);
      const total = emissions.reduce((s, x) => s + x, 0n);
      expect(await fx.controller.emitted()).to.equal(total);
      expect(await fx.controller.scheduledEmission(7)).to.equal(total);
      expect(await fx.token.totalSupply()).to.equal(GENESIS_ALLOCATION + total);
      for (let e = 0; e < 7; e++) expect(await fx.controller.emissionOf(e)).to.equal(emissions[e]);
    });

    it("stops cleanly at the cap: the last epoch gets the remainder, later ones zero", async function () {
      const fx = await networkHelpers.loadFixture(capped);
      await time.increase(5n * 3600n);
      const notificationsBefore = await fx.vault.notifications();
      await fx.controller.distribute(2);
      await expect(fx.controller.distribute(1))
        .to.emit(fx.controller, "EpochDistributed")
        .withArgs(2n, MESH(500), MESH(300), MESH(150), MESH(50));
      expect(await fx.controller.emitted()).to.equal(MESH(2500));
      const supply = await fx.token.totalSupply();
      expect(supply).to.equal(GENESIS_ALLOCATION + MESH(2500));
      // After the cap: epochs still advance (and the distributor still sees them), nothing is minted.
      await expect(fx.controller.distribute(2))
        .to.emit(fx.controller, "EpochDistributed")
        .withArgs(3n, 0n, 0n, 0n, 0n)
        .and.to.emit(fx.distributor, "EpochFunded")
        .withArgs(4n, 0n, MESH(1500));
      expect(await fx.token.totalSupply()).to.equal(supply);
      expect(await fx.vault.notifications()).to.equal(notificationsBefore + 2n);
      expect(await fx.controller.emissionOf(3)).to.equal(0n);
      expect(await fx.controller.scheduledEmission(1000)).to.equal(MESH(2500));
    });

    it("gives the rounding remainder to the treasury, so the parts always sum to the emission", async function () {
      const fx = await deploy({ initialEmission: 10_007n, halvingInterval: 1000n, epochLength: 3600n });
      await time.increase(3600n);
      const { pools, staking, treasury } = splitOf(10_007n, [6000], 3000);
      expect(pools[0]! + staking + treasury).to.equal(10_007n);
      await expect(fx.controller.distribute(1))
        .to.emit(fx.controller, "EpochDistributed")
        .withArgs(0n, 10_007n, pools[0], staking, treasury);
      expect(treasury).to.equal(1001n); // 10,007 - 6,004 - 3,002
    });

    it("is atomic: a failing recipient reverts the whole distribution", async function () {
      const fx = await networkHelpers.loadFixture(base);
      await time.increase(fx.epochLength);
      await fx.vault.setRefuse(true);
      await expect(fx.controller.distribute(1)).to.be.revertedWithCustomError(fx.vault, "MockRefused");
      expect(await fx.controller.nextEpoch()).to.equal(0n);
      expect(await fx.token.totalSupply()).to.equal(GENESIS_ALLOCATION);
      await fx.vault.setRefuse(false);
      await fx.controller.distribute(1);
      expect(await fx.controller.nextEpoch()).to.equal(1n);
    });

    it("holds the pool's share while the controller lacks the distributor's FUNDER_ROLE, and pays it once restored", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const controllerAddr = await fx.controller.getAddress();
      await fx.distributor.connect(fx.admin).revokeRole(FUNDER_ROLE, controllerAddr);
      await time.increase(fx.epochLength);
      const share = ((await fx.controller.emissionOf(0)) * 6_000n) / 10_000n;
      await expect(fx.controller.distribute(1))
        .to.emit(fx.controller, "PoolFundingHeld")
        .withArgs(COVERAGE, 0n, await fx.distributor.getAddress(), share);
      expect(await fx.controller.heldFor(COVERAGE)).to.equal(share);
      expect(await fx.token.balanceOf(controllerAddr)).to.equal(share);
      await fx.distributor.connect(fx.admin).grantRole(FUNDER_ROLE, controllerAddr);
      await time.increase(fx.epochLength);
      await fx.controller.distribute(1);
      expect(await fx.controller.heldFor(COVERAGE)).to.equal(0n);
      expect(await fx.token.balanceOf(await fx.distributor.getAddress())).to.equal(2n * share);
      expect((await fx.distributor.funding())[0]).to.equal(2n * share);
    });
  });

  describe("schedule views", function () {
    it("emissionOf and scheduledEmission match the reference model for random parameters", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const factory = await ethers.getContractFactory("EmissionsController");
      const common = {
        token: await fx.token.getAddress(),
        admin: fx.admin.address,
        treasury: fx.treasury.address,
        stakingVault: await fx.vault.getAddress(),
        genesisTime: 0n,
        epochLength: 3600n,
        stakingBps: 3000,
        treasuryBps: 1000,
        subnetwork: COVERAGE,
        distributor: await fx.distributor.getAddress(),
      };
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: MESH(10_000_000) }),
          fc.bigInt({ min: 1n, max: 50n }),
          fc.bigInt({ min: 1n, max: 200n }),
          async (initial, halving, capEpochs) => {
            const cap = initial + (initial * capEpochs) / 7n;
            const c = (await factory.deploy({
              ...common,
              initialEmission: initial,
              halvingInterval: halving,
              emissionCap: cap,
            })) as unknown as EmissionsController;
            const model = modelEmissions(400, initial, halving, cap);
            let total = 0n;
            for (const e of [0, 1, 2, 7, 49, 50, 51, 99, 150, 250, 399]) {
              expect(await c.emissionOf(e)).to.equal(model[e]);
            }
            for (let e = 0; e < 400; e++) total += model[e]!;
            expect(await c.scheduledEmission(400)).to.equal(total);
            expect(total <= cap).to.equal(true);
          },
        ),
        { numRuns: 12 },
      );
    });
  });

  describe("governance", function () {
    it("setSplit applies from the next undistributed epoch onward", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      await time.increase(3600n);
      await fx.controller.distribute(1); // epoch 0 under 60/30/10
      await time.increase(2n * 3600n); // epochs 1 and 2 ended, not distributed
      await expect(fx.controller.connect(fx.admin).setSplit(2000, 500, [7500]))
        .to.emit(fx.controller, "SplitChanged")
        .withArgs(1n, 2000n, 500n, [7500n]);
      expect(await fx.controller.split()).to.deep.equal([2000n, 500n]);
      const E1 = MESH(1000);
      const s1 = splitOf(E1, [7500], 2000);
      await expect(fx.controller.distribute(1))
        .to.emit(fx.controller, "EpochDistributed")
        .withArgs(1n, E1, s1.pools[0], s1.staking, s1.treasury);
    });

    it("setSplit enforces its bounds and a whole", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const c = fx.controller.connect(fx.admin);
      await expect(c.setSplit(999, 1000, [8001]))
        .to.be.revertedWithCustomError(c, "EmissionsStakingShareOutOfBounds")
        .withArgs(999n);
      await expect(c.setSplit(5001, 0, [4999]))
        .to.be.revertedWithCustomError(c, "EmissionsStakingShareOutOfBounds")
        .withArgs(5001n);
      await expect(c.setSplit(3000, 2001, [4999]))
        .to.be.revertedWithCustomError(c, "EmissionsTreasuryShareOutOfBounds")
        .withArgs(2001n);
      await expect(c.setSplit(3000, 1000, [5999]))
        .to.be.revertedWithCustomError(c, "EmissionsSplitNotTotal")
        .withArgs(9999n);
      await expect(c.setSplit(3000, 1000, [3000, 3000]))
        .to.be.revertedWithCustomError(c, "EmissionsPoolCountMismatch")
        .withArgs(2n, 1n);
      // The extremes are allowed.
      await c.setSplit(1000, 0, [9000]);
      await c.setSplit(5000, 2000, [3000]);
      await expect(fx.controller.connect(fx.guardian).setSplit(3000, 1000, [6000]))
        .to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount")
        .withArgs(fx.guardian.address, DEFAULT_ADMIN_ROLE);
    });

    it("addPool adds a subnetwork with a zero share, funded from the next undistributed epoch", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      await time.increase(3600n);
      await fx.controller.distribute(1);
      const compute = await newDistributor(fx, COMPUTE);
      await expect(fx.controller.connect(fx.admin).addPool(COMPUTE, await compute.getAddress()))
        .to.emit(fx.controller, "PoolAdded")
        .withArgs(1n, COMPUTE, await compute.getAddress(), 1n);
      await time.increase(3600n);
      await expect(fx.controller.distribute(1)).to.emit(compute, "EpochFunded").withArgs(1n, 0n, 0n);
      await fx.controller.connect(fx.admin).setSplit(3000, 1000, [4000, 2000]);
      await time.increase(3600n);
      await fx.controller.distribute(1); // epoch 2: emission 500
      const s2 = splitOf(MESH(500), [4000, 2000], 3000);
      expect(await fx.token.balanceOf(await compute.getAddress())).to.equal(s2.pools[1]);
      expect(await compute.funding()).to.deep.equal([s2.pools[1], 1n, 2n, true]);
    });

    it("addPool refuses zero, duplicate or mismatched subnetworks and distributors, and a ninth pool", async function () {
      const fx = await networkHelpers.loadFixture(base);
      const c = fx.controller.connect(fx.admin);
      const compute = await newDistributor(fx, COMPUTE);
      await expect(c.addPool(ethers.ZeroHash, await compute.getAddress()))
        .to.be.revertedWithCustomError(c, "EmissionsInvalidSubnetwork")
        .withArgs(ethers.ZeroHash);
      await expect(c.addPool(COVERAGE, await compute.getAddress()))
        .to.be.revertedWithCustomError(c, "EmissionsInvalidSubnetwork")
        .withArgs(COVERAGE);
      await expect(c.addPool(COMPUTE, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c,
        "EmissionsZeroAddress",
      );
      await expect(c.addPool(COMPUTE, await fx.distributor.getAddress()))
        .to.be.revertedWithCustomError(c, "EmissionsInvalidDistributor")
        .withArgs(await fx.distributor.getAddress());
      const storage = ethers.id("hexmesh.storage");
      await expect(c.addPool(storage, await compute.getAddress()))
        .to.be.revertedWithCustomError(c, "EmissionsInvalidDistributor")
        .withArgs(await compute.getAddress());
      await expect(fx.controller.connect(fx.outsider).addPool(COMPUTE, await compute.getAddress()))
        .to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount")
        .withArgs(fx.outsider.address, DEFAULT_ADMIN_ROLE);
      const max = Number(await c.MAX_POOLS());
      for (let i = 1; i < max; i++) {
        const id = ethers.id(`subnetwork ${i}`);
        await c.addPool(id, await (await newDistributor(fx, id)).getAddress());
      }
      const extra = ethers.id("one too many");
      await expect(
        c.addPool(extra, await (await newDistributor(fx, extra)).getAddress()),
      ).to.be.revertedWithCustomError(c, "EmissionsTooManyPools");
      expect((await c.pools()).length).to.equal(max);
    });

    it("setPoolDistributor replaces a pool's distributor from the next epoch; refuses unknown or mismatched ones", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      const c = fx.controller.connect(fx.admin);
      const replacement = await newDistributor(fx, COVERAGE);
      await expect(c.setPoolDistributor(COMPUTE, await replacement.getAddress()))
        .to.be.revertedWithCustomError(c, "EmissionsUnknownSubnetwork")
        .withArgs(COMPUTE);
      const compute = await newDistributor(fx, COMPUTE);
      await expect(c.setPoolDistributor(COVERAGE, await compute.getAddress()))
        .to.be.revertedWithCustomError(c, "EmissionsInvalidDistributor")
        .withArgs(await compute.getAddress());
      await expect(c.setPoolDistributor(COVERAGE, await replacement.getAddress()))
        .to.emit(c, "PoolDistributorChanged")
        .withArgs(COVERAGE, await fx.distributor.getAddress(), await replacement.getAddress(), 0n);
      await time.increase(3600n);
      await fx.controller.distribute(1);
      expect(await fx.token.balanceOf(await replacement.getAddress())).to.equal(MESH(600));
      expect(await fx.token.balanceOf(await fx.distributor.getAddress())).to.equal(0n);
      await expect(
        fx.controller.connect(fx.outsider).setPoolDistributor(COVERAGE, await compute.getAddress()),
      ).to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount");
    });

    it("setStakingVault and setTreasury: admin only, non-zero, from the next epoch", async function () {
      const fx = await networkHelpers.loadFixture(smallSchedule);
      const c = fx.controller.connect(fx.admin);
      const vault2 = await ethers.deployContract("StakingRewardsReceiverMock", [await fx.token.getAddress()]);
      await expect(c.setStakingVault(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c,
        "EmissionsZeroAddress",
      );
      await expect(c.setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        c,
        "EmissionsZeroAddress",
      );
      await expect(c.setStakingVault(await vault2.getAddress()))
        .to.emit(c, "StakingVaultChanged")
        .withArgs(await fx.vault.getAddress(), await vault2.getAddress(), 0n);
      await expect(c.setTreasury(fx.keeper.address))
        .to.emit(c, "TreasuryChanged")
        .withArgs(fx.treasury.address, fx.keeper.address, 0n);
      await time.increase(3600n);
      await fx.controller.distribute(1);
      expect(await fx.token.balanceOf(await vault2.getAddress())).to.equal(MESH(300));
      expect(await fx.token.balanceOf(fx.keeper.address)).to.equal(MESH(100));
      for (const call of [
        fx.controller.connect(fx.outsider).setStakingVault(fx.outsider.address),
        fx.controller.connect(fx.outsider).setTreasury(fx.outsider.address),
      ]) {
        await expect(call)
          .to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount")
          .withArgs(fx.outsider.address, DEFAULT_ADMIN_ROLE);
      }
    });
  });
});
