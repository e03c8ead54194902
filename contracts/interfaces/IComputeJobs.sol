// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IComputeJobs
/// @notice The compute subnetwork's job market, a UsageCredits spender. A customer locks credits for a
/// content-addressed WebAssembly (WASI) job (`specHash`, docs/compute.md); the owner of a bonded
/// compute device accepts it, locking MESH collateral (2x the job's value) from its collateral
/// account here; it commits the result's hash and the units used before the deadline; the customer may
/// accept early or dispute (with an evidence hash) within 24 hours; then the used units' credits are
/// consumed for the provider (`UsageRecorded`), the rest released, the collateral unlocked. A missed
/// deadline refunds the customer and strikes the provider (3 strikes in 7 days suspend it from new
/// jobs for 7 days). Each committed job is selected for a spot check (re-execution by the compute
/// oracle) from the hash of the block after its commit: always for a provider's first 10 jobs, else
/// with a governed probability.
interface IComputeJobs {
    /// @notice Where a job is.
    enum Status {
        None,
        Open, // created, credits locked, waiting for a provider
        Accepted, // a provider accepted and locked collateral
        Committed, // result committed, in its acceptance window
        Disputed, // the customer disputed within the window; the verifier resolves it
        Finalized, // used units paid, the rest released
        Refunded // cancelled, expired, or the provider was found at fault: all credits released
    }

    /// @notice Service tier. Only Standard (one provider) is built; Verified (two providers, results
    /// compared) is refused for now.
    enum Tier {
        Standard,
        Verified
    }

    /// @notice Why a job was refunded.
    enum RefundReason {
        Cancelled, // by the customer before any provider accepted
        Unclaimed, // the deadline passed with no provider
        MissedDeadline, // the provider accepted but did not commit in time: a strike
        ProviderAtFault, // the verifier upheld the customer's dispute: a strike
        DisputeUnresolved // the verifier did not resolve the dispute in time: nobody paid, no strike
    }

    /// @notice A job. Amounts: `pricePerUnit` in credits (micro-USD); `collateral` in MESH wei.
    struct Job {
        address customer;
        uint40 deadline;
        Status status;
        Tier tier;
        uint16 deviceClass;
        bool forcedCheck;
        bool checkRecorded;
        bool checkSelected;
        bytes32 specHash;
        uint32 maxUnits;
        uint32 usedUnits;
        uint64 pricePerUnit;
        uint64 committedAt;
        uint64 checkBlock;
        address provider;
        uint96 collateral;
        uint256 deviceId;
        bytes32 resultHash;
    }

    /// @notice A provider's collateral account (MESH wei) and strike record. `free`, `locked` and
    /// `committedJobs` share a slot: a commit updates a slot that is already written.
    /// @notice The compute oracle quorum's finding that `provider` cheated on job `jobId` (see
    /// docs/compute.md; @hexmesh/protocol compute/verdict.ts has the same field list).
    /// @dev `reason`: 1 WrongResult, 2 OutputWithheld, 3 UnitsInflated (a uint8, so an unknown code
    /// reverts with ComputeVerdictReasonInvalid rather than an ABI decoding panic).
    struct FraudVerdict {
        uint256 jobId;
        address provider;
        uint8 reason;
        bytes32 evidenceHash;
        address prover;
        uint64 oracleSetVersion;
        uint256 deadline;
    }

    struct Provider {
        uint96 free;
        uint96 locked;
        uint32 committedJobs;
        uint64[3] strikes; // the last three strike times (a ring)
        uint8 nextStrike;
        uint64 suspendedUntil;
    }

    // ------------------------------------------------------------------ errors

