/**
 * Deploys and wires the whole Hexmesh suite on a chain for the demo and the end-to-end test:
 * MESH, DeviceRegistry (+ linked P-256 verifier), StakingVault, the coverage RewardsDistributor
 * with a k-of-n oracle set, and the EmissionsController. Same wiring as the deployment module:
 * token minter = controller, vault REWARDS_NOTIFIER_ROLE = controller, distributor FUNDER_ROLE =
 * controller, an approved maker, a device class with an onboarding fee, a device bond.
 *
 * Governance: with `timelockDelay`, a HexmeshTimelock (proposer and executor: the `admin` account)
 * receives DEFAULT_ADMIN_ROLE of the registry, vault, distributor and controller once they are wired,
 * and the admin account renounces it, so every later change (the maker's approval included, see
 * `approveMaker`) is scheduled, waits out the delay and is executed. Without it the admin account
 * keeps the role (tests). No top-level side effects.
 */
import { Wallet, id, keccak256, toUtf8Bytes } from "ethers";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import type {
  DeviceRegistry,
  EmissionsController,
  HexmeshTimelock,
  MeshToken,
  RewardsDistributor,
  StakingVault,
} from "../../typechain-types/index.js";
import type { TimeControl } from "./epoch.js";

export const MESH = (n: bigint | number): bigint => BigInt(n) * 10n ** 18n;
export const COVERAGE = id("hexmesh.coverage");
export const DAY = 86_400n;
export const HOTSPOT_CLASS = 1;
export const MAKER_ID = 1;
export const MAKER_ALLOWANCE = 10_000;

export interface SuiteOptions {
  readonly oracleCount?: number;
  readonly threshold?: number;
  readonly epochLength?: bigint;
  readonly initialEmission?: bigint;
  readonly onboardingFee?: bigint;
  readonly minStakePerDevice?: bigint;
  readonly challengeWindow?: bigint;
  /** Seconds from the deployment to genesis (rounded up to a whole day so 6-hour windows align). */
  readonly genesisDelay?: bigint;
  /** Hand admin powers to a timelock with this delay (must exceed the 7-day unstake cooldown). */
  readonly timelockDelay?: bigint;
}

export interface Suite {
  readonly ethers: HardhatEthers;
  readonly chainId: bigint;
  readonly token: MeshToken;
  readonly registry: DeviceRegistry;
  readonly vault: StakingVault;
  readonly distributor: RewardsDistributor;
  readonly controller: EmissionsController;
  readonly deployer: HardhatEthersSigner;
  readonly admin: HardhatEthersSigner;
  readonly guardian: HardhatEthersSigner;
  readonly treasury: HardhatEthersSigner;
  /** Oracle operators' keys (the set on the distributor), sorted by address. */
  readonly oracleKeys: Wallet[];
  readonly makerKey: Wallet;
  readonly genesisTime: bigint;
  readonly epochLength: bigint;
  readonly challengeWindow: bigint;
  readonly deployBlock: number;
  /** Admin of every contract when deployed with `timelockDelay`. */
  readonly timelock: HexmeshTimelock | undefined;
}

/** Deterministic oracle keys, as each operator's key file would hold one. */
export function oracleKeys(count: number): Wallet[] {
  return Array.from(
    { length: count },
    (_, i) => new Wallet(keccak256(toUtf8Bytes(`hexmesh demo oracle ${i}`))),
  ).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
}

