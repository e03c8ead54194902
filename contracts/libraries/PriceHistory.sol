// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title PriceHistory
/// @notice A price that changes in steps, with its time-weighted average over the last 24 hours in
/// bounded storage: 25 hourly anchors of the running price-seconds accumulator, written when the
/// price changes. Reading the average costs three storage reads; recording a price writes at most
/// 25 anchors (the hours since the previous change), never more.
/// @dev The average's window starts at the hour boundary 24 hours before the current hour, so it
/// spans 24 to 25 hours. Anchor `H` (the accumulator at `H * 1 hours`) is written by the first record
/// at or after that time; a window start with no record at or after it lies after the latest
/// record, and then the price was constant over the whole window.
library PriceHistory {
    /// @notice Length of the averaging window, in whole hours.
    uint256 internal constant WINDOW_HOURS = 24;
    uint256 private constant _HOUR = 1 hours;
    /// @dev One more than the window, so the window's start never shares a slot with the current hour.
    uint256 private constant _ANCHORS = WINDOW_HOURS + 1;

    /// @dev The latest price (hot word, read by every conversion).
    struct Latest {
        uint128 price;
        uint64 updatedAt;
        uint64 startedAt;
    }

    /// @dev Accumulator (sum of price x seconds since `startedAt`) at the start of hour `hour`.
    struct Anchor {
        uint64 hour;
        uint192 cumulative;
    }

    struct History {
        Latest latest;
        uint256 cumulative; // accumulator at latest.updatedAt
        Anchor[25] anchors; // anchors[hour % _ANCHORS]
    }

    /// @notice Records `price` as observed at `observedAt`. Callers guarantee previous observation
    /// <= `observedAt` <= now (an earlier one underflows and reverts).
    function record(History storage h, uint256 price, uint64 observedAt) internal {
        Latest memory latest = h.latest;
        if (latest.updatedAt == 0) {
            h.latest = Latest(uint128(price), observedAt, observedAt);
            return;
        }
        uint256 cumulative = h.cumulative;
        uint256 fromHour = latest.updatedAt / _HOUR + 1;
        uint256 toHour = observedAt / _HOUR;
        // Only the last _ANCHORS hours can ever be read again.
        if (toHour >= _ANCHORS && fromHour < toHour + 1 - _ANCHORS) fromHour = toHour + 1 - _ANCHORS;
        for (uint256 hour = fromHour; hour <= toHour; ++hour) {
            uint256 at = cumulative + uint256(latest.price) * (hour * _HOUR - latest.updatedAt);
            h.anchors[hour % _ANCHORS] = Anchor(uint64(hour), uint192(at));
        }
        h.cumulative = cumulative + uint256(latest.price) * (observedAt - latest.updatedAt);
        h.latest = Latest(uint128(price), observedAt, latest.startedAt);
    }

    /// @notice The time-weighted average at the current time (zero before the first record).
    function average(History storage h) internal view returns (uint256) {
        Latest memory latest = h.latest;
        uint256 now_ = block.timestamp;
        uint256 hourNow = now_ / _HOUR;
        uint256 windowStart = hourNow >= WINDOW_HOURS ? (hourNow - WINDOW_HOURS) * _HOUR : 0;
        // One price only, or none since the window started: the average is that price.
        if (latest.updatedAt == latest.startedAt || latest.updatedAt <= windowStart) return latest.price;
        uint256 cumulativeNow = h.cumulative + uint256(latest.price) * (now_ - latest.updatedAt);
        if (windowStart <= latest.startedAt) {
            // Younger than the window: average over the whole history (startedAt < updatedAt <= now).
            return cumulativeNow / (now_ - latest.startedAt);
        }
        // startedAt < windowStart < updatedAt: the first record after windowStart wrote its anchor.
        Anchor memory anchor = h.anchors[(windowStart / _HOUR) % _ANCHORS];
        return (cumulativeNow - anchor.cumulative) / (now_ - windowStart);
    }
}
