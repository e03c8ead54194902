// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {IStakingVault} from "../interfaces/IStakingVault.sol";

/// @title DeviceBond
/// @notice The one check every market runs on a provider's device (StorageDeals, ComputeJobs): the
/// device is active, its class belongs to the market's registry subnetwork, and its owner's active
/// stake bonds every device it owns (`minStakePerDevice` each). It reports what failed rather than
/// reverting, so each market refuses with its own errors.
library DeviceBond {
    /// @notice What the check found.
    enum Failure {
        None,
        NotActive,
        WrongSubnetwork,
        NotBonded
    }

    /// @notice The check's result: the device's owner, class, and the owner's stake and requirement
    /// (owner and stake are zero when an earlier step failed).
    struct Check {
        Failure failure;
        uint16 deviceClass;
        address owner;
        uint256 stake;
        uint256 required;
    }

    /// @notice Checks `deviceId` for a market of registry subnetwork number `subnetwork`.
    function check(
        IDeviceRegistry registry,
        IStakingVault vault,
        uint256 deviceId,
        uint8 subnetwork
    ) internal view returns (Check memory result) {
        if (registry.statusOf(deviceId) != IDeviceRegistry.DeviceStatus.Active) {
            result.failure = Failure.NotActive;
            return result;
        }
        result.deviceClass = registry.deviceInfo(deviceId).deviceClass;
        if (registry.deviceClassInfo(result.deviceClass).subnetwork != subnetwork) {
            result.failure = Failure.WrongSubnetwork;
            return result;
        }
        result.owner = registry.ownerOf(deviceId);
        result.stake = vault.activeStakeOf(result.owner);
        result.required = vault.minStakePerDevice() * registry.balanceOf(result.owner);
        if (result.stake < result.required) result.failure = Failure.NotBonded;
    }
}
