/**
 * ChainView: the ChainIndex validated and indexed for lookups. Built once per epoch; throws
 * ChainIndexError on an inconsistent index (that is a bug in the indexer, not bad user input).
 *
 * The view keeps the index's devices in columns (devices.ts) and not the index's device records:
 * a caller that drops the index holds each device once, in ~200 bytes.
 */
import * as h3 from "h3-js";

import { compareHex, isHexBytes, type Hex } from "../hex.js";
import { isWellFormedKey, keyIdOf } from "../keys.js";
import type { ReportDomain } from "../reports/types.js";
import { DeviceColumns, isDeviceStatus, UINT64_END, type DeviceEntry } from "./devices.js";
import type { ChainIndex, DeviceKey, DeviceRecord, UsageRecord } from "./types.js";

export type { DeviceEntry } from "./devices.js";

export class ChainIndexError extends Error {
  override readonly name = "ChainIndexError";
}

/** Resolution of asserted locations (the registry validates it on chain). */
export const LOCATION_RESOLUTION = 12;

/** A chain index without its devices (a view's devices are its entries). */
export type ChainIndexHead<I extends ChainIndex = ChainIndex> = Omit<I, "devices">;

/** The view's order of devices: by id (entry i of a view is the i-th record in this order). */
const byId = (a: DeviceRecord, b: DeviceRecord): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class ChainView<I extends ChainIndex = ChainIndex> {
  /**
   * The keys of the view's devices in its order (entry i's key at i), without building the view or
   * checking the index: what a verification worker needs of an index that the closing process has
   * already built a view of (and so checked). Building the view of 1.44M devices takes ~16 s.
   */
  static keysOf(index: ChainIndex): DeviceKey[] {
    return [...index.devices].sort(byId).map((d) => d.key);
  }

  /** The EIP-712 domain the index's reports are signed in (its chain and registry). */
  static domainOf(index: ChainIndexHead): ReportDomain {
    return { chainId: index.chainId, verifyingContract: index.registry };
  }

  /** The index's epoch, pool, bonds, cumulative amounts and usage: all of it but its devices. */
  readonly index: ChainIndexHead<I>;
  readonly domain: ReportDomain;
  /** Devices sorted by id; entry i has index i. */
  readonly devices: readonly DeviceEntry[];
  /** Made on the first lookup by key id (a close never looks one up: ~40 bytes a device). */
  private byKeyId: Map<Hex, DeviceEntry> | null = null;
  private readonly bonds = new Map<Hex, number>();
  private readonly previous = new Map<Hex, bigint>();
  private readonly records: UsageRecord[] = [];

  constructor(index: I) {
    const { devices, ...head } = index;
    this.index = head;
    if (!isHexBytes(index.registry, 20)) throw new ChainIndexError(`bad registry address ${index.registry}`);
    if (index.chainId <= 0n) throw new ChainIndexError("chainId must be positive");
    if (index.pool < 0n || index.epoch < 0n) throw new ChainIndexError("negative pool or epoch");
    if (!(index.epochStart < index.epochEnd)) throw new ChainIndexError("empty epoch window");
    this.domain = ChainView.domainOf(index);

    const ids = new Set<bigint>();
    const orders = new Set<bigint>();
    const keyIds = new Set<Hex>();
    /** Each owner's text once (its slot in DeviceColumns): the bonds and cumulative amounts share it. */
    const ownerSlots = new Map<Hex, number>();
    const owners: Hex[] = [];
    for (const d of devices) {
      if (ids.has(d.id)) throw new ChainIndexError(`device id ${d.id} twice`);
      ids.add(d.id);
      if (d.onboardOrder < 0n || d.onboardOrder >= UINT64_END || orders.has(d.onboardOrder))
        throw new ChainIndexError(`device ${d.id}: onboard order ${d.onboardOrder} out of range or taken`);
      orders.add(d.onboardOrder);
      if (!isHexBytes(d.owner, 20)) throw new ChainIndexError(`device ${d.id}: bad owner ${d.owner}`);
      if (!ownerSlots.has(d.owner)) ownerSlots.set(d.owner, owners.push(d.owner) - 1);
      if (!isWellFormedKey(d.key)) throw new ChainIndexError(`device ${d.id}: malformed key`);
      if (!isDeviceStatus(d.status))
        throw new ChainIndexError(`device ${d.id}: bad status ${String(d.status)}`);
      const keyId = keyIdOf(d.key);
      if (keyIds.has(keyId)) throw new ChainIndexError(`key id ${keyId} registered twice`);
      keyIds.add(keyId);
    }
    ids.clear();
    orders.clear();
    keyIds.clear();
    const sorted: readonly DeviceRecord[] = [...devices].sort(byId);
    this.devices = DeviceColumns.build(sorted, (r) => cellText(r.location) !== null, owners, ownerSlots);
    const owner = (o: Hex) => {
      const slot = ownerSlots.get(o);
      return slot === undefined ? o : owners[slot]!;
    };

    for (const b of index.bonds) {
      if (!isHexBytes(b.owner, 20) || !Number.isSafeInteger(b.bondedDevices) || b.bondedDevices < 0) {
        throw new ChainIndexError(`bad bond entry for ${b.owner}`);
      }
      if (this.bonds.has(b.owner)) throw new ChainIndexError(`bond of ${b.owner} twice`);
      this.bonds.set(owner(b.owner), b.bondedDevices);
    }
    for (const c of index.previousCumulative) {
      if (!isHexBytes(c.owner, 20) || c.amount < 0n)
        throw new ChainIndexError(`bad cumulative entry for ${c.owner}`);
      if (this.previous.has(c.owner)) throw new ChainIndexError(`cumulative of ${c.owner} twice`);
      this.previous.set(owner(c.owner), c.amount);
    }
    const usage = index.usage;
    if (usage !== undefined) {
      if (!isHexBytes(usage.subnetwork, 32))
        throw new ChainIndexError(`bad subnetwork id ${usage.subnetwork}`);
      if (usage.price < 0n || !Number.isSafeInteger(usage.priceBlock) || usage.priceBlock < 0)
        throw new ChainIndexError("bad usage price or price block");
      const at = new Set<string>();
      for (const r of usage.records) {
        const where = `${r.block}:${r.logIndex}`;
        if (!isHexBytes(r.provider, 20) || !isHexBytes(r.account, 20) || r.credits <= 0n)
          throw new ChainIndexError(`bad usage record at ${where}`);
        if (!Number.isSafeInteger(r.block) || r.block < 0 || !Number.isInteger(r.logIndex) || r.logIndex < 0)
          throw new ChainIndexError(`bad usage record position ${where}`);
        if (at.has(where)) throw new ChainIndexError(`usage record ${where} twice`);
        at.add(where);
        this.records.push(r);
      }
      this.records.sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
    }
  }

  /** The epoch's usage records sorted by (block, log index); empty without usage. */
  get usageRecords(): readonly UsageRecord[] {
    return this.records;
  }

  device(keyId: Hex): DeviceEntry | undefined {
    this.byKeyId ??= new Map(this.devices.map((d) => [d.keyId, d]));
    return this.byKeyId.get(keyId);
  }

  /** The device with this id, found in `devices` (sorted by id) without an index of its own. */
  deviceById(id: bigint): DeviceEntry | undefined {
    const ds = this.devices;
    let lo = 0;
    let hi = ds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ds[mid]!.record.id < id) lo = mid + 1;
      else hi = mid;
    }
    const d = ds[lo];
    return d !== undefined && d.record.id === id ? d : undefined;
  }

  bondedDevices(owner: Hex): number {
    return this.bonds.get(owner) ?? 0;
  }

  previousCumulative(owner: Hex): bigint {
    return this.previous.get(owner) ?? 0n;
  }

  /** Owners with a previous cumulative amount, sorted. */
  previousOwners(): Hex[] {
    return [...this.previous.keys()].sort(compareHex);
  }
}

/** uint64 H3 index -> h3-js text, or null when absent, invalid or not at LOCATION_RESOLUTION. */
export function cellText(location: bigint | null): string | null {
  if (location === null || location <= 0n || location >= 1n << 64n) return null;
  const text = location.toString(16);
  try {
    return h3.isValidCell(text) && h3.getResolution(text) === LOCATION_RESOLUTION ? text : null;
  } catch {
    return null;
  }
}
