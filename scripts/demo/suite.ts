/**
 * The Hexmesh suite as the demo, the oracle dev service and the end-to-end test use it: demo
 * parameters for the in-process chain, deployed through the project's Ignition module
 * (deploy/lib/suite.ts), with the accounts and keys of the people involved. No top-level side
 * effects.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { formatUnits, id, keccak256, toUtf8Bytes, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { parseHexmeshParameters } from "../../deploy/lib/hexmesh.js";
import { deploySuite, type DeployedSuite } from "../../deploy/lib/suite.js";

export const MESH = (n: bigint | number): bigint => BigInt(n) * 10n ** 18n;
export const DAY = 86_400n;
export const HOTSPOT_CLASS = 1;
/** The registry's subnetwork numbers of storage and compute device classes (coverage's is 0). */
export const STORAGE_CLASS_SUBNETWORK = 2;
export const COMPUTE_CLASS_SUBNETWORK = 1;
/** Device classes of the storage and compute subnetworks, as in deploy/parameters/localhost.json. */
export const STORAGE_CLASS = 3;
export const COMPUTE_CPU_CLASS = 4;
export const COMPUTE_GPU_CLASS = 5;
/** ComputeJobs' prices, credits (micro-USD) per unit: $0.001 per CPU unit, $0.02 per GPU unit. */
export const COMPUTE_CPU_PRICE = 1_000;
export const COMPUTE_GPU_PRICE = 20_000;
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
  /** The timelock's delay (must exceed the 7-day unstake cooldown). Default 8 days. */
  readonly timelockDelay?: bigint;
  /** Approve the maker in the deployment itself (tests) instead of through the timelock later (demo). */
  readonly approveMakerAtDeploy?: boolean;
  /** Ignition's deployment id on a node (the in-process chain records nothing). */
  readonly deploymentId?: string;
}

/** Moves the chain's clock (the in-process chain's network helpers). */
export interface TimeControl {
  increaseTo(timestamp: bigint | number): Promise<void>;
  latest(): Promise<number>;
}

export interface Suite extends DeployedSuite {
  readonly ethers: NetworkConnection["ethers"];
  readonly time: TimeControl;
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
}

/** Deterministic oracle keys, as each operator's key file would hold one. */
export function oracleKeys(count: number): Wallet[] {
  return Array.from(
    { length: count },
    (_, i) => new Wallet(keccak256(toUtf8Bytes(`hexmesh demo oracle ${i}`))),
  ).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
}

/**
 * Deploys the suite through the project's Hardhat Ignition module (deploy/lib/hexmesh.ts), with
 * parameters for a demo on the in-process chain, checked by the module's own parser. Signers 0..3:
 * deployer, governance (the timelock's proposer and executor), guardian (also the denylister),
 * treasury. The treasury then funds nobody: callers transfer what they need.
 */
export async function deployDemoSuite(connection: NetworkConnection, o: SuiteOptions = {}): Promise<Suite> {
  const { ethers, networkHelpers } = connection;
  const [deployer, admin, guardian, treasury] = await ethers.getSigners();
  if (!deployer || !admin || !guardian || !treasury) throw new Error("need at least 4 accounts");
  const epochLength = o.epochLength ?? DAY;
  const challengeWindow = o.challengeWindow ?? 6n * 3600n;
  const timelockDelay = o.timelockDelay ?? 8n * DAY;
  const cooldown = 7n * DAY;
  const keys = oracleKeys(o.oracleCount ?? 3);
  const maker = new Wallet(keccak256(toUtf8Bytes("hexmesh demo maker")));
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  // Whole days, so the oracle's 6-hour beacon windows (aligned to Unix time) tile every epoch.
  const genesisTime =
    ((now + (o.genesisDelay ?? 3600n) + (o.approveMakerAtDeploy ? 0n : timelockDelay)) / DAY + 1n) * DAY;
  const mesh = (v: bigint) => formatUnits(v, 18);
  // One oracle set for the three subnetworks in the demo (the parameters allow a set per subnetwork).
  const oracleSet = {
    oracles: keys.map((k) => k.address),
    threshold: o.threshold ?? 2,
    challengeWindow: Number(challengeWindow),
  };

  const params = parseHexmeshParameters({
    Hexmesh: {
      treasury: treasury.address,
      guardian: guardian.address,
      denylister: guardian.address,
      genesisSupply: "300000000",
      timelock: { minDelay: Number(timelockDelay), proposers: [admin.address], executors: [admin.address] },
      // An epoch's staking rewards stream over the next epoch.
      vault: {
        cooldown: Number(cooldown),
        rewardsDuration: Number(epochLength),
        minStakePerDevice: mesh(o.minStakePerDevice ?? MESH(100)),
      },
      registry: {
        assertFee: "5",
        deviceClasses: [
          {
            id: HOTSPOT_CLASS,
            enabled: true,
            subnetwork: 0,
            onboardingFee: mesh(o.onboardingFee ?? MESH(40)),
          },
          ...[STORAGE_CLASS, COMPUTE_CPU_CLASS, COMPUTE_GPU_CLASS].map((id) => ({
            id,
            enabled: true,
            subnetwork: id === STORAGE_CLASS ? STORAGE_CLASS_SUBNETWORK : COMPUTE_CLASS_SUBNETWORK,
            onboardingFee: mesh(o.onboardingFee ?? MESH(40)),
          })),
        ],
        makers: o.approveMakerAtDeploy
          ? [{ id: MAKER_ID, signer: maker.address, allowance: MAKER_ALLOWANCE }]
          : [],
      },
      emissions: {
        genesisTime: Number(genesisTime),
        epochLength: Number(epochLength),
        initialEmission: mesh(o.initialEmission ?? MESH(100_000n)),
        halvingInterval: 365,
        emissionCap: "700000000",
        stakingBps: 3_000,
        // The storage and compute pools (5% each) take the treasury's share, so coverage's 60% and
        // staking's 30% (and the demo's coverage roots) stay as they were.
        treasuryBps: 0,
      },
      coverage: oracleSet,
      storage: { ...oracleSet, classSubnetwork: STORAGE_CLASS_SUBNETWORK, poolBps: 500 },
      compute: {
        ...oracleSet,
        classSubnetwork: COMPUTE_CLASS_SUBNETWORK,
        poolBps: 500,
        prices: [
          { deviceClass: COMPUTE_CPU_CLASS, creditsPerUnit: COMPUTE_CPU_PRICE },
          { deviceClass: COMPUTE_GPU_CLASS, creditsPerUnit: COMPUTE_GPU_PRICE },
        ],
      },
      // Testnet-style: the timelock sets MESH/USD, $0.05 at deploy.
      credits: { price: { source: "governed", initialPrice: "0.05" } },
    },
  });
  const deployed = await deploySuite(connection, params, o.deploymentId);
  return {
    ...deployed,
    ethers,
    time: {
      increaseTo: (t) => networkHelpers.time.increaseTo(t),
      latest: () => networkHelpers.time.latest(),
    },
    deployer,
    admin,
    guardian,
    treasury,
    oracleKeys: keys,
    makerKey: maker,
    genesisTime,
    epochLength,
    challengeWindow,
  };
}

/**
 * Governance approves the maker through the timelock: schedule `addMaker`, wait out the delay,
 * execute. Returns the delay waited (seconds).
 */
export async function approveMaker(suite: Suite): Promise<bigint> {
  const { time } = suite;
  const timelock = suite.timelock;
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
