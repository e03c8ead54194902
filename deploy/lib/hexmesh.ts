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

import { SUBNETWORK_COVERAGE } from "@hexmesh/protocol";

export const MODULE_ID = "Hexmesh";

/** Subnetwork id of the coverage rewards pool (one distributor per subnetwork). */
export { SUBNETWORK_COVERAGE };

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
  coverage: { oracles: string[]; threshold: number; challengeWindow: number };
  /**
   * Usage credits and their MESH/USD price source; `creditsPerPacket`: the coverage data-transfer
   * price per started 24-byte packet (optional in the file, default 1; 1 to 10,000).
   */
  credits: { price: GovernedPriceParam | QuorumPriceParam; creditsPerPacket: number };
}

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
        return {
          id: int(o.id, `registry.deviceClasses[${i}].id`, 1, 65_535),
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
    coverage: {
      oracles: list(cov.oracles, "coverage.oracles").map((a, i) => addr(a, `coverage.oracles[${i}]`)),
      threshold: int(cov.threshold, "coverage.threshold", 1),
      challengeWindow: int(
        cov.challengeWindow,
        "coverage.challengeWindow",
        DISTRIBUTOR_LIMITS.minChallengeWindow,
        DISTRIBUTOR_LIMITS.maxChallengeWindow,
      ),
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
  const oracles = params.coverage.oracles;
  if (
    oracles.length === 0 ||
    oracles.length > DISTRIBUTOR_LIMITS.maxOracles ||
    new Set(oracles).size !== oracles.length
  ) {
    throw new HexmeshParameterError(
      `coverage.oracles must be 1 to ${DISTRIBUTOR_LIMITS.maxOracles} distinct addresses`,
    );
  }
  if (params.coverage.threshold > oracles.length) {
    throw new HexmeshParameterError(
      `coverage.threshold (${params.coverage.threshold}) exceeds the ${oracles.length} oracles`,
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
  return params;
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

    // The controller needs no set-up call, so the timelock is its admin from the constructor on.
    const controller = m.contract("EmissionsController", [
      {
        token,
        admin: timelock,
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
    const vaultToTimelock = m.call(vault, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "vault_grant_admin_timelock",
      after: vaultSetup,
    });
    const vaultRenounce = m.call(vault, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
      id: "vault_renounce_admin",
      after: [vaultToTimelock],
    });

    // ---- demand side: the price source and the credits ledger, administered by the timelock from
    // their constructors. Deployed last, so the contracts above keep their addresses.
    const last = { after: [vaultRenounce, registryRenounce, distributorRenounce] };
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
    const creditsToTimelock = m.call(credits, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], {
      id: "credits_grant_admin_timelock",
      after: [creditsRegister],
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
    };
  });
}
