// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title MESH/USD price source interface
/// @notice One interface for every MESH/USD price source (governed on testnets, an oracle quorum where
/// MESH has a market). Prices are USD per whole MESH with 18 decimals (1e18 = $1 per MESH).
/// @dev Conversions take the conservative side of the latest price and its 24-hour time-weighted
/// average: buying credits uses the lower (`creditPrice`: fewer credits per MESH), paying usage
/// rewards in MESH uses the higher (`rewardPrice`: fewer MESH per dollar). Both revert once the
/// latest price is stale, which stops buying credits until the source is updated.
interface IMeshPrice {
    /// @notice The latest price is older than the source's maximum age.
    /// @param updatedAt When the latest price was observed.
    /// @param staleAt When it became stale.
    error PriceStale(uint64 updatedAt, uint64 staleAt);

    /// @notice A new price took effect.
    /// @param price USD per MESH, 18 decimals.
    /// @param observedAt When the price was observed (for a quorum: its oldest signed report).
    event PriceUpdated(uint256 price, uint64 observedAt);

    /// @notice The latest price and when it was observed; never reverts (zero before the first price).
    /// @return price USD per MESH, 18 decimals.
    /// @return updatedAt Observation time of `price`.
    function latestPrice() external view returns (uint256 price, uint64 updatedAt);

    /// @notice Time-weighted average of the price from the hour boundary 24 hours before the current
    /// hour until now (24 to 25 hours; shorter while the source is younger than that).
    function averagePrice() external view returns (uint256);

    /// @notice The conservative price for buying credits: min(latest, 24-hour average). Reverts
    /// {PriceStale} once the latest price is older than `maxAge()`.
    function creditPrice() external view returns (uint256);

    /// @notice The conservative price for paying usage rewards in MESH: max(latest, 24-hour average).
    /// Reverts {PriceStale} once the latest price is older than `maxAge()`.
    function rewardPrice() external view returns (uint256);

    /// @notice Seconds after its observation that a price stops being usable.
    function maxAge() external view returns (uint64);

    /// @notice True while a price exists and is no older than `maxAge()`.
    function isFresh() external view returns (bool);
}
