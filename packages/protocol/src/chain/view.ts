/**
 * ChainView: the ChainIndex validated and indexed for lookups. Built once per epoch; throws
 * ChainIndexError on an inconsistent index (that is a bug in the indexer, not bad user input).
 */
import * as h3 from "h3-js";

import { compareHex, isHexBytes, type Hex } from "../hex.js";
import { isWellFormedKey, keyIdOf } from "../keys.js";
import type { ReportDomain } from "../reports/types.js";
import type { ChainIndex, DeviceRecord, UsageRecord } from "./types.js";

export class ChainIndexError extends Error {
  override readonly name = "ChainIndexError";
}

/** Resolution of asserted locations (the registry validates it on chain). */
export const LOCATION_RESOLUTION = 12;

export interface DeviceEntry {
  readonly record: DeviceRecord;
  readonly keyId: Hex;
  /** Asserted cell as h3-js hex text, or null if unasserted or not a valid res-12 cell. */
  readonly cell: string | null;
}

export class ChainView {
  readonly index: ChainIndex;
  readonly domain: ReportDomain;
  /** Devices sorted by id. */
  readonly devices: readonly DeviceEntry[];
  /** Made on the first lookup by key id (a close never looks one up: ~40 bytes a device). */
  private byKeyId: Map<Hex, DeviceEntry> | null = null;
  private readonly bonds = new Map<Hex, number>();
  private readonly previous = new Map<Hex, bigint>();
  private readonly records: UsageRecord[] = [];

  constructor(index: ChainIndex) {
    this.index = index;
    if (!isHexBytes(index.registry, 20)) throw new ChainIndexError(`bad registry address ${index.registry}`);
    if (index.chainId <= 0n) throw new ChainIndexError("chainId must be positive");
    if (index.pool < 0n || index.epoch < 0n) throw new ChainIndexError("negative pool or epoch");
    if (!(index.epochStart < index.epochEnd)) throw new ChainIndexError("empty epoch window");
    this.domain = { chainId: index.chainId, verifyingContract: index.registry };

    const ids = new Set<bigint>();
    const orders = new Set<bigint>();
    const keyIds = new Set<Hex>();
    const entries: DeviceEntry[] = [];
    for (const d of index.devices) {
      if (ids.has(d.id)) throw new ChainIndexError(`device id ${d.id} twice`);
      ids.add(d.id);
      if (d.onboardOrder < 0n || orders.has(d.onboardOrder))
        throw new ChainIndexError(`device ${d.id}: onboard order ${d.onboardOrder} negative or taken`);
      orders.add(d.onboardOrder);
      if (!isHexBytes(d.owner, 20)) throw new ChainIndexError(`device ${d.id}: bad owner ${d.owner}`);
      if (!isWellFormedKey(d.key)) throw new ChainIndexError(`device ${d.id}: malformed key`);
      const keyId = keyIdOf(d.key);
      if (keyIds.has(keyId)) throw new ChainIndexError(`key id ${keyId} registered twice`);
      keyIds.add(keyId);
      entries.push({ record: d, keyId, cell: cellText(d.location) });
    }
    entries.sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
    this.devices = entries;

    for (const b of index.bonds) {
      if (!isHexBytes(b.owner, 20) || !Number.isSafeInteger(b.bondedDevices) || b.bondedDevices < 0) {
        throw new ChainIndexError(`bad bond entry for ${b.owner}`);
      }
      if (this.bonds.has(b.owner)) throw new ChainIndexError(`bond of ${b.owner} twice`);
      this.bonds.set(b.owner, b.bondedDevices);
    }
    for (const c of index.previousCumulative) {
      if (!isHexBytes(c.owner, 20) || c.amount < 0n)
        throw new ChainIndexError(`bad cumulative entry for ${c.owner}`);
      if (this.previous.has(c.owner)) throw new ChainIndexError(`cumulative of ${c.owner} twice`);
      this.previous.set(c.owner, c.amount);
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
