/**
 * Live state read from the chain with viem, every figure pinned to one block so a page shows one
 * consistent moment (and says which: block number and chain time).
 */
import { cellToParent } from "h3-js";
import type { Address, Hex, PublicClient } from "viem";

import {
  DeviceRegistryAbi,
  EmissionsControllerAbi,
  MeshTokenAbi,
  RewardsDistributorAbi,
  StakingVaultAbi,
} from "@hexmesh/contracts/abis";
import { keyIdOf } from "@hexmesh/protocol";

import type { AppConfig } from "./config";

/** The block a set of figures was read at. */
export interface AsOf {
  readonly blockNumber: bigint;
  /** Chain time of that block, Unix seconds. */
  readonly blockTime: bigint;
}

export interface NetworkState extends AsOf {
  readonly epoch: bigint;
  readonly genesisTime: bigint;
  readonly epochLength: bigint;
  /** When the current epoch ends and its emission can be distributed (chain time, Unix seconds). */
  readonly nextDistributionAt: bigint;
  readonly totalActiveStake: bigint;
  readonly totalPendingUnstake: bigint;
  readonly liveRoot: { readonly epoch: bigint; readonly root: Hex; readonly totalCumulative: bigint };
  readonly pendingRoot: {
    readonly epoch: bigint;
    readonly root: Hex;
    readonly totalCumulative: bigint;
    readonly readyAt: bigint;
  };
}

export async function latestBlock(client: PublicClient): Promise<AsOf> {
  const block = await client.getBlock({ blockTag: "latest" });
  return { blockNumber: block.number, blockTime: block.timestamp };
}

export async function readNetwork(client: PublicClient, cfg: AppConfig): Promise<NetworkState> {
  const at = await latestBlock(client);
  const controller = { address: cfg.addresses.controller, abi: EmissionsControllerAbi } as const;
  const distributor = { address: cfg.addresses.distributor, abi: RewardsDistributorAbi } as const;
  const vault = { address: cfg.addresses.vault, abi: StakingVaultAbi } as const;
  const b = { blockNumber: at.blockNumber };
  const [genesisTime, epochLength, totalActiveStake, totalPendingUnstake, live, pending] = await Promise.all([
    client.readContract({ ...controller, functionName: "genesisTime", ...b }),
    client.readContract({ ...controller, functionName: "epochLength", ...b }),
    client.readContract({ ...vault, functionName: "totalActiveStake", ...b }),
    client.readContract({ ...vault, functionName: "totalPendingUnstake", ...b }),
    client.readContract({ ...distributor, functionName: "liveRoot", ...b }),
    client.readContract({ ...distributor, functionName: "pendingRoot", ...b }),
  ]);
  // The epoch in chain time (the controller's currentEpoch() reverts before genesis).
  const epoch = at.blockTime < genesisTime ? 0n : (at.blockTime - genesisTime) / epochLength;
  const nextDistributionAt =
    at.blockTime < genesisTime ? genesisTime + epochLength : genesisTime + (epoch + 1n) * epochLength;
  return {
    ...at,
    epoch,
    genesisTime,
    epochLength,
    nextDistributionAt,
    totalActiveStake,
    totalPendingUnstake,
    liveRoot: { epoch: live[0], root: live[1], totalCumulative: live[2] },
    pendingRoot: { epoch: pending[0], root: pending[1], totalCumulative: pending[2], readyAt: pending[3] },
  };
}

export const DEVICE_STATUS = ["none", "active", "suspended", "retired"] as const;
export type DeviceStatus = (typeof DEVICE_STATUS)[number];

export interface ChainDevice {
  readonly id: bigint;
  readonly owner: Address;
  /** The key id reports are signed under (what the oracle API names a device by). */
  readonly keyId: Hex;
  readonly status: DeviceStatus;
  readonly suspensionReason: number;
  /** Asserted H3 cell (resolution 12), null if never asserted. */
  readonly cell: string | null;
  readonly assertCount: number;
}

export interface Devices extends AsOf {
  readonly devices: readonly ChainDevice[];
}

/** Every device onboarded since the suite's deployment, with its state at one block. */
export async function readDevices(client: PublicClient, cfg: AppConfig): Promise<Devices> {
  const at = await latestBlock(client);
  const registry = { address: cfg.addresses.registry, abi: DeviceRegistryAbi } as const;
  const onboarded = await client.getContractEvents({
    ...registry,
    eventName: "DeviceOnboarded",
    fromBlock: cfg.fromBlock,
    toBlock: at.blockNumber,
  });
  const ids = [...new Set(onboarded.map((e) => e.args.deviceId!))].sort((a, b) => (a < b ? -1 : 1));
  const infos = await Promise.all(
    ids.map((id) =>
      client.readContract({
        ...registry,
        functionName: "deviceInfo",
        args: [id],
        blockNumber: at.blockNumber,
      }),
    ),
  );
  const devices = ids.map((id, i): ChainDevice => {
    const d = infos[i]!;
    return {
      id,
      owner: d.owner,
      keyId:
        d.keyType === 0
          ? keyIdOf({ type: "secp256k1", address: `0x${d.keyX.slice(26).toLowerCase()}` as Hex })
          : keyIdOf({ type: "p256", x: d.keyX.toLowerCase() as Hex, y: d.keyY.toLowerCase() as Hex }),
      status: DEVICE_STATUS[d.status] ?? "none",
      suspensionReason: d.suspensionReason,
      cell: d.cell === 0n ? null : d.cell.toString(16),
      assertCount: d.assertCount,
    };
  });
  return { ...at, devices };
}

