/**
 * Where ingest learns the report domain and the device keys it checks signatures against: the
 * registry on chain (DeviceOnboarded events, followed as new blocks come), or for a node without a
 * chain a key file exported from the registry (`ingest.devicesFile`).
 */
import { readFileSync } from "node:fs";

import { isWellFormedKey, type DeviceKey, type Hex, type ReportDomain } from "@hexmesh/protocol";

import type { Chain } from "./chain.js";
import { ConfigError } from "./config.js";

export interface DeviceKeySource {
  readonly domain: ReportDomain;
  /** Keys known at start. */
  readonly keys: readonly DeviceKey[];
  /** Keys onboarded since the last call (none for a key file). */
  refresh(): Promise<DeviceKey[]>;
}

/** Follows the registry's DeviceOnboarded events from `fromBlock`. */
export async function keysFromChain(chain: Chain, fromBlock: number): Promise<DeviceKeySource> {
  // Loaded when used: the indexer brings ethers and the bindings, which a key file does not need.
  const { onboardedKeys } = await import("../chain/indexer.js");
  const registry = chain.contracts.registry;
  const [network, latest] = await Promise.all([chain.provider.getNetwork(), chain.provider.getBlockNumber()]);
  let seen = latest;
  const keys = await onboardedKeys(registry, fromBlock, latest);
  return {
    domain: {
      chainId: network.chainId,
      verifyingContract: (await registry.getAddress()).toLowerCase() as Hex,
    },
    keys,
    async refresh() {
      const head = await chain.provider.getBlockNumber();
      const fresh = await onboardedKeys(registry, seen + 1, head);
      seen = Math.max(seen, head);
      return fresh;
    },
  };
}

/**
 * A key file: `{"chainId": "31337", "registry": "0x…", "keys": [{"type": "secp256k1", "address":
 * "0x…"} | {"type": "p256", "x": "0x…", "y": "0x…"}, …]}`.
 */
export function keysFromFile(file: string): DeviceKeySource {
  let raw: { chainId?: unknown; registry?: unknown; keys?: unknown };
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as typeof raw;
  } catch (e) {
    throw new ConfigError(`ingest.devicesFile ${file}: ${(e as Error).message}`);
  }
  const chainId =
    typeof raw.chainId === "string" || typeof raw.chainId === "number" ? BigInt(raw.chainId) : null;
  const registry =
    typeof raw.registry === "string" && /^0x[0-9a-f]{40}$/.test(raw.registry) ? raw.registry : null;
  if (chainId === null || registry === null || !Array.isArray(raw.keys))
    throw new ConfigError(
      `ingest.devicesFile ${file}: needs {chainId, registry (lowercase 0x address), keys: [...]}`,
    );
  const keys = raw.keys as DeviceKey[];
  const bad = keys.findIndex((k) => typeof k !== "object" || k === null || !isWellFormedKey(k));
  if (bad >= 0)
    throw new ConfigError(`ingest.devicesFile ${file}: keys[${bad}] is not a well-formed device key`);
  return {
    domain: { chainId, verifyingContract: registry as Hex },
    keys,
    refresh: () => Promise.resolve([]),
  };
}
