/**
 * The chain state one epoch is computed from, as plain data.
 *
 * Filled by the chain indexer (registry events and views, staking vault bonds, emissions and
 * distributor state) at the epoch's end block; the pipeline reads nothing else from the chain, so
 * two oracles given the same ChainIndex and the same reports produce the same result. Order of the
 * arrays does not matter: the pipeline sorts everything it depends on.
 *
 * Conventions: addresses and hex values are lowercase 0x-prefixed (see util/hex.ts), amounts are
 * wei of MESH as bigint, times are Unix milliseconds.
 */
import type { Hex } from "../hex.js";

/** A device key as registered. Reports name the device by its key id (see reports/keys.ts). */
export type DeviceKey =
  /** secp256k1 key known by its Ethereum address (what ecrecover yields); the key id is that address. */
  | { readonly type: "secp256k1"; readonly address: Hex }
  /** P-256 public key (affine coordinates, 32 bytes each); key id = last 20 bytes of keccak256(x ‖ y). */
  | { readonly type: "p256"; readonly x: Hex; readonly y: Hex };

/** Registry status. Suspended = on the denylist (reason code kept on chain); retired = gone for good. */
export type DeviceStatus = "active" | "suspended" | "retired";

export interface DeviceRecord {
  /** ERC-721 token id in the DeviceRegistry (uint256 of the registry's key id). */
  readonly id: bigint;
  /**
   * Where its DeviceOnboarded event sits in the chain: block number × 2^32 + log index. Orders
   * devices by onboarding (ids are key hashes, so they do not); bonds cover the earliest.
   */
  readonly onboardOrder: bigint;
  /** Current token owner: rewards go to this address. */
  readonly owner: Hex;
  readonly key: DeviceKey;
  readonly status: DeviceStatus;
  /** Asserted H3 cell (resolution 12, uint64 as on chain), or null if never asserted. */
  readonly location: bigint | null;
  /** Antenna gain in tenths of dBi (10..150 on chain). */
  readonly gain: number;
  /** Antenna elevation above ground in metres. */
  readonly elevation: number;
}

export interface OwnerBond {
  readonly owner: Hex;
  /**
   * How many devices the owner's bond covers: floor(stake / minStakePerDevice) from the staking
   * vault. Which devices those are is the oracle's deterministic rule (rewards/payout.ts).
   */
  readonly bondedDevices: number;
}

export interface OwnerCumulative {
  readonly owner: Hex;
  /** Lifetime amount in the previous epoch's live root (0 if absent). */
  readonly amount: bigint;
}

/** One `UsageRecorded(subnetwork, epoch, provider, credits, account)` log of UsageCredits. */
export interface UsageRecord {
  /** Who did the work: the reward owner the credits are paid to. */
  readonly provider: Hex;
  /** Whose credits paid. */
  readonly account: Hex;
  /** Credits consumed (micro-USD). */
  readonly credits: bigint;
  /** Where the log sits (block number, log index in the block): unique, and the records' order. */
  readonly block: number;
  readonly logIndex: number;
}

/** The subnetwork's paid usage of the epoch and the price it is valued at (rewards/usage.ts). */
export interface EpochUsage {
  /** The subnetwork id (bytes32) the spenders are registered for. */
  readonly subnetwork: Hex;
  /**
   * The price source's rewardPrice() (USD per MESH, 18 decimals) at `priceBlock`, the epoch's
   * snapshot block; 0 when it had no fresh price there (usage is then unpaid for the epoch).
   */
  readonly price: bigint;
  readonly priceBlock: number;
  /** Every UsageRecorded log of this subnetwork and epoch, any order. */
  readonly records: readonly UsageRecord[];
}

export interface ChainIndex {
  /** EIP-712 domain of device reports: chain id and DeviceRegistry address. */
  readonly chainId: bigint;
  readonly registry: Hex;
  /** Epoch number and its time window [start, end) in Unix ms (from the emissions controller clock). */
  readonly epoch: bigint;
  readonly epochStart: number;
  readonly epochEnd: number;
  /** MESH funded to this subnetwork's distributor for the epoch, plus any dust carried over. */
  readonly pool: bigint;
  readonly devices: readonly DeviceRecord[];
  /** Owners without an entry have no bond (0 devices covered). */
  readonly bonds: readonly OwnerBond[];
  /** Cumulative amounts of the previous epoch; owners without an entry start at 0. */
  readonly previousCumulative: readonly OwnerCumulative[];
  /** Paid usage of the epoch; absent (or without records): no usage, the pool pays availability only. */
  readonly usage?: EpochUsage;
}

/** A report exactly as received (canonical JSON wire text), stamped with the oracle's receive time. */
export interface ReceivedReport {
  readonly raw: string;
  /** Unix ms at which the oracle acknowledged the report. */
  readonly receivedAt: number;
}
