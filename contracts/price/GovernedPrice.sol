// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IGovernedPrice} from "../interfaces/IGovernedPrice.sol";
import {MeshPrice} from "./MeshPrice.sol";

/// @title GovernedPrice
/// @notice MESH/USD set by the timelock, in bounded steps (see IGovernedPrice).
/// @dev The bounds make a compromised or careless governance slow: moving the price by 2x takes at
/// least four changes over four days (plus the timelock's delay for each).
contract GovernedPrice is IGovernedPrice, MeshPrice, AccessControl {
    /// @notice Largest change per update, in basis points of the previous price (20%).
    uint256 public constant MAX_CHANGE_BPS = 2_000;
    /// @notice Shortest time between two changes.
    uint64 public constant MIN_UPDATE_INTERVAL = 1 days;
    /// @notice A price not updated for this long expires.
    uint64 public constant MAX_AGE = 30 days;

    uint256 private constant _BPS = 10_000;

    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param initialPrice The first price, USD per MESH with 18 decimals, effective at deploy.
    constructor(address admin, uint256 initialPrice) MeshPrice(MAX_AGE) {
        if (admin == address(0)) revert GovernedPriceZeroAddress();
        if (initialPrice == 0 || initialPrice > MAX_PRICE) revert GovernedPriceInvalid(initialPrice);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _record(initialPrice, uint64(block.timestamp));
    }

    /// @inheritdoc IGovernedPrice
    function setPrice(uint256 price) external onlyRole(DEFAULT_ADMIN_ROLE) {
        (uint256 previous, uint64 updatedAt) = latestPrice();
        uint64 allowedAt = updatedAt + MIN_UPDATE_INTERVAL;
        if (block.timestamp < allowedAt) revert GovernedPriceTooSoon(allowedAt);
        if (price == 0 || price > MAX_PRICE) revert GovernedPriceInvalid(price);
        uint256 min = (previous * (_BPS - MAX_CHANGE_BPS) + _BPS - 1) / _BPS;
        uint256 max = (previous * (_BPS + MAX_CHANGE_BPS)) / _BPS;
        if (price < min || price > max) revert GovernedPriceChangeOutOfBounds(price, min, max);
        _record(price, uint64(block.timestamp));
    }

    /// @inheritdoc IGovernedPrice
    function nextUpdateAt() external view returns (uint64) {
        (, uint64 updatedAt) = latestPrice();
        return updatedAt + MIN_UPDATE_INTERVAL;
    }
}
