// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IMeshPrice} from "./IMeshPrice.sol";

/// @title Governed MESH/USD price interface
/// @notice A price set by governance (the timelock), for networks where MESH has no market (testnets):
/// each change within +-20% of the previous price and at least a day after it; a price not updated
/// for 30 days expires, and buying credits stops until governance sets one again.
interface IGovernedPrice is IMeshPrice {
    /// @notice The price is zero or above MAX_PRICE.
    error GovernedPriceInvalid(uint256 price);
    /// @notice The change is more than MAX_CHANGE_BPS away from the previous price.
    error GovernedPriceChangeOutOfBounds(uint256 price, uint256 min, uint256 max);
    /// @notice Less than MIN_UPDATE_INTERVAL has passed since the previous change.
    error GovernedPriceTooSoon(uint64 allowedAt);
    /// @notice A zero address was given where an account is required.
    error GovernedPriceZeroAddress();

    /// @notice Sets the price, effective now. Only DEFAULT_ADMIN_ROLE (the timelock).
    /// @param price USD per MESH, 18 decimals, within +-MAX_CHANGE_BPS of the previous price.
    function setPrice(uint256 price) external;

    /// @notice Earliest time of the next `setPrice`.
    function nextUpdateAt() external view returns (uint64);
}
