/**
 * Chain indexer: fills the oracle's ChainIndex for one epoch from the contracts, through the
 * typechain bindings.
 *
 * Pinning. Everything the pipeline depends on is read at one block, the epoch's *snapshot block*:
 * the last block whose timestamp is before the epoch's end (found by binary search over block
 * timestamps, or given by the caller). Registry state is replayed from events in blocks
 * [fromBlock, snapshot] and bonds are read with `blockTag: snapshot`, so the index depends only on
 * chain state at that block; anything that happens after the epoch ended (a transfer, a new
 * device, an unstake) counts for the next epoch.
 *
 * Pool. The only figure taken after the snapshot is the epoch's funding, which the emissions
 * controller can only record once the epoch has ended (distribute) and which never changes after:
 *
 *   pool(e) = Σ funded(i) for i ≤ e  −  previous.totalCumulative
 *
 * where funded(i) comes from the distributor's EpochFunded events and previous.totalCumulative is
 * the oracle's own committed result for the previous epoch (0 for the first). The difference is
 * this epoch's funding plus everything funded earlier and not allocated: rounding dust, pools of
 * epochs with no eligible work, and amounts of unbonded devices. It keeps the invariant the
 * distributor enforces, totalCumulative ≤ total funded, and nothing funded is ever stranded.
 *
 * Usage (with `contracts.usage`). Every `UsageRecorded(subnetwork, epoch, …)` log of UsageCredits for
 * this subnetwork and epoch, read up to the head like the funding (an epoch's usage is settled after
 * it ends; spenders record it before the oracles close the epoch), and the price source's
 * `rewardPrice()` at the snapshot block (0 when it reverts PriceStale there: usage is then unpaid; not
 * read, 0, when the epoch has no record).
 * Only the logs' contents and positions enter the result, never the head read up to, so oracles
 * closing at different heads agree as long as they saw the same records (sign reconciles again).
 */
import {
  decodeContractError,
  IMeshPrice__factory,
  type DeviceRegistry,
  type EmissionsController,
  type RewardsDistributor,
  type StakingVault,
  type TypedEventLog,
  type UsageCredits,
} from "@hexmesh/contracts";
import type {
  ChainIndex,
  DeviceKey,
  DeviceStatus,
  EpochUsage,
  Hex,
  OwnerBond,
  OwnerCumulative,
  UsageRecord,
} from "@hexmesh/protocol";

import { withRetry, type RetryOptions } from "../util/retry.js";

export interface ChainContracts {
  readonly registry: DeviceRegistry;
  readonly vault: StakingVault;
  readonly controller: EmissionsController;
  /** The coverage subnetwork's distributor. */
  readonly distributor: RewardsDistributor;
  /** Where the subnetwork's paid usage is recorded; absent: the oracle reads no usage. */
  readonly usage?: UsageSource;
}

export interface UsageSource {
  readonly credits: UsageCredits;
  /** bytes32 id of the subnetwork (lowercase hex). */
  readonly subnetwork: Hex;
}

/** What the oracle kept of its previous committed epoch (owners' lifetime totals). */
export interface PreviousResult {
  readonly epoch: bigint;
  readonly totalCumulative: bigint;
  readonly owners: readonly OwnerCumulative[];
}

export interface IndexOptions {
  /** Pin to this block instead of the last block before the epoch's end. */
  readonly snapshotBlock?: number;
  /** First block to replay events from (the registry's deployment block; default 0). */
  readonly fromBlock?: number;
  /** The oracle's committed result of the previous epoch (none for the first epoch it serves). */
  readonly previous?: PreviousResult;
  /** Largest block span of one eth_getLogs call (public RPCs cap it). Default 10,000. */
  readonly maxBlockRange?: number;
  /** Retries of RPC round trips. */
  readonly retry?: RetryOptions;
  /**
   * Only devices whose class the registry assigns to this class subnetwork at the snapshot (storage,
   * compute: the classes the deployment gives them); absent: every device (coverage, as before).
   */
  readonly classSubnetwork?: number;
}

export class ChainIndexerError extends Error {
  override readonly name = "ChainIndexerError";
}

export interface EpochWindow {
  readonly epoch: bigint;
  /** Unix seconds. */
  readonly start: bigint;
  readonly end: bigint;
}

/** The epoch's window from the controller's clock: [genesis + e × length, genesis + (e + 1) × length). */
export async function epochWindow(
  controller: EmissionsController,
  epoch: bigint,
  retry?: RetryOptions,
): Promise<EpochWindow> {
  const [genesis, length] = await withRetry(
    () => Promise.all([controller.genesisTime(), controller.epochLength()]),
    retry,
  );
  const start = genesis + epoch * length;
  return { epoch, start, end: start + length };
}

