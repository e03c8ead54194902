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
/// with a governed probability. The compute oracle quorum's signed FraudVerdict on a committed or
/// disputed job refunds the customer and schedules a penalty (max(10x the job's value, a floor),
/// taken from the job's collateral and then the provider's vault stake) that executes after a 4-day
/// delay in which the guardian may veto it; 20% to the prover, the rest burned. The Verified tier runs
/// a job on two providers and compares their results at the second commit.
interface IComputeJobs {
    /// @notice Where a job is.
    enum Status {
        None,
        Open, // created, credits locked, waiting for a provider
        Accepted, // a provider accepted and locked collateral
        Committed, // result committed, in its acceptance window
        Disputed, // disputed by the customer, or a Verified job's results differ: the oracle quorum decides
        Finalized, // used units paid, the rest released
        Refunded // cancelled, expired, a fraud verdict, or an unresolved divergence: all credits released
    }

    /// @notice Service tier: Standard (one provider) or Verified (two providers, each locking collateral
    /// and paid for its own units; results compared on chain at the second commit; 2x the credits locked).
    enum Tier {
        Standard,
        Verified
    }

    /// @notice Why a job was refunded.
    enum RefundReason {
        Cancelled, // by the customer before any provider accepted
        Unclaimed, // the deadline passed with no provider
        MissedDeadline, // the provider accepted but did not commit in time: a strike
        ProviderAtFault, // a fraud verdict: the penalty is scheduled (a strike when it executes)
        DisputeUnresolved // a Verified job's results differed and no verdict came in time: nobody paid
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
        uint256 deviceId; // the accepting device; before acceptance, a directed job's only allowed device
        bytes32 resultHash;
    }

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

    /// @notice A provider's collateral account (MESH wei) and strike record. `free`, `locked` and
    /// `committedJobs` share a slot: a commit updates a slot that is already written.
    /// @notice Where a penalty is.
    enum PenaltyStatus {
        None,
        Scheduled, // waiting out PENALTY_DELAY; the guardian may veto it
        Executed, // taken: collateral here first, then the vault; prover paid, the rest burned
        Vetoed // the guardian stopped it: the escrowed collateral went back to the provider
    }

    /// @notice A penalty (one per job at most). `amount`: MESH wei asked (max(10x value, floor));
    /// `escrow`: the job collateral taken out of the provider's locks at the verdict, held for it.
    struct Penalty {
        address provider;
        uint96 amount;
        address prover;
        uint96 escrow;
        uint64 executableAt;
        PenaltyStatus status;
        uint8 reason;
    }