    /// @notice A zero address was given where a contract is required.
    error ComputeZeroAddress();
    /// @notice No job has this id.
    error ComputeUnknownJob(uint256 jobId);
    /// @notice The job is not in the status this call needs.
    error ComputeWrongStatus(uint256 jobId, Status status);
    /// @notice Only the job's customer may do this.
    error ComputeNotCustomer(uint256 jobId, address caller);
    /// @notice Only the job's provider may do this.
    error ComputeNotProvider(uint256 jobId, address caller);
    /// @notice The spec hash, result hash or evidence hash is zero.
    error ComputeZeroHash();
    /// @notice The device class has no price (governance prices compute classes).
    error ComputeClassNotPriced(uint16 deviceClass);
    /// @notice The class is not a compute class of the registry.
    error ComputeNotComputeClass(uint16 deviceClass);
    /// @notice maxUnits is 0 or over MAX_UNITS, or usedUnits is over the job's maxUnits.
    error ComputeUnitsOutOfRange(uint256 units, uint256 max);
    /// @notice The deadline is not in (now, now + MAX_JOB_DURATION].
    error ComputeDeadlineOutOfRange(uint256 deadline);
    /// @notice The tier is not built yet.
    error ComputeTierUnsupported(Tier tier);
    /// @notice The device is not active.
    error ComputeDeviceNotActive(uint256 deviceId);
    /// @notice The device's class belongs to another subnetwork, or is not the job's class.
    error ComputeWrongDeviceClass(uint256 deviceId, uint16 deviceClass);
    /// @notice The device's owner does not bond all its devices in the staking vault.
    error ComputeProviderNotBonded(address provider, uint256 stake, uint256 required);
    /// @notice Only the device's owner may accept with it.
    error ComputeNotDeviceOwner(uint256 deviceId, address caller);
    /// @notice The provider is suspended from new jobs until `until`.
    error ComputeProviderSuspended(address provider, uint64 until);
    /// @notice The provider's free collateral does not cover the job's.
    error ComputeCollateralShort(address provider, uint256 free, uint256 required);
    /// @notice The deadline has passed.
    error ComputeDeadlinePassed(uint256 jobId, uint64 deadline);
    /// @notice The deadline has not passed yet.
    error ComputeDeadlineNotPassed(uint256 jobId, uint64 deadline);
    /// @notice The acceptance window has ended (at `windowEnd`).
    error ComputeWindowClosed(uint256 jobId, uint64 windowEnd);
    /// @notice The acceptance window (or the dispute's resolution time) has not ended (at `windowEnd`).
    error ComputeWindowOpen(uint256 jobId, uint64 windowEnd);
    /// @notice The spot check's block is not mined yet.
    error ComputeCheckNotReady(uint256 jobId, uint64 checkBlock);
    /// @notice The spot check is recorded already.
    error ComputeCheckRecorded(uint256 jobId);
    /// @notice A zero amount was given.
    error ComputeZeroAmount();
    /// @notice The price is outside [MIN_PRICE, MAX_PRICE] credits per unit.
    error ComputePriceOutOfBounds(uint256 price);
    /// @notice The probability is outside [MIN_CHECK_BPS, MAX_CHECK_BPS].
    error ComputeCheckProbabilityOutOfBounds(uint256 bps);

    // ------------------------------------------------------------------ events

    /// @notice A customer created a job and locked `maxUnits * pricePerUnit` credits.
    event JobCreated(
        uint256 indexed jobId,
        address indexed customer,
        bytes32 indexed specHash,
        uint16 deviceClass,
        uint32 maxUnits,
        uint64 pricePerUnit,
        uint40 deadline,
        Tier tier
    );
    /// @notice A provider accepted the job with a device and locked `collateral` MESH.
    event JobAccepted(uint256 indexed jobId, address indexed provider, uint256 indexed deviceId, uint256 collateral);
    /// @notice The provider committed the result; the spot check reads the hash of `checkBlock`
    /// (`forcedCheck`: one of the provider's first FORCED_CHECKS jobs, checked whatever the hash).
    event ResultCommitted(
        uint256 indexed jobId,
        bytes32 resultHash,
        uint32 usedUnits,
        uint64 checkBlock,
        bool forcedCheck
    );
    /// @notice Whether the job was selected for re-execution, from `seed` (zero when the check
    /// block's hash was out of reach: then it is selected).
    event SpotCheckRecorded(uint256 indexed jobId, bool selected, bytes32 seed);
    /// @notice The customer disputed the result within the window.
    event JobDisputed(uint256 indexed jobId, bytes32 evidenceHash);
    /// @notice The verifier resolved a dispute.
    event DisputeResolved(uint256 indexed jobId, bool providerAtFault);
    /// @notice The job was paid: `consumed` credits for the provider, `released` to the customer.
    event JobFinalized(uint256 indexed jobId, address indexed provider, uint256 consumed, uint256 released);
    /// @notice The job's credits went back to the customer.
    event JobRefunded(uint256 indexed jobId, RefundReason reason, uint256 released);
    /// @notice The provider was struck; suspended from new jobs until `suspendedUntil` (0: not).
    event StrikeRecorded(address indexed provider, uint256 indexed jobId, uint64 suspendedUntil);
    /// @notice A provider deposited MESH collateral.
    event CollateralDeposited(address indexed provider, uint256 amount, uint256 free);
    /// @notice A provider withdrew free MESH collateral.
    event CollateralWithdrawn(address indexed provider, uint256 amount, uint256 free);
    /// @notice Governance set a compute class's price.
    event PriceSet(uint16 indexed deviceClass, uint256 pricePerUnit);
    /// @notice Governance set the spot-check probability.
    event CheckProbabilitySet(uint256 bps);

    // ------------------------------------------------------------------ customers

    /// @notice Creates a job and locks `maxUnits * price(deviceClass)` of the caller's credits (the
    /// caller approves this spender in UsageCredits first).
    /// @param specHash keccak256 of the job's spec (keccak256(program) ‖ keccak256(input)).
    /// @param deviceClass The compute class to run on (its price applies).
    /// @param maxUnits Most units the job may use, in [1, MAX_UNITS].
    /// @param deadline When the result must be committed by, in (now, now + MAX_JOB_DURATION].
    /// @param tier Service tier (only Standard for now).
    /// @return jobId The new job's id (ids run from 1).
    function createJob(
        bytes32 specHash,
        uint16 deviceClass,
        uint32 maxUnits,
        uint40 deadline,
        Tier tier
    ) external returns (uint256 jobId);

