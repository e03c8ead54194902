// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IDataTransferSettlement} from "../interfaces/IDataTransferSettlement.sol";
import {IEmissionsController} from "../interfaces/IEmissionsController.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IUsageCredits} from "../interfaces/IUsageCredits.sol";
import {OracleSignatures} from "../libraries/OracleSignatures.sol";

/// @title DataTransferSettlement
/// @notice Coverage data transfer, settled per epoch against the routers' usage credits (see
/// IDataTransferSettlement).
/// @dev The oracle set is read from the coverage distributor at each settlement (three view calls), so
/// a change of the set there applies here at once and kills the old set's signatures. The epoch clock
/// is the controller's, copied at construction (it is fixed at the controller's deployment).
contract DataTransferSettlement is IDataTransferSettlement, EIP712, AccessControl {
    /// @notice EIP-712 type hash of the oracles' DataTransferSettlement.
    bytes32 public constant SETTLEMENT_TYPEHASH = keccak256(
        "DataTransferSettlement(uint64 epoch,bytes32 entriesHash,uint64 oracleSetVersion)"
    );
    /// @notice Payload bytes per packet: a packet is charged per started 24 bytes (Helium's Data Credit).
    uint256 public constant BYTES_PER_PACKET = 24;
    /// @notice Highest price governance may set: 10,000 credits ($0.01) per packet.
    uint256 public constant MAX_CREDITS_PER_PACKET = 10_000;

    uint256 private constant _ENTRY_LENGTH = 96;

    /// @dev The price per packet, with the one it replaces until `fromEpoch`: one word.
    struct PacketPrice {
        uint32 current;
        uint32 previous;
        uint64 fromEpoch;
    }

    IUsageCredits private immutable _CREDITS;
    IRewardsDistributor private immutable _DISTRIBUTOR;
    uint64 private immutable _GENESIS_TIME;
    uint64 private immutable _EPOCH_LENGTH;

    PacketPrice private _price;
    uint64 private _nextEpoch;

    /// @param credits_ The UsageCredits ledger (governance registers this contract as its spender).
    /// @param distributor_ The coverage RewardsDistributor (its oracle set signs settlements).
    /// @param controller The EmissionsController (its epoch clock).
    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param creditsPerPacket Initial price, in [1, MAX_CREDITS_PER_PACKET].
    constructor(
        address credits_,
        address distributor_,
        address controller,
        address admin,
        uint256 creditsPerPacket
    ) EIP712("Hexmesh DataTransfer", "1") {
        if (credits_ == address(0) || distributor_ == address(0) || controller == address(0) || admin == address(0))
            revert SettlementZeroAddress();
        _checkPrice(creditsPerPacket);
        _CREDITS = IUsageCredits(credits_);
        _DISTRIBUTOR = IRewardsDistributor(distributor_);
        _GENESIS_TIME = IEmissionsController(controller).genesisTime();
        _EPOCH_LENGTH = IEmissionsController(controller).epochLength();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _price = PacketPrice(uint32(creditsPerPacket), uint32(creditsPerPacket), 0);
        emit CreditsPerPacketChanged(0, creditsPerPacket, creditsPerPacket);
    }

    /// @inheritdoc IDataTransferSettlement
    function settle(
        uint64 epoch,
        uint64 oracleSetVersion,
        IUsageCredits.Usage[] calldata entries,
        bytes calldata signatures
    ) external {
        uint256 endsAt = uint256(_GENESIS_TIME) + (uint256(epoch) + 1) * _EPOCH_LENGTH;
        if (block.timestamp < endsAt) revert SettlementEpochNotEnded(epoch, endsAt);
        uint64 next = _nextEpoch;
        if (epoch < next) revert SettlementEpochSettled(epoch, next);
        _checkEntries(entries);
        bytes32 hash = _entriesHash(entries);
        OracleSignatures.requireQuorum(
            _DISTRIBUTOR,
            _settlementDigest(epoch, hash, oracleSetVersion),
            signatures,
            oracleSetVersion
        );
        _nextEpoch = epoch + 1;
        // The distributor's view calls above cannot re-enter: UsageCredits is the only call that writes.
        uint256 total = _CREDITS.consumeBatch(epoch, entries);
        emit EpochSettled(epoch, hash, entries.length, total, oracleSetVersion);
    }

    /// @inheritdoc IDataTransferSettlement
    function setCreditsPerPacket(uint256 creditsPerPacket) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkPrice(creditsPerPacket);
        PacketPrice memory p = _price;
        uint64 current = _currentEpoch();
        // A change already in force becomes the price this one replaces; one still waiting is overwritten.
        if (current >= p.fromEpoch) p.previous = p.current;
        uint256 replaced = p.current;
        p.current = uint32(creditsPerPacket);
        p.fromEpoch = current + 1;
        _price = p;
        emit CreditsPerPacketChanged(current + 1, replaced, creditsPerPacket);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDataTransferSettlement
    function credits() external view returns (address) {
        return address(_CREDITS);
    }

    /// @inheritdoc IDataTransferSettlement
    function distributor() external view returns (address) {
        return address(_DISTRIBUTOR);
    }

    /// @inheritdoc IDataTransferSettlement
    function epochClock() external view returns (uint64 genesisTime, uint64 epochLength) {
        return (_GENESIS_TIME, _EPOCH_LENGTH);
    }

    /// @inheritdoc IDataTransferSettlement
    function nextEpoch() external view returns (uint64) {
        return _nextEpoch;
    }

    /// @inheritdoc IDataTransferSettlement
    function creditsPerPacketAt(uint64 epoch) external view returns (uint256) {
        PacketPrice memory p = _price;
        return epoch >= p.fromEpoch ? p.current : p.previous;
    }

    /// @inheritdoc IDataTransferSettlement
    function entriesHash(IUsageCredits.Usage[] calldata entries) external pure returns (bytes32) {
        return _entriesHash(entries);
    }

    /// @inheritdoc IDataTransferSettlement
    function settlementDigest(
        uint64 epoch,
        bytes32 entriesHash_,
        uint64 oracleSetVersion
    ) external view returns (bytes32) {
        return _settlementDigest(epoch, entriesHash_, oracleSetVersion);
    }

    // ------------------------------------------------------------------ internals

    function _checkPrice(uint256 creditsPerPacket) private pure {
        if (creditsPerPacket == 0 || creditsPerPacket > MAX_CREDITS_PER_PACKET) {
            revert SettlementPriceOutOfBounds(creditsPerPacket);
        }
    }

    function _currentEpoch() private view returns (uint64) {
        if (block.timestamp < _GENESIS_TIME) return 0;
        return uint64((block.timestamp - _GENESIS_TIME) / _EPOCH_LENGTH);
    }

    /// @dev Strictly ascending (router, provider) pairs, none zero: one entry per pair, one order.
    function _checkEntries(IUsageCredits.Usage[] calldata entries) private pure {
        uint256 n = entries.length;
        if (n == 0) revert SettlementNoEntries();
        address previousRouter = address(0);
        address previousProvider = address(0);
        for (uint256 i = 0; i < n; ++i) {
            address router = entries[i].account;
            address provider = entries[i].provider;
            if (router == address(0) || provider == address(0)) revert SettlementZeroEntry(i);
            if (router < previousRouter || (router == previousRouter && provider <= previousProvider)) {
                revert SettlementEntriesNotSorted(i);
            }
            previousRouter = router;
            previousProvider = provider;
        }
    }

    /// @dev keccak256 over the entries' words as they sit in calldata (3 static words each).
    function _entriesHash(IUsageCredits.Usage[] calldata entries) private pure returns (bytes32 hash) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let length := mul(entries.length, _ENTRY_LENGTH)
            let ptr := mload(0x40)
            calldatacopy(ptr, entries.offset, length)
            hash := keccak256(ptr, length)
        }
    }

    function _settlementDigest(uint64 epoch, bytes32 hash, uint64 oracleSetVersion) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SETTLEMENT_TYPEHASH, epoch, hash, oracleSetVersion)));
    }
}
