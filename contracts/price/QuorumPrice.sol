// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IQuorumPrice} from "../interfaces/IQuorumPrice.sol";
import {MeshPrice} from "./MeshPrice.sol";

/// @title QuorumPrice
/// @notice MESH/USD as the median of at least k signed observations of a k-of-n oracle set (see
/// IQuorumPrice). The median resists up to k - 1 lying oracles on either side when n = 2k - 1.
contract QuorumPrice is IQuorumPrice, MeshPrice, EIP712, AccessControl {
    /// @notice A price (and a report) older than this is stale.
    uint64 public constant MAX_AGE = 1 hours;
    /// @notice Largest oracle set (bounds the loops over reports and members).
    uint256 public constant MAX_ORACLES = 32;
    /// @notice EIP-712 type hash of an oracle's MeshPrice observation.
    bytes32 public constant MESH_PRICE_TYPEHASH = keccak256("MeshPrice(uint256 price,uint64 timestamp)");

    address[] private _oracles;
    mapping(address oracle => uint64 version) private _oracleVersion;
    uint64 private _version;
    uint8 private _threshold;

    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param oracles_ The initial oracle set.
    /// @param threshold_ The initial k.
    constructor(
        address admin,
        address[] memory oracles_,
        uint256 threshold_
    ) MeshPrice(MAX_AGE) EIP712("Hexmesh QuorumPrice", "1") {
        if (admin == address(0)) revert QuorumPriceZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setOracleSet(oracles_, threshold_);
    }

    /// @inheritdoc IQuorumPrice
    function submit(PriceReport[] calldata reports) external {
        uint256 count = reports.length;
        uint256 k = _threshold;
        if (count < k) revert QuorumPriceTooFewReports(count, k);
        uint64 version = _version;
        uint256[] memory prices = new uint256[](count);
        uint64 observedAt = type(uint64).max;
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            PriceReport calldata report = reports[i];
            uint256 price = report.price;
            uint64 timestamp = report.timestamp;
            if (price == 0 || price > MAX_PRICE) revert QuorumPriceInvalid(price);
            if (timestamp > block.timestamp || timestamp + MAX_AGE < block.timestamp) {
                revert QuorumPriceReportOutOfWindow(timestamp);
            }
            (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(
                _priceDigest(price, timestamp),
                report.signature
            );
            if (err != ECDSA.RecoverError.NoError) revert QuorumPriceInvalidSignature(i);
            if (signer <= previous) revert QuorumPriceSignersNotAscending(i, signer);
            if (_oracleVersion[signer] != version) revert QuorumPriceNotOracle(signer);
            previous = signer;
            observedAt = timestamp < observedAt ? timestamp : observedAt;
            _insertSorted(prices, i, price);
        }
        (, uint64 updatedAt) = latestPrice();
        if (observedAt <= updatedAt) revert QuorumPriceNotNewer(observedAt, updatedAt);
        _record(prices[(count - 1) / 2], observedAt);
    }

    /// @inheritdoc IQuorumPrice
    function setOracleSet(address[] calldata oracles_, uint256 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setOracleSet(oracles_, threshold_);
    }

    /// @inheritdoc IQuorumPrice
    function oracles() external view returns (address[] memory) {
        return _oracles;
    }

    /// @inheritdoc IQuorumPrice
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IQuorumPrice
    function oracleSetVersion() external view returns (uint64) {
        return _version;
    }

    /// @inheritdoc IQuorumPrice
    function priceDigest(uint256 price, uint64 timestamp) external view returns (bytes32) {
        return _priceDigest(price, timestamp);
    }

    function _priceDigest(uint256 price, uint64 timestamp) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(MESH_PRICE_TYPEHASH, price, timestamp)));
    }

    /// @dev Inserts `value` into the sorted prefix `sorted[0 .. filled)` (insertion sort; at most
    /// MAX_ORACLES elements).
    function _insertSorted(uint256[] memory sorted, uint256 filled, uint256 value) private pure {
        uint256 j = filled;
        while (j > 0 && sorted[j - 1] > value) {
            sorted[j] = sorted[j - 1];
            --j;
        }
        sorted[j] = value;
    }

    function _setOracleSet(address[] memory oracles_, uint256 threshold_) private {
        uint256 n = oracles_.length;
        if (n == 0 || n > MAX_ORACLES || threshold_ == 0 || threshold_ > n) revert QuorumPriceInvalidOracleSet();
        uint64 version = _version + 1;
        for (uint256 i = 0; i < n; ++i) {
            address oracle = oracles_[i];
            // Marking as we go makes a repeated address show up as already in this version.
            if (oracle == address(0) || _oracleVersion[oracle] == version) revert QuorumPriceInvalidOracleSet();
            _oracleVersion[oracle] = version;
        }
        _oracles = oracles_;
        _version = version;
        _threshold = uint8(threshold_); // <= MAX_ORACLES
        emit OracleSetChanged(version, oracles_, threshold_);
    }
}
