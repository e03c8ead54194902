/**
 * Where the app finds the chain and the oracle: `hexmesh.json` beside index.html (written by whoever
 * serves the app: `npm run web`, the browser tests, or an operator next to the built files).
 */
import { getAddress, isAddress, type Address } from "viem";

export interface AppConfig {
  readonly chainId: number;
  readonly chainName: string;
  /** JSON-RPC endpoint the browser reads the chain from. */
  readonly rpcUrl: string;
  /** The oracle API's base URL; "" = the origin that served the app. */
  readonly oracleUrl: string;
  readonly addresses: {
    readonly token: Address;
    readonly registry: Address;
    readonly vault: Address;
    readonly controller: Address;
    readonly distributor: Address;
    /**
     * The usage-credits ledger (UsageCredits). Optional: without it the credits, storage and compute
     * pages say so. The markets (storage, compute, data transfer) are its registered spenders.
     */
    readonly credits?: Address;
    /** The storage subnetwork's RewardsDistributor. Optional: the owner page shows its rewards when set. */
    readonly storageDistributor?: Address;
    /** The compute subnetwork's RewardsDistributor. Optional, as storageDistributor. */
    readonly computeDistributor?: Address;
  };
  /** The block the suite was deployed at: events are read from it. */
  readonly fromBlock: bigint;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const CONTRACTS = ["token", "registry", "vault", "controller", "distributor"] as const;
/** Addresses hexmesh.json may leave out: a deployment without them shows less. */
const OPTIONAL_CONTRACTS = ["credits", "storageDistributor", "computeDistributor"] as const;

/** Checks a parsed hexmesh.json; throws ConfigError naming every problem. */
export function parseConfig(raw: unknown): AppConfig {
  const o = (raw ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const chainId = o.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0)
    problems.push("chainId: a positive integer");
  if (typeof o.rpcUrl !== "string" || !/^https?:\/\//.test(o.rpcUrl)) problems.push("rpcUrl: an http(s) URL");
  if (o.oracleUrl !== undefined && (typeof o.oracleUrl !== "string" || !/^(https?:\/\/|$)/.test(o.oracleUrl)))
    problems.push('oracleUrl: an http(s) URL or "" (same origin)');
  const addrs = (o.addresses ?? {}) as Record<string, unknown>;
  for (const c of CONTRACTS)
    if (typeof addrs[c] !== "string" || !isAddress(addrs[c] as string, { strict: false }))
      problems.push(`addresses.${c}: a 0x address`);
  for (const c of OPTIONAL_CONTRACTS)
    if (addrs[c] !== undefined && (typeof addrs[c] !== "string" || !isAddress(addrs[c], { strict: false })))
      problems.push(`addresses.${c}: a 0x address (or left out)`);
  const fromBlock = o.fromBlock ?? 0;
  if (typeof fromBlock !== "number" || !Number.isSafeInteger(fromBlock) || fromBlock < 0)
    problems.push("fromBlock: a block number");
  if (problems.length > 0) throw new ConfigError(`hexmesh.json is invalid:\n- ${problems.join("\n- ")}`);
  const a = (c: (typeof CONTRACTS)[number]) => getAddress(addrs[c] as string);
  return {
    chainId: chainId as number,
    chainName: typeof o.chainName === "string" ? o.chainName : `Chain ${chainId as number}`,
    rpcUrl: o.rpcUrl as string,
    oracleUrl: ((o.oracleUrl as string | undefined) ?? "").replace(/\/+$/, ""),
    addresses: {
      token: a("token"),
      registry: a("registry"),
      vault: a("vault"),
      controller: a("controller"),
      distributor: a("distributor"),
      ...Object.fromEntries(
        OPTIONAL_CONTRACTS.filter((c) => addrs[c] !== undefined).map((c) => [
          c,
          getAddress(addrs[c] as string),
        ]),
      ),
    },
    fromBlock: BigInt(fromBlock as number),
  };
}

/** The kinds of work whose providers a RewardsDistributor pays (one distributor per subnetwork). */
export const REWARD_WORKS = ["coverage", "storage", "compute"] as const;
export type RewardWork = (typeof REWARD_WORKS)[number];

/** Each kind's name as the pages title it. */
export const WORK_NAMES: Readonly<Record<RewardWork, string>> = {
  coverage: "Coverage",
  storage: "Storage",
  compute: "Compute",
};

/** Each kind's distributor that hexmesh.json names, coverage first (it is always named). */
export function rewardDistributors(
  cfg: AppConfig,
): readonly { readonly work: RewardWork; readonly distributor: Address }[] {
  const { distributor, storageDistributor, computeDistributor } = cfg.addresses;
  return [
    { work: "coverage" as const, distributor },
    ...(storageDistributor === undefined
      ? []
      : [{ work: "storage" as const, distributor: storageDistributor }]),
    ...(computeDistributor === undefined
      ? []
      : [{ work: "compute" as const, distributor: computeDistributor }]),
  ];
}