/** The map's resolution: res-12 cells are a few metres across; res 8 shows a city. */
export const MAP_RESOLUTION = 8;

export interface HexRow {
  readonly hex: string;
  readonly devices: number;
  readonly active: number;
}

/** Devices per hex at MAP_RESOLUTION, ordered by hex; a hex with an active device is active. */
export function hexesOf(devices: readonly ChainDevice[]): HexRow[] {
  const by = new Map<string, { devices: number; active: number }>();
  for (const d of devices) {
    if (d.cell === null) continue;
    const hex = cellToParent(d.cell, MAP_RESOLUTION);
    const row = by.get(hex) ?? { devices: 0, active: 0 };
    row.devices++;
    if (d.status === "active") row.active++;
    by.set(hex, row);
  }
  return [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([hex, r]) => ({ hex, ...r }));
}

export interface OwnerChainState extends AsOf {
  readonly balance: bigint;
  readonly activeStake: bigint;
  readonly bondedDevices: bigint;
  readonly minStakePerDevice: bigint;
}

/** An owner's MESH and bond, read at one block (rewards are per distributor: readOwnerRewards). */
export async function readOwner(
  client: PublicClient,
  cfg: AppConfig,
  owner: Address,
): Promise<OwnerChainState> {
  const at = await latestBlock(client);
  const b = { blockNumber: at.blockNumber };
  const vault = { address: cfg.addresses.vault, abi: StakingVaultAbi } as const;
  const [balance, activeStake, bondedDevices, minStakePerDevice] = await Promise.all([
    client.readContract({
      address: cfg.addresses.token,
      abi: MeshTokenAbi,
      functionName: "balanceOf",
      args: [owner],
      ...b,
    }),
    client.readContract({ ...vault, functionName: "activeStakeOf", args: [owner], ...b }),
    client.readContract({ ...vault, functionName: "bondedDeviceCount", args: [owner], ...b }),
    client.readContract({ ...vault, functionName: "minStakePerDevice", ...b }),
  ]);
  return { ...at, balance, activeStake, bondedDevices, minStakePerDevice };
}

/** A distributor's liveRoot before any root went live. */
export const ZERO_ROOT: Hex = `0x${"00".repeat(32)}`;

export interface OwnerRewardsState extends AsOf {
  /** What the owner has claimed from this distributor. */
  readonly claimed: bigint;
  readonly liveRoot: { readonly epoch: bigint; readonly root: Hex; readonly totalCumulative: bigint };
}

/**
 * An owner's side of one RewardsDistributor (coverage's, storage's or compute's, each with its own
 * roots): what it has claimed and the live root, read at one block.
 */
export async function readOwnerRewards(
  client: PublicClient,
  distributor: Address,
  owner: Address,
): Promise<OwnerRewardsState> {
  const at = await latestBlock(client);
  const b = { blockNumber: at.blockNumber };
  const contract = { address: distributor, abi: RewardsDistributorAbi } as const;
  const [claimed, live] = await Promise.all([
    client.readContract({ ...contract, functionName: "claimed", args: [owner], ...b }),
    client.readContract({ ...contract, functionName: "liveRoot", ...b }),
  ]);
  return { ...at, claimed, liveRoot: { epoch: live[0], root: live[1], totalCumulative: live[2] } };
}

export interface UnstakeRequest {
  readonly id: bigint;
  readonly amount: bigint;
  readonly unlockTime: bigint;
}

export interface StakerState extends AsOf {
  readonly balance: bigint;
  readonly activeStake: bigint;
  readonly pendingUnstake: bigint;
  readonly earned: bigint;
  readonly cooldown: bigint;
  readonly requests: readonly UnstakeRequest[];
}

/** A staker's position; pending requests are the ids below nextRequestId with an amount left. */
export async function readStaker(
  client: PublicClient,
  cfg: AppConfig,
  staker: Address,
): Promise<StakerState> {
  const at = await latestBlock(client);
  const b = { blockNumber: at.blockNumber };
  const vault = { address: cfg.addresses.vault, abi: StakingVaultAbi } as const;
  const [balance, activeStake, pendingUnstake, earned, cooldown, next] = await Promise.all([
    client.readContract({
      address: cfg.addresses.token,
      abi: MeshTokenAbi,
      functionName: "balanceOf",
      args: [staker],
      ...b,
    }),
    client.readContract({ ...vault, functionName: "activeStakeOf", args: [staker], ...b }),
    client.readContract({ ...vault, functionName: "pendingUnstakeOf", args: [staker], ...b }),
    client.readContract({ ...vault, functionName: "earned", args: [staker], ...b }),
    client.readContract({ ...vault, functionName: "cooldown", ...b }),
    client.readContract({ ...vault, functionName: "nextRequestId", args: [staker], ...b }),
  ]);
  const ids: bigint[] = [];
  for (let id = 1n; id < next; id++) ids.push(id);
  const rows = await Promise.all(
    ids.map((id) =>
      client.readContract({ ...vault, functionName: "unstakeRequest", args: [staker, id], ...b }),
    ),
  );
  const requests = ids
    .map((id, i) => ({ id, amount: rows[i]![0], unlockTime: rows[i]![1] }))
    .filter((r) => r.amount > 0n);
  return { ...at, balance, activeStake, pendingUnstake, earned, cooldown, requests };
}
