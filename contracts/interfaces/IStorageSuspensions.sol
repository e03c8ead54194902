// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Storage suspensions interface
/// @notice The storage oracles' hold on new deals: a provider device whose retrieval score fell below
/// 0.6 is suspended from new data sets (StorageDeals' `createDataSet` and `acceptDataSet` refuse it)
/// until the oracles reinstate it. An update is an EIP-712 `StorageSuspension` (domain "Hexmesh
/// StorageSuspensions", "1", this chain, this contract) signed by at least the threshold of the storage
/// subnetwork's oracle set, read from its RewardsDistributor at each update, with a per-device nonce
/// and a deadline; anyone may submit it. Data sets already running are not touched.
interface IStorageSuspensions {
    /// @notice A constructor address was zero.
    error SuspensionsZeroAddress();
    /// @notice The update's deadline has passed.
    error SuspensionsExpired(uint64 deadline);
    /// @notice The update's nonce is not the device's next one (replayed or out of order).
    error SuspensionsWrongNonce(uint256 deviceId, uint64 given, uint64 expected);

    /// @notice The oracles suspended (`suspended`) or reinstated a device for new data sets.
    event SuspensionUpdated(uint256 indexed deviceId, bool suspended, uint64 nonce, uint64 oracleSetVersion);

    /// @notice Applies a quorum-signed suspension update. Anyone may submit it.
    /// @param deviceId The storage device.
    /// @param suspended True to suspend it from new data sets, false to reinstate it.
    /// @param nonce The device's next nonce (`nonceOf(deviceId)`).
    /// @param deadline Last second (block time) the update may be applied.
    /// @param oracleSetVersion The oracle set version that signed (must be the distributor's current).
    /// @param signatures Concatenated 65-byte signatures by distinct oracles, signers ascending.
    function update(
        uint256 deviceId,
        bool suspended,
        uint64 nonce,
        uint64 deadline,
        uint64 oracleSetVersion,
        bytes calldata signatures
    ) external;

    /// @notice The storage subnetwork's RewardsDistributor, whose oracle set signs updates.
    function distributor() external view returns (address);

    /// @notice Whether a device is suspended from new data sets.
    /// @param deviceId The device.
    function isSuspended(uint256 deviceId) external view returns (bool);

    /// @notice The nonce the device's next update must carry.
    /// @param deviceId The device.
    function nonceOf(uint256 deviceId) external view returns (uint64);

    /// @notice The EIP-712 digest the oracles sign for an update.
    /// @param deviceId The device.
    /// @param suspended The new state.
    /// @param nonce The update's nonce.
    /// @param deadline The update's deadline.
    /// @param oracleSetVersion The signing oracle set's version.
    function suspensionDigest(
        uint256 deviceId,
        bool suspended,
        uint64 nonce,
        uint64 deadline,
        uint64 oracleSetVersion
    ) external view returns (bytes32);
}
