// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {P256Verifier} from "./P256Verifier.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";

/// @title Device key helpers
/// @notice Identity, well-formedness and signature checks for device keys of both supported curves.
/// - secp256k1: the key is its Ethereum address, carried as `x` (left-padded) with `y = 0`; signatures are
///   65 bytes (r, s, v) checked with OpenZeppelin ECDSA (low s only).
/// - P-256 (secure elements such as ATECC608, TPMs): the key is its affine point (x, y); signatures are
///   64 bytes (r, s) over the 32-byte digest, checked with OpenZeppelin P256 (RIP-7212 precompile where the
///   chain has it, Solidity otherwise; low s only).
library DeviceKeys {
    /// @notice The unique id of a key: keccak256(abi.encode(uint8 keyType, x, y)).
    function keyId(IDeviceRegistry.KeyType keyType, bytes32 x, bytes32 y) internal pure returns (bytes32 id) {
        // Same bytes as keccak256(abi.encode(keyType, x, y)) without the memory expansion; on the onboarding hot path.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, keyType)
            mstore(add(ptr, 0x20), x)
            mstore(add(ptr, 0x40), y)
            id := keccak256(ptr, 0x60)
        }
    }

    /// @notice Whether (keyType, x, y) encodes a usable public key.
    function isWellFormed(IDeviceRegistry.KeyType keyType, bytes32 x, bytes32 y) internal pure returns (bool) {
        if (keyType == IDeviceRegistry.KeyType.Secp256k1) {
            return y == 0 && x != 0 && uint256(x) >> 160 == 0;
        }
        return P256.isValidPublicKey(x, y);
    }

    /// @notice Whether `signature` is the key's signature of `digest`.
    function verify(
        IDeviceRegistry.KeyType keyType,
        bytes32 x,
        bytes32 y,
        bytes32 digest,
        bytes calldata signature
    ) internal view returns (bool) {
        if (keyType == IDeviceRegistry.KeyType.Secp256k1) {
            (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
            return err == ECDSA.RecoverError.NoError && recovered == address(uint160(uint256(x)));
        }
        if (signature.length != 64) return false;
        return P256Verifier.verify(digest, bytes32(signature[0:32]), bytes32(signature[32:64]), x, y);
    }
}
