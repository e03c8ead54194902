// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title RevertingDistributorMock
/// @notice A subnetwork distributor whose `fundEpoch` reverts while `failing` is set (or burns all
/// its gas in `exhaust` mode): tests that one failing pool cannot block the emissions controller.
contract RevertingDistributorMock {
    /// @notice fundEpoch refused.
    error MockFundingRefused(uint64 epoch);

    /// @notice An epoch was accepted.
    event MockEpochFunded(uint64 epoch, uint256 amount);

    bytes32 public immutable SUBNETWORK;
    bool public failing;
    bool public exhaust;
    /// @notice While not `failing`, refuse only this epoch (type(uint64).max: none).
    uint64 public failOnlyEpoch = type(uint64).max;
    uint256 public totalFunded;
    uint64 public lastEpoch;

    /// @param subnetwork_ The subnetwork it claims to serve.
    constructor(bytes32 subnetwork_) {
        SUBNETWORK = subnetwork_;
    }

    /// @notice Sets the failure mode.
    function setFailing(bool failing_, bool exhaust_) external {
        failing = failing_;
        exhaust = exhaust_;
    }

    /// @notice Refuses only `epoch` (type(uint64).max: none).
    function setFailOnlyEpoch(uint64 epoch) external {
        failOnlyEpoch = epoch;
    }

    /// @notice The subnetwork id (as IRewardsDistributor).
    function subnetwork() external view returns (bytes32) {
        return SUBNETWORK;
    }

    /// @notice Records funding, or fails.
    function fundEpoch(uint64 epoch, uint256 amount) external {
        if (epoch == failOnlyEpoch) revert MockFundingRefused(epoch);
        if (failing) {
            if (exhaust) {
                uint256 x = 0;
                while (gasleft() > 0) ++x;
            }
            revert MockFundingRefused(epoch);
        }
        totalFunded += amount;
        lastEpoch = epoch;
        emit MockEpochFunded(epoch, amount);
    }
}
