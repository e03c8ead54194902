/**
 * The Hexmesh suite as one Ignition module, built from parameters that are validated before anything is
 * sent. Values are resolved at build time (not Ignition runtime parameters) because device classes and
 * makers are lists the module loops over, and because the timelock/cooldown rule must fail before a
 * single transaction leaves the machine. Ignition journals every future with its concrete arguments, so a
 * rerun with the same file is a no-op and a changed value is reported as a reconciliation error.
 */
import { readFileSync } from "node:fs";

import { buildModule } from "@nomicfoundation/ignition-core";
import { getAddress, id, isAddress, parseUnits, ZeroHash } from "ethers";
import { HardhatPluginError } from "hardhat/plugins";

import { SUBNETWORK_COMPUTE, SUBNETWORK_COVERAGE, SUBNETWORK_STORAGE } from "@hexmesh/protocol";

export const MODULE_ID = "Hexmesh";

/** Subnetwork ids of the rewards pools (one distributor per subnetwork). */
export { SUBNETWORK_COMPUTE, SUBNETWORK_COVERAGE, SUBNETWORK_STORAGE };

export const ROLES = {
  DEFAULT_ADMIN: ZeroHash,
  GUARDIAN: id("GUARDIAN_ROLE"),
  DENYLIST: id("DENYLIST_ROLE"),
  SLASHER: id("SLASHER_ROLE"),
  REWARDS_NOTIFIER: id("REWARDS_NOTIFIER_ROLE"),
  FUNDER: id("FUNDER_ROLE"),
  // TimelockController roles.
  PROPOSER: id("PROPOSER_ROLE"),
  EXECUTOR: id("EXECUTOR_ROLE"),
  CANCELLER: id("CANCELLER_ROLE"),
} as const;

/** StakingVault's bounds (MIN_COOLDOWN .. MAX_COOLDOWN, MIN_REWARDS_DURATION .. MAX_REWARDS_DURATION). */
const DAY = 86_400;
export const VAULT_LIMITS = {
  minCooldown: DAY,
  maxCooldown: 30 * DAY,
  minRewardsDuration: 60,
  maxRewardsDuration: 365 * DAY,
} as const;

export interface DeviceClassParam {
  id: number;
  /** What the class is ("storage", "compute: NVIDIA RTX 4090"); documentation only, not sent on chain. */
  name?: string;
  enabled: boolean;
  subnetwork: number;
  /** Onboarding fee in wei of MESH. */
  onboardingFee: bigint;
}

export interface MakerParam {
  id: number;
  signer: string;
  allowance: number;
}

/** EmissionsController bounds (MIN_/MAX_EPOCH_LENGTH, staking and treasury shares) and the token cap. */
export const EMISSIONS_LIMITS = {
  minEpochLength: 60,
  maxEpochLength: 30 * DAY,
  minStakingBps: 1_000,
  maxStakingBps: 5_000,
  maxTreasuryBps: 2_000,
  tokenCap: parseUnits("1000000000", 18),
} as const;

/** RewardsDistributor bounds. */
export const DISTRIBUTOR_LIMITS = {
  minChallengeWindow: 3_600,
  maxChallengeWindow: 7 * DAY,
  maxOracles: 32,
} as const;

