// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {IERC6372} from "@openzeppelin/contracts/interfaces/IERC6372.sol";
import {IMeshToken} from "../interfaces/IMeshToken.sol";

/// @title MeshToken (MESH)
/// @notice ERC-20 with EIP-2612 permit, ERC-5805 votes on a timestamp clock, burning and a
/// hard cap of 1,000,000,000 MESH. The genesis allocation goes to the treasury at deploy;
/// every later token is minted by the minter (the emissions controller), which is set once.
/// @dev No owner and no upgrade path: after `setMinter` the token has no privileged account
/// besides the minter, whose only power is `mint` within the cap.
contract MeshToken is ERC20, ERC20Burnable, ERC20Capped, ERC20Permit, ERC20Votes, IMeshToken {
    /// @notice 1,000,000,000 MESH with 18 decimals.
    uint256 public constant MAX_SUPPLY = 1_000_000_000e18;

    address private _minter;
    address private _minterAdmin;

    /// @param treasury Receives the genesis allocation.
    /// @param genesisAllocation Tokens minted at deploy (may be zero).
    /// @param minterAdmin_ The account allowed to set the minter once (the deployer).
    constructor(
        address treasury,
        uint256 genesisAllocation,
        address minterAdmin_
    ) ERC20("Hexmesh", "MESH") ERC20Capped(MAX_SUPPLY) ERC20Permit("Hexmesh") {
        if (treasury == address(0) || minterAdmin_ == address(0)) revert MeshZeroAddress();
        if (genesisAllocation > MAX_SUPPLY) revert MeshGenesisExceedsCap(genesisAllocation, MAX_SUPPLY);
        _minterAdmin = minterAdmin_;
        if (genesisAllocation > 0) _mint(treasury, genesisAllocation);
    }

    /// @inheritdoc IMeshToken
    function setMinter(address minter_) external {
        // `_minterAdmin` is cleared once the minter is set, so this also refuses a second call.
        if (msg.sender != _minterAdmin) revert MeshUnauthorizedMinterAdmin(msg.sender);
        if (minter_ == address(0)) revert MeshZeroAddress();
        _minter = minter_;
        // The admin's single power is spent: nobody can change the minter again.
        _minterAdmin = address(0);
        emit MinterSet(minter_);
    }

    /// @inheritdoc IMeshToken
    function mint(address to, uint256 amount) external {
        if (msg.sender != _minter) revert MeshUnauthorizedMinter(msg.sender);
        _mint(to, amount);
    }

    /// @inheritdoc IMeshToken
    function minter() external view returns (address) {
        return _minter;
    }

    /// @inheritdoc IMeshToken
    function minterAdmin() external view returns (address) {
        return _minterAdmin;
    }

    /// @inheritdoc IMeshToken
    function burn(uint256 amount) public override(ERC20Burnable, IMeshToken) {
        super.burn(amount);
    }

    /// @inheritdoc IMeshToken
    function burnFrom(address account, uint256 amount) public override(ERC20Burnable, IMeshToken) {
        super.burnFrom(account, amount);
    }

    /// @inheritdoc IMeshToken
    function cap() public view override(ERC20Capped, IMeshToken) returns (uint256) {
        return super.cap();
    }

    /// @notice Votes are checkpointed by timestamp (ERC-6372), as L2 block numbers are not a clock.
    function clock() public view override(Votes, IERC6372) returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override(Votes, IERC6372) returns (string memory) {
        return "mode=timestamp";
    }

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped, ERC20Votes) {
        super._update(from, to, value);
    }
}
