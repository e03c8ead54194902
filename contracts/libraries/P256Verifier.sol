// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title P-256 signature verifier (linked library)
/// @notice OpenZeppelin's P256.verify behind an external function, so its Solidity fallback (about
/// 2.5 KB of bytecode) is deployed once and linked instead of pushing the registry past the 24 KiB
/// contract size limit. Uses the RIP-7212 / EIP-7951 precompile at 0x100 where the chain has it.
library P256Verifier {
    /// @notice Whether (r, s) is a low-s P-256 signature of `digest` by the public key (x, y).
    function verify(bytes32 digest, bytes32 r, bytes32 s, bytes32 x, bytes32 y) external view returns (bool) {
        return P256.verify(digest, r, s, x, y);
    }
}