    /// @notice Cancels a job no provider accepted; releases its credits. Only the customer.
    /// @param jobId The job.
    function cancelJob(uint256 jobId) external;

    /// @notice Accepts a committed result before its window ends and pays it at once. Only the customer.
    /// @param jobId The job.
    function acceptResult(uint256 jobId) external;

    /// @notice Disputes a committed result within its window. Only the customer.
    /// @param jobId The job.
    /// @param evidenceHash Hash of the customer's evidence (for the verifier).
    function dispute(uint256 jobId, bytes32 evidenceHash) external;

    // ------------------------------------------------------------------ providers

    /// @notice Deposits MESH collateral (approved to this contract) into the caller's account.
    /// @param amount MESH wei.
    function depositCollateral(uint256 amount) external;

    /// @notice Withdraws free (unlocked) MESH collateral.
    /// @param amount MESH wei.
    function withdrawCollateral(uint256 amount) external;

    /// @notice Accepts an open job with a device of its class that the caller owns (active, bonded),
    /// locking COLLATERAL_MULTIPLE times the job's value in MESH (at the credit price) from the
    /// caller's free collateral. Refused while the caller is suspended or past the deadline.
    /// @param jobId The job.
    /// @param deviceId The caller's device.
    function acceptJob(uint256 jobId, uint256 deviceId) external;

    /// @notice Commits the result's hash and the units used, before the deadline; fixes the next
    /// block as the spot check's block. Only the job's provider.
    /// @param jobId The job.
    /// @param resultHash keccak256 of the job's output.
    /// @param usedUnits Units used, at most the job's maxUnits.
    function commitResult(uint256 jobId, bytes32 resultHash, uint32 usedUnits) external;

    // ------------------------------------------------------------------ anyone

    /// @notice Records whether a committed job is selected for a spot check, from the hash of its
    /// check block (selected if that hash is out of reach). Anyone (the compute oracle's keeper).
    /// @param jobId The job.
    function recordSpotCheck(uint256 jobId) external;

    /// @notice Pays a committed job whose window has ended (used units consumed for the provider,
    /// the rest released, collateral unlocked); refunds a disputed job the verifier left unresolved
    /// for DISPUTE_RESOLUTION after its window. Anyone.
    /// @param jobId The job.
    function finalize(uint256 jobId) external;

    /// @notice Refunds a job past its deadline without a committed result: unclaimed (no strike) or
    /// accepted and not committed (the provider is struck, its collateral unlocked). Anyone.
    /// @param jobId The job.
    function expire(uint256 jobId) external;

    // ------------------------------------------------------------------ verifier and governance

    /// @notice Resolves a disputed job: at fault, the customer is refunded and the provider struck;
    /// otherwise the job is paid as by {finalize}. Only VERIFIER_ROLE (the seam where the compute
    /// oracle quorum's signed verdicts will go).
    /// @param jobId The job.
    /// @param providerAtFault Whether the re-execution disagreed with the committed result.
    function resolveDispute(uint256 jobId, bool providerAtFault) external;

    /// @notice Sets a compute class's price for new jobs. Only DEFAULT_ADMIN_ROLE.
    /// @param deviceClass A registry class of the compute subnetwork.
    /// @param pricePerUnit Credits per unit, in [MIN_PRICE, MAX_PRICE].
    function setPrice(uint16 deviceClass, uint256 pricePerUnit) external;

    /// @notice Sets the spot-check probability for checks recorded from now on. Only DEFAULT_ADMIN_ROLE.
    /// @param bps In [MIN_CHECK_BPS, MAX_CHECK_BPS].
    function setCheckProbability(uint256 bps) external;

    // ------------------------------------------------------------------ views

    /// @notice A job's state.
    /// @param jobId The job.
    function job(uint256 jobId) external view returns (Job memory);

    /// @notice A provider's collateral account and strikes.
    /// @param provider The provider.
    function providerAccount(address provider) external view returns (Provider memory);

    /// @notice A compute class's price, credits per unit (0: not priced).
    /// @param deviceClass The class.
    function priceOf(uint16 deviceClass) external view returns (uint256);

    /// @notice The spot-check probability, basis points.
    function checkProbability() external view returns (uint256);

    /// @notice MESH collateral a job of `credits` value locks (COLLATERAL_MULTIPLE times, at the
    /// credit price, rounded up).
    /// @param credits The job's value.
    function collateralFor(uint256 credits) external view returns (uint256);

    /// @notice Jobs created so far.
    function jobCount() external view returns (uint256);

    /// @notice The EIP-712 digest each compute oracle signs for `verdict` (domain "Hexmesh ComputeJobs",
    /// version "1", this chain and contract).
    /// @param verdict The verdict.
    function verdictDigest(FraudVerdict calldata verdict) external view returns (bytes32);
}