    /// @notice A Verified job's second provider (the first is the Job's `provider`). `committed`: it
    /// committed `resultHash` and `usedUnits`.
    struct SecondProvider {
        address provider;
        uint96 collateral;
        uint256 deviceId;
        bytes32 resultHash;
        uint32 usedUnits;
        bool committed;
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
    /// @notice A Verified job's two providers must be different accounts.
    error ComputeSameProvider(uint256 jobId, address provider);
    /// @notice This provider already committed its result for the job.
    error ComputeAlreadyCommitted(uint256 jobId, address provider);
    /// @notice No oracle distributor is set (governance sets the compute subnetwork's).
    error ComputeNoOracleSet();
    /// @notice The verdict's reason is not in [1, MAX_FRAUD_REASON].
    error ComputeVerdictReasonInvalid(uint8 reason);
    /// @notice The verdict's prover is zero.
    error ComputeVerdictProverZero();
    /// @notice The verdict is past its deadline.
    error ComputeVerdictExpired(uint256 deadline);
    /// @notice The verdict names an account that is not a provider of the job.
    error ComputeVerdictNotJobProvider(uint256 jobId, address provider);
    /// @notice A verdict was already submitted for the job (one per job).
    error ComputeVerdictExists(uint256 jobId);
    /// @notice The verdict was signed under another oracle set than the distributor's current one.
    error ComputeStaleOracleSet(uint64 oracleSetVersion, uint64 currentVersion);
    /// @notice The packed signatures are not a whole number of 65-byte signatures.
    error ComputeBadSignaturesLength(uint256 length);
    /// @notice Fewer signatures than the oracle set's threshold.
    error ComputeTooFewSignatures(uint256 count, uint256 threshold);
    /// @notice Signature `index` does not recover.
    error ComputeInvalidSignature(uint256 index);
    /// @notice Signers must be strictly ascending (one signature per oracle).
    error ComputeSignersNotAscending(uint256 index, address signer);
    /// @notice The signer is not in the oracle set.
    error ComputeNotOracle(address signer);
    /// @notice No penalty is scheduled for the job.
    error ComputeNoPenalty(uint256 jobId);
    /// @notice The penalty cannot execute before `executableAt`.
    error ComputePenaltyNotDue(uint256 jobId, uint64 executableAt);
    /// @notice The veto window of the penalty closed at `executableAt`.
    error ComputeVetoWindowClosed(uint256 jobId, uint64 executableAt);
    /// @notice The penalty floor is outside [MIN_PENALTY_FLOOR, MAX_PENALTY_FLOOR].
    error ComputePenaltyFloorOutOfBounds(uint256 floor);
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
    /// @notice The job is directed to device `deviceId`: no other device may accept it.
    error ComputeJobDirected(uint256 jobId, uint256 deviceId);

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
    /// @notice Job `jobId` (just created, Standard tier) may be accepted only with device `deviceId`.
    event JobDirected(uint256 indexed jobId, uint256 indexed deviceId);
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
    /// @notice A Verified job's second result arrived: `matched` (both results equal: the job enters
    /// its acceptance window) or not (the job is Disputed for the oracle quorum).
    event VerifiedResultsCompared(uint256 indexed jobId, bool matched);
    /// @notice The oracle quorum found `provider` at fault on `jobId` (signed under `oracleSetVersion`).
    event VerdictSubmitted(
        uint256 indexed jobId,
        address indexed provider,
        uint8 reason,
        bytes32 evidenceHash,
        address prover,
        uint64 oracleSetVersion
    );
    /// @notice A penalty of `amount` MESH wei is scheduled, `escrow` of the job's collateral held for
    /// it; it executes from `executableAt`, unless the guardian vetoes it before then.
    event PenaltyScheduled(
        uint256 indexed jobId,
        address indexed provider,
        uint256 amount,
        uint256 escrow,
        uint64 executableAt
    );
    /// @notice The guardian vetoed the penalty; the escrow went back to the provider's free collateral.
    event PenaltyVetoed(uint256 indexed jobId, address indexed guardian);
    /// @notice The penalty was taken: `fromCollateral` here, `fromVault` by the vault's slash (to the
    /// treasury); `toProver` paid, `burned` burned; `returned` escrow beyond the penalty freed.
    event PenaltyExecuted(
        uint256 indexed jobId,
        address indexed provider,
        uint256 fromCollateral,
        uint256 fromVault,
        uint256 toProver,
        uint256 burned,
        uint256 returned
    );
    /// @notice Governance set the oracle distributor whose set signs verdicts.
    event OracleDistributorSet(address distributor);
    /// @notice Governance set the penalty floor (MESH wei).
    event PenaltyFloorSet(uint256 floor);
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
    /// @param tier Standard, or Verified (locks twice the value: two providers, each paid for its units).
    /// @return jobId The new job's id (ids run from 1).
    function createJob(
        bytes32 specHash,
        uint16 deviceClass,
        uint32 maxUnits,
        uint40 deadline,
        Tier tier
    ) external returns (uint256 jobId);

    /// @notice Creates a Standard job that only device `deviceId` (its owner) may accept: the compute
    /// oracle's daily availability benchmark, or a customer's choice of device. The job's class is
    /// the device's; otherwise as {createJob} (JobCreated, then JobDirected).
    /// @param specHash keccak256 of the job's spec.
    /// @param deviceId An active device of a compute class.
    /// @param maxUnits Most units the job may use, in [1, MAX_UNITS].
    /// @param deadline When the result must be committed by, in (now, now + MAX_JOB_DURATION].
    /// @return jobId The new job's id.
    function createDirectedJob(
        bytes32 specHash,
        uint256 deviceId,
        uint32 maxUnits,
        uint40 deadline
    ) external returns (uint256 jobId);

    /// @notice Cancels an Open job (no provider, or only the first of a Verified job's two, whose
    /// collateral is unlocked); releases its credits. Only the customer.
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
    /// caller's free collateral. Refused while the caller is suspended or past the deadline. A
    /// Verified job takes two different providers: it stays Open after the first. A directed job only
    /// with the device it is directed to (ComputeJobDirected).
    /// @param jobId The job.
    /// @param deviceId The caller's device.
    function acceptJob(uint256 jobId, uint256 deviceId) external;

    /// @notice Commits the result's hash and the units used, before the deadline; fixes the next
    /// block as the spot check's block. Only the job's provider. For a Verified job each of the two
    /// commits once; the second compares the results: equal, the job enters its acceptance window;
    /// different, it is Disputed for the oracle quorum.
    /// @param jobId The job.
    /// @param resultHash keccak256 of the job's output.
    /// @param usedUnits Units used, at most the job's maxUnits.
    function commitResult(uint256 jobId, bytes32 resultHash, uint32 usedUnits) external;

