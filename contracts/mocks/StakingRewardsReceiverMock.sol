// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStakingRewardsReceiver} from "../interfaces/IStakingRewardsReceiver.sol";

/// @notice Test stand-in for the staking vault: records notifications and checks the tokens arrived.
contract StakingRewardsReceiverMock is IStakingRewardsReceiver {
    /// @notice The notified amount is more than the tokens received since the last notification.
    error MockNotFunded(uint256 notified, uint256 received);
    /// @notice The receiver was told to refuse notifications.
    error MockRefused();

    /// @notice A notification arrived.
    event RewardsNotified(address indexed from, uint256 amount);

    IERC20 public immutable TOKEN;
    uint256 public totalNotified;
    uint256 public notifications;
    bool public refuse;

    constructor(IERC20 token_) {
        TOKEN = token_;
    }

    /// @notice Makes `notifyRewards` revert (to test that distribution is atomic).
    function setRefuse(bool refuse_) external {
        refuse = refuse_;
    }

    /// @inheritdoc IStakingRewardsReceiver
    function notifyRewards(uint256 amount) external {
        if (refuse) revert MockRefused();
        uint256 received = TOKEN.balanceOf(address(this));
        if (totalNotified + amount > received) revert MockNotFunded(totalNotified + amount, received);
        totalNotified += amount;
        notifications += 1;
        emit RewardsNotified(msg.sender, amount);
    }
}
