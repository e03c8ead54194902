// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title EmissionSchedule
/// @notice Pure math of the MESH emission schedule: a per-epoch emission that halves every
/// `halvingInterval` epochs, truncated so that the total never passes `cap`.
/// @dev Epoch `e` has the nominal emission `initialEmission >> (e / halvingInterval)`. The
/// emission actually minted for epoch `e` is `min(nominal(e), cap - emittedBefore)`, so the
/// running total is `min(sum of nominal emissions, cap)`: the epoch that reaches the cap gets the
/// remainder and every later epoch gets zero. Everything here is pure, loop-free except for
/// {cumulative} (at most 256 iterations), and written to be read by the SMTChecker.
library EmissionSchedule {
    /// @notice Nominal (uncapped) emission of `epoch`.
    /// @param epoch Zero-based epoch number.
    /// @param initialEmission Emission of each epoch of the first halving period.
    /// @param halvingInterval Epochs per halving period; must be non-zero.
    function nominal(uint256 epoch, uint256 initialEmission, uint256 halvingInterval) internal pure returns (uint256) {
        // static-check-ignore: smt-div-by-zero halvingInterval is never 0: EmissionsController (the only caller) rejects 0 in its constructor; 0 would revert with Panic(0x12)
        uint256 halvings = epoch / halvingInterval;
        // A shift by 256 or more is zero in the EVM; say so explicitly for readers and provers.
        if (halvings >= 256) return 0;
        return initialEmission >> halvings;
    }

    /// @notice Emission of `epoch` when `emittedBefore` has been emitted by the epochs before it.
    /// @dev Equals `min(nominal(epoch), cap - emittedBefore)`, and zero once the cap is reached.
    function emissionAt(
        uint256 epoch,
        uint256 emittedBefore,
        uint256 initialEmission,
        uint256 halvingInterval,
        uint256 cap
    ) internal pure returns (uint256) {
        if (emittedBefore >= cap) return 0;
        uint256 amount = nominal(epoch, initialEmission, halvingInterval);
        uint256 room = cap - emittedBefore;
        return amount < room ? amount : room;
    }

    /// @notice Total emitted by epochs `0 .. epochCount - 1`: `min(sum of nominal emissions, cap)`.
    /// @dev Sums whole halving periods (at most 256 of them, fewer once the emission reaches zero)
    /// and then the partial period. Checked arithmetic: reverts only for parameters whose sums
    /// overflow 256 bits, which the controller's constructor bounds rule out.
    function cumulative(
        uint256 epochCount,
        uint256 initialEmission,
        uint256 halvingInterval,
        uint256 cap
    ) internal pure returns (uint256 total) {
        // static-check-ignore: smt-div-by-zero halvingInterval is never 0: EmissionsController (the only caller) rejects 0 in its constructor; 0 would revert with Panic(0x12)
        uint256 fullPeriods = epochCount / halvingInterval;
        for (uint256 i = 0; i < fullPeriods; ++i) {
            // Ends by i = 256 at the latest: a shift by 256 or more is zero.
            uint256 perEpoch = initialEmission >> i;
            if (perEpoch == 0) return total < cap ? total : cap;
            total += perEpoch * halvingInterval;
            if (total >= cap) return cap;
        }
        if (fullPeriods < 256) total += (initialEmission >> fullPeriods) * (epochCount % halvingInterval);
        return total < cap ? total : cap;
    }
}