    // ------------------------------------------------------------------ anyone

    /// @notice Records whether a committed job is selected for a spot check, from the hash of its
    /// check block (selected if that hash is out of reach). Anyone (the compute oracle's keeper).
    /// @param jobId The job.
    function recordSpotCheck(uint256 jobId) external;

    /// @notice Pays a committed job whose window has ended (used units consumed for the provider, or
    /// each of a Verified job's two, the rest released, collateral unlocked). A disputed job no
    /// verdict reached within DISPUTE_RESOLUTION after its window: paid the same way (the quorum did not
    /// uphold the dispute), except a Verified job whose two results differ, which is refunded with both
    /// collaterals unlocked and nobody paid or struck. Anyone.
    /// @param jobId The job.
    function finalize(uint256 jobId) external;

    /// @notice Refunds a job past its deadline without a committed result: unclaimed (no strike; a
    /// Verified job's lone provider unlocked) or accepted and not committed (each provider that did
    /// not commit is struck; collateral unlocked). Anyone.
    /// @param jobId The job.
    function expire(uint256 jobId) external;

    // ------------------------------------------------------------------ verdicts, penalties and governance

    /// @notice Submits the compute oracle quorum's verdict on a Committed or Disputed job (anyone may
    /// relay it): at least the oracle distributor's threshold of signatures by distinct members of its
    /// current set (`verdict.oracleSetVersion` its current version), signers ascending, before
    /// `verdict.deadline`. The customer's credits are all released; the named provider's job collateral
    /// moves into the penalty's escrow (a Verified job's other provider is unlocked, unpaid); a penalty
    /// of max(PENALTY_MULTIPLE x the job's value at the credit price, penaltyFloor) MESH is scheduled
    /// PENALTY_DELAY ahead. One verdict per job.
    /// @param verdict The verdict.
    /// @param signatures Packed 65-byte signatures over {verdictDigest}, signers strictly ascending.
    function submitVerdict(FraudVerdict calldata verdict, bytes calldata signatures) external;

    /// @notice Executes a scheduled penalty from its `executableAt` (anyone): the provider is struck;
    /// the penalty is taken from the escrow first, then from the provider's vault stake through
    /// SLASHER_ROLE for the rest (the vault caps each slash at its per-event cap and sends it to its
    /// treasury); 20% of what was taken goes to the prover out of the escrow part, the escrow's rest
    /// is burned, escrow beyond the penalty goes back to the provider's free collateral.
    /// @param jobId The job.
    function executePenalty(uint256 jobId) external;

    /// @notice Vetoes a scheduled penalty before its `executableAt`. Only GUARDIAN_ROLE. The escrow goes
    /// back to the provider's free collateral; the customer keeps its refund.
    /// @param jobId The job.
    function vetoPenalty(uint256 jobId) external;

    /// @notice Sets the RewardsDistributor whose oracle set (members, threshold, version) signs
    /// verdicts: the compute subnetwork's. Only DEFAULT_ADMIN_ROLE.
    /// @param distributor The distributor (nonzero).
    function setOracleDistributor(address distributor) external;

    /// @notice Sets the penalty floor for verdicts from now on. Only DEFAULT_ADMIN_ROLE.
    /// @param floor MESH wei, in [MIN_PENALTY_FLOOR, MAX_PENALTY_FLOOR].
    function setPenaltyFloor(uint256 floor) external;

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

    /// @notice A Verified job's second provider (zeros for a Standard job or before it accepted).
    /// @param jobId The job.
    function secondProvider(uint256 jobId) external view returns (SecondProvider memory);

    /// @notice The job's penalty (zeros if none).
    /// @param jobId The job.
    function penalty(uint256 jobId) external view returns (Penalty memory);

    /// @notice The distributor whose oracle set signs verdicts (zero until governance sets it).
    function oracleDistributor() external view returns (address);

    /// @notice The penalty floor, MESH wei.
    function penaltyFloor() external view returns (uint256);

    /// @notice The MESH penalty a verdict on a job of `credits` value schedules now: max(PENALTY_MULTIPLE
    /// x its value at the credit price, rounded up, penaltyFloor).
    /// @param credits The job's value (one provider's share for a Verified job).
    function penaltyFor(uint256 credits) external view returns (uint256);

    /// @notice The EIP-712 digest each compute oracle signs for `verdict` (domain "Hexmesh ComputeJobs",
    /// version "1", this chain and contract).
    /// @param verdict The verdict.
    function verdictDigest(FraudVerdict calldata verdict) external view returns (bytes32);
}
