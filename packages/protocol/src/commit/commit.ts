/**
 * The epoch's published result: a canonical byte encoding, its dataHash, and the Merkle tree of
 * cumulative amounts. What the oracles sign (EpochRoot) is {epoch, root, totalCumulative, dataHash}.
 *
 * Canonical encoding, version 1 (all integers big-endian, fixed width; see encoding.ts):
 *   magic "HXMEPOCH" (8 bytes) | version uint8 = 1 | work kind (ascii)
 *   chainId uint256 | registry address | epoch uint64 | epochStart uint64 | epochEnd uint64 | pool uint256
 *   pool count uint8, then per pool: name (ascii) | bps uint16 | amount uint256
 *   [version 2 only] usage: subnetwork bytes32 | price uint256 | priceBlock uint64 | shareBps uint16 |
 *     feeBps uint16 | usagePool uint256 | totalValue uint256 | paid uint256
 *     record count uint32, then per record by (block, log index): block uint64 | logIndex uint32 |
 *       provider address | account address | credits uint256
 *     provider count uint32, then per provider by ascending address: provider address |
 *       credits uint256 | value uint256 | reward uint256
 *   metric count uint8, then per metric: name (ascii)
 *   verifier record: byte length uint64 | bytes (coverage: verdicts, see the oracle's verify/record.ts)
 *   device count uint32, then per device by ascending id:
 *     id uint256 | owner address | bonded uint8 | metrics uint256 each | weights uint256 each | amount uint256
 *   owner count uint32, then per owner by ascending address: owner address | amount uint256 | cumulative uint256
 *   distributed uint256 | dust uint256 | totalCumulative uint256 | root bytes32
 * dataHash = keccak256(encoding).
 *
 * Version 1 is written when the epoch has no usage record (rewards/usage.ts), version 2 when it has:
 * an epoch without paid usage keeps the bytes, dataHash and root it had before usage existed. In
 * version 2 the pool amounts are the split of (pool − usage paid) and an owner's amount includes
 * its usage reward.
 */
import type { ChainView } from "../chain/view.js";
import { Keccak256Stream } from "../crypto/keccak.js";
import { toHex, ZERO_BYTES32, type Hex } from "../hex.js";
import type { Payout } from "../rewards/payout.js";
import type { WorkResult } from "../work.js";
import { ByteWriter, chunksByteLength, type ChunkSource } from "./encoding.js";
import { OwnerMerkleTree } from "./merkle.js";

export const ENCODING_MAGIC = "HXMEPOCH";
/** Without usage records. */
export const ENCODING_VERSION = 1;
/** With usage records (the usage section after the pools). */
export const ENCODING_VERSION_USAGE = 2;

/** Device rows encoded per batch while the encoding is read. */
const DEVICE_ROWS_PER_CHUNK = 4_096;

/**
 * The device count and rows, encoded again in batches each time they are read rather than held:
 * ~250 bytes a device (~350 MB at 1.44M devices) would otherwise stay in memory with the encoding.
 * Its length is known without encoding; every value is checked on the first read (commitEpoch
 * hashes the encoding at once).
 */
function deviceRows(payout: Payout): ChunkSource {
  const devices = payout.devices;
  let byteLength = 4;
  for (const d of devices) byteLength += 32 + 20 + 1 + 32 * (d.metrics.length + d.weights.length) + 32;
  return {
    byteLength,
    *[Symbol.iterator]() {
      for (let at = 0; at === 0 || at < devices.length; at += DEVICE_ROWS_PER_CHUNK) {
        const rows = new ByteWriter();
        if (at === 0) rows.u32(devices.length);
        for (const d of devices.slice(at, at + DEVICE_ROWS_PER_CHUNK)) {
          rows
            .u256(d.deviceId)
            .hex(d.owner, 20)
            .u8(d.bonded ? 1 : 0);
          for (const m of d.metrics) rows.u256(m);
          for (const x of d.weights) rows.u256(x);
          rows.u256(d.amount);
        }
        yield* rows.finish();
      }
    },
  };
}

/** Owner rows encoded per batch while the encoding is read. */
const OWNER_ROWS_PER_CHUNK = 8_192;

/**
 * The owner count and rows, then the totals and the root, encoded again in batches each time they
 * are read, as the device rows are: 84 bytes an owner (~120 MB at 1.44M owners) are not held.
 */