type ChainProvider = NonNullable<DeviceRegistry["runner"]>["provider"] & object;
type JsonRpcSend = { send?: (method: string, params: unknown[]) => Promise<unknown> };

/*
 * Both read from the node, not through ethers' helpers: ethers answers getBlockNumber() and
 * getBlock("latest") from a 250 ms cache, and a close right after the chain moved (a local node's
 * mined blocks or moved clock) must see the new head.
 */

/** The chain's head block number. */
export async function headOf(provider: ChainProvider): Promise<number> {
  const rpc = provider as JsonRpcSend;
  return typeof rpc.send === "function"
    ? Number(await rpc.send("eth_blockNumber", []))
    : provider.getBlockNumber();
}

/** The latest block's time in milliseconds (0 when the provider cannot say). */
export async function latestBlockTimeMs(provider: ChainProvider | null | undefined): Promise<number> {
  const rpc = provider as JsonRpcSend | null | undefined;
  if (typeof rpc?.send !== "function") return 0;
  const block = (await rpc.send("eth_getBlockByNumber", ["latest", false])) as { timestamp?: string } | null;
  return Number(block?.timestamp ?? 0) * 1000;
}

/** The last block whose timestamp is < `endSeconds` (binary search; the chain must have reached it). */

export async function lastBlockBefore(
  registry: DeviceRegistry,
  endSeconds: bigint,
  retry?: RetryOptions,
): Promise<number> {
  const provider = registry.runner?.provider;
  if (!provider) throw new ChainIndexerError("registry binding has no provider");
  const timeOf = async (n: number): Promise<bigint> => {
    const block = await withRetry(() => provider.getBlock(n), retry);
    if (block === null) throw new ChainIndexerError(`block ${n} not found`);
    return BigInt(block.timestamp);
  };
  const head = await withRetry(() => headOf(provider), retry);
  if ((await timeOf(head)) < endSeconds) {
    throw new ChainIndexerError(
      `epoch ends at ${endSeconds}: the chain has not reached it yet (head ${head})`,
    );
  }
  let lo = 0; // invariant: timeOf(lo) < end (genesis block assumed earlier than any epoch end)
  let hi = head; // invariant: timeOf(hi) >= end
  if ((await timeOf(0)) >= endSeconds)
    throw new ChainIndexerError(
      "epoch ended before the chain's first block: nothing can have happened in it; close a later epoch: leave chain.firstEpoch unset (derived from the chain) or set it to an epoch that ends after the deployment (docs/operate.md)",
    );
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if ((await timeOf(mid)) < endSeconds) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Runs a log query over [from, to] in spans of at most `range` blocks, each with retries. */
/** `query` over [from, to] in ranges of at most `range` blocks, each retried, results in order. */
export async function queryChunked<T>(
  query: (from: number, to: number) => Promise<T[]>,
  from: number,
  to: number,
  range: number,
  retry: RetryOptions | undefined,
): Promise<T[]> {
  const out: T[] = [];
  for (let a = from; a <= to; a += range) {
    const b = Math.min(to, a + range - 1);
    out.push(...(await withRetry(() => query(a, b), retry)));
  }
  return out;
}

interface MutableDevice {
  id: bigint;
  deviceClass: number;
  onboardOrder: bigint;
  owner: Hex;
  key: DeviceKey;
  status: DeviceStatus;
  location: bigint | null;
  gain: number;
  elevation: number;
}

type AnyLog = TypedEventLog<never> & { blockNumber: number; index: number };

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

const normalizeHex = (s: string): Hex => s.toLowerCase() as Hex;

function keyFrom(keyType: bigint, x: string, y: string): DeviceKey {
  // The registry stores a secp256k1 key as its address left-padded to 32 bytes, y = 0.
  if (keyType === 0n) return { type: "secp256k1", address: normalizeHex(`0x${x.slice(26)}`) };
  if (keyType === 1n) return { type: "p256", x: normalizeHex(x), y: normalizeHex(y) };
  throw new ChainIndexerError(`unknown key type ${keyType}`);
}

/**
 * The keys of devices onboarded in blocks [fromBlock, toBlock], in chain order (what ingest checks
 * signatures against; a retired device's key stays: the verifier refuses its reports with a reason).
 */
export async function onboardedKeys(
  registry: DeviceRegistry,
  fromBlock: number,
  toBlock: number,
  options: { readonly maxBlockRange?: number; readonly retry?: RetryOptions } = {},
): Promise<DeviceKey[]> {
  if (toBlock < fromBlock) return [];
  const logs = await queryChunked(
    (a, b) => registry.queryFilter(registry.filters.DeviceOnboarded(), a, b),
    fromBlock,
    toBlock,
    options.maxBlockRange ?? 10_000,
    options.retry,
  );
  return logs
    .sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
    .map((log) => keyFrom(log.args.keyType, log.args.keyX, log.args.keyY));
}

/** Builds the ChainIndex of `epoch` (see the file comment for how it is pinned and what the pool is). */
export async function indexEpoch(
  contracts: ChainContracts,
  epoch: bigint,
  options: IndexOptions = {},
): Promise<ChainIndex & { readonly snapshotBlock: number; readonly funded: bigint }> {
  const { registry, vault, controller, distributor } = contracts;
  const previous = options.previous;
  if (previous !== undefined && previous.epoch >= epoch) {
    throw new ChainIndexerError(`previous result is epoch ${previous.epoch}, not before ${epoch}`);
  }
  const window = await epochWindow(controller, epoch, options.retry);
  const snapshot = options.snapshotBlock ?? (await lastBlockBefore(registry, window.end, options.retry));
  const from = options.fromBlock ?? 0;
  const provider = registry.runner!.provider!;
  const { chainId } = await withRetry(() => provider.getNetwork(), options.retry);

  // Funding of every epoch up to this one (immutable once emitted, so read up to the head).
  const head = await withRetry(() => headOf(provider), options.retry);
  const range = options.maxBlockRange ?? 10_000;
  const fundedLogs = await queryChunked(
    (a, b) => distributor.queryFilter(distributor.filters.EpochFunded(), a, b),
    from,
    head,
    range,
    options.retry,
  );
  let funded = 0n;
  let thisEpochFunded = false;
  for (const log of fundedLogs) {
    if (log.args.epoch <= epoch) funded += log.args.amount;
    if (log.args.epoch === epoch) thisEpochFunded = true;
  }
  if (!thisEpochFunded) throw new ChainIndexerError(`epoch ${epoch} is not funded yet (distribute it first)`);
  const usage =
    contracts.usage === undefined
      ? undefined
      : await indexUsage(contracts.usage, epoch, snapshot, { fromBlock: from, toBlock: head, ...options });
  const prevTotal = previous?.totalCumulative ?? 0n;
  if (prevTotal > funded)
    throw new ChainIndexerError(`previous total ${prevTotal} exceeds funding ${funded}`);

  // Registry state at the snapshot, replayed from its events in chain order.
  const f = registry.filters;
  const q = <T>(query: (a: number, b: number) => Promise<T[]>) =>
    queryChunked(query, from, snapshot, range, options.retry);
  const batches = await Promise.all([
    q((a, b) => registry.queryFilter(f.DeviceOnboarded(), a, b)),
    q((a, b) => registry.queryFilter(f.LocationAsserted(), a, b)),
    q((a, b) => registry.queryFilter(f.DeviceSuspended(), a, b)),
    q((a, b) => registry.queryFilter(f.DeviceReinstated(), a, b)),
    q((a, b) => registry.queryFilter(f.DeviceRetired(), a, b)),
    q((a, b) => registry.queryFilter(f.Transfer(), a, b)),
  ]);
  const logs = (batches.flat() as unknown as AnyLog[]).sort(
    (a, b) => a.blockNumber - b.blockNumber || a.index - b.index,
  );
  const devices = new Map<bigint, MutableDevice>();
  const deviceOf = (id: bigint): MutableDevice => {
    const d = devices.get(id);
    if (d === undefined) throw new ChainIndexerError(`event for unknown device ${id}`);
    return d;
  };
  for (const log of logs) {
    const args = (log as unknown as { args: Record<string, unknown> }).args;
    switch (log.eventName as string) {
      case "DeviceOnboarded": {
        const id = args.deviceId as bigint;
        devices.set(id, {
          id,
          deviceClass: Number(args.deviceClass as bigint),
          onboardOrder: onboardOrderOf(log.blockNumber, log.index),
          owner: normalizeHex(args.owner as string),
          key: keyFrom(args.keyType as bigint, args.keyX as string, args.keyY as string),
          status: "active",
          location: null,
          gain: 0,
          elevation: 0,
        });
        break;
      }
      case "LocationAsserted": {
        const d = deviceOf(args.deviceId as bigint);
        d.location = args.cell as bigint;
        d.gain = Number(args.gain);
        d.elevation = Number(args.elevation);
        break;
      }
      case "DeviceSuspended":
        deviceOf(args.deviceId as bigint).status = "suspended";
        break;
      case "DeviceReinstated":
        deviceOf(args.deviceId as bigint).status = "active";
        break;
      case "DeviceRetired":
        deviceOf(args.deviceId as bigint).status = "retired";
        break;
      case "Transfer": {
        // Mints precede DeviceOnboarded in the same transaction; burns (retire) keep the last owner.
        const to = args.to as string;
        const d = devices.get(args.tokenId as bigint);
        if (d !== undefined && to !== ZERO_ADDRESS) d.owner = normalizeHex(to);
        break;
      }
      default:
        break;
    }
  }

  if (options.classSubnetwork !== undefined) {
    const classes = [...new Set([...devices.values()].map((d) => d.deviceClass))];
    const wanted = new Set<number>();
    for (const c of classes) {
      const info = await withRetry(() => registry.deviceClassInfo(c, { blockTag: snapshot }), options.retry);
      if (Number(info.subnetwork) === options.classSubnetwork) wanted.add(c);
    }
    for (const [id, d] of devices) if (!wanted.has(d.deviceClass)) devices.delete(id);
  }

  // Bonds at the snapshot block.
  const owners = [...new Set([...devices.values()].map((d) => d.owner))].sort();
  const bonds: OwnerBond[] = await Promise.all(
    owners.map(async (owner) => ({
      owner,
      bondedDevices: Number(
        await withRetry(() => vault.bondedDeviceCount(owner, { blockTag: snapshot }), options.retry),
      ),
    })),
  );

  return {
    chainId,
    registry: normalizeHex(await registry.getAddress()),
    epoch,
    epochStart: Number(window.start) * 1000,
    epochEnd: Number(window.end) * 1000,
    pool: funded - prevTotal,
    devices: [...devices.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(({ deviceClass: _class, ...record }) => record),
    bonds: bonds.filter((b) => b.bondedDevices > 0),
    previousCumulative: previous?.owners ?? [],
    ...(usage !== undefined ? { usage } : {}),
    snapshotBlock: snapshot,
    funded,
  };
}

/** Every UsageRecorded log of (subnetwork, epoch) in blocks [fromBlock, toBlock], in chain order. */
export async function usageRecords(
  source: UsageSource,
  epoch: bigint,
  options: { readonly fromBlock: number; readonly toBlock: number } & Pick<
    IndexOptions,
    "maxBlockRange" | "retry"
  >,
): Promise<UsageRecord[]> {
  const { credits, subnetwork } = source;
  const logs = await queryChunked(
    (a, b) => credits.queryFilter(credits.filters.UsageRecorded(subnetwork, epoch), a, b),
    options.fromBlock,
    options.toBlock,
    options.maxBlockRange ?? 10_000,
    options.retry,
  );
  return logs
    .filter((log) => log.args.subnetwork.toLowerCase() === subnetwork && log.args.epoch === epoch)
    .map((log) => ({
      provider: normalizeHex(log.args.provider),
      account: normalizeHex(log.args.account),
      credits: log.args.credits,
      block: log.blockNumber,
      logIndex: log.index,
    }))
    .sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
}

/**
 * The price source's rewardPrice() at `block` (USD per MESH, 18 decimals), through the source
 * UsageCredits pointed to at that block; 0 when the source reverts PriceStale there (or has no price).
 */
export async function rewardPriceAt(
  credits: UsageCredits,
  block: number,
  retry?: RetryOptions,
): Promise<bigint> {
  const sourceAddress = await withRetry(() => credits.priceSource({ blockTag: block }), retry);
  const source = IMeshPrice__factory.connect(sourceAddress, credits.runner);
  try {
    return await withRetry(() => source.rewardPrice({ blockTag: block }), retry);
  } catch (e) {
    if (decodeContractError(e)?.name === "PriceStale") return 0n;
    throw e;
  }
}

/** The subnetwork's usage of `epoch`: its records up to `toBlock` and the reward price at the snapshot. */
export async function indexUsage(
  source: UsageSource,
  epoch: bigint,
  snapshot: number,
  options: { readonly fromBlock: number; readonly toBlock: number } & Pick<
    IndexOptions,
    "maxBlockRange" | "retry"
  >,
): Promise<EpochUsage> {
  const records = await usageRecords(source, epoch, options);
  // Without a record the price is not used (and the source may not exist yet at the snapshot).
  const price = records.length === 0 ? 0n : await rewardPriceAt(source.credits, snapshot, options.retry);
  return { subnetwork: source.subnetwork, price, priceBlock: snapshot, records };
}

/** A DeviceOnboarded log's position in the chain as one number (see DeviceRecord.onboardOrder). */
export function onboardOrderOf(blockNumber: number, logIndex: number): bigint {
  return (BigInt(blockNumber) << 32n) | BigInt(logIndex);
}
