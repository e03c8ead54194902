// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title HexmeshTimelock
/// @notice The admin of every Hexmesh contract. Proposals wait `minDelay` before execution; the
/// deployment sets that delay above the staking vault's unstake cooldown, so a staker who disagrees
/// with a queued change can always leave before it takes effect.
/// @dev OpenZeppelin's TimelockController unchanged; this contract only gives it a project artifact.
contract HexmeshTimelock is TimelockController {
    /// @param minDelay Seconds a proposal waits before it can execute.
    /// @param proposers Accounts that may propose and cancel (governance multisig or Governor).
    /// @param executors Accounts that may execute ready proposals (address(0) = anyone).
    /// @param admin Optional bootstrap admin; the deployment passes address(0) so the timelock governs itself.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