/** Signers 0..3: deployer, admin (governance stand-in), guardian, treasury. */
export async function deploySuite(ethers: HardhatEthers, o: SuiteOptions = {}): Promise<Suite> {
  const [deployer, admin, guardian, treasury] = await ethers.getSigners();
  if (!deployer || !admin || !guardian || !treasury) throw new Error("need at least 4 accounts");
  const epochLength = o.epochLength ?? DAY;
  const challengeWindow = o.challengeWindow ?? 6n * 3600n;
  const keys = oracleKeys(o.oracleCount ?? 3);
  const maker = new Wallet(keccak256(toUtf8Bytes("hexmesh demo maker")));
  const deployBlock = await ethers.provider.getBlockNumber();
  const genesisAllocation = MESH(300_000_000n);

  const token = (await ethers.deployContract("MeshToken", [
    treasury.address,
    genesisAllocation,
    deployer.address,
  ])) as unknown as MeshToken;
  const lib = await ethers.deployContract("P256Verifier");
  const registryFactory = await ethers.getContractFactory("DeviceRegistry", {
    libraries: { P256Verifier: await lib.getAddress() },
  });
  const registry = (await registryFactory.deploy(
    admin.address,
    await token.getAddress(),
  )) as unknown as DeviceRegistry;
  await registry.waitForDeployment();
  const vault = (await ethers.deployContract("StakingVault", [
    admin.address,
    await token.getAddress(),
    await registry.getAddress(),
    treasury.address,
    epochLength, // an epoch's staking rewards stream over the next epoch
    7n * DAY,
  ])) as unknown as StakingVault;
  const distributor = (await ethers.deployContract("RewardsDistributor", [
    await token.getAddress(),
    COVERAGE,
    admin.address,
    guardian.address,
    keys.map((k) => k.address),
    o.threshold ?? 2,
    challengeWindow,
  ])) as unknown as RewardsDistributor;
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const genesisTime = ((now + (o.genesisDelay ?? 3600n) + (o.timelockDelay ?? 0n)) / DAY + 1n) * DAY;
  const controller = (await ethers.deployContract("EmissionsController", [
    {
      token: await token.getAddress(),
      admin: admin.address,
      treasury: treasury.address,
      stakingVault: await vault.getAddress(),
      genesisTime,
      epochLength,
      initialEmission: o.initialEmission ?? MESH(100_000n),
      halvingInterval: 365n,
      emissionCap: MESH(1_000_000_000n) - genesisAllocation,
      stakingBps: 3_000,
      treasuryBps: 1_000,
      subnetwork: COVERAGE,
      distributor: await distributor.getAddress(),
    },
  ])) as unknown as EmissionsController;
  const controllerAddress = await controller.getAddress();

  await (await token.connect(deployer).setMinter(controllerAddress)).wait();
  await (await vault.connect(admin).grantRole(await vault.REWARDS_NOTIFIER_ROLE(), controllerAddress)).wait();
  await (await vault.connect(admin).grantRole(await vault.GUARDIAN_ROLE(), guardian.address)).wait();
  await (
    await distributor.connect(admin).grantRole(await distributor.FUNDER_ROLE(), controllerAddress)
  ).wait();
  await (await registry.connect(admin).grantRole(await registry.GUARDIAN_ROLE(), guardian.address)).wait();
  await (await registry.connect(admin).grantRole(await registry.DENYLIST_ROLE(), guardian.address)).wait();
  await (
    await registry.connect(admin).setDeviceClass(HOTSPOT_CLASS, {
      enabled: true,
      subnetwork: 0,
      onboardingFee: o.onboardingFee ?? MESH(40),
    })
  ).wait();
  await (await vault.connect(admin).setMinStakePerDevice(o.minStakePerDevice ?? MESH(100))).wait();

  let timelock: HexmeshTimelock | undefined;
  if (o.timelockDelay !== undefined) {
    timelock = (await ethers.deployContract("HexmeshTimelock", [
      o.timelockDelay,
      [admin.address],
      [admin.address],
      "0x0000000000000000000000000000000000000000",
    ])) as unknown as HexmeshTimelock;
    const governed = [registry, vault, distributor, controller] as const;
    for (const c of governed) {
      const role = await c.DEFAULT_ADMIN_ROLE();
      await (await c.connect(admin).grantRole(role, await timelock.getAddress())).wait();
      await (await c.connect(admin).renounceRole(role, admin.address)).wait();
    }
  } else {
    await (await registry.connect(admin).addMaker(MAKER_ID, maker.address, MAKER_ALLOWANCE)).wait();
  }

  return {
    ethers,
    chainId: (await ethers.provider.getNetwork()).chainId,
    token,
    registry,
    vault,
    distributor,
    controller,
    deployer,
    admin,
    guardian,
    treasury,
    oracleKeys: keys,
    makerKey: maker,
    genesisTime,
    epochLength,
    challengeWindow,
    deployBlock,
    timelock,
  };
}

/**
 * Governance approves the maker through the timelock: schedule `addMaker`, wait out the delay,
 * execute. Returns the delay waited (seconds). No-op when the suite has no timelock (the admin
 * account approved the maker at deployment).
 */
export async function approveMaker(suite: Suite, time: TimeControl): Promise<bigint> {
  const timelock = suite.timelock;
  if (timelock === undefined) return 0n;
  const target = await suite.registry.getAddress();
  const data = suite.registry.interface.encodeFunctionData("addMaker", [
    MAKER_ID,
    suite.makerKey.address,
    MAKER_ALLOWANCE,
  ]);
  const zero = `0x${"00".repeat(32)}`;
  const salt = id("hexmesh demo: approve maker 1");
  const delay = await timelock.getMinDelay();
  const gov = timelock.connect(suite.admin);
  await (await gov.schedule(target, 0n, data, zero, salt, delay)).wait();
  await time.increaseTo(BigInt(await time.latest()) + delay);
  await (await gov.execute(target, 0n, data, zero, salt)).wait();
  const maker = await suite.registry.makerInfo(MAKER_ID);
  if (maker.signer !== suite.makerKey.address) throw new Error("maker approval did not execute");
  return delay;
}
