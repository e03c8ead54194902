// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Test-only smart wallet: signatures are valid when its owner key signed the hash (ERC-1271),
/// unless it is told to refuse everything. It can also call arbitrary targets for its owner, so tests
/// can make it approve MESH.
contract ERC1271WalletMock is IERC1271 {
    address public immutable OWNER;
    bool public refuseAll;

    /// @notice The caller of {execute} is not the owner.
    error MockNotOwner();
    /// @notice The call made by {execute} reverted with `returndata`.
    error MockCallFailed(bytes returndata);

    constructor(address owner_) {
        OWNER = owner_;
    }

    /// @notice Makes the wallet answer "no" to every signature (or stop doing so).
    function setRefuseAll(bool refuse) external {
        refuseAll = refuse;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (refuseAll) return bytes4(0);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == OWNER ? this.isValidSignature.selector : bytes4(0);
    }

    /// @notice Calls `target` with `data` on the owner's behalf.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != OWNER) revert MockNotOwner();
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) revert MockCallFailed(ret);
        return ret;
    }
}
