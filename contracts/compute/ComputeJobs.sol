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
import {IMeshToken} from "../interfaces/IMeshToken.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakingVault} from "../interfaces/IStakingVault.sol";
import {IUsageCredits} from "../interfaces/IUsageCredits.sol";
import {DeviceBond} from "../libraries/DeviceBond.sol";
import {OracleSignatures} from "../libraries/OracleSignatures.sol";

/// @title ComputeJobs
/// @notice The compute job market (see IComputeJobs and docs/compute.md).
/// @dev Like StorageDeals, the provider's collateral is MESH held here (a collateral account per
/// provider, locked per job), not a part of its vault bond: the StakingVault cannot lock part of a
/// stake for one market. Nothing loops over jobs or providers: strikes are a ring of three times.
/// Verdicts are checked against the oracle distributor's set read at submission (three view calls),
/// as DataTransferSettlement does: a change of the set there kills the old set's verdicts at once.
contract ComputeJobs is IComputeJobs, EIP712, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Vetoes scheduled penalties.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice EIP-712 type hash of the compute oracles' FraudVerdict.
    bytes32 public constant FRAUD_VERDICT_TYPEHASH = keccak256(
        "FraudVerdict(uint256 jobId,address provider,uint8 reason,bytes32 evidenceHash,address prover,uint64 oracleSetVersion,uint256 deadline)"
    );
    /// @notice How long after a commit the customer may accept early or dispute.
    uint64 public constant ACCEPTANCE_WINDOW = 24 hours;
    /// @notice How long after the window the oracle quorum has to submit a verdict on a disputed job.
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

    /// @notice How long a scheduled penalty waits (the guardian's veto window).
    uint64 public constant PENALTY_DELAY = 4 days;
    /// @notice Penalty, in multiples of the job's value (before the floor and the bond's cap).
    uint256 public constant PENALTY_MULTIPLE = 10;
    /// @notice The prover's share of what a penalty takes, basis points.
    uint256 public constant PROVER_SHARE_BPS = 2_000;
    /// @notice Highest verdict reason code (1 WrongResult, 2 OutputWithheld, 3 UnitsInflated).
    uint8 public constant MAX_FRAUD_REASON = 3;
    /// @notice Penalty floor bounds, MESH wei: 1 .. 1,000,000 MESH.
    uint256 public constant MIN_PENALTY_FLOOR = 1e18;
    /// @notice See MIN_PENALTY_FLOOR.
    uint256 public constant MAX_PENALTY_FLOOR = 1e24;
    /// @notice Penalty floor at deployment: 100 MESH.
    uint256 public constant DEFAULT_PENALTY_FLOOR = 100e18;

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
    mapping(uint256 jobId => SecondProvider) private _seconds;
    mapping(uint256 jobId => Penalty) private _penalties;
    IRewardsDistributor private _oracleDistributor;
    uint256 private _penaltyFloor;

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
        _penaltyFloor = DEFAULT_PENALTY_FLOOR;
        emit CheckProbabilitySet(DEFAULT_CHECK_BPS);
        emit PenaltyFloorSet(DEFAULT_PENALTY_FLOOR);
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
        jobId = _createJob(specHash, deviceClass, maxUnits, deadline, tier, 0);
    }

    /// @inheritdoc IComputeJobs
    function createDirectedJob(
        bytes32 specHash,
        uint256 deviceId,
        uint32 maxUnits,
        uint40 deadline
    ) external returns (uint256 jobId) {
        if (_REGISTRY.statusOf(deviceId) != IDeviceRegistry.DeviceStatus.Active) {
            revert ComputeDeviceNotActive(deviceId);
        }
        uint16 deviceClass = _REGISTRY.deviceInfo(deviceId).deviceClass;
        if (_REGISTRY.deviceClassInfo(deviceClass).subnetwork != _COMPUTE_CLASS_SUBNETWORK) {
            revert ComputeWrongDeviceClass(deviceId, deviceClass);
        }
        jobId = _createJob(specHash, deviceClass, maxUnits, deadline, Tier.Standard, deviceId);
    }

    /// @dev A new Open job; `directedTo` nonzero: only that device may accept it (kept in the job's
    /// deviceId, which acceptance overwrites with the same value).
    function _createJob(
        bytes32 specHash,
        uint16 deviceClass,
        uint32 maxUnits,
        uint40 deadline,
        Tier tier,
        uint256 directedTo
    ) private returns (uint256 jobId) {
        if (specHash == bytes32(0)) revert ComputeZeroHash();
        uint64 price = _prices[deviceClass];
        if (price == 0) revert ComputeClassNotPriced(deviceClass);
        if (maxUnits == 0 || maxUnits > MAX_UNITS) revert ComputeUnitsOutOfRange(maxUnits, MAX_UNITS);
        if (deadline <= block.timestamp || deadline > block.timestamp + MAX_JOB_DURATION) {
            revert ComputeDeadlineOutOfRange(deadline);
        }
        jobId = ++_jobCount;
        Job storage j = _jobs[jobId];
        if (directedTo != 0) j.deviceId = directedTo;
        j.customer = msg.sender;
        j.deadline = deadline;
        j.status = Status.Open;
        j.deviceClass = deviceClass;
        j.specHash = specHash;
        j.maxUnits = maxUnits;
        j.pricePerUnit = price;
        uint256 value = uint256(maxUnits) * price;
        if (tier == Tier.Verified) {
            j.tier = Tier.Verified;
            value *= 2;
        }
        emit JobCreated(jobId, msg.sender, specHash, deviceClass, maxUnits, price, deadline, tier);
        if (directedTo != 0) emit JobDirected(jobId, directedTo);
        _CREDITS.lock(msg.sender, value);
    }

    /// @inheritdoc IComputeJobs
    function cancelJob(uint256 jobId) external {
        Job storage j = _existing(jobId);
        if (msg.sender != j.customer) revert ComputeNotCustomer(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Open);
        if (j.provider != address(0)) _unlockCollateral(j);
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
        // Before its first acceptance a job's deviceId is zero, or the one device it is directed to.
        if (j.provider == address(0)) {
            uint256 directedTo = j.deviceId;
            if (directedTo != 0 && directedTo != deviceId) revert ComputeJobDirected(jobId, directedTo);
        }
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
        if (j.tier == Tier.Verified && j.provider != address(0)) {
            // The second of a Verified job's two providers: the job is now fully accepted.
            if (msg.sender == j.provider) revert ComputeSameProvider(jobId, msg.sender);
            SecondProvider storage second = _seconds[jobId];
            second.provider = msg.sender;
            second.collateral = SafeCast.toUint96(collateral);
            second.deviceId = deviceId;
            j.status = Status.Accepted;
        } else {
            j.provider = msg.sender;
            j.collateral = SafeCast.toUint96(collateral);
            j.deviceId = deviceId;
            if (j.tier == Tier.Standard) j.status = Status.Accepted;
        }
        emit JobAccepted(jobId, msg.sender, deviceId, collateral);
    }

    /// @inheritdoc IComputeJobs
    function commitResult(uint256 jobId, bytes32 resultHash, uint32 usedUnits) external {
        Job storage j = _existing(jobId);
        if (j.tier == Tier.Verified) return _commitVerified(jobId, j, resultHash, usedUnits);
        if (msg.sender != j.provider) revert ComputeNotProvider(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Accepted);
        _checkCommit(jobId, j, resultHash, usedUnits);
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

    /// @dev A Verified job's commit: each provider once; the second compares the two results.
    function _commitVerified(uint256 jobId, Job storage j, bytes32 resultHash, uint32 usedUnits) private {
        SecondProvider storage second = _seconds[jobId];
        bool isFirst = msg.sender == j.provider;
        if (!isFirst && msg.sender != second.provider) revert ComputeNotProvider(jobId, msg.sender);
        _requireStatus(jobId, j, Status.Accepted);
        _checkCommit(jobId, j, resultHash, usedUnits);
        bool otherCommitted;
        bytes32 otherResult;
        if (isFirst) {
            if (j.resultHash != bytes32(0)) revert ComputeAlreadyCommitted(jobId, msg.sender);
            j.resultHash = resultHash;
            j.usedUnits = usedUnits;
            otherCommitted = second.committed;
            otherResult = second.resultHash;
        } else {
            if (second.committed) revert ComputeAlreadyCommitted(jobId, msg.sender);
            second.committed = true;
            second.resultHash = resultHash;
            second.usedUnits = usedUnits;
            otherCommitted = j.resultHash != bytes32(0);
            otherResult = j.resultHash;
        }
        // The comparison is the check: a Verified job is never spot-checked as forced.
        uint64 checkBlock = uint64(block.number) + 1;
        emit ResultCommitted(jobId, resultHash, usedUnits, checkBlock, false);
        if (!otherCommitted) return;
        bool matched = otherResult == resultHash;
        j.status = matched ? Status.Committed : Status.Disputed;
        j.committedAt = uint64(block.timestamp);
        j.checkBlock = checkBlock;
        emit VerifiedResultsCompared(jobId, matched);
    }

    function _checkCommit(uint256 jobId, Job storage j, bytes32 resultHash, uint32 usedUnits) private view {
        if (block.timestamp > j.deadline) revert ComputeDeadlinePassed(jobId, j.deadline);
        if (resultHash == bytes32(0)) revert ComputeZeroHash();
        if (usedUnits > j.maxUnits) revert ComputeUnitsOutOfRange(usedUnits, j.maxUnits);
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
            // No verdict in time: the dispute was not upheld, and the provider is paid; but two
            // Verified results that differ verify nothing, so nobody is paid for them.
            if (j.tier == Tier.Verified && j.resultHash != _seconds[jobId].resultHash) {
                _unlockCollateral(j);
                _unlockSecond(jobId);
                _refund(jobId, j, RefundReason.DisputeUnresolved);
            } else {
                _pay(jobId, j);
            }
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
            if (j.provider != address(0)) _unlockCollateral(j);
            _refund(jobId, j, RefundReason.Unclaimed);
        } else {
            _unlockCollateral(j);
            if (j.tier == Tier.Verified) {
                SecondProvider storage second = _seconds[jobId];
                _unlockSecond(jobId);
                if (j.resultHash == bytes32(0)) _strike(j.provider, jobId);
                if (!second.committed) _strike(second.provider, jobId);
            } else {
                _strike(j.provider, jobId);
            }
            _refund(jobId, j, RefundReason.MissedDeadline);
        }
    }

    // ------------------------------------------------------------------ verdicts, penalties and governance

    /// @inheritdoc IComputeJobs
    function submitVerdict(FraudVerdict calldata verdict, bytes calldata signatures) external {
        uint256 jobId = verdict.jobId;
        Job storage j = _existing(jobId);
        bool isFirst = _checkVerdict(j, verdict);
        _checkOracleSignatures(verdictDigest(verdict), signatures, verdict.oracleSetVersion);
        emit VerdictSubmitted(
            jobId,
            verdict.provider,
            verdict.reason,
            verdict.evidenceHash,
            verdict.prover,
            verdict.oracleSetVersion
        );
        // The convicted provider's job collateral leaves its locks for the penalty's escrow; a
        // Verified job's other provider is unlocked, unpaid (its result verified nothing).
        uint96 escrow;
        if (isFirst) {
            escrow = j.collateral;
            if (j.tier == Tier.Verified) _unlockSecond(jobId);
        } else {
            escrow = _seconds[jobId].collateral;
            _unlockCollateral(j);
        }
        address convicted = verdict.provider;
        _providers[convicted].locked -= escrow;
        uint256 amount = penaltyFor(uint256(j.maxUnits) * j.pricePerUnit);
        uint64 executableAt = uint64(block.timestamp) + PENALTY_DELAY;
        _penalties[jobId] = Penalty({
            provider: convicted,
            amount: SafeCast.toUint96(amount),
            prover: verdict.prover,
            escrow: escrow,
            executableAt: executableAt,
            status: PenaltyStatus.Scheduled,
            reason: verdict.reason
        });
        emit PenaltyScheduled(jobId, convicted, amount, escrow, executableAt);
        _refund(jobId, j, RefundReason.ProviderAtFault);
    }

    /// @inheritdoc IComputeJobs
    function executePenalty(uint256 jobId) external {
        Penalty storage pen = _scheduledPenalty(jobId);
        uint64 executableAt = pen.executableAt;
        if (block.timestamp < executableAt) revert ComputePenaltyNotDue(jobId, executableAt);
        address provider_ = pen.provider;
        uint256 amount = pen.amount;
        uint256 escrow = pen.escrow;
        address prover = pen.prover;
        pen.status = PenaltyStatus.Executed;
        uint256 fromCollateral = amount < escrow ? amount : escrow;
        uint256 returned = escrow - fromCollateral;
        if (returned != 0) _providers[provider_].free += uint96(returned);
        _strike(provider_, jobId);
        // The rest from the vault: it takes at most its per-event cap and sends it to its treasury.
        uint256 fromVault = amount > fromCollateral ? _slashVault(provider_, amount - fromCollateral, jobId) : 0;
        uint256 toProver = ((fromCollateral + fromVault) * PROVER_SHARE_BPS) / _BPS;
        if (toProver > fromCollateral) toProver = fromCollateral;
        uint256 burned = fromCollateral - toProver;
        emit PenaltyExecuted(jobId, provider_, fromCollateral, fromVault, toProver, burned, returned);
        if (toProver != 0) _MESH.safeTransfer(prover, toProver);
        if (burned != 0) IMeshToken(address(_MESH)).burn(burned);
    }

    /// @inheritdoc IComputeJobs
    function vetoPenalty(uint256 jobId) external onlyRole(GUARDIAN_ROLE) {
        Penalty storage pen = _scheduledPenalty(jobId);
        uint64 executableAt = pen.executableAt;
        if (block.timestamp >= executableAt) revert ComputeVetoWindowClosed(jobId, executableAt);
        pen.status = PenaltyStatus.Vetoed;
        _providers[pen.provider].free += pen.escrow;
        emit PenaltyVetoed(jobId, msg.sender);
    }

    /// @inheritdoc IComputeJobs
    function setOracleDistributor(address distributor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (distributor == address(0)) revert ComputeZeroAddress();
        _oracleDistributor = IRewardsDistributor(distributor);
        emit OracleDistributorSet(distributor);
    }

    /// @inheritdoc IComputeJobs
    function setPenaltyFloor(uint256 floor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (floor < MIN_PENALTY_FLOOR || floor > MAX_PENALTY_FLOOR) revert ComputePenaltyFloorOutOfBounds(floor);
        _penaltyFloor = floor;
        emit PenaltyFloorSet(floor);
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
        return _meshFor(credits * COLLATERAL_MULTIPLE);
    }

    /// @inheritdoc IComputeJobs
    function penaltyFor(uint256 credits) public view returns (uint256) {
        uint256 penalty_ = _meshFor(credits * PENALTY_MULTIPLE);
        uint256 floor = _penaltyFloor;
        return penalty_ > floor ? penalty_ : floor;
    }

    /// @inheritdoc IComputeJobs
    function secondProvider(uint256 jobId) external view returns (SecondProvider memory) {
        return _seconds[jobId];
    }

    /// @inheritdoc IComputeJobs
    function penalty(uint256 jobId) external view returns (Penalty memory) {
        return _penalties[jobId];
    }

    /// @inheritdoc IComputeJobs
    function oracleDistributor() external view returns (address) {
        return address(_oracleDistributor);
    }

    /// @inheritdoc IComputeJobs
    function penaltyFloor() external view returns (uint256) {
        return _penaltyFloor;
    }

    /// @inheritdoc IComputeJobs
    function verdictDigest(FraudVerdict calldata verdict) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(FRAUD_VERDICT_TYPEHASH, verdict)));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Pays the used units from the lock, releases the rest, unlocks the collateral; a Verified
    /// job pays each of its two providers for its own units (JobFinalized once per provider, the
    /// second event carrying the whole release).
    function _pay(uint256 jobId, Job storage j) private {
        uint256 price = j.pricePerUnit;
        uint256 value = uint256(j.maxUnits) * price;
        uint256 consumed = uint256(j.usedUnits) * price;
        address customer = j.customer;
        address provider_ = j.provider;
        j.status = Status.Finalized;
        _unlockCollateral(j);
        if (j.tier == Tier.Verified) {
            uint64 epoch = _CONTROLLER.currentEpoch();
            SecondProvider storage second = _seconds[jobId];
            address secondProvider_ = second.provider;
            uint256 secondConsumed = uint256(second.usedUnits) * price;
            uint256 releasedAll = 2 * value - consumed - secondConsumed;
            _unlockSecond(jobId);
            emit JobFinalized(jobId, provider_, consumed, 0);
            emit JobFinalized(jobId, secondProvider_, secondConsumed, releasedAll);
            if (consumed > 0) _CREDITS.consumeLocked(customer, epoch, provider_, consumed);
            if (secondConsumed > 0) _CREDITS.consumeLocked(customer, epoch, secondProvider_, secondConsumed);
            if (releasedAll > 0) _CREDITS.release(customer, releasedAll);
            return;
        }
        uint256 released = value - consumed;
        emit JobFinalized(jobId, provider_, consumed, released);
        if (consumed > 0) _CREDITS.consumeLocked(customer, _CONTROLLER.currentEpoch(), provider_, consumed);
        if (released > 0) _CREDITS.release(customer, released);
    }

    /// @dev Releases the whole lock to the customer.
    function _refund(uint256 jobId, Job storage j, RefundReason reason) private {
        uint256 value = uint256(j.maxUnits) * j.pricePerUnit;
        if (j.tier == Tier.Verified) value *= 2;
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

    function _unlockSecond(uint256 jobId) private {
        SecondProvider storage second = _seconds[jobId];
        address provider_ = second.provider;
        if (provider_ == address(0)) return;
        Provider storage p = _providers[provider_];
        uint96 collateral = second.collateral;
        p.locked -= collateral;
        p.free += collateral;
    }

    function _meshFor(uint256 credits) private view returns (uint256) {
        uint256 price = IMeshPrice(_CREDITS.priceSource()).creditPrice();
        return Math.mulDiv(credits, _PRICE_SCALE, price, Math.Rounding.Ceil);
    }

    /// @dev The vault's slash, reason = the job id; a provider with nothing slashable gives zero, any
    /// other refusal (the vault paused, this contract not its slasher) reverts the execution.
    function _slashVault(address provider_, uint256 amount, uint256 jobId) private returns (uint256) {
        try _VAULT.slash(provider_, amount, bytes32(jobId)) returns (uint256 slashed) {
            return slashed;
        } catch (bytes memory reason) {
            if (reason.length >= 4 && bytes4(reason) == IStakingVault.StakingNothingToSlash.selector) return 0;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
    }

    /// @dev At least the distributor's threshold of signatures by distinct members of its current set.
    function _checkOracleSignatures(bytes32 digest, bytes calldata signatures, uint64 version) private view {
        IRewardsDistributor distributor = _oracleDistributor;
        if (address(distributor) == address(0)) revert ComputeNoOracleSet();
        uint64 current = distributor.oracleSetVersion();
        if (version != current) revert ComputeStaleOracleSet(version, current);
        (uint256 count, bool whole) = OracleSignatures.count(signatures);
        if (!whole) revert ComputeBadSignaturesLength(signatures.length);
        uint256 k = distributor.threshold();
        if (count < k) revert ComputeTooFewSignatures(count, k);
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            address signer = OracleSignatures.signerAt(signatures, i, digest);
            if (signer == address(0)) revert ComputeInvalidSignature(i);
            if (signer <= previous) revert ComputeSignersNotAscending(i, signer);
            if (!distributor.isOracle(signer)) revert ComputeNotOracle(signer);
            previous = signer;
        }
    }

    /// @dev The verdict's own checks against the job; whether it names the job's first provider.
    function _checkVerdict(Job storage j, FraudVerdict calldata verdict) private view returns (bool isFirst) {
        uint256 jobId = verdict.jobId;
        if (_penalties[jobId].status != PenaltyStatus.None) revert ComputeVerdictExists(jobId);
        Status status = j.status;
        if (status != Status.Committed && status != Status.Disputed) revert ComputeWrongStatus(jobId, status);
        if (verdict.reason == 0 || verdict.reason > MAX_FRAUD_REASON)
            revert ComputeVerdictReasonInvalid(verdict.reason);
        if (verdict.evidenceHash == bytes32(0)) revert ComputeZeroHash();
        if (verdict.prover == address(0)) revert ComputeVerdictProverZero();
        if (block.timestamp > verdict.deadline) revert ComputeVerdictExpired(verdict.deadline);
        address convicted = verdict.provider;
        isFirst = convicted == j.provider;
        if (!isFirst && (j.tier != Tier.Verified || convicted != _seconds[jobId].provider)) {
            revert ComputeVerdictNotJobProvider(jobId, convicted);
        }
    }

    function _scheduledPenalty(uint256 jobId) private view returns (Penalty storage pen) {
        pen = _penalties[jobId];
        if (pen.status != PenaltyStatus.Scheduled) revert ComputeNoPenalty(jobId);
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
