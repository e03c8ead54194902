// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStorageSuspensions} from "../interfaces/IStorageSuspensions.sol";
import {OracleSignatures} from "../libraries/OracleSignatures.sol";

/// @title StorageSuspensions
/// @notice The storage oracles' quorum-signed suspensions of provider devices from new data sets (see
/// IStorageSuspensions). StorageDeals reads `isSuspended` when a data set is created or accepted.
/// @dev A contract of its own rather than functions of StorageDeals: StorageDeals is within 2 KB of the
/// 24,576-byte code limit, and signature checking with an EIP-712 domain does not fit there. The oracle
/// set is read from the storage distributor at each update (three view calls), so a change of the set
/// there applies here at once and kills the old set's signatures, as in DataTransferSettlement.
contract StorageSuspensions is IStorageSuspensions, EIP712 {
    /// @notice EIP-712 type hash of the oracles' update.
    bytes32 public constant SUSPENSION_TYPEHASH = keccak256(
        "StorageSuspension(uint256 deviceId,bool suspended,uint64 nonce,uint64 deadline,uint64 oracleSetVersion)"
    );

    /// @dev A device's state and the nonce its next update must carry: one slot.
    struct Suspension {
        bool suspended;
        uint64 nonce;
    }

    IRewardsDistributor private immutable _DISTRIBUTOR;
    mapping(uint256 deviceId => Suspension) private _suspensions;

    /// @param distributor_ The storage subnetwork's RewardsDistributor (its oracle set signs updates).
    constructor(address distributor_) EIP712("Hexmesh StorageSuspensions", "1") {
        if (distributor_ == address(0)) revert SuspensionsZeroAddress();
        _DISTRIBUTOR = IRewardsDistributor(distributor_);
    }

    /// @inheritdoc IStorageSuspensions
    function update(
        uint256 deviceId,
        bool suspended,
        uint64 nonce,
        uint64 deadline,
        uint64 oracleSetVersion,
        bytes calldata signatures
    ) external {
        if (block.timestamp > deadline) revert SuspensionsExpired(deadline);
        uint64 expected = _suspensions[deviceId].nonce;
        if (nonce != expected) revert SuspensionsWrongNonce(deviceId, nonce, expected);
        OracleSignatures.requireQuorum(
            _DISTRIBUTOR,
            _digest(deviceId, suspended, nonce, deadline, oracleSetVersion),
            signatures,
            oracleSetVersion
        );
        _suspensions[deviceId] = Suspension({suspended: suspended, nonce: nonce + 1});
        emit SuspensionUpdated(deviceId, suspended, nonce, oracleSetVersion);
    }

    /// @inheritdoc IStorageSuspensions
    function distributor() external view returns (address) {
        return address(_DISTRIBUTOR);
    }

    /// @inheritdoc IStorageSuspensions
    function isSuspended(uint256 deviceId) external view returns (bool) {
        return _suspensions[deviceId].suspended;
    }

    /// @inheritdoc IStorageSuspensions
    function nonceOf(uint256 deviceId) external view returns (uint64) {
        return _suspensions[deviceId].nonce;
    }

    /// @inheritdoc IStorageSuspensions
    function suspensionDigest(
        uint256 deviceId,
        bool suspended,
        uint64 nonce,
        uint64 deadline,
        uint64 oracleSetVersion
    ) external view returns (bytes32) {
        return _digest(deviceId, suspended, nonce, deadline, oracleSetVersion);
    }

    function _digest(
        uint256 deviceId,
        bool suspended,
        uint64 nonce,
        uint64 deadline,
        uint64 oracleSetVersion
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(SUSPENSION_TYPEHASH, deviceId, suspended, nonce, deadline, oracleSetVersion))
            );
    }
}
