// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IMeshPrice} from "./IMeshPrice.sol";

/// @title Quorum MESH/USD price interface
/// @notice A price signed by a k-of-n oracle set: each oracle signs its own observation, the EIP-712
/// `MeshPrice(uint256 price,uint64 timestamp)`; anyone submits at least k of them from distinct
/// current oracles, and their median becomes the price, observed at the oldest report's timestamp.
/// A price older than one hour is stale.
interface IQuorumPrice is IMeshPrice {
    /// @notice One oracle's signed observation.
    /// @param price USD per MESH, 18 decimals.
    /// @param timestamp When the oracle observed it (unix seconds).
    /// @param signature The oracle's 65-byte ECDSA signature of the EIP-712 MeshPrice.
    struct PriceReport {
        uint256 price;
        uint64 timestamp;
        bytes signature;
    }

    /// @notice The oracle set is empty, too large, has a duplicate or zero member, or k is not in [1, n].
    error QuorumPriceInvalidOracleSet();
    /// @notice Fewer reports than the threshold.
    error QuorumPriceTooFewReports(uint256 count, uint256 threshold);
    /// @notice Report `index`'s signature does not recover.
    error QuorumPriceInvalidSignature(uint256 index);
    /// @notice Report signers must be strictly ascending (which also makes them distinct).
    error QuorumPriceSignersNotAscending(uint256 index, address signer);
    /// @notice The signer is not in the current oracle set.
    error QuorumPriceNotOracle(address signer);
    /// @notice A reported price is zero or above MAX_PRICE.
    error QuorumPriceInvalid(uint256 price);
    /// @notice A report is older than MAX_AGE or from the future.
    error QuorumPriceReportOutOfWindow(uint64 timestamp);
    /// @notice The reports are not newer than the current price (a replay, or a late submission).
    error QuorumPriceNotNewer(uint64 observedAt, uint64 updatedAt);
    /// @notice A zero address was given where an account is required.
    error QuorumPriceZeroAddress();

    /// @notice The oracle set changed; reports signed by removed members no longer count.
    event OracleSetChanged(uint64 indexed version, address[] oracles, uint256 threshold);

    /// @notice Sets the price to the median of the reports (the lower middle one for an even count).
    /// Permissionless: the signatures are the authority.
    /// @dev Every report: signed by a distinct current oracle (signers ascending), a price in
    /// (0, MAX_PRICE], a timestamp within MAX_AGE before now and not in the future. The oldest
    /// timestamp becomes the price's observation time and must be after the current one's.
    /// @param reports At least `threshold()` reports.
    function submit(PriceReport[] calldata reports) external;

    /// @notice Replaces the oracle set and its threshold. Only DEFAULT_ADMIN_ROLE.
    /// @param oracles 1 .. MAX_ORACLES distinct non-zero addresses.
    /// @param threshold k, in [1, oracles.length].
    function setOracleSet(address[] calldata oracles, uint256 threshold) external;

    /// @notice The current oracle set.
    function oracles() external view returns (address[] memory);

    /// @notice The current threshold k.
    function threshold() external view returns (uint256);

    /// @notice The current oracle set version (bumped by every `setOracleSet`).
    function oracleSetVersion() external view returns (uint64);

    /// @notice EIP-712 digest of a MeshPrice, as an oracle signs it.
    /// @param price USD per MESH, 18 decimals.
    /// @param timestamp Observation time.
    function priceDigest(uint256 price, uint64 timestamp) external view returns (bytes32);
}
