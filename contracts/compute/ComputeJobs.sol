// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IComputeJobs} from "../interfaces/IComputeJobs.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {IEmissionsController} from "../interfaces/IEmissionsController.sol";
import {IMeshPrice} from "../interfaces/IMeshPrice.sol";
import {IStakingVault} from "../interfaces/IStakingVault.sol";
import {IUsageCredits} from "../interfaces/IUsageCredits.sol";
import {DeviceBond} from "../libraries/DeviceBond.sol";

/// @title ComputeJobs
/// @notice The compute job market (see IComputeJobs and docs/compute.md).
/// @dev Like StorageDeals, the provider's collateral is MESH held here (a collateral account per
/// provider, locked per job), not a part of its vault bond: the StakingVault cannot lock part of a
/// stake for one market. Nothing loops over jobs or providers: strikes are a ring of three times.
contract ComputeJobs is IComputeJobs, EIP712, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Role that resolves disputes (the seam for the compute oracle quorum's verdicts).
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");
    /// @notice EIP-712 type hash of the compute oracles' FraudVerdict.
    bytes32 public constant FRAUD_VERDICT_TYPEHASH = keccak256(
        "FraudVerdict(uint256 jobId,address provider,uint8 reason,bytes32 evidenceHash,address prover,uint64 oracleSetVersion,uint256 deadline)"
    );
    /// @notice How long after a commit the customer may accept early or dispute.
    uint64 public constant ACCEPTANCE_WINDOW = 24 hours;
    /// @notice How long after the window the verifier has to resolve a dispute.
    uint64 public constant DISPUTE_RESOLUTION = 7 days;
    /// @notice Longest time from creation to deadline.
    uint64 public constant MAX_JOB_DURATION = 30 days;
    /// @notice Largest maxUnits.
    uint32 public constant MAX_UNITS = 1e9;
    /// @notice Collateral, in multiples of the job's value.
    uint256 public constant COLLATERAL_MULTIPLE = 2;
    /// @notice Strikes within STRIKE_WINDOW that suspend a provider.
    uint256 public constant STRIKE_LIMIT = 3;
    /// @notice See STRIKE_LIMIT.
    uint64 public constant STRIKE_WINDOW = 7 days;
    /// @notice How long a suspension lasts.
    uint64 public constant SUSPENSION = 7 days;
    /// @notice A provider's first FORCED_CHECKS committed jobs are always spot-checked.
    uint32 public constant FORCED_CHECKS = 10;
    /// @notice Price bounds, credits (micro-USD) per unit: $0.000001 .. $1,000.
    uint256 public constant MIN_PRICE = 1;
    /// @notice See MIN_PRICE.
    uint256 public constant MAX_PRICE = 1e9;
    /// @notice Spot-check probability bounds, basis points (1% .. 100%).
    uint256 public constant MIN_CHECK_BPS = 100;
    /// @notice See MIN_CHECK_BPS.
    uint256 public constant MAX_CHECK_BPS = 10_000;
    /// @notice Default spot-check probability: 10%.
    uint256 public constant DEFAULT_CHECK_BPS = 1_000;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _PRICE_SCALE = 1e30; // credits = mesh * price / 1e30 (UsageCredits)

    IUsageCredits private immutable _CREDITS;
    IERC20 private immutable _MESH;
    IDeviceRegistry private immutable _REGISTRY;
    IStakingVault private immutable _VAULT;
    IEmissionsController private immutable _CONTROLLER;
    uint8 private immutable _COMPUTE_CLASS_SUBNETWORK;

    uint256 private _jobCount;
    uint256 private _checkBps;
    mapping(uint256 jobId => Job) private _jobs;
    mapping(address provider => Provider) private _providers;
    mapping(uint16 deviceClass => uint64 price) private _prices;

    /// @param credits_ UsageCredits (governance registers this contract as the compute spender).
    /// @param registry DeviceRegistry.
    /// @param vault StakingVault (bonds).
    /// @param controller EmissionsController (the epoch of each UsageRecorded).
    /// @param computeClassSubnetwork The registry's subnetwork number of compute device classes.
    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    constructor(
        address credits_,
        address registry,
        address vault,
        address controller,
        uint8 computeClassSubnetwork,
        address admin
    ) EIP712("Hexmesh ComputeJobs", "1") {
        if (
            credits_ == address(0) ||
            registry == address(0) ||
            vault == address(0) ||
            controller == address(0) ||
            admin == address(0)
        ) revert ComputeZeroAddress();
        _CREDITS = IUsageCredits(credits_);
        _MESH = IERC20(IUsageCredits(credits_).token());
        _REGISTRY = IDeviceRegistry(registry);
        _VAULT = IStakingVault(vault);
        _CONTROLLER = IEmissionsController(controller);
        _COMPUTE_CLASS_SUBNETWORK = computeClassSubnetwork;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _checkBps = DEFAULT_CHECK_BPS;
        emit CheckProbabilitySet(DEFAULT_CHECK_BPS);
    }

    // ------------------------------------------------------------------ customers

    /// @inheritdoc IComputeJobs
    function createJob(
        bytes32 specHash,
        uint16 deviceClass,
        uint32 maxUnits,
        uint40 deadline,
        Tier tier
    ) external returns (uint256 jobId) {
        if (specHash == bytes32(0)) revert ComputeZeroHash();
        if (tier != Tier.Standard) revert ComputeTierUnsupported(tier);
        uint64 price = _prices[deviceClass];
        if (price == 0) revert ComputeClassNotPriced(deviceClass);
        if (maxUnits == 0 || maxUnits > MAX_UNITS) revert ComputeUnitsOutOfRange(maxUnits, MAX_UNITS);
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_JOB_DURATION) {
            revert ComputeDeadlineOutOfRange(deadline);
        }
        jobId = ++_jobCount;
        Job storage j = _jobs[jobId];
        j.customer = msg.sender;
        j.deadline = deadline;
        j.status = Status.Open;
        j.deviceClass = deviceClass;
        j.specHash = specHash;
        j.maxUnits = maxUnits;
        j.pricePerUnit = price;
        emit JobCreated(jobId, msg.sender, specHash, deviceClass, maxUnits, price, deadline, tier);
        _CREDITS.lock(msg.sender, uint256(maxUnits) * price);
    }

    /// @inheritdoc IComputeJobs
    function cancelJob(uint256 jobId) external {
        Job storage j = _existing(jobId);
        if (msg.sender != j.customer) revert ComputeNotCustomer(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Open);
        _refund(jobId, j, RefundReason.Cancelled);
    }

    /// @inheritdoc IComputeJobs
    function acceptResult(uint256 jobId) external {
        Job storage j = _existing(jobId);
        if (msg.sender != j.customer) revert ComputeNotCustomer(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Committed);
        _pay(jobId, j);
    }

    /// @inheritdoc IComputeJobs
    function dispute(uint256 jobId, bytes32 evidenceHash) external {
        Job storage j = _existing(jobId);
        if (msg.sender != j.customer) revert ComputeNotCustomer(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Committed);
        if (evidenceHash == bytes32(0)) revert ComputeZeroHash();
        uint64 windowEnd = j.committedAt + ACCEPTANCE_WINDOW;
        if (block.timestamp >= windowEnd) revert ComputeWindowClosed(jobId, windowEnd);
        j.status = Status.Disputed;
        emit JobDisputed(jobId, evidenceHash);
    }

    // ------------------------------------------------------------------ providers

    /// @inheritdoc IComputeJobs
    function depositCollateral(uint256 amount) external {
        if (amount == 0) revert ComputeZeroAmount();
        Provider storage p = _providers[msg.sender];
        p.free += SafeCast.toUint96(amount);
        emit CollateralDeposited(msg.sender, amount, p.free);
        _MESH.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IComputeJobs
    function withdrawCollateral(uint256 amount) external {
        if (amount == 0) revert ComputeZeroAmount();
        Provider storage p = _providers[msg.sender];
        if (amount > p.free) revert ComputeCollateralShort(msg.sender, p.free, amount);
        p.free -= uint96(amount);
        emit CollateralWithdrawn(msg.sender, amount, p.free);
        _MESH.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IComputeJobs
    function acceptJob(uint256 jobId, uint256 deviceId) external {
        Job storage j = _existing(jobId);
        _requireStatus(jobId, j, Status.Open);
        if (block.timestamp > j.deadline) revert ComputeDeadlinePassed(jobId, j.deadline);
        DeviceBond.Check memory c = DeviceBond.check(_REGISTRY, _VAULT, deviceId, _COMPUTE_CLASS_SUBNETWORK);
        if (c.failure == DeviceBond.Failure.NotActive) revert ComputeDeviceNotActive(deviceId);
        if (c.failure == DeviceBond.Failure.WrongSubnetwork || c.deviceClass != j.deviceClass) {
            revert ComputeWrongDeviceClass(deviceId, c.deviceClass);
        }
        if (c.owner != msg.sender) revert ComputeNotDeviceOwner(deviceId, msg.sender);
        if (c.failure == DeviceBond.Failure.NotBonded) revert ComputeProviderNotBonded(c.owner, c.stake, c.required);
        Provider storage p = _providers[msg.sender];
        if (block.timestamp < p.suspendedUntil) revert ComputeProviderSuspended(msg.sender, p.suspendedUntil);
        uint256 collateral = collateralFor(uint256(j.maxUnits) * j.pricePerUnit);
        if (collateral > p.free) revert ComputeCollateralShort(msg.sender, p.free, collateral);
        p.free -= uint96(collateral);
        p.locked += uint96(collateral);
        j.status = Status.Accepted;
        j.provider = msg.sender;
        j.collateral = SafeCast.toUint96(collateral);
        j.deviceId = deviceId;
        emit JobAccepted(jobId, msg.sender, deviceId, collateral);
    }

    /// @inheritdoc IComputeJobs
    function commitResult(uint256 jobId, bytes32 resultHash, uint32 usedUnits) external {
        Job storage j = _existing(jobId);
        if (msg.sender != j.provider) revert ComputeNotProvider(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Accepted);
        if (block.timestamp > j.deadline) revert ComputeDeadlinePassed(jobId, j.deadline);
        if (resultHash == bytes32(0)) revert ComputeZeroHash();
        if (usedUnits > j.maxUnits) revert ComputeUnitsOutOfRange(usedUnits, j.maxUnits);
        Provider storage p = _providers[msg.sender];
        uint32 committed = p.committedJobs;
        bool forced = committed < FORCED_CHECKS;
        p.committedJobs = committed + 1;
        // The next block's hash is unknown to everyone now: the provider cannot choose its seed.
        uint64 checkBlock = uint64(block.number) + 1;
        j.status = Status.Committed;
        j.forcedCheck = forced;
        j.resultHash = resultHash;
        j.usedUnits = usedUnits;
        j.committedAt = uint64(block.timestamp);
        j.checkBlock = checkBlock;
        emit ResultCommitted(jobId, resultHash, usedUnits, checkBlock, forced);
    }

    // ------------------------------------------------------------------ anyone

    /// @inheritdoc IComputeJobs
    function recordSpotCheck(uint256 jobId) external {
        Job storage j = _existing(jobId);
        Status status = j.status;
        if (status != Status.Committed && status != Status.Disputed) revert ComputeWrongStatus(jobId, status);
        if (j.checkRecorded) revert ComputeCheckRecorded(jobId);
        uint64 checkBlock = j.checkBlock;
        if (block.number <= checkBlock) revert ComputeCheckNotReady(jobId, checkBlock);
        // Out of reach (over 256 blocks ago): zero, and the job is checked; nobody gains by waiting.
        bytes32 seed = blockhash(checkBlock);
        bool selected =
            j.forcedCheck || seed == bytes32(0) || uint256(keccak256(abi.encode(seed, jobId))) % _BPS < _checkBps;
        j.checkRecorded = true;
        j.checkSelected = selected;
        emit SpotCheckRecorded(jobId, selected, seed);
    }

    /// @inheritdoc IComputeJobs
    function finalize(uint256 jobId) external {
        Job storage j = _existing(jobId);
        Status status = j.status;
        uint64 windowEnd = j.committedAt + ACCEPTANCE_WINDOW;
        if (status == Status.Committed) {
            if (block.timestamp < windowEnd) revert ComputeWindowOpen(jobId, windowEnd);
            _pay(jobId, j);
        } else if (status == Status.Disputed) {
            uint64 resolutionEnd = windowEnd + DISPUTE_RESOLUTION;
            if (block.timestamp < resolutionEnd) revert ComputeWindowOpen(jobId, resolutionEnd);
            _unlockCollateral(j);
            _refund(jobId, j, RefundReason.DisputeUnresolved);
        } else {
            revert ComputeWrongStatus(jobId, status);
        }
    }

    /// @inheritdoc IComputeJobs
    function expire(uint256 jobId) external {
        Job storage j = _existing(jobId);
        Status status = j.status;
        if (status != Status.Open && status != Status.Accepted) revert ComputeWrongStatus(jobId, status);
        if (block.timestamp <= j.deadline) revert ComputeDeadlineNotPassed(jobId, j.deadline);
        if (status == Status.Open) {
            _refund(jobId, j, RefundReason.Unclaimed);
        } else {
            _unlockCollateral(j);
            _strike(j.provider, jobId);
            _refund(jobId, j, RefundReason.MissedDeadline);
        }
    }

    // ------------------------------------------------------------------ verifier and governance

    /// @inheritdoc IComputeJobs
    function resolveDispute(uint256 jobId, bool providerAtFault) external onlyRole(VERIFIER_ROLE) {
        Job storage j = _existing(jobId);
        _requireStatus(jobId, j, Status.Disputed);
        emit DisputeResolved(jobId, providerAtFault);
        if (providerAtFault) {
            _unlockCollateral(j);
            _strike(j.provider, jobId);
            _refund(jobId, j, RefundReason.ProviderAtFault);
        } else {
            _pay(jobId, j);
        }
    }

    /// @inheritdoc IComputeJobs
    function setPrice(uint16 deviceClass, uint256 pricePerUnit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_REGISTRY.deviceClassInfo(deviceClass).subnetwork != _COMPUTE_CLASS_SUBNETWORK) {
            revert ComputeNotComputeClass(deviceClass);
        }
        if (pricePerUnit < MIN_PRICE || pricePerUnit > MAX_PRICE) revert ComputePriceOutOfBounds(pricePerUnit);
        _prices[deviceClass] = uint64(pricePerUnit);
        emit PriceSet(deviceClass, pricePerUnit);
    }

    /// @inheritdoc IComputeJobs
    function setCheckProbability(uint256 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps < MIN_CHECK_BPS || bps > MAX_CHECK_BPS) revert ComputeCheckProbabilityOutOfBounds(bps);
        _checkBps = bps;
        emit CheckProbabilitySet(bps);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IComputeJobs
    function job(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @inheritdoc IComputeJobs
    function providerAccount(address provider_) external view returns (Provider memory) {
        return _providers[provider_];
    }

    /// @inheritdoc IComputeJobs
    function priceOf(uint16 deviceClass) external view returns (uint256) {
        return _prices[deviceClass];
    }

    /// @inheritdoc IComputeJobs
    function checkProbability() external view returns (uint256) {
        return _checkBps;
    }

    /// @inheritdoc IComputeJobs
    function jobCount() external view returns (uint256) {
        return _jobCount;
    }

    /// @inheritdoc IComputeJobs
    function collateralFor(uint256 credits) public view returns (uint256) {
        uint256 price = IMeshPrice(_CREDITS.priceSource()).creditPrice();
        return Math.mulDiv(credits * COLLATERAL_MULTIPLE, _PRICE_SCALE, price, Math.Rounding.Ceil);
    }

    /// @inheritdoc IComputeJobs
    function verdictDigest(FraudVerdict calldata verdict) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(FRAUD_VERDICT_TYPEHASH, verdict)));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Pays the used units from the lock, releases the rest, unlocks the collateral.
    function _pay(uint256 jobId, Job storage j) private {
        uint256 value = uint256(j.maxUnits) * j.pricePerUnit;
        uint256 consumed = uint256(j.usedUnits) * j.pricePerUnit;
        uint256 released = value - consumed;
        address customer = j.customer;
        address provider_ = j.provider;
        j.status = Status.Finalized;
        _unlockCollateral(j);
        emit JobFinalized(jobId, provider_, consumed, released);
        if (consumed > 0) _CREDITS.consumeLocked(customer, _CONTROLLER.currentEpoch(), provider_, consumed);
        if (released > 0) _CREDITS.release(customer, released);
    }

    /// @dev Releases the whole lock to the customer.
    function _refund(uint256 jobId, Job storage j, RefundReason reason) private {
        uint256 value = uint256(j.maxUnits) * j.pricePerUnit;
        j.status = Status.Refunded;
        emit JobRefunded(jobId, reason, value);
        _CREDITS.release(j.customer, value);
    }

    function _unlockCollateral(Job storage j) private {
        Provider storage p = _providers[j.provider];
        uint96 collateral = j.collateral;
        p.locked -= collateral;
        p.free += collateral;
    }

    /// @dev Records a strike; the third within STRIKE_WINDOW suspends the provider from new jobs.
    function _strike(address provider_, uint256 jobId) private {
        Provider storage p = _providers[provider_];
        uint8 slot = p.nextStrike;
        uint64 now_ = uint64(block.timestamp);
        p.strikes[slot] = now_;
        uint8 next = uint8((slot + 1) % STRIKE_LIMIT);
        p.nextStrike = next;
        // After this write the next slot holds the oldest of the last three strikes.
        uint64 oldest = p.strikes[next];
        uint64 until = 0;
        if (oldest != 0 && now_ - oldest < STRIKE_WINDOW) {
            until = now_ + SUSPENSION;
            p.suspendedUntil = until;
        }
        emit StrikeRecorded(provider_, jobId, until);
    }

    function _existing(uint256 jobId) private view returns (Job storage j) {
        j = _jobs[jobId];
        if (j.status == Status.None) revert ComputeUnknownJob(jobId);
    }

    function _requireStatus(uint256 jobId, Job storage j, Status status) private view {
        if (j.status != status) revert ComputeWrongStatus(jobId, j.status);
    }
}