export interface HexmeshParameters {
  treasury: string;
  guardian: string;
  /** DENYLIST_ROLE holder on the registry (the oracle operators' compliance key). */
  denylister: string;
  /** MESH minted to the treasury at deploy, in wei. */
  genesisSupply: bigint;
  timelock: { minDelay: number; proposers: string[]; executors: string[] };
  vault: { cooldown: number; rewardsDuration: number; minStakePerDevice: bigint };
  registry: { assertFee: bigint; deviceClasses: DeviceClassParam[]; makers: MakerParam[] };
  emissions: {
    /** Unix time of epoch 0's start. */
    genesisTime: number;
    epochLength: number;
    /** MESH per epoch before the first halving, in wei. */
    initialEmission: bigint;
    halvingInterval: number;
    /** Total MESH the controller may ever mint, in wei. */
    emissionCap: bigint;
    stakingBps: number;
    treasuryBps: number;
  };
  coverage: OracleSetParam;
  /** The storage subnetwork: StorageDeals, its distributor and emissions pool. */
  storage: SubnetworkParam;
  /** The compute subnetwork: ComputeJobs, its distributor and emissions pool, and its class prices. */
  compute: SubnetworkParam & { prices: ComputePriceParam[] };
  /**
   * Usage credits and their MESH/USD price source; `creditsPerPacket`: the coverage data-transfer
   * price per started 24-byte packet (optional in the file, default 1; 1 to 10,000).
   */
  credits: { price: GovernedPriceParam | QuorumPriceParam; creditsPerPacket: number };
}

/** A subnetwork's RewardsDistributor: its oracle set, k-of-n threshold and challenge window. */
export interface OracleSetParam {
  oracles: string[];
  threshold: number;
  challengeWindow: number;
}

/**
 * A subnetwork beside coverage: its distributor, its emissions pool's share of each epoch (basis points;
 * coverage gets what staking, treasury and the other pools leave), and the registry's subnetwork number
 * of its device classes (the market contract accepts devices of those classes only).
 */
export interface SubnetworkParam extends OracleSetParam {
  poolBps: number;
  classSubnetwork: number;
}

/** ComputeJobs' price of one unit of a compute device class, in credits (micro-USD). */
export interface ComputePriceParam {
  deviceClass: number;
  creditsPerUnit: number;
}

/** ComputeJobs' price bounds (MIN_PRICE .. MAX_PRICE, credits per unit). */
export const COMPUTE_LIMITS = { minPrice: 1, maxPrice: 1_000_000_000 } as const;

/** A price the timelock sets (testnets): the first price, USD per MESH with 18 decimals. */
export interface GovernedPriceParam {
  source: "governed";
  initialPrice: bigint;
}

/** A price signed by a k-of-n oracle set (a network where MESH has a market). */
export interface QuorumPriceParam {
  source: "quorum";
  oracles: string[];
  threshold: number;
}

/** DataTransferSettlement's bound on the price per packet (MAX_CREDITS_PER_PACKET). */
export const SETTLEMENT_LIMITS = { maxCreditsPerPacket: 10_000 } as const;

/** GovernedPrice's and QuorumPrice's bounds. */
export const PRICE_LIMITS = { maxPrice: parseUnits("1000000000000", 18), maxOracles: 32 } as const;

/** A plugin error, so Hardhat's CLI prints it without a stack trace or a bug-report link. */
export class HexmeshParameterError extends HardhatPluginError {
  constructor(message: string) {
    super("hexmesh", `Hexmesh parameters: ${message}`);
    this.name = "HexmeshParameterError";
  }
}

type Json = Record<string, unknown>;

