// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Test smart wallet: accepts a hash signed by its EOA signer, unless told to refuse everything.
contract MockERC1271Wallet is IERC1271 {
    address public immutable SIGNER;
    bool public refuseAll;

    constructor(address signer_) {
        SIGNER = signer_;
    }

    /// @notice Makes the wallet answer "no" to every signature.
    function setRefuseAll(bool refuse) external {
        refuseAll = refuse;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (refuseAll) return 0xffffffff;
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == SIGNER) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
