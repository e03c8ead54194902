// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";

/// @title OracleSignatures
/// @notice Reading k-of-n oracle signatures packed as `postRoot` and `settle` take them: concatenated
/// 65-byte `r ‖ s ‖ v` signatures, signers strictly ascending. `requireQuorum` is the one check of a
/// quorum of a RewardsDistributor's oracle set (DataTransferSettlement, StorageSuspensions,
/// ComputeJobs), with this library's errors; the distributor itself checks its own set with `count`
/// and `signerAt` (its set lives in its own storage).
library OracleSignatures {
    /// @notice Bytes per packed signature.
    uint256 internal constant LENGTH = 65;

    /// @notice The message was signed for another version of the oracle set than the distributor's current.
    error OracleSignaturesStaleOracleSet(uint64 oracleSetVersion, uint64 currentVersion);
    /// @notice The packed signatures are not a whole number of 65-byte (r, s, v) signatures.
    error OracleSignaturesBadLength(uint256 length);
    /// @notice Fewer signatures than the distributor's threshold.
    error OracleSignaturesTooFew(uint256 count, uint256 threshold);
    /// @notice Signature `index` does not recover (malformed, high s, bad v).
    error OracleSignaturesInvalid(uint256 index);
    /// @notice Signers must be strictly ascending (no signer counted twice).
    error OracleSignaturesNotAscending(uint256 index, address signer);
    /// @notice The signer is not in the distributor's current oracle set.
    error OracleSignaturesNotOracle(address signer);

    /// @notice Reverts unless `signatures` holds at least the distributor's threshold of signatures over
    /// `digest` by distinct members of its current oracle set, and `version` is that set's version (a
    /// change of the set kills every signature collected for the old one).
    /// @param distributor The RewardsDistributor whose oracle set signs.
    /// @param digest The signed EIP-712 digest (it binds `version`).
    /// @param signatures The packed signatures, signers strictly ascending.
    /// @param version The oracle set version the signers signed for.
    function requireQuorum(
        IRewardsDistributor distributor,
        bytes32 digest,
        bytes calldata signatures,
        uint64 version
    ) internal view {
        uint64 current = distributor.oracleSetVersion();
        if (version != current) revert OracleSignaturesStaleOracleSet(version, current);
        (uint256 n, bool whole) = count(signatures);
        if (!whole) revert OracleSignaturesBadLength(signatures.length);
        uint256 k = distributor.threshold();
        if (n < k) revert OracleSignaturesTooFew(n, k);
        address previous = address(0);
        for (uint256 i = 0; i < n; ++i) {
            address signer = signerAt(signatures, i, digest);
            if (signer == address(0)) revert OracleSignaturesInvalid(i);
            if (signer <= previous) revert OracleSignaturesNotAscending(i, signer);
            if (!distributor.isOracle(signer)) revert OracleSignaturesNotOracle(signer);
            previous = signer;
        }
    }

    /// @notice How many signatures `signatures` packs, and whether its length is a whole number of them.
    /// @param signatures The packed signatures.
    function count(bytes calldata signatures) internal pure returns (uint256 n, bool whole) {
        return (signatures.length / LENGTH, signatures.length % LENGTH == 0);
    }

    /// @notice The signer of signature `i` over `digest`, or zero if it does not recover (malformed,
    /// high s, bad v): ECDSA.tryRecover's rules.
    /// @param signatures The packed signatures (`i` below their count).
    /// @param i Which signature.
    /// @param digest The signed EIP-712 digest.
    function signerAt(bytes calldata signatures, uint256 i, bytes32 digest) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := add(signatures.offset, mul(i, LENGTH))
            r := calldataload(p)
            s := calldataload(add(p, 0x20))
            v := byte(0, calldataload(add(p, 0x40)))
        }
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(digest, v, r, s);
        return err == ECDSA.RecoverError.NoError ? signer : address(0);
    }
}