function obj(v: unknown, where: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new HexmeshParameterError(`${where} must be an object`);
  return v as Json;
}
function addr(v: unknown, where: string): string {
  if (typeof v !== "string" || !isAddress(v))
    throw new HexmeshParameterError(`${where} must be an address, got ${String(v)}`);
  const a = getAddress(v);
  if (a === "0x0000000000000000000000000000000000000000")
    throw new HexmeshParameterError(`${where} must not be zero`);
  return a;
}
function int(v: unknown, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new HexmeshParameterError(`${where} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}
/** MESH amounts are written as decimal strings in MESH ("40", "0.5"), never in wei, so files stay readable. */
function mesh(v: unknown, where: string): bigint {
  if (typeof v !== "string" || !/^\d+(\.\d{1,18})?$/.test(v)) {
    throw new HexmeshParameterError(
      `${where} must be a MESH amount as a decimal string (e.g. "40"), got ${String(v)}`,
    );
  }
  return parseUnits(v, 18);
}
function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new HexmeshParameterError(`${where} must be an array`);
  return v;
}

/**
 * Epoch 0's start: a unix time, or "today" (00:00 UTC of the day the module is built) for local demos.
 * "today" keeps reruns on the same day no-ops; a rerun on a later day is refused by Ignition's
 * reconciliation (the controller's argument changed) instead of silently redeploying.
 */
function genesis(v: unknown): number {
  if (v === "today") return Math.floor(Date.now() / 1000 / DAY) * DAY;
  return int(v, "emissions.genesisTime", 1, 2 ** 64 - 1);
}

/** `credits.price`: `{ "source": "governed", "initialPrice": "0.05" }` (USD per MESH) or
 * `{ "source": "quorum", "oracles": [...], "threshold": k }`. */
function priceParam(o: Json): GovernedPriceParam | QuorumPriceParam {
  if (o.source === "governed") {
    if (typeof o.initialPrice !== "string" || !/^\d+(\.\d{1,18})?$/.test(o.initialPrice)) {
      throw new HexmeshParameterError(
        `credits.price.initialPrice must be USD per MESH as a decimal string (e.g. "0.05"), got ${String(o.initialPrice)}`,
      );
    }
    const initialPrice = parseUnits(o.initialPrice, 18);
    if (initialPrice === 0n || initialPrice > PRICE_LIMITS.maxPrice) {
      throw new HexmeshParameterError("credits.price.initialPrice must be above 0 and at most 10^12 USD");
    }
    return { source: "governed", initialPrice };
  }
  if (o.source === "quorum") {
    const oracles = list(o.oracles, "credits.price.oracles").map((a, i) =>
      addr(a, `credits.price.oracles[${i}]`),
    );
    if (
      oracles.length === 0 ||
      oracles.length > PRICE_LIMITS.maxOracles ||
      new Set(oracles).size !== oracles.length
    ) {
      throw new HexmeshParameterError(
        `credits.price.oracles must be 1 to ${PRICE_LIMITS.maxOracles} distinct addresses`,
      );
    }
    return {
      source: "quorum",
      oracles,
      threshold: int(o.threshold, "credits.price.threshold", 1, oracles.length),
    };
  }
  throw new HexmeshParameterError(
    `credits.price.source must be "governed" or "quorum", got ${String(o.source)}`,
  );
}

/** `coverage`, `storage`, `compute`: a distributor's oracle set, each a clear error when out of bounds. */
function oracleSet(o: Json, where: string): OracleSetParam {
  const oracles = list(o.oracles, `${where}.oracles`).map((a, i) => addr(a, `${where}.oracles[${i}]`));
  if (
    oracles.length === 0 ||
    oracles.length > DISTRIBUTOR_LIMITS.maxOracles ||
    new Set(oracles).size !== oracles.length
  ) {
    throw new HexmeshParameterError(
      `${where}.oracles must be 1 to ${DISTRIBUTOR_LIMITS.maxOracles} distinct addresses`,
    );
  }
  const threshold = int(o.threshold, `${where}.threshold`, 1);
  if (threshold > oracles.length) {
    throw new HexmeshParameterError(
      `${where}.threshold (${threshold}) exceeds the ${oracles.length} oracles`,
    );
  }
  return {
    oracles,
    threshold,
    challengeWindow: int(
      o.challengeWindow,
      `${where}.challengeWindow`,
      DISTRIBUTOR_LIMITS.minChallengeWindow,
      DISTRIBUTOR_LIMITS.maxChallengeWindow,
    ),
  };
}

/** `storage` and `compute`: an oracle set plus the pool's share and the registry's class subnetwork number. */
function subnetworkParam(o: Json, where: string): SubnetworkParam {
  return {
    ...oracleSet(o, where),
    poolBps: int(o.poolBps, `${where}.poolBps`, 0, 10_000),
    classSubnetwork: int(o.classSubnetwork, `${where}.classSubnetwork`, 1, 255),
  };
}

/** Parses and checks the `Hexmesh` section of a parameters file; every violation is a clear error. */
export function parseHexmeshParameters(file: unknown): HexmeshParameters {
  const root = obj(file, "file");
  const p = obj(root[MODULE_ID], `"${MODULE_ID}"`);
  const tl = obj(p.timelock, "timelock");
  const v = obj(p.vault, "vault");
  const r = obj(p.registry, "registry");
  const e = obj(p.emissions, "emissions");
  const cov = obj(p.coverage, "coverage");
  const cr = obj(p.credits, "credits");
  const st = obj(p.storage, "storage");
  const cp = obj(p.compute, "compute");
  const params: HexmeshParameters = {
    treasury: addr(p.treasury, "treasury"),
    guardian: addr(p.guardian, "guardian"),
    denylister: addr(p.denylister, "denylister"),
    genesisSupply: mesh(p.genesisSupply, "genesisSupply"),
    timelock: {
      minDelay: int(tl.minDelay, "timelock.minDelay", 1),
      proposers: list(tl.proposers, "timelock.proposers").map((a, i) => addr(a, `timelock.proposers[${i}]`)),
      executors: list(tl.executors, "timelock.executors").map((a, i) => addr(a, `timelock.executors[${i}]`)),
    },
    vault: {
      cooldown: int(v.cooldown, "vault.cooldown", VAULT_LIMITS.minCooldown, VAULT_LIMITS.maxCooldown),
      rewardsDuration: int(
        v.rewardsDuration,
        "vault.rewardsDuration",
        VAULT_LIMITS.minRewardsDuration,
        VAULT_LIMITS.maxRewardsDuration,
      ),
      minStakePerDevice: mesh(v.minStakePerDevice, "vault.minStakePerDevice"),
    },
    registry: {
      assertFee: mesh(r.assertFee, "registry.assertFee"),
      deviceClasses: list(r.deviceClasses, "registry.deviceClasses").map((c, i) => {
        const o = obj(c, `registry.deviceClasses[${i}]`);
        if (typeof o.enabled !== "boolean")
          throw new HexmeshParameterError(`registry.deviceClasses[${i}].enabled must be a boolean`);
        if (o.name !== undefined && typeof o.name !== "string")
          throw new HexmeshParameterError(`registry.deviceClasses[${i}].name must be a string`);
        return {
          id: int(o.id, `registry.deviceClasses[${i}].id`, 1, 65_535),
          ...(o.name !== undefined ? { name: o.name } : {}),
          enabled: o.enabled,
          subnetwork: int(o.subnetwork, `registry.deviceClasses[${i}].subnetwork`, 0, 255),
          onboardingFee: mesh(o.onboardingFee, `registry.deviceClasses[${i}].onboardingFee`),
        };
      }),
      makers: list(r.makers, "registry.makers").map((m, i) => {
        const o = obj(m, `registry.makers[${i}]`);
        return {
          id: int(o.id, `registry.makers[${i}].id`, 1, 2 ** 32 - 1),
          signer: addr(o.signer, `registry.makers[${i}].signer`),
          allowance: int(o.allowance, `registry.makers[${i}].allowance`, 0, 2 ** 48 - 1),
        };
      }),
    },
    emissions: {
      genesisTime: genesis(e.genesisTime),
      epochLength: int(
        e.epochLength,
        "emissions.epochLength",
        EMISSIONS_LIMITS.minEpochLength,
        EMISSIONS_LIMITS.maxEpochLength,
      ),
      initialEmission: mesh(e.initialEmission, "emissions.initialEmission"),
      halvingInterval: int(e.halvingInterval, "emissions.halvingInterval", 1, 2 ** 32 - 1),
      emissionCap: mesh(e.emissionCap, "emissions.emissionCap"),
      stakingBps: int(
        e.stakingBps,
        "emissions.stakingBps",
        EMISSIONS_LIMITS.minStakingBps,
        EMISSIONS_LIMITS.maxStakingBps,
      ),
      treasuryBps: int(e.treasuryBps, "emissions.treasuryBps", 0, EMISSIONS_LIMITS.maxTreasuryBps),
    },
    coverage: oracleSet(cov, "coverage"),
    storage: subnetworkParam(st, "storage"),
    compute: {
      ...subnetworkParam(cp, "compute"),
      prices: list(cp.prices, "compute.prices").map((x, i) => {
        const o = obj(x, `compute.prices[${i}]`);
        return {
          deviceClass: int(o.deviceClass, `compute.prices[${i}].deviceClass`, 1, 65_535),
          creditsPerUnit: int(
            o.creditsPerUnit,
            `compute.prices[${i}].creditsPerUnit`,
            COMPUTE_LIMITS.minPrice,
            COMPUTE_LIMITS.maxPrice,
          ),
        };
      }),
    },
    credits: {
      price: priceParam(obj(cr.price, "credits.price")),
      creditsPerPacket:
        cr.creditsPerPacket === undefined
          ? 1
          : int(cr.creditsPerPacket, "credits.creditsPerPacket", 1, SETTLEMENT_LIMITS.maxCreditsPerPacket),
    },
  };
  const em = params.emissions;
  if (em.initialEmission === 0n || em.initialEmission > em.emissionCap) {
    throw new HexmeshParameterError(
      "emissions.initialEmission must be above 0 and at most emissions.emissionCap",
    );
  }
  if (params.genesisSupply + em.emissionCap > EMISSIONS_LIMITS.tokenCap) {
    throw new HexmeshParameterError(
      "genesisSupply + emissions.emissionCap must not exceed the 1,000,000,000 MESH cap",
    );
  }
  // Coverage's pool gets the rest of each epoch; it must keep a share (the controller's split sums to 10,000).
  const coverageBps = coveragePoolBps(params);
  if (coverageBps <= 0) {
    throw new HexmeshParameterError(
      `emissions.stakingBps + emissions.treasuryBps + storage.poolBps + compute.poolBps must stay below 10000 (coverage's pool gets the rest), got ${10_000 - coverageBps}`,
    );
  }
  const { storage, compute } = params;
  if (storage.classSubnetwork === compute.classSubnetwork) {
    throw new HexmeshParameterError(
      `storage.classSubnetwork and compute.classSubnetwork must differ, both are ${storage.classSubnetwork}`,
    );
  }
  if (params.timelock.proposers.length === 0)
    throw new HexmeshParameterError("timelock.proposers must not be empty");
  // Governance must not be able to act faster than a staker can leave: a staker who dislikes a queued
  // change has to be able to request an unstake and withdraw before it executes.
  if (params.timelock.minDelay <= params.vault.cooldown) {
    throw new HexmeshParameterError(
      `timelock.minDelay (${params.timelock.minDelay} s) must exceed vault.cooldown (${params.vault.cooldown} s)`,
    );
  }
  const classIds = new Set(params.registry.deviceClasses.map((c) => c.id));
  if (classIds.size !== params.registry.deviceClasses.length)
    throw new HexmeshParameterError("duplicate device class id");
  const makerIds = new Set(params.registry.makers.map((m) => m.id));
  if (makerIds.size !== params.registry.makers.length) throw new HexmeshParameterError("duplicate maker id");
  // ComputeJobs prices compute classes only (ComputeNotComputeClass otherwise): refuse the file instead.
  const priced = new Set<number>();
  for (const [i, price] of compute.prices.entries()) {
    const cls = params.registry.deviceClasses.find((c) => c.id === price.deviceClass);
    if (cls === undefined || cls.subnetwork !== compute.classSubnetwork) {
      throw new HexmeshParameterError(
        `compute.prices[${i}].deviceClass ${price.deviceClass} is not a registry class of compute.classSubnetwork ${compute.classSubnetwork}`,
      );
    }
    if (priced.has(price.deviceClass))
      throw new HexmeshParameterError(`compute.prices: class ${price.deviceClass} priced twice`);
    priced.add(price.deviceClass);
  }
  return params;
}