function ownerRowsAndTotals(payout: Payout, root: Hex): ChunkSource {
  const owners = payout.owners;
  return {
    byteLength: 4 + 84 * owners.length + 3 * 32 + 32,
    *[Symbol.iterator]() {
      for (let at = 0; at === 0 || at < owners.length; at += OWNER_ROWS_PER_CHUNK) {
        const rows = new ByteWriter();
        if (at === 0) rows.u32(owners.length);
        for (const o of owners.slice(at, at + OWNER_ROWS_PER_CHUNK))
          rows.hex(o.owner, 20).u256(o.amount).u256(o.cumulative);
        if (at + OWNER_ROWS_PER_CHUNK >= owners.length)
          rows.u256(payout.distributed).u256(payout.dust).u256(payout.totalCumulative).hex(root, 32);
        yield* rows.finish();
      }
    },
  };
}

/** The message each oracle signs for the distributor's postRoot. */
export interface EpochRoot {
  readonly epoch: bigint;
  /** Merkle root of (owner, cumulative); zero when no owner has ever earned. */
  readonly root: Hex;
  readonly totalCumulative: bigint;
  readonly dataHash: Hex;
}

export interface EpochCommit {
  readonly epochRoot: EpochRoot;
  /**
   * Canonical encoding as chunks (concatenate to get the bytes that hash to dataHash). The
   * verifier's record inside it is read from the work each time the encoding is iterated, not held.
   */
  readonly encoding: ChunkSource;
  readonly byteLength: number;
  /** null when there is no owner with a positive cumulative amount. */
  readonly tree: OwnerMerkleTree | null;
}

export function commitEpoch(chain: ChainView, work: WorkResult, payout: Payout): EpochCommit {
  const tree =
    payout.owners.length === 0 ? null : OwnerMerkleTree.buildOf(payout.owners, (o) => o.cumulative);
  const root = tree === null ? ZERO_BYTES32 : tree.root;
  const index = chain.index;

  const w = new ByteWriter();
  for (const ch of ENCODING_MAGIC) w.u8(ch.charCodeAt(0));
  const usage = payout.usage;
  w.u8(usage === null ? ENCODING_VERSION : ENCODING_VERSION_USAGE).ascii(work.kind);
  w.u256(index.chainId).hex(index.registry, 20).u64(index.epoch).u64(index.epochStart).u64(index.epochEnd);
  w.u256(index.pool);
  w.u8(work.pools.length);
  work.pools.forEach((p, i) => w.ascii(p.name).u16(p.bps).u256(payout.poolAmounts[i]!));
  if (usage !== null) {
    const u = index.usage!;
    w.hex(u.subnetwork, 32).u256(u.price).u64(u.priceBlock);
    w.u16(usage.params.shareBps).u16(usage.params.feeBps);
    w.u256(usage.usagePool).u256(usage.totalValue).u256(usage.paid);
    w.u32(chain.usageRecords.length);
    for (const r of chain.usageRecords)
      w.u64(r.block).u32(r.logIndex).hex(r.provider, 20).hex(r.account, 20).u256(r.credits);
    w.u32(usage.providers.length);
    for (const p of usage.providers) w.hex(p.provider, 20).u256(p.credits).u256(p.value).u256(p.reward);
  }
  w.u8(work.metricNames.length);
  for (const m of work.metricNames) w.ascii(m);
  const recordLength = chunksByteLength(work.record);
  w.u64(recordLength);
  const head = w.finish();
  const tail = deviceRows(payout);
  const ownerRows = ownerRowsAndTotals(payout, root);

  const byteLength = w.length + recordLength + tail.byteLength + ownerRows.byteLength;
  const record = work.record;
  const encoding: ChunkSource = {
    byteLength,
    *[Symbol.iterator]() {
      yield* head;
      yield* record;
      yield* tail;
      yield* ownerRows;
    },
  };
  const hasher = new Keccak256Stream();
  for (const c of encoding) hasher.update(c);
  return {
    epochRoot: {
      epoch: index.epoch,
      root,
      totalCumulative: payout.totalCumulative,
      dataHash: toHex(hasher.digest()),
    },
    encoding,
    byteLength,
    tree,
  };
}
