// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {IEmissionsController} from "../interfaces/IEmissionsController.sol";
import {IMeshToken} from "../interfaces/IMeshToken.sol";
import {IStakingVault} from "../interfaces/IStakingVault.sol";
import {IStorageDeals} from "../interfaces/IStorageDeals.sol";
import {IStorageSuspensions} from "../interfaces/IStorageSuspensions.sol";
import {IUsageCredits} from "../interfaces/IUsageCredits.sol";
import {DeviceBond} from "../libraries/DeviceBond.sol";
import {PieceMerkle} from "../libraries/PieceMerkle.sol";

/// @title StorageDeals
/// @notice Paid storage with on-chain possession proofs (see IStorageDeals).
/// @dev Deviation from the issue: the provider's collateral is MESH deposited here, not a part of its
/// vault bond, because the StakingVault cannot lock part of a stake for one market (its slasher sends
/// slashed MESH to the treasury, and the fee must go half to the client, half burned). The
/// requirement is COLLATERAL_PERIODS periods of rate, converted to MESH at the credit price when the
/// rate was last set (`collateralPerPeriod`); fees and forfeits are counted in that unit.
/// No loop runs over pieces or periods: a proof names the piece that holds each challenged leaf
/// (pieces keep their first global leaf), and periods elapsed after the first unsettled one can hold
/// no armed challenge, so they are rescheduled in one step.
contract StorageDeals is IStorageDeals, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Length of a proving period.
    uint64 public constant PERIOD = 1 days;
    /// @notice The proof window: the last WINDOW seconds of a period.
    uint64 public constant WINDOW = 30 minutes;
    /// @notice Periods of rate the client keeps locked.
    uint256 public constant LOCK_PERIODS = 30;
    /// @notice Periods of rate the provider keeps as collateral.
    uint256 public constant COLLATERAL_PERIODS = 90;
    /// @notice Periods of rate an undeclared miss costs (after the free one).
    uint256 public constant FAULT_FEE_PERIODS = 2;
    /// @notice Consecutive faulty periods that terminate a data set.
    uint16 public constant MAX_CONSECUTIVE_FAULTS = 14;
    /// @notice Proven periods in a row after which the free miss is available again.
    uint16 public constant HEALTHY_STREAK = 30;
    /// @notice Largest K.
    uint256 public constant MAX_CHALLENGES = 16;
    /// @notice Most pieces per addPieces call.
    uint256 public constant MAX_PIECES_PER_CALL = 32;
    /// @notice Largest piece: 1 TiB.
    uint64 public constant MAX_PIECE_SIZE = uint64(1) << 40;
    /// @notice Price bounds, micro-USD per TiB-month ($0.01 .. $1,000,000).
    uint256 public constant MIN_PRICE = 10_000;
    /// @notice See MIN_PRICE.
    uint256 public constant MAX_PRICE = 1e12;
    /// @notice Default price: $2.50 per TiB-month.
    uint256 public constant DEFAULT_PRICE = 2_500_000;
    /// @notice Default K.
    uint256 public constant DEFAULT_CHALLENGES = 5;
    /// @notice Longest endpoint URL, in bytes.
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;

    uint256 private constant _BYTES_PER_TIB = 1 << 40;
    uint256 private constant _PERIODS_PER_MONTH = 30;
    uint256 private constant _LEAF_SIZE = 32;
    uint256 private constant _PRICE_SCALE = 1e30; // credits = mesh * price / 1e30 (UsageCredits)

    IUsageCredits private immutable _CREDITS;
    IMeshToken private immutable _MESH;
    IDeviceRegistry private immutable _REGISTRY;
    IStakingVault private immutable _VAULT;
    IEmissionsController private immutable _CONTROLLER;
    uint8 private immutable _STORAGE_CLASS_SUBNETWORK;

    uint64 private _price;
    uint8 private _challengeCount;
    uint256 private _dataSetCount;
    mapping(uint256 id => DataSet) private _dataSets;
    mapping(uint256 id => mapping(uint256 pieceIndex => Piece)) private _pieces;
    mapping(address account => uint256 amount) private _meshOwed;
    uint256 private _feesToBurn;
    IStorageSuspensions private _suspensions;
    mapping(uint256 deviceId => string url) private _endpoints;

    /// @param credits_ UsageCredits (governance registers this contract as the storage spender).
    /// @param registry DeviceRegistry.
    /// @param vault StakingVault (bonds).
    /// @param controller EmissionsController (the epoch of each UsageRecorded).
    /// @param storageClassSubnetwork The registry's subnetwork number of storage device classes.
    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    constructor(
        address credits_,
        address registry,
        address vault,
        address controller,
        uint8 storageClassSubnetwork,
        address admin
    ) {
        if (
            credits_ == address(0) ||
            registry == address(0) ||
            vault == address(0) ||
            controller == address(0) ||
            admin == address(0)
        ) revert StorageZeroAddress();
        _CREDITS = IUsageCredits(credits_);
        _MESH = IMeshToken(IUsageCredits(credits_).token());
        _REGISTRY = IDeviceRegistry(registry);
        _VAULT = IStakingVault(vault);
        _CONTROLLER = IEmissionsController(controller);
        _STORAGE_CLASS_SUBNETWORK = storageClassSubnetwork;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _price = uint64(DEFAULT_PRICE);
        _challengeCount = uint8(DEFAULT_CHALLENGES);
        emit PriceSet(DEFAULT_PRICE);
        emit ChallengeCountSet(DEFAULT_CHALLENGES);
    }

    // ------------------------------------------------------------------ clients

    /// @inheritdoc IStorageDeals
    function createDataSet(uint256 deviceId) external returns (uint256 id) {
        address provider = _checkDevice(deviceId);
        id = ++_dataSetCount;
        DataSet storage ds = _dataSets[id];
        ds.client = msg.sender;
        ds.provider = provider;
        ds.deviceId = deviceId;
        ds.status = Status.Proposed;
        ds.pricePerTiBMonth = uint40(_price); // <= MAX_PRICE < 2^40
        ds.challengeCount = _challengeCount;
        emit DataSetCreated(id, msg.sender, provider, deviceId, _price, _challengeCount);
    }

    /// @inheritdoc IStorageDeals
    function addPieces(uint256 id, PieceInput[] calldata pieces) external {
        DataSet storage ds = _client(id);
        _sync(id, ds);
        _requireStatus(id, ds, Status.Active);
        uint256 count = pieces.length;
        if (count == 0 || count > MAX_PIECES_PER_CALL) revert StorageBadPieceCount(count);
        uint32 pieceCount = ds.pieceCount;
        uint64 totalLeaves = ds.totalLeaves;
        uint64 totalBytes = ds.totalBytes;
        mapping(uint256 pieceIndex => Piece) storage stored = _pieces[id];
        for (uint256 i = 0; i < count; ++i) {
            PieceInput calldata input = pieces[i];
            uint64 size = input.size;
            if (input.root == bytes32(0) || size == 0 || size > MAX_PIECE_SIZE) {
                revert StorageInvalidPiece(input.root, size);
            }
            uint64 leafCount = uint64((uint256(size) + _LEAF_SIZE - 1) / _LEAF_SIZE);
            stored[pieceCount] = Piece({
                root: input.root,
                size: size,
                firstLeaf: totalLeaves,
                leafCount: leafCount,
                height: uint8(PieceMerkle.height(leafCount))
            });
            emit PieceAdded(id, pieceCount, input.root, size, totalLeaves);
            ++pieceCount;
            totalLeaves += leafCount;
            totalBytes += size;
        }
        (uint256 rate, uint256 perPeriod) = _rates(totalBytes, ds.pricePerTiBMonth);
        uint256 locked = ds.locked;
        uint256 lockTarget = rate * LOCK_PERIODS;
        uint256 topUp = lockTarget > locked ? lockTarget - locked : 0;
        locked += topUp;
        // Words 3 (size, rate) and 4 (pieces, lock, collateral rate), written together.
        ds.totalLeaves = totalLeaves;
        ds.totalBytes = totalBytes;
        ds.rate = uint64(rate); // < 2^60 (see DataSet)
        ds.pieceCount = pieceCount;
        ds.locked = uint88(locked); // the old lock, or 30 x rate < 2^65
        ds.collateralPerPeriod = SafeCast.toUint88(perPeriod);
        if (ds.periodEnd == 0) {
            uint40 periodEnd = uint40(block.timestamp + PERIOD);
            ds.periodEnd = periodEnd;
            emit ProvingStarted(id, periodEnd);
        }
        emit RateChanged(id, rate, locked, perPeriod);
        if (topUp > 0) _CREDITS.lock(ds.client, topUp);
    }

    /// @inheritdoc IStorageDeals
    function depositCredits(uint256 id, uint256 credits) external {
        DataSet storage ds = _client(id);
        _sync(id, ds);
        _requireStatus(id, ds, Status.Active);
        if (credits == 0) revert StorageZeroAmount();
        ds.locked += SafeCast.toUint88(credits);
        emit CreditsDeposited(id, credits, ds.locked);
        _CREDITS.lock(msg.sender, credits);
    }

    /// @inheritdoc IStorageDeals
    function terminateByClient(uint256 id) external {
        DataSet storage ds = _client(id);
        _sync(id, ds);
        _requireOpen(id, ds);
        uint256 pay = Math.min(ds.locked, uint256(ds.rate) * LOCK_PERIODS);
        _end(id, ds, EndReason.ByClient, pay, 0);
    }

    // ------------------------------------------------------------------ providers

    /// @inheritdoc IStorageDeals
    function acceptDataSet(uint256 id) external {
        DataSet storage ds = _provider(id);
        _requireStatus(id, ds, Status.Proposed);
        _checkDevice(ds.deviceId);
        ds.status = Status.Active;
        emit DataSetAccepted(id, msg.sender);
    }

    /// @inheritdoc IStorageDeals
    function depositCollateral(uint256 id, uint256 amount) external {
        DataSet storage ds = _provider(id);
        _requireOpen(id, ds);
        if (amount == 0) revert StorageZeroAmount();
        ds.collateral += SafeCast.toUint96(amount);
        emit CollateralDeposited(id, amount, ds.collateral);
        IERC20(address(_MESH)).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStorageDeals
    function withdrawCollateral(uint256 id, uint256 amount) external {
        DataSet storage ds = _provider(id);
        _sync(id, ds);
        _requireOpen(id, ds);
        if (amount == 0) revert StorageZeroAmount();
        uint256 required = uint256(ds.collateralPerPeriod) * COLLATERAL_PERIODS;
        if (amount > ds.collateral || ds.collateral - amount < required) {
            revert StorageCollateralShort(id, ds.collateral - Math.min(amount, ds.collateral), required);
        }
        ds.collateral -= uint96(amount);
        emit CollateralWithdrawn(id, amount, ds.collateral);
        IERC20(address(_MESH)).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStorageDeals
    function declareFault(uint256 id) external {
        DataSet storage ds = _provider(id);
        _sync(id, ds);
        _requireStarted(id, ds);
        uint64 windowStart = ds.periodEnd - WINDOW;
        if (block.timestamp >= windowStart) revert StorageOutsideWindow(id, windowStart, ds.periodEnd);
        // (A proven period is past its window opening, so it cannot be declared.)
        if (ds.faultDeclared) revert StorageFaultDeclared(id, ds.period);
        ds.faultDeclared = true;
        emit FaultDeclared(id, ds.period);
    }

    /// @inheritdoc IStorageDeals
    function provePossession(uint256 id, LeafProof[] calldata proofs) external {
        DataSet storage ds = _provider(id);
        _sync(id, ds);
        _requireStarted(id, ds);
        uint64 period = ds.period;
        uint64 windowStart = ds.periodEnd - WINDOW;
        if (block.timestamp < windowStart) revert StorageOutsideWindow(id, windowStart, ds.periodEnd);
        if (ds.proven) revert StorageAlreadyProven(id, period);
        if (ds.faultDeclared) revert StorageFaultDeclared(id, period);
        bytes32 seed = ds.seed;
        if (seed == bytes32(0)) {
            // Read from the armed block and not stored: once proven, the period needs it no more.
            seed = _readSeed(ds);
            if (seed == bytes32(0)) revert StorageSeedNotRecorded(id, period);
            emit SeedRecorded(id, period, seed);
        }
        uint256 k = ds.challengeCount;
        if (proofs.length != k) revert StorageWrongProofCount(proofs.length, k);
        uint256 required = uint256(ds.collateralPerPeriod) * COLLATERAL_PERIODS;
        if (ds.collateral < required) revert StorageCollateralShort(id, ds.collateral, required);
        uint256 challenged = ds.challengedLeaves;
        for (uint256 i = 0; i < k; ++i) {
            LeafProof calldata proof = proofs[i];
            uint256 globalLeaf = _challenge(seed, id, period, i, challenged);
            Piece storage pc = _pieces[id][proof.pieceIndex];
            uint256 first = pc.firstLeaf;
            // A piece index past the last piece reads an empty piece, which holds no leaf.
            if (globalLeaf < first || globalLeaf >= first + pc.leafCount) {
                revert StorageWrongPiece(i, proof.pieceIndex, globalLeaf);
            }
            if (
                proof.path.length != pc.height ||
                !PieceMerkle.verify(pc.root, globalLeaf - first, proof.leaf, proof.path)
            ) revert StorageInvalidProof(i);
        }
        ds.proven = true;
        uint256 pay = Math.min(ds.rate, ds.locked);
        ds.locked -= uint88(pay);
        address client = ds.client;
        bool refill = pay > 0 && _CREDITS.balanceOf(client) >= pay && _CREDITS.allowance(client, address(this)) >= pay;
        if (refill) ds.locked += uint88(pay);
        emit PossessionProven(id, period, pay);
        if (refill) emit LockRefilled(id, pay, ds.locked);
        if (pay > 0) {
            _CREDITS.consumeLocked(client, _CONTROLLER.currentEpoch(), msg.sender, pay);
            if (refill) _CREDITS.lock(client, pay);
        }
    }

    /// @inheritdoc IStorageDeals
    function terminateByProvider(uint256 id) external {
        DataSet storage ds = _provider(id);
        _sync(id, ds);
        _requireOpen(id, ds);
        uint256 lockPeriods = uint256(ds.rate) * LOCK_PERIODS;
        // A client who let its lock fall below LOCK_PERIODS periods has broken the deal first.
        uint256 forfeit =
            ds.locked >= lockPeriods ? Math.min(ds.collateral, uint256(ds.collateralPerPeriod) * LOCK_PERIODS) : 0;
        _end(id, ds, EndReason.ByProvider, 0, forfeit);
    }

    /// @inheritdoc IStorageDeals
    function setEndpoint(uint256 deviceId, string calldata url) external {
        if (bytes(url).length > MAX_ENDPOINT_LENGTH)
            revert StorageEndpointTooLong(bytes(url).length, MAX_ENDPOINT_LENGTH);
        IDeviceRegistry.DeviceInfo memory info = _REGISTRY.deviceInfo(deviceId);
        if (info.status == IDeviceRegistry.DeviceStatus.Retired || info.owner != msg.sender) {
            revert StorageNotDeviceOwner(deviceId, msg.sender);
        }
        if (_REGISTRY.deviceClassInfo(info.deviceClass).subnetwork != _STORAGE_CLASS_SUBNETWORK) {
            revert StorageNotStorageDevice(deviceId, info.deviceClass);
        }
        _endpoints[deviceId] = url;
        emit EndpointSet(deviceId, msg.sender, url);
    }

    // ------------------------------------------------------------------ anyone

    /// @inheritdoc IStorageDeals
    function recordSeed(uint256 id) external {
        DataSet storage ds = _existing(id);
        _sync(id, ds);
        _requireStarted(id, ds);
        uint64 windowStart = ds.periodEnd - WINDOW;
        if (block.timestamp < windowStart) revert StorageOutsideWindow(id, windowStart, ds.periodEnd);
        if (ds.challengeBlock == 0) {
            // The next block's hash is unknown to every caller now: arming cannot be ground.
            uint64 challengeBlock = uint64(block.number) + 1;
            ds.challengeBlock = challengeBlock;
            ds.challengedLeaves = ds.totalLeaves;
            emit ChallengeArmed(id, ds.period, challengeBlock, ds.totalLeaves);
            return;
        }
        if (ds.seed != bytes32(0)) revert StorageSeedAlreadyRecorded(id, ds.period);
        if (block.number <= ds.challengeBlock) revert StorageSeedNotReady(id, ds.challengeBlock);
        bytes32 seed = _readSeed(ds);
        if (seed == bytes32(0)) revert StorageSeedNotRecorded(id, ds.period);
        ds.seed = seed;
        emit SeedRecorded(id, ds.period, seed);
    }

    /// @inheritdoc IStorageDeals
    function settle(uint256 id) external {
        DataSet storage ds = _existing(id);
        _advance(id, ds);
        if (ds.status == Status.Active && ds.consecutiveFaults >= MAX_CONSECUTIVE_FAULTS) {
            uint256 forfeit = Math.min(ds.collateral, uint256(ds.collateralPerPeriod) * LOCK_PERIODS);
            _end(id, ds, EndReason.Faults, 0, forfeit);
        }
    }

    /// @inheritdoc IStorageDeals
    function withdrawMesh() external returns (uint256 amount) {
        amount = _meshOwed[msg.sender];
        if (amount == 0) revert StorageNothingOwed(msg.sender);
        _meshOwed[msg.sender] = 0;
        emit MeshWithdrawn(msg.sender, amount);
        IERC20(address(_MESH)).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStorageDeals
    function burnFees() external returns (uint256 amount) {
        amount = _feesToBurn;
        if (amount == 0) revert StorageNothingToBurn();
        _feesToBurn = 0;
        emit FeesBurned(msg.sender, amount);
        _MESH.burn(amount);
    }

    /// @inheritdoc IStorageDeals
    function agreeToEnd(uint256 id) external {
        DataSet storage ds = _existing(id);
        _sync(id, ds);
        _requireOpen(id, ds);
        if (msg.sender == ds.client) ds.clientAgreedToEnd = true;
        else if (msg.sender == ds.provider) ds.providerAgreedToEnd = true;
        else revert StorageNotParty(id, msg.sender);
        emit EndAgreed(id, msg.sender);
        if (ds.clientAgreedToEnd && ds.providerAgreedToEnd) _end(id, ds, EndReason.Mutual, 0, 0);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IStorageDeals
    function setPrice(uint256 pricePerTiBMonth_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (pricePerTiBMonth_ < MIN_PRICE || pricePerTiBMonth_ > MAX_PRICE) {
            revert StoragePriceOutOfBounds(pricePerTiBMonth_);
        }
        _price = uint64(pricePerTiBMonth_);
        emit PriceSet(pricePerTiBMonth_);
    }

    /// @inheritdoc IStorageDeals
    function setChallengeCount(uint256 challengeCount_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (challengeCount_ == 0 || challengeCount_ > MAX_CHALLENGES) {
            revert StorageChallengeCountOutOfBounds(challengeCount_);
        }
        _challengeCount = uint8(challengeCount_);
        emit ChallengeCountSet(challengeCount_);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStorageDeals
    function dataSet(uint256 id) external view returns (DataSet memory) {
        return _dataSets[id];
    }

    /// @inheritdoc IStorageDeals
    function piece(uint256 id, uint256 pieceIndex) external view returns (Piece memory) {
        return _pieces[id][pieceIndex];
    }

    /// @inheritdoc IStorageDeals
    function challengeLeaf(uint256 id, uint256 index) external view returns (uint256) {
        DataSet storage ds = _dataSets[id];
        bytes32 seed = ds.seed;
        if (seed == bytes32(0)) seed = _readSeed(ds);
        if (seed == bytes32(0)) revert StorageSeedNotRecorded(id, ds.period);
        return _challenge(seed, id, ds.period, index, ds.challengedLeaves);
    }

    /// @inheritdoc IStorageDeals
    function requiredCollateral(uint256 id) external view returns (uint256) {
        return uint256(_dataSets[id].collateralPerPeriod) * COLLATERAL_PERIODS;
    }

    /// @inheritdoc IStorageDeals
    function pricePerTiBMonth() external view returns (uint256) {
        return _price;
    }

    /// @inheritdoc IStorageDeals
    function challengeCount() external view returns (uint256) {
        return _challengeCount;
    }

    /// @inheritdoc IStorageDeals
    function dataSetCount() external view returns (uint256) {
        return _dataSetCount;
    }

    /// @inheritdoc IStorageDeals
    function meshOwed(address account) external view returns (uint256) {
        return _meshOwed[account];
    }

    /// @inheritdoc IStorageDeals
    function feesToBurn() external view returns (uint256) {
        return _feesToBurn;
    }

    /// @inheritdoc IStorageDeals
    function endpointOf(uint256 deviceId) external view returns (string memory) {
        return _endpoints[deviceId];
    }

    // ------------------------------------------------------------------ internals

    /// @dev The owner of an active device of a storage class that bonds all its devices.
    function _checkDevice(uint256 deviceId) private view returns (address provider) {
        IStorageSuspensions gate = _suspensions;
        if (address(gate) != address(0) && gate.isSuspended(deviceId)) revert StorageDeviceSuspended(deviceId);
        DeviceBond.Check memory c = DeviceBond.check(_REGISTRY, _VAULT, deviceId, _STORAGE_CLASS_SUBNETWORK);
        if (c.failure == DeviceBond.Failure.NotActive) revert StorageDeviceNotActive(deviceId);
        if (c.failure == DeviceBond.Failure.WrongSubnetwork) revert StorageNotStorageDevice(deviceId, c.deviceClass);
        if (c.failure == DeviceBond.Failure.NotBonded) revert StorageProviderNotBonded(c.owner, c.stake, c.required);
        return c.owner;
    }

    /// @dev A data set's rate (credits per period, rounded up: a non-empty data set never stores for
    /// free) and its collateral per period in MESH at the credit price now (rounded up).
    function _rates(uint256 totalBytes, uint256 pricePerTiBMonth_) private view returns (uint256 rate, uint256 mesh) {
        rate = Math.mulDiv(totalBytes, pricePerTiBMonth_, _BYTES_PER_TIB * _PERIODS_PER_MONTH, Math.Rounding.Ceil);
        // quote(_PRICE_SCALE) is the credit price itself (credits = mesh * price / _PRICE_SCALE).
        mesh = Math.mulDiv(rate, _PRICE_SCALE, _CREDITS.quote(_PRICE_SCALE), Math.Rounding.Ceil);
    }

    /// @dev The armed challenge block's hash, or zero if not armed, not mined yet or out of reach.
    function _readSeed(DataSet storage ds) private view returns (bytes32) {
        uint256 challengeBlock = ds.challengeBlock;
        if (challengeBlock == 0 || block.number <= challengeBlock) return bytes32(0);
        return blockhash(challengeBlock);
    }

    function _challenge(
        bytes32 seed,
        uint256 id,
        uint64 period,
        uint256 index,
        uint256 leaves
    ) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, id, period, index))) % leaves;
    }

    /// @dev Settles the current period if it has ended, then reschedules every later elapsed period
    /// at once: nothing can have happened in them (every call settles first), so none has a seed.
    /// State only: fees are booked for withdrawal and burning; {settle} ends a data set at the limit.
    function _advance(uint256 id, DataSet storage ds) private {
        uint64 periodEnd = ds.periodEnd;
        if (ds.status != Status.Active || periodEnd == 0 || block.timestamp < periodEnd) return;
        uint64 period = ds.period;
        Outcome outcome;
        uint256 fee;
        bytes32 seed = ds.seed;
        if (seed == bytes32(0)) seed = _readSeed(ds); // armed and still readable: the miss counts
        if (ds.proven) {
            outcome = Outcome.Proven;
            ds.consecutiveFaults = 0;
            if (ds.provenStreak < HEALTHY_STREAK) ++ds.provenStreak;
            if (ds.provenStreak == HEALTHY_STREAK) ds.freeMissUsed = false;
        } else if (ds.faultDeclared) {
            outcome = Outcome.DeclaredFault;
            ++ds.consecutiveFaults;
            ds.provenStreak = 0;
        } else if (seed == bytes32(0)) {
            outcome = Outcome.Rescheduled;
        } else {
            ++ds.consecutiveFaults;
            ds.provenStreak = 0;
            if (!ds.freeMissUsed) {
                outcome = Outcome.FreeMiss;
                ds.freeMissUsed = true;
            } else {
                outcome = Outcome.Faulted;
                fee = Math.min(ds.collateral, uint256(ds.collateralPerPeriod) * FAULT_FEE_PERIODS);
                ds.collateral -= uint96(fee);
            }
        }
        uint256 elapsed = (block.timestamp - periodEnd) / PERIOD; // later periods, all blank
        ds.period = uint32(period + 1 + uint64(elapsed)); // elapsed < 2^40 s / 1 day
        ds.periodEnd = uint40(periodEnd + PERIOD * (1 + uint64(elapsed)));
        ds.proven = false;
        ds.faultDeclared = false;
        ds.challengeBlock = 0;
        ds.seed = bytes32(0);
        emit PeriodSettled(id, period, outcome, fee);
        if (elapsed > 0) emit PeriodsRescheduled(id, period + 1, uint64(elapsed));
        if (fee > 0) {
            // Booked, not sent: settling makes no external call (the client withdraws, anyone burns).
            uint256 toClient = fee / 2;
            _meshOwed[ds.client] += toClient;
            _feesToBurn += fee - toClient;
        }
    }

    /// @dev Settles elapsed periods; a data set at the fault limit must be ended by {settle} first.
    function _sync(uint256 id, DataSet storage ds) private {
        _advance(id, ds);
        if (ds.status == Status.Active && ds.consecutiveFaults >= MAX_CONSECUTIVE_FAULTS) {
            revert StorageFaultLimitReached(id);
        }
    }

    /// @dev Ends the data set: pays `pay` locked credits to the provider, releases the rest of the
    /// lock to the client, sends `forfeit` MESH of collateral to the client and the rest back.
    function _end(uint256 id, DataSet storage ds, EndReason reason, uint256 pay, uint256 forfeit) private {
        uint256 released = ds.locked - pay;
        uint256 returned = ds.collateral - forfeit;
        ds.status = Status.Terminated;
        ds.locked = 0;
        ds.collateral = 0;
        emit DataSetTerminated(id, reason, pay, forfeit, released, returned);
        address client = ds.client;
        if (pay > 0) _CREDITS.consumeLocked(client, _CONTROLLER.currentEpoch(), ds.provider, pay);
        if (released > 0) _CREDITS.release(client, released);
        if (forfeit > 0) IERC20(address(_MESH)).safeTransfer(client, forfeit);
        if (returned > 0) IERC20(address(_MESH)).safeTransfer(ds.provider, returned);
    }

    function _existing(uint256 id) private view returns (DataSet storage ds) {
        ds = _dataSets[id];
        if (ds.status == Status.None) revert StorageUnknownDataSet(id);
    }

    function _client(uint256 id) private view returns (DataSet storage ds) {
        ds = _existing(id);
        if (msg.sender != ds.client) revert StorageNotClient(id, msg.sender);
    }

    function _provider(uint256 id) private view returns (DataSet storage ds) {
        ds = _existing(id);
        if (msg.sender != ds.provider) revert StorageNotProvider(id, msg.sender);
    }

    function _requireStatus(uint256 id, DataSet storage ds, Status status) private view {
        if (ds.status != status) revert StorageWrongStatus(id, ds.status);
    }

    function _requireOpen(uint256 id, DataSet storage ds) private view {
        if (ds.status == Status.Terminated) revert StorageWrongStatus(id, Status.Terminated);
    }

    function _requireStarted(uint256 id, DataSet storage ds) private view {
        _requireStatus(id, ds, Status.Active);
        if (ds.periodEnd == 0) revert StorageNotStarted(id);
    }

    // ------------------------------------------------------------------ storage oracle suspensions

    /// @inheritdoc IStorageDeals
    function setSuspensions(address suspensions_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _suspensions = IStorageSuspensions(suspensions_);
        emit SuspensionsSet(suspensions_);
    }

    /// @inheritdoc IStorageDeals
    function suspensions() external view returns (address) {
        return address(_suspensions);
    }
}
