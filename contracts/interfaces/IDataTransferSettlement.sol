// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IUsageCredits} from "./IUsageCredits.sol";

/// @title Coverage data-transfer settlement interface
/// @notice The coverage subnetwork's market for carried packets: a UsageCredits spender that, once per
/// ended epoch, consumes from each customer router's credits what the packets its devices sent through
/// the hotspots cost, and records the usage per hotspot owner (`UsageRecorded`), the record the coverage
/// oracle's usage rewards are reconciled against. Routers sign a `PacketReceipt` per packet (field lists in
/// the protocol package); the coverage oracles verify them and sign the epoch's totals here.
/// @dev EIP-712 domain: name "Hexmesh DataTransfer", version "1", this chain, this contract. Signed types:
/// `PacketReceipt(address router,uint256 hotspot,bytes32 payloadHash,uint16 bytes,uint64 time,uint64 routerNonce)`
/// (by a router, checked by the oracles, never on chain) and
/// `DataTransferSettlement(uint64 epoch,bytes32 entriesHash,uint64 oracleSetVersion)` (by the coverage
/// oracles; the oracle set, its threshold and its version are the coverage RewardsDistributor's, so a
/// settlement signed by an old set fails). `entriesHash` is keccak256 of the entries' ABI words
/// concatenated: 96 bytes per entry (router, provider, credits). A packet costs `creditsPerPacketAt(epoch)`
/// credits per started 24 bytes of payload.
interface IDataTransferSettlement {
    /// @notice A zero address was given where a contract is required.
    error SettlementZeroAddress();
    /// @notice The price per packet is outside [1, MAX_CREDITS_PER_PACKET].
    error SettlementPriceOutOfBounds(uint256 creditsPerPacket);
    /// @notice The epoch has not ended yet (it ends at `endsAt`, unix seconds).
    error SettlementEpochNotEnded(uint64 epoch, uint256 endsAt);
    /// @notice The epoch was settled already, or a later one was (epochs settle once, in order).
    error SettlementEpochSettled(uint64 epoch, uint64 nextEpoch);
    /// @notice A settlement needs at least one entry.
    error SettlementNoEntries();
    /// @notice Entries must be strictly ascending by (router, provider): no duplicates.
    error SettlementEntriesNotSorted(uint256 index);
    /// @notice An entry names the zero router or the zero provider.
    error SettlementZeroEntry(uint256 index);

    /// @notice An epoch's data transfer was settled: `credits` consumed from the routers' accounts
    /// (one `UsageRecorded` per entry, from UsageCredits).
    /// @param epoch The settled epoch.
    /// @param entriesHash keccak256 of the entries' ABI words.
    /// @param entries Number of (router, provider) entries.
    /// @param credits Credits consumed in all, gone for good.
    /// @param oracleSetVersion The oracle set that signed.
    event EpochSettled(
        uint64 indexed epoch,
        bytes32 entriesHash,
        uint256 entries,
        uint256 credits,
        uint64 oracleSetVersion
    );
    /// @notice Governance changed the price per packet, effective from `fromEpoch`.
    event CreditsPerPacketChanged(uint64 fromEpoch, uint256 previous, uint256 creditsPerPacket);

    /// @notice Settles an ended epoch once: consumes each entry's credits from its router's account
    /// (within the router's balance and its allowance for this contract, else UsageCredits reverts
    /// `CreditsInsufficientBalance` / `CreditsInsufficientAllowance`) and records them for the provider.
    /// Anyone may submit it; it needs at least the distributor's threshold of signatures by distinct
    /// members of its current oracle set, signers ascending.
    /// @param epoch An ended epoch at or after `nextEpoch()`.
    /// @param oracleSetVersion The distributor's current oracle set version (what the oracles signed).
    /// @param entries (router, provider, credits), strictly ascending by (router, provider), non-zero.
    /// @param signatures Concatenated 65-byte signatures over `settlementDigest`.
    function settle(
        uint64 epoch,
        uint64 oracleSetVersion,
        IUsageCredits.Usage[] calldata entries,
        bytes calldata signatures
    ) external;

    /// @notice Sets the credits a started 24-byte packet costs, from the next epoch on (an epoch's
    /// receipts are priced by one rule). Only DEFAULT_ADMIN_ROLE (the timelock).
    /// @param creditsPerPacket In [1, MAX_CREDITS_PER_PACKET].
    function setCreditsPerPacket(uint256 creditsPerPacket) external;

    /// @notice The UsageCredits ledger this contract spends from.
    function credits() external view returns (address);

    /// @notice The coverage RewardsDistributor whose oracle set signs settlements.
    function distributor() external view returns (address);

    /// @notice The emissions epoch clock: genesis (unix seconds) and epoch length (seconds).
    function epochClock() external view returns (uint64 genesisTime, uint64 epochLength);

    /// @notice The first epoch that may still be settled.
    function nextEpoch() external view returns (uint64);

    /// @notice Credits per started 24-byte packet in `epoch`.
    /// @param epoch Any epoch.
    function creditsPerPacketAt(uint64 epoch) external view returns (uint256);

    /// @notice keccak256 of the entries' ABI words (96 bytes per entry), as signed.
    /// @param entries The entries.
    function entriesHash(IUsageCredits.Usage[] calldata entries) external pure returns (bytes32);

    /// @notice EIP-712 digest of a `DataTransferSettlement`, as each oracle signs it.
    /// @param epoch The epoch.
    /// @param entriesHash_ The entries' hash.
    /// @param oracleSetVersion The oracle set version.
    function settlementDigest(
        uint64 epoch,
        bytes32 entriesHash_,
        uint64 oracleSetVersion
    ) external view returns (bytes32);
}
