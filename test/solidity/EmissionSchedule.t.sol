// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {EmissionSchedule} from "../../contracts/libraries/EmissionSchedule.sol";

/// @notice Properties of the pure emission schedule, over random parameters.
contract EmissionScheduleTest is Test {
    uint256 private constant MAX_CAP = 1_000_000_000e18;

    function _params(uint256 initial, uint256 halving, uint256 cap) private pure returns (uint256, uint256, uint256) {
        cap = bound(cap, 1, MAX_CAP);
        initial = bound(initial, 1, cap);
        halving = bound(halving, 1, 2 ** 32 - 1);
        return (initial, halving, cap);
    }

    /// @notice cumulative(n + 1) = cumulative(n) + emissionAt(n, cumulative(n)): the closed form
    /// equals the epoch-by-epoch running total the controller keeps, and never passes the cap.
    function testFuzz_CumulativeIsRunningSum(uint256 initial, uint256 halving, uint256 cap, uint256 n) public pure {
        (initial, halving, cap) = _params(initial, halving, cap);
        n = bound(n, 0, 20_000);
        uint256 before = EmissionSchedule.cumulative(n, initial, halving, cap);
        uint256 step = EmissionSchedule.emissionAt(n, before, initial, halving, cap);
        uint256 afterwards = EmissionSchedule.cumulative(n + 1, initial, halving, cap);
        assertEq(afterwards, before + step, "cumulative(n+1) = cumulative(n) + emission(n)");
        assertLe(afterwards, cap, "never past the cap");
    }

    /// @notice Walking a short schedule epoch by epoch gives the same totals as the closed form.
    function testFuzz_WalkMatchesClosedForm(uint256 initial, uint256 halving, uint256 cap) public pure {
        cap = bound(cap, 1, MAX_CAP);
        initial = bound(initial, 1, cap);
        halving = bound(halving, 1, 8);
        uint256 emitted = 0;
        for (uint256 e = 0; e < 64; ++e) {
            assertEq(emitted, EmissionSchedule.cumulative(e, initial, halving, cap), "walk = closed form");
            emitted += EmissionSchedule.emissionAt(e, emitted, initial, halving, cap);
            assertLe(emitted, cap, "walk never past the cap");
        }
    }

    /// @notice The nominal emission halves (rounding down) every `halving` epochs and is constant in between.
    function testFuzz_NominalHalves(uint256 initial, uint256 halving, uint256 epoch) public pure {
        initial = bound(initial, 1, MAX_CAP);
        halving = bound(halving, 1, 2 ** 32 - 1);
        epoch = bound(epoch, 0, halving * 300);
        uint256 here = EmissionSchedule.nominal(epoch, initial, halving);
        assertEq(EmissionSchedule.nominal(epoch + halving, initial, halving), here / 2, "halves");
        uint256 periodStart = epoch - (epoch % halving);
        assertEq(EmissionSchedule.nominal(periodStart, initial, halving), here, "constant within a period");
        assertLe(here, initial, "never above the initial emission");
    }

    /// @notice Far-future epochs emit nothing and do not revert.
    function testFuzz_FarFutureIsZero(uint256 initial, uint256 halving, uint256 epoch) public pure {
        initial = bound(initial, 1, MAX_CAP);
        halving = bound(halving, 1, 2 ** 32 - 1);
        epoch = bound(epoch, halving * 256, type(uint64).max);
        assertEq(EmissionSchedule.nominal(epoch, initial, halving), 0, "zero after 256 halvings");
        uint256 total = EmissionSchedule.cumulative(epoch, initial, halving, MAX_CAP);
        assertEq(EmissionSchedule.emissionAt(epoch, total, initial, halving, MAX_CAP), 0, "nothing left to emit");
    }

    /// @notice The epoch that reaches the cap gets exactly the remainder; every later one gets zero.
    function test_LastEpochGetsTheRemainder() public pure {
        // 100 per epoch, halving every 10: 1000 + 500 + 250 + ... reaches a cap of 1234 in epoch 12.
        uint256 cap = 1234;
        assertEq(EmissionSchedule.cumulative(12, 100, 10, cap), 1100, "before the capping epoch");
        assertEq(EmissionSchedule.emissionAt(12, 1100, 100, 10, cap), 50, "full nominal still fits");
        assertEq(EmissionSchedule.cumulative(14, 100, 10, cap), 1200, "two epochs of 50");
        assertEq(EmissionSchedule.emissionAt(14, 1200, 100, 10, cap), 34, "the remainder");
        assertEq(EmissionSchedule.cumulative(15, 100, 10, cap), cap, "capped");
        assertEq(EmissionSchedule.emissionAt(15, cap, 100, 10, cap), 0, "zero after the cap");
        assertEq(EmissionSchedule.cumulative(10_000, 100, 10, cap), cap, "stays capped");
    }

    /// @notice The longest loop: 2^254 per epoch, one epoch per halving, halves to zero at period 255
    /// (the loop ends there, before any shift by 256): the total is 2^255 - 1, then the cap applies.
    function test_LongestScheduleEndsWhenTheEmissionReachesZero() public pure {
        uint256 initial = 2 ** 254;
        assertEq(EmissionSchedule.cumulative(255, initial, 1, type(uint256).max), 2 ** 255 - 1, "255 periods");
        assertEq(EmissionSchedule.cumulative(10_000, initial, 1, type(uint256).max), 2 ** 255 - 1, "no more after");
        assertEq(EmissionSchedule.cumulative(10_000, initial, 1, 2 ** 255 - 2), 2 ** 255 - 2, "capped");
        assertEq(EmissionSchedule.nominal(255, initial, 1), 0, "zero from period 255");
    }
}
