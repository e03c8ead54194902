// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PieceMerkle} from "../libraries/PieceMerkle.sol";

/// @notice Test-only: exposes PieceMerkle so tests can check it against @hexmesh/protocol's proofs.
contract PieceMerkleMock {
    function verify(bytes32 root, uint256 index, bytes32 leaf, bytes32[] calldata proof) external pure returns (bool) {
        return PieceMerkle.verify(root, index, leaf, proof);
    }

    function processProof(uint256 index, bytes32 leaf, bytes32[] calldata proof) external pure returns (bytes32) {
        return PieceMerkle.processProof(index, leaf, proof);
    }

    function height(uint256 leafCount) external pure returns (uint256) {
        return PieceMerkle.height(leafCount);
    }
}
