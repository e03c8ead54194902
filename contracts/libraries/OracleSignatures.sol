// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title OracleSignatures
/// @notice Reading k-of-n oracle signatures packed as `postRoot` and `settle` take them: concatenated
/// 65-byte `r ‖ s ‖ v` signatures, signers strictly ascending. Each caller checks membership in its
/// oracle set and reverts with its own errors.
library OracleSignatures {
    /// @notice Bytes per packed signature.
    uint256 internal constant LENGTH = 65;

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
