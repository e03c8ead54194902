// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {RewardsMerkle} from "../../contracts/libraries/RewardsMerkle.sol";

/// @dev Exposes both proof processors with calldata proofs, as the distributor uses them.
contract MerkleHarness {
    function ours(bytes32[] calldata proof, bytes32 leaf) external pure returns (bytes32) {
        return RewardsMerkle.processProofCalldata(proof, leaf);
    }

    function openZeppelin(bytes32[] calldata proof, bytes32 leaf) external pure returns (bytes32) {
        return MerkleProof.processProofCalldata(proof, leaf);
    }

    /// @dev Checks that the assembly leaves the free memory pointer and allocated memory alone.
    function oursKeepsMemory(bytes32[] calldata proof, bytes32 leaf) external pure returns (bool) {
        bytes32[4] memory guard = [bytes32(uint256(1)), bytes32(uint256(2)), bytes32(uint256(3)), bytes32(uint256(4))];
        uint256 fmp;
        // solhint-disable-next-line no-inline-assembly
        assembly {
            fmp := mload(0x40)
        }
        RewardsMerkle.processProofCalldata(proof, leaf);
        RewardsMerkle.leaf(address(0xBEEF), uint256(leaf));
        uint256 fmpAfter;
        // solhint-disable-next-line no-inline-assembly
        assembly {
            fmpAfter := mload(0x40)
        }
        return fmp == fmpAfter && guard[0] == bytes32(uint256(1)) && guard[3] == bytes32(uint256(4));
    }
}

/// @notice RewardsMerkle (the distributor's assembly) against OpenZeppelin's MerkleProof.
contract RewardsMerkleTest is Test {
    MerkleHarness private harness;

    function setUp() public {
        harness = new MerkleHarness();
    }

    function _proof(bytes32 seed, uint256 length) private pure returns (bytes32[] memory proof) {
        proof = new bytes32[](length);
        for (uint256 i = 0; i < length; ++i) proof[i] = keccak256(abi.encode(seed, i));
    }

    /// @notice Same root as OpenZeppelin for random proofs of every depth up to 40 (all unroll remainders).
    function testFuzz_SameRootAsOpenZeppelin(bytes32 seed, bytes32 leaf, uint256 length) public view {
        length = bound(length, 0, 40);
        bytes32[] memory proof = _proof(seed, length);
        assertEq(harness.ours(proof, leaf), harness.openZeppelin(proof, leaf), "same root");
        assertTrue(harness.oursKeepsMemory(proof, leaf), "memory untouched");
    }

    /// @notice Same root on arbitrary fuzzed proofs too.
    function testFuzz_SameRootOnArbitraryProofs(bytes32[] calldata proof, bytes32 leaf) public view {
        assertEq(harness.ours(proof, leaf), harness.openZeppelin(proof, leaf), "same root");
    }

    /// @notice Equal pair members and ordered or reversed pairs hash the same way in both.
    function test_EdgeCasesMatch() public view {
        bytes32 leaf = keccak256("leaf");
        bytes32[] memory proof = new bytes32[](5);
        proof[0] = leaf; // equal to the running hash
        proof[1] = bytes32(0);
        proof[2] = bytes32(type(uint256).max);
        proof[3] = keccak256("x");
        proof[4] = keccak256("y");
        for (uint256 n = 0; n <= 5; ++n) {
            bytes32[] memory prefix = new bytes32[](n);
            for (uint256 i = 0; i < n; ++i) prefix[i] = proof[i];
            assertEq(harness.ours(prefix, leaf), harness.openZeppelin(prefix, leaf), "same root");
        }
    }

    /// @notice The leaf is StandardMerkleTree's double keccak of abi.encode(address, uint256).
    function testFuzz_LeafIsStandardMerkleTreeLeaf(address owner, uint256 cumulative) public pure {
        assertEq(
            RewardsMerkle.leaf(owner, cumulative),
            keccak256(bytes.concat(keccak256(abi.encode(owner, cumulative)))),
            "standard leaf"
        );
    }
}
