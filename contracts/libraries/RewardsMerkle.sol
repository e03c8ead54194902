// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title RewardsMerkle
/// @notice Leaf hashing and proof processing for cumulative reward trees in the format of
/// OpenZeppelin's StandardMerkleTree (the npm package openzeppelin/merkle-tree) with leaf
/// encoding `["address","uint256"]`.
/// @dev `processProofCalldata` returns exactly what OpenZeppelin's
/// `MerkleProof.processProofCalldata` returns (sorted-pair keccak256 up the branch); it is one
/// assembly loop because OZ's loop spends ~230 gas of bookkeeping per level, ~4,600 gas on a
/// 20-deep proof at 1,000,000 owners, which alone would push a later claim past its 65,000 budget.
/// test/solidity/RewardsMerkle.t.sol checks the two against each other on random proofs.
library RewardsMerkle {
    /// @notice `keccak256(bytes.concat(keccak256(abi.encode(owner, cumulative))))`, hashed in scratch space.
    /// @param owner The leaf's address.
    /// @param cumulative The leaf's lifetime cumulative amount.
    function leaf(address owner, uint256 cumulative) internal pure returns (bytes32 hash) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, owner)
            mstore(0x20, cumulative)
            mstore(0x00, keccak256(0x00, 0x40))
            hash := keccak256(0x00, 0x20)
        }
    }

    /// @notice The root rebuilt from `leafHash` and its branch `proof` (pairs hashed sorted).
    /// @param proof Sibling hashes from the leaf up.
    /// @param leafHash The leaf.
    function processProofCalldata(bytes32[] calldata proof, bytes32 leafHash) internal pure returns (bytes32 computed) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            computed := leafHash
            let p := proof.offset
            let end := add(p, shl(5, proof.length))
            // Four levels per iteration, then the remaining 0-3 one by one: the loop test and jump
            // cost about as much as the work around each level's keccak. At every level the
            // smaller word goes first: `computed` lands at 0x20 exactly when it is the larger.
            for {
                let end4 := add(p, shl(7, shr(2, proof.length)))
            } lt(p, end4) {
                p := add(p, 0x80)
            } {
                let s0 := calldataload(p)
                let w0 := shl(5, gt(computed, s0))
                mstore(w0, computed)
                mstore(xor(w0, 0x20), s0)
                let h0 := keccak256(0x00, 0x40)
                let s1 := calldataload(add(p, 0x20))
                let w1 := shl(5, gt(h0, s1))
                mstore(w1, h0)
                mstore(xor(w1, 0x20), s1)
                let h1 := keccak256(0x00, 0x40)
                let s2 := calldataload(add(p, 0x40))
                let w2 := shl(5, gt(h1, s2))
                mstore(w2, h1)
                mstore(xor(w2, 0x20), s2)
                let h2 := keccak256(0x00, 0x40)
                let s3 := calldataload(add(p, 0x60))
                let w3 := shl(5, gt(h2, s3))
                mstore(w3, h2)
                mstore(xor(w3, 0x20), s3)
                computed := keccak256(0x00, 0x40)
            }
            for {} lt(p, end) {
                p := add(p, 0x20)
            } {
                let s := calldataload(p)
                let w := shl(5, gt(computed, s))
                mstore(w, computed)
                mstore(xor(w, 0x20), s)
                computed := keccak256(0x00, 0x40)
            }
        }
    }
}
