// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {H3} from "../libraries/H3.sol";

/// @notice Test-only: exposes the H3 library so tests can compare it with h3-js in batches.
contract H3Mock {
    function isValidCell(uint64 h) external pure returns (bool) {
        return H3.isValidCell(h);
    }

    function isValidCellAtResolution(uint64 h, uint256 res) external pure returns (bool) {
        return H3.isValidCellAtResolution(h, res);
    }

    /// @notice For each index: bit 0 = valid cell (any resolution), bit 1 = valid at `res`.
    function check(uint64[] calldata cells, uint256 res) external pure returns (uint8[] memory results) {
        results = new uint8[](cells.length);
        for (uint256 i = 0; i < cells.length; i++) {
            uint8 r = H3.isValidCell(cells[i]) ? 1 : 0;
            if (H3.isValidCellAtResolution(cells[i], res)) r |= 2;
            results[i] = r;
        }
    }

    function resolution(uint64 h) external pure returns (uint256) {
        return H3.resolution(h);
    }

    function baseCell(uint64 h) external pure returns (uint256) {
        return H3.baseCell(h);
    }

    function isPentagonBaseCell(uint256 b) external pure returns (bool) {
        return H3.isPentagonBaseCell(b);
    }

    /// @notice Gas of one validation at resolution 12, for the record.
    function gasOfValidation(uint64 h) external view returns (uint256 used, bool valid) {
        uint256 before = gasleft();
        valid = H3.isValidCellAtResolution(h, 12);
        used = before - gasleft();
    }
}
