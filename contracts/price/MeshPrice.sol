// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IMeshPrice} from "../interfaces/IMeshPrice.sol";
import {PriceHistory} from "../libraries/PriceHistory.sol";

/// @title MeshPrice
/// @notice What every MESH/USD price source shares: the price history, its 24-hour average, the
/// conservative conversions and the staleness rule. Sources decide only who may record a price.
abstract contract MeshPrice is IMeshPrice {
    using PriceHistory for PriceHistory.History;

    /// @notice Highest price accepted: $10^12 per MESH (keeps the accumulator far from overflow).
    uint256 public constant MAX_PRICE = 1e30;

    uint64 private immutable _MAX_AGE;
    PriceHistory.History private _history;

    /// @param maxAge_ Seconds after its observation that a price stops being usable.
    constructor(uint64 maxAge_) {
        _MAX_AGE = maxAge_;
    }

    /// @inheritdoc IMeshPrice
    function latestPrice() public view returns (uint256 price, uint64 updatedAt) {
        return (_history.latest.price, _history.latest.updatedAt);
    }

    /// @inheritdoc IMeshPrice
    function averagePrice() external view returns (uint256) {
        return _history.average();
    }

    /// @inheritdoc IMeshPrice
    function creditPrice() external view returns (uint256) {
        (uint256 latest, uint256 avg) = _fresh();
        return latest < avg ? latest : avg;
    }

    /// @inheritdoc IMeshPrice
    function rewardPrice() external view returns (uint256) {
        (uint256 latest, uint256 avg) = _fresh();
        return latest > avg ? latest : avg;
    }

    /// @inheritdoc IMeshPrice
    function maxAge() external view returns (uint64) {
        return _MAX_AGE;
    }

    /// @inheritdoc IMeshPrice
    function isFresh() external view returns (bool) {
        uint64 updatedAt = _history.latest.updatedAt;
        return updatedAt != 0 && block.timestamp <= updatedAt + _MAX_AGE;
    }

    /// @dev Records `price` (callers bound it by MAX_PRICE) as observed at `observedAt`.
    function _record(uint256 price, uint64 observedAt) internal {
        _history.record(price, observedAt);
        emit PriceUpdated(price, observedAt);
    }

    function _fresh() private view returns (uint256 latest, uint256 avg) {
        uint64 updatedAt = _history.latest.updatedAt;
        if (updatedAt == 0 || block.timestamp > updatedAt + _MAX_AGE) {
            revert PriceStale(updatedAt, updatedAt + _MAX_AGE);
        }
        return (_history.latest.price, _history.average());
    }
}