/** Coverage's pool share: what staking, the treasury and the other subnetworks' pools leave. */
export function coveragePoolBps(params: HexmeshParameters): number {
  const e = params.emissions;
  return 10_000 - e.stakingBps - e.treasuryBps - params.storage.poolBps - params.compute.poolBps;
}

/** Reads a parameters file (JSON) and validates it. */
export function loadHexmeshParameters(path: string): HexmeshParameters {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new HexmeshParameterError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseHexmeshParameters(json);
}

/** The whole suite, wired, administered by the timelock, with the deployer left without any role. */
export function buildHexmeshModule(params: HexmeshParameters) {
  return buildModule(MODULE_ID, (m) => {
    const deployer = m.getAccount(0);

    // The timelock administers itself (admin = 0): nobody, the deployer included, can bypass its delay.
    const timelock = m.contract("HexmeshTimelock", [
      params.timelock.minDelay,
      params.timelock.proposers,
      params.timelock.executors,
      "0x0000000000000000000000000000000000000000",
    ]);

    // The deployer is the token's minter admin only until the emissions controller becomes the minter below.
    const token = m.contract("MeshToken", [params.treasury, params.genesisSupply, deployer]);

    const p256 = m.library("P256Verifier");
    const registry = m.contract("DeviceRegistry", [deployer, token], { libraries: { P256Verifier: p256 } });

    const vault = m.contract("StakingVault", [
      deployer,
      token,
      registry,
      params.treasury,
      params.vault.rewardsDuration,
      params.vault.cooldown,
    ]);

    // One distributor per subnetwork; coverage first. The deployer is its admin only long enough to make
    // the controller its funder.
    const distributor = m.contract("RewardsDistributor", [
      token,
      SUBNETWORK_COVERAGE,
      deployer,
      params.guardian,
      params.coverage.oracles,
      params.coverage.threshold,
      params.coverage.challengeWindow,
    ]);

    // The deployer administers the controller only long enough to add the storage and compute pools
    // and set the split (below), then hands it to the timelock.
    const controller = m.contract("EmissionsController", [
      {
        token,
        admin: deployer,
        treasury: params.treasury,
        stakingVault: vault,
        genesisTime: params.emissions.genesisTime,
        epochLength: params.emissions.epochLength,
        initialEmission: params.emissions.initialEmission,
        halvingInterval: params.emissions.halvingInterval,
        emissionCap: params.emissions.emissionCap,
        stakingBps: params.emissions.stakingBps,
        treasuryBps: params.emissions.treasuryBps,
        subnetwork: SUBNETWORK_COVERAGE,
        distributor,
      },
    ]);

    // setMinter also clears the deployer's minter-admin power for good.
    m.call(token, "setMinter", [controller]);

    const distributorToFunder = m.call(distributor, "grantRole", [ROLES.FUNDER, controller], {
      id: "distributor_grant_funder_controller",
    });
    const distributorToTimelock = m.call(distributor, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "distributor_grant_admin_timelock",
      after: [distributorToFunder],
    });
    const distributorRenounce = m.call(distributor, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "distributor_renounce_admin",
      after: [distributorToTimelock],
    });

    // ---- registry parameters and roles
    const registrySetup = [
      m.call(registry, "grantRole", [ROLES.GUARDIAN, params.guardian], { id: "registry_grant_guardian" }),
      m.call(registry, "grantRole", [ROLES.DENYLIST, params.denylister], { id: "registry_grant_denylist" }),
      m.call(registry, "setAssertFee", [params.registry.assertFee]),
      ...params.registry.deviceClasses.map((c) =>
        m.call(
          registry,
          "setDeviceClass",
          [c.id, { enabled: c.enabled, subnetwork: c.subnetwork, onboardingFee: c.onboardingFee }],
          { id: `registry_class_${c.id}` },
        ),
      ),
      ...params.registry.makers.map((mk) =>
        m.call(registry, "addMaker", [mk.id, mk.signer, mk.allowance], { id: `registry_maker_${mk.id}` }),
      ),
    ];
    const registryToTimelock = m.call(registry, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "registry_grant_admin_timelock",
      after: registrySetup,
    });
    const registryRenounce = m.call(registry, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "registry_renounce_admin",
      after: [registryToTimelock],
    });

    // ---- vault parameters and roles
    const vaultSetup = [
      m.call(vault, "grantRole", [ROLES.GUARDIAN, params.guardian], { id: "vault_grant_guardian" }),
      m.call(vault, "setMinStakePerDevice", [params.vault.minStakePerDevice]),
      m.call(vault, "grantRole", [ROLES.REWARDS_NOTIFIER, controller], {
        id: "vault_grant_notifier_controller",
      }),
    ];

    // ---- demand side: the price source and the credits ledger, administered by the timelock from
    // their constructors. Deployed after the above, so those keep their addresses. (The vault's
    // admin is handed over at the end, once ComputeJobs holds its slasher role.)
    const last = { after: [...vaultSetup, registryRenounce, distributorRenounce] };
    const price = params.credits.price;
    const meshPrice =
      price.source === "governed"
        ? m.contract("GovernedPrice", [timelock, price.initialPrice], { ...last, id: "MeshPrice" })
        : m.contract("QuorumPrice", [timelock, price.oracles, price.threshold], { ...last, id: "MeshPrice" });
    // The deployer administers the ledger only long enough to register the coverage data-transfer
    // market as its spender.
    const credits = m.contract("UsageCredits", [token, deployer, meshPrice], last);
    const dataTransfer = m.contract(
      "DataTransferSettlement",
      [credits, distributor, controller, timelock, params.credits.creditsPerPacket],
      { after: [credits] },
    );
    const creditsRegister = m.call(credits, "registerSpender", [dataTransfer, SUBNETWORK_COVERAGE], {
      id: "credits_register_data_transfer",
    });

    // ---- storage and compute subnetworks, deployed after everything above (which keeps its addresses).
    // Each has its own RewardsDistributor (own oracle set) as a pool of the controller.
    const afterCoverage = { after: [creditsRegister] };
    const subnetworkDistributor = (name: "storage" | "compute", subnetwork: string, set: OracleSetParam) => {
      const d = m.contract(
        "RewardsDistributor",
        [token, subnetwork, deployer, params.guardian, set.oracles, set.threshold, set.challengeWindow],
        { ...afterCoverage, id: `${name === "storage" ? "Storage" : "Compute"}Distributor` },
      );
      const funder = m.call(d, "grantRole", [ROLES.FUNDER, controller], {
        id: `${name}_distributor_grant_funder_controller`,
      });
      const toTimelock = m.call(d, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
        id: `${name}_distributor_grant_admin_timelock`,
        after: [funder],
      });
      m.call(d, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
        id: `${name}_distributor_renounce_admin`,
        after: [toTimelock],
      });
      return d;
    };
    const storageDistributor = subnetworkDistributor("storage", SUBNETWORK_STORAGE, params.storage);
    const computeDistributor = subnetworkDistributor("compute", SUBNETWORK_COMPUTE, params.compute);

    // Pools in this order: coverage (from the constructor), storage, compute; then the split.
    const addStorage = m.call(controller, "addPool", [SUBNETWORK_STORAGE, storageDistributor], {
      id: "controller_add_pool_storage",
    });
    const addCompute = m.call(controller, "addPool", [SUBNETWORK_COMPUTE, computeDistributor], {
      id: "controller_add_pool_compute",
      after: [addStorage],
    });
    const split = m.call(
      controller,
      "setSplit",
      [
        params.emissions.stakingBps,
        params.emissions.treasuryBps,
        [coveragePoolBps(params), params.storage.poolBps, params.compute.poolBps],
      ],
      { id: "controller_set_split", after: [addCompute] },
    );
    const controllerToTimelock = m.call(controller, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "controller_grant_admin_timelock",
      after: [split],
    });
    m.call(controller, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "controller_renounce_admin",
      after: [controllerToTimelock],
    });

    // StorageDeals: the deployer points it at the storage oracles' suspensions (StorageSuspensions reads
    // the storage distributor's oracle set), then hands it to the timelock.
    const storageDeals = m.contract(
      "StorageDeals",
      [credits, registry, vault, controller, params.storage.classSubnetwork, deployer],
      afterCoverage,
    );
    const storageSuspensions = m.contract("StorageSuspensions", [storageDistributor], afterCoverage);
    const storageSetSuspensions = m.call(storageDeals, "setSuspensions", [storageSuspensions], {
      id: "storage_set_suspensions",
    });
    const storageToTimelock = m.call(storageDeals, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "storage_grant_admin_timelock",
      after: [storageSetSuspensions],
    });
    m.call(storageDeals, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "storage_renounce_admin",
      after: [storageToTimelock],
    });
    // ComputeJobs: the deployer prices the compute classes, points fraud verdicts at the compute
    // distributor's oracle set and makes the guardian the veto holder, then hands it to the timelock.
    const computeJobs = m.contract(
      "ComputeJobs",
      [credits, registry, vault, controller, params.compute.classSubnetwork, deployer],
      afterCoverage,
    );
    const computeSetup = [
      ...params.compute.prices.map((p) =>
        m.call(computeJobs, "setPrice", [p.deviceClass, p.creditsPerUnit], {
          id: `compute_price_class_${p.deviceClass}`,
        }),
      ),
      m.call(computeJobs, "setOracleDistributor", [computeDistributor], {
        id: "compute_set_oracle_distributor",
      }),
      m.call(computeJobs, "grantRole", [ROLES.GUARDIAN, params.guardian], { id: "compute_grant_guardian" }),
    ];
    const computeToTimelock = m.call(computeJobs, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "compute_grant_admin_timelock",
      after: computeSetup,
    });
    m.call(computeJobs, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "compute_renounce_admin",
      after: [computeToTimelock],
    });

    // Fraud penalties are slashed from the provider's vault stake: ComputeJobs is the vault's slasher.
    // StorageDeals is not: its fault fees come from collateral it holds itself.
    const vaultSlasher = m.call(vault, "grantRole", [ROLES.SLASHER, computeJobs], {
      id: "vault_grant_slasher_compute",
    });
    const vaultToTimelock = m.call(vault, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "vault_grant_admin_timelock",
      after: [...vaultSetup, vaultSlasher],
    });
    m.call(vault, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "vault_renounce_admin",
      after: [vaultToTimelock],
    });

    const registerStorage = m.call(credits, "registerSpender", [storageDeals, SUBNETWORK_STORAGE], {
      id: "credits_register_storage",
      after: [creditsRegister],
    });
    const registerCompute = m.call(credits, "registerSpender", [computeJobs, SUBNETWORK_COMPUTE], {
      id: "credits_register_compute",
      after: [registerStorage],
    });
    const creditsToTimelock = m.call(credits, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "credits_grant_admin_timelock",
      after: [creditsRegister, registerCompute],
    });
    m.call(credits, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "credits_renounce_admin",
      after: [creditsToTimelock],
    });

    return {
      timelock,
      token,
      p256,
      registry,
      vault,
      distributor,
      controller,
      meshPrice,
      credits,
      dataTransfer,
      storageDistributor: storageDistributor,
      computeDistributor: computeDistributor,
      storageDeals,
      storageSuspensions,
      computeJobs,
    };
  });
}
