// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/// @title MESH token interface
/// @notice The network token: capped ERC-20 with permit, timestamp-clock votes and burning.
/// Only the emissions controller (the minter, set once) can mint after genesis.
interface IMeshToken is IERC20, IERC20Permit, IERC5805 {
    /// @notice The caller is not the minter.
    error MeshUnauthorizedMinter(address caller);
    /// @notice The caller may not set the minter (also once the minter is set: the admin is then cleared).
    error MeshUnauthorizedMinterAdmin(address caller);
    /// @notice The zero address was given where an account is required.
    error MeshZeroAddress();
    /// @notice The genesis allocation exceeds the cap.
    error MeshGenesisExceedsCap(uint256 genesis, uint256 cap);

    /// @notice Emitted once, when the minter is fixed.
    event MinterSet(address indexed minter);

    /// @notice Mints `amount` to `to`. Only the minter; reverts past the cap.
    /// @param to Recipient of the new tokens.
    /// @param amount Amount in wei (18 decimals).
    function mint(address to, uint256 amount) external;

    /// @notice Fixes the minter, once. Only the minter admin named at deploy.
    /// @param minter The emissions controller.
    function setMinter(address minter) external;

    /// @notice Destroys `amount` of the caller's tokens.
    function burn(uint256 amount) external;

    /// @notice Destroys `amount` of `account`'s tokens, spending the caller's allowance.
    function burnFrom(address account, uint256 amount) external;

    /// @notice The only account allowed to mint (zero until set).
    function minter() external view returns (address);

    /// @notice The account allowed to set the minter (zero once it is set).
    function minterAdmin() external view returns (address);

    /// @notice The hard cap on total supply: 1,000,000,000 MESH.
    function cap() external view returns (uint256);
}
