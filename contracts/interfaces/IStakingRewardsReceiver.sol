// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Staking rewards receiver
/// @notice The one call the emissions controller makes on the staking vault. The controller mints
/// the epochs' staking share straight to the vault and then tells it how much arrived; the vault
/// grants the controller its `REWARDS_NOTIFIER_ROLE`.
interface IStakingRewardsReceiver {
    /// @notice Tells the vault that `amount` MESH of staking rewards was just minted to it.
    /// @param amount Amount in wei (18 decimals); the controller never calls with zero.
    function notifyRewards(uint256 amount) external;
}
