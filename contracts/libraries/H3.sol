// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title H3 cell index validation
/// @notice Checks that a 64-bit value is a well-formed H3 cell index, exactly as the reference
/// `isValidCell` of H3 v4 (uber/h3) does, without loops.
/// @dev Layout of an H3 cell index, from the most significant bit:
///   bit 63        reserved, 0
///   bits 59..62   mode, 1 (cell)
///   bits 56..58   mode-dependent reserved bits, 0 for cells
///   bits 52..55   resolution r, 0..15
///   bits 45..51   base cell, 0..121
///   bits 0..44    15 digits of 3 bits, digit 1 first: digits 1..r in 0..6, digits r+1..15 = 7
/// A cell under one of the 12 pentagon base cells may not have 1 (the deleted K axis) as its first
/// nonzero digit.
library H3 {
    /// @notice Number of H3 base cells.
    uint256 internal constant NUM_BASE_CELLS = 122;
    /// @notice The finest H3 resolution.
    uint256 internal constant MAX_RESOLUTION = 15;

    /// @dev The top byte of every cell index: reserved bit 0, mode 1, reserved bits 0.
    uint256 private constant _CELL_TOP_BYTE = 0x08;
    /// @dev Bit b set for each pentagon base cell b: 4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117.
    uint256 private constant _PENTAGON_BASE_CELLS = 0x200802000801008402004001004010;
    /// @dev The lowest bit of each of the 15 digits.
    uint256 private constant _DIGIT_LOW_BITS = 0x49249249249;
    /// @dev The 45 digit bits.
    uint256 private constant _DIGITS_MASK = (1 << 45) - 1;

    /// @notice Whether `h` is a valid H3 cell index at any resolution.
    function isValidCell(uint64 h) internal pure returns (bool) {
        uint256 x = h;
        if ((x >> 56) != _CELL_TOP_BYTE) return false;
        return _hasValidBody(x, (x >> 52) & 0xF);
    }

    /// @notice Whether `h` is a valid H3 cell index at resolution `res`.
    function isValidCellAtResolution(uint64 h, uint256 res) internal pure returns (bool) {
        uint256 x = h;
        if (res > MAX_RESOLUTION || (x >> 52) != ((_CELL_TOP_BYTE << 4) | res)) return false;
        return _hasValidBody(x, res);
    }

    /// @notice The resolution field of an index (meaningful only for valid cells).
    function resolution(uint64 h) internal pure returns (uint256) {
        return (uint256(h) >> 52) & 0xF;
    }

    /// @notice The base cell field of an index (meaningful only for valid cells).
    function baseCell(uint64 h) internal pure returns (uint256) {
        return (uint256(h) >> 45) & 0x7F;
    }

    /// @notice Whether base cell `b` is one of the 12 pentagons.
    function isPentagonBaseCell(uint256 b) internal pure returns (bool) {
        return b < NUM_BASE_CELLS && (_PENTAGON_BASE_CELLS >> b) & 1 == 1;
    }

    /// @dev Base cell and digits of `x`, given that its header says cell mode at resolution `res`.
    function _hasValidBody(uint256 x, uint256 res) private pure returns (bool) {
        uint256 base = (x >> 45) & 0x7F;
        if (base >= NUM_BASE_CELLS) return false;

        // Digits past the resolution must all be 7 (every bit set).
        uint256 unusedBits = 3 * (MAX_RESOLUTION - res);
        uint256 unusedMask = (1 << unusedBits) - 1;
        if (x & unusedMask != unusedMask) return false;

        // Digits 1..res must be in 0..6: no group of three set bits.
        uint256 digits = (x & _DIGITS_MASK) >> unusedBits;
        if (digits & (digits >> 1) & (digits >> 2) & _DIGIT_LOW_BITS != 0) return false;

        // Pentagons: the first nonzero digit is the top group of `digits`; it may not be 1.
        if (digits != 0 && (_PENTAGON_BASE_CELLS >> base) & 1 == 1) {
            uint256 msb = Math.log2(digits);
            if (digits >> (msb - (msb % 3)) == 1) return false;
        }
        return true;
    }
}
