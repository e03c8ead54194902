// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title PieceMerkle
/// @notice Possession proofs against a storage piece root: the binary keccak256 Merkle tree over the
/// piece's 32-byte leaves that the protocol package builds (packages/protocol/src/storage/piece.ts).
/// leaf hash = keccak256(0x00 ‖ leaf), node hash = keccak256(0x01 ‖ left ‖ right); the last leaf is
/// zero-padded and the leaf count padded to a power of two with zero leaves; a piece of `leafCount`
/// leaves has a tree of height ceil(log2(leafCount)).
library PieceMerkle {
    /// @notice Largest piece height (2^35 leaves of 32 bytes: 1 TiB).
    uint256 internal constant MAX_HEIGHT = 35;

    /// @notice Height of the tree over `leafCount` leaves: ceil(log2(leafCount)), 0 for one leaf.
    /// @param leafCount Leaves of the piece (> 0).
    function height(uint256 leafCount) internal pure returns (uint256) {
        // ceil(log2(n)) = floor(log2(n - 1)) + 1 for n >= 2: a fixed-cost binary search, not a loop.
        return leafCount <= 1 ? 0 : Math.log2(leafCount - 1) + 1;
    }

    /// @notice Whether `proof` proves that `leaf` is leaf `index` of the tree with root `root` and
    /// height `proof.length`. The caller checks that the height is the piece's and that `index` is a
    /// real leaf (below the piece's leaf count).
    /// @param root The piece root.
    /// @param index The leaf's index in the piece.
    /// @param leaf The leaf's 32 bytes.
    /// @param proof Siblings from the leaf level up.
    function verify(bytes32 root, uint256 index, bytes32 leaf, bytes32[] calldata proof) internal pure returns (bool) {
        return processProof(index, leaf, proof) == root;
    }

    /// @notice The root rebuilt from leaf `index` and its siblings.
    /// @param index The leaf's index.
    /// @param leaf The leaf's 32 bytes.
    /// @param proof Siblings from the leaf level up.
    function processProof(
        uint256 index,
        bytes32 leaf,
        bytes32[] calldata proof
    ) internal pure returns (bytes32 computed) {
        // One assembly loop in scratch space and the free memory area (not advanced): 0x00 holds the
        // prefix byte at its last position, so the node is hashed from 0x1f (65 bytes).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0)
            mstore(add(m, 0x20), leaf)
            computed := keccak256(add(m, 0x1f), 0x21)
            mstore(m, 1)
            let p := proof.offset
            let end := add(p, shl(5, proof.length))
            for {} lt(p, end) {
                p := add(p, 0x20)
            } {
                switch and(index, 1)
                case 0 {
                    mstore(add(m, 0x20), computed)
                    mstore(add(m, 0x40), calldataload(p))
                }
                default {
                    mstore(add(m, 0x20), calldataload(p))
                    mstore(add(m, 0x40), computed)
                }
                computed := keccak256(add(m, 0x1f), 0x41)
                index := shr(1, index)
            }
        }
    }
}
