// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Storage deals interface
/// @notice The storage subnetwork's market, a UsageCredits spender. A client creates a data set with a
/// provider (the owner of an active, bonded device of the storage class), the provider accepts, the
/// client adds pieces (a piece root, see PieceMerkle, and its size) and keeps 30 days of the data
/// set's rate locked in credits; the provider keeps 90 days of rate as MESH collateral here. Each
/// proving period (1 day) ends with a 30-minute window in which the provider proves possession of K
/// leaves drawn from a block hash fixed inside the window; a proven period pays its rate to the
/// provider (`UsageRecorded` through `consumeLocked`), nothing is paid before the first proof.
/// Faults: a declared fault (before the window) earns and costs nothing; the first undeclared miss
/// is free (again after 30 proven periods in a row); every later one costs 2 periods of rate from
/// the collateral, half to the client, half burned; 14 consecutive faulty periods terminate the data
/// set. A period whose challenge nobody armed, or whose block hash nobody recorded while `blockhash`
/// could still read it (256 blocks), is rescheduled: unpaid, unpunished.
interface IStorageDeals {
    // ------------------------------------------------------------------ types

    /// @notice Life cycle of a data set. `None`: never created.
    enum Status {
        None,
        Proposed,
        Active,
        Terminated
    }

    /// @notice How a period ended.
    enum Outcome {
        Proven,
        Rescheduled,
        DeclaredFault,
        FreeMiss,
        Faulted
    }

    /// @notice Why a data set ended.
    enum EndReason {
        ByClient,
        ByProvider,
        Faults,
        Mutual
    }

    /// @notice A piece as the client adds it.
    struct PieceInput {
        bytes32 root;
        uint64 size;
    }

    /// @notice A stored piece: its root, size, and place among the data set's leaves.
    struct Piece {
        bytes32 root;
        uint64 size;
        uint64 firstLeaf;
        uint64 leafCount;
        uint8 height;
    }

    /// @notice One challenged leaf's proof: the piece that holds the challenged global leaf, the
    /// leaf's 32 bytes and its Merkle path (siblings from the leaf level up).
    struct LeafProof {
        uint256 pieceIndex;
        bytes32 leaf;
        bytes32[] path;
    }

    /// @notice A data set's state. Amounts: `rate`, `locked` in credits (micro-USD); `collateral`,
    /// `collateralPerPeriod` in MESH wei. Packed (issue 19) so that adding pieces writes only words 3
    /// and 4, each already holding a value set at creation (`challengeCount`, `pricePerTiBMonth`): no
    /// fresh slot; and so that a period's calls (arm, record, prove, settle) read the words they did.
    /// Widths: price <= MAX_PRICE < 2^40; rate <= 2^64 bytes x MAX_PRICE / (1 TiB x 30) < 2^60; a
    /// uint40 timestamp lasts until the year 36,812 and 2^32 one-day periods 11 million years; MESH
    /// is capped at 10^27 wei < 2^96; 2^88 micro-USD is 3 x 10^20 USD; 2^88 MESH wei per period is
    /// 300 million MESH, more than 90 periods of collateral within the cap allow; 2^32 pieces take
    /// 2^27 calls of 32.
    struct DataSet {
        // word 0: read by every call (the client, the status, the period's flags, the fault counters)
        address client;
        Status status;
        bool proven;
        bool faultDeclared;
        bool freeMissUsed;
        bool clientAgreedToEnd;
        bool providerAgreedToEnd;
        uint16 consecutiveFaults;
        uint16 provenStreak;
        // word 1
        address provider;
        // word 2
        uint256 deviceId;
        // word 3: K (set at creation), the clock, size and rate
        uint8 challengeCount;
        uint40 periodEnd;
        uint64 totalLeaves;
        uint64 totalBytes;
        uint64 rate;
        // word 4: price (set at creation), pieces, the lock and the collateral rate
        uint40 pricePerTiBMonth;
        uint32 pieceCount;
        uint88 locked;
        uint88 collateralPerPeriod;
        // word 5: the period's challenge and the collateral (first written by a deposit or an arming)
        uint32 period;
        uint64 challengeBlock;
        uint64 challengedLeaves;
        uint96 collateral;
        // word 6
        bytes32 seed;
    }

    // ------------------------------------------------------------------ errors

    /// @notice A zero address was given where a contract is required.
    error StorageZeroAddress();
    /// @notice No data set has this id.
    error StorageUnknownDataSet(uint256 id);
    /// @notice The data set is not in the status this call needs.
    error StorageWrongStatus(uint256 id, Status status);
    /// @notice Only the data set's client may do this.
    error StorageNotClient(uint256 id, address caller);
    /// @notice Only the data set's provider may do this.
    error StorageNotProvider(uint256 id, address caller);
    /// @notice Only the client or the provider may do this.
    error StorageNotParty(uint256 id, address caller);
    /// @notice The device is not active.
    error StorageDeviceNotActive(uint256 deviceId);
    /// @notice The device's class does not belong to the storage subnetwork.
    error StorageNotStorageDevice(uint256 deviceId, uint16 deviceClass);
    /// @notice The device's owner does not bond all its devices in the staking vault.
    error StorageProviderNotBonded(address provider, uint256 stake, uint256 required);
    /// @notice A pieces call carries no piece or more than MAX_PIECES_PER_CALL.
    error StorageBadPieceCount(uint256 count);
    /// @notice A piece has a zero root or a size outside [1, MAX_PIECE_SIZE].
    error StorageInvalidPiece(bytes32 root, uint64 size);
    /// @notice No piece has been added yet, so there is no proving period.
    error StorageNotStarted(uint256 id);
    /// @notice The call is outside the time it is allowed in (the window opens at `windowStart`).
    error StorageOutsideWindow(uint256 id, uint64 windowStart, uint64 periodEnd);
    /// @notice The period is already proven.
    error StorageAlreadyProven(uint256 id, uint64 period);
    /// @notice The provider declared this period faulty.
    error StorageFaultDeclared(uint256 id, uint64 period);
    /// @notice The period's challenge block is fixed already and its hash recorded.
    error StorageSeedAlreadyRecorded(uint256 id, uint64 period);
    /// @notice The challenge block is not mined yet.
    error StorageSeedNotReady(uint256 id, uint64 challengeBlock);
    /// @notice The period's seed was not recorded (not armed, or its block hash is out of reach).
    error StorageSeedNotRecorded(uint256 id, uint64 period);
    /// @notice The proof carries another number of leaf proofs than the data set's K.
    error StorageWrongProofCount(uint256 given, uint256 expected);
    /// @notice The named piece does not hold the challenged leaf.
    error StorageWrongPiece(uint256 challenge, uint256 pieceIndex, uint256 globalLeaf);
    /// @notice A leaf proof does not lead to the piece root.
    error StorageInvalidProof(uint256 challenge);
    /// @notice The provider's collateral is below 90 periods of the data set's rate.
    error StorageCollateralShort(uint256 id, uint256 collateral, uint256 required);
    /// @notice A zero amount was given.
    error StorageZeroAmount();
    /// @notice The price is outside [MIN_PRICE, MAX_PRICE] micro-USD per TiB-month.
    error StoragePriceOutOfBounds(uint256 price);
    /// @notice The challenge count is outside [1, MAX_CHALLENGES].
    error StorageChallengeCountOutOfBounds(uint256 count);
    /// @notice The data set reached 14 consecutive faulty periods: {settle} ends it first.
    error StorageFaultLimitReached(uint256 id);
    /// @notice The account has no MESH to withdraw here.
    error StorageNothingOwed(address account);
    /// @notice No fault fees are waiting to be burned.
    error StorageNothingToBurn();
    /// @notice Only the owner of a live (not retired) device sets its endpoint.
    error StorageNotDeviceOwner(uint256 deviceId, address caller);
    /// @notice An endpoint URL longer than MAX_ENDPOINT_LENGTH bytes.
    error StorageEndpointTooLong(uint256 length, uint256 maxLength);

    // ------------------------------------------------------------------ events

    /// @notice A client proposed a data set to the owner of `deviceId`, on these terms.
    event DataSetCreated(
        uint256 indexed id,
        address indexed client,
        address indexed provider,
        uint256 deviceId,
        uint64 pricePerTiBMonth,
        uint8 challengeCount
    );
    /// @notice The provider accepted the data set.
    event DataSetAccepted(uint256 indexed id, address indexed provider);
    /// @notice A piece was added (index in the data set, its first global leaf).
    event PieceAdded(uint256 indexed id, uint256 indexed pieceIndex, bytes32 root, uint64 size, uint64 firstLeaf);
    /// @notice The data set's rate changed (pieces added); `locked` and `requiredCollateral` follow it.
    event RateChanged(uint256 indexed id, uint256 rate, uint256 locked, uint256 collateralPerPeriod);
    /// @notice The first period began (the first pieces were added).
    event ProvingStarted(uint256 indexed id, uint64 periodEnd);
    /// @notice Credits were locked for the data set (`credits`, now `locked` in total).
    event CreditsDeposited(uint256 indexed id, uint256 credits, uint256 locked);
    /// @notice The provider deposited MESH collateral.
    event CollateralDeposited(uint256 indexed id, uint256 amount, uint256 collateral);
    /// @notice The provider withdrew MESH collateral above the requirement.
    event CollateralWithdrawn(uint256 indexed id, uint256 amount, uint256 collateral);
    /// @notice The provider declared the current period faulty before its window.
    event FaultDeclared(uint256 indexed id, uint64 indexed period);
    /// @notice The period's challenge block was fixed (its hash is unknown when this is emitted).
    event ChallengeArmed(uint256 indexed id, uint64 indexed period, uint64 challengeBlock, uint64 challengedLeaves);
    /// @notice The period's seed was recorded from its challenge block's hash.
    event SeedRecorded(uint256 indexed id, uint64 indexed period, bytes32 seed);
    /// @notice The period was proven; `paid` credits went to the provider.
    event PossessionProven(uint256 indexed id, uint64 indexed period, uint256 paid);
    /// @notice Credits locked again after a payment (the 30-day lock refilled from the client).
    event LockRefilled(uint256 indexed id, uint256 credits, uint256 locked);
    /// @notice A period ended with `outcome`; a fault fee of `fee` MESH was taken (half burned).
    event PeriodSettled(uint256 indexed id, uint64 indexed period, Outcome outcome, uint256 fee);
    /// @notice `count` periods in which nobody armed a challenge were rescheduled (unpaid, unpunished).
    event PeriodsRescheduled(uint256 indexed id, uint64 fromPeriod, uint64 count);
    /// @notice A party agreed to end the data set at once.
    event EndAgreed(uint256 indexed id, address indexed party);
    /// @notice The data set ended: `paidToProvider` credits consumed for the provider,
    /// `forfeitToClient` MESH of collateral to the client, the rest returned.
    event DataSetTerminated(
        uint256 indexed id,
        EndReason reason,
        uint256 paidToProvider,
        uint256 forfeitToClient,
        uint256 creditsReleased,
        uint256 collateralReturned
    );
    /// @notice `account` withdrew the MESH owed to it (its share of fault fees).
    event MeshWithdrawn(address indexed account, uint256 amount);
    /// @notice The burned half of fault fees collected so far was burned.
    event FeesBurned(address indexed caller, uint256 amount);
    /// @notice Governance set the price of new data sets.
    event PriceSet(uint256 pricePerTiBMonth);
    /// @notice Governance set the challenge count of new data sets.
    event ChallengeCountSet(uint256 challengeCount);
    /// @notice A storage device's service endpoint was set (empty: cleared).
    event EndpointSet(uint256 indexed deviceId, address indexed owner, string url);

    // ------------------------------------------------------------------ clients

    /// @notice Proposes a data set to the owner of `deviceId` (active, of a storage class, bonded) on
    /// the current price and challenge count.
    /// @param deviceId The provider's storage device.
    /// @return id The new data set's id.
    function createDataSet(uint256 deviceId) external returns (uint256 id);

    /// @notice Adds pieces (at most MAX_PIECES_PER_CALL). Only the client, active data sets. Tops the
    /// client's lock up to LOCK_PERIODS periods of the new rate (the client approves this spender in
    /// UsageCredits) and raises the collateral requirement; the first pieces start the proving clock.
    /// @param pieces Roots and sizes.
    function addPieces(uint256 id, PieceInput[] calldata pieces) external;

    /// @notice Locks more of the client's credits for the data set. Only the client.
    /// @param id The data set.
    /// @param credits Credits to lock.
    function depositCredits(uint256 id, uint256 credits) external;

    /// @notice Ends the data set; the provider is paid the credits locked, up to LOCK_PERIODS periods
    /// of rate, the rest is released, the collateral returned. Only the client.
    /// @param id The data set.
    function terminateByClient(uint256 id) external;

    // ------------------------------------------------------------------ providers

    /// @notice Accepts a proposed data set. Only its provider, whose device must still qualify.
    /// @param id The data set.
    function acceptDataSet(uint256 id) external;

    /// @notice Deposits MESH collateral (approved to this contract). Only the provider.
    /// @param id The data set.
    /// @param amount MESH wei.
    function depositCollateral(uint256 id, uint256 amount) external;

    /// @notice Withdraws collateral above the requirement. Only the provider.
    /// @param id The data set.
    /// @param amount MESH wei.
    function withdrawCollateral(uint256 id, uint256 amount) external;

    /// @notice Declares the current period faulty before its window opens: it earns and costs nothing
    /// (but counts towards the 14 consecutive faulty periods). Only the provider.
    /// @param id The data set.
    function declareFault(uint256 id) external;

    /// @notice Proves possession for the current period, inside its window, with one proof per
    /// challenge. Pays the period's rate from the lock and refills the lock from the client's balance
    /// when its allowance and balance allow. Only the provider.
    /// @param id The data set.
    /// @param proofs K leaf proofs, in challenge order.
    function provePossession(uint256 id, LeafProof[] calldata proofs) external;

    /// @notice Ends the data set; LOCK_PERIODS periods of rate (in MESH at the collateral's rate) go
    /// from the collateral to the client unless the client's lock is below LOCK_PERIODS periods. Only
    /// the provider.
    /// @param id The data set.
    function terminateByProvider(uint256 id) external;

    /// @notice Sets the URL at which a storage device's provider agent serves pieces and ranges (the
    /// storage oracle probes it, clients upload and download there); an empty URL clears it. Only the
    /// owner of the device, which must be live (not retired) and of a storage class.
    /// @param deviceId The storage device.
    /// @param url At most MAX_ENDPOINT_LENGTH bytes.
    function setEndpoint(uint256 deviceId, string calldata url) external;

    // ------------------------------------------------------------------ anyone

    /// @notice Inside the current window: the first call arms the challenge (fixes the next block as
    /// the challenge block), a call after that block records its hash as the seed. Anyone.
    /// @param id The data set.
    function recordSeed(uint256 id) external;

    /// @notice Settles elapsed periods (fault fees booked: half owed to the client, half to burn) and
    /// ends a data set at 14 consecutive faulty periods. Anyone.
    /// @param id The data set.
    function settle(uint256 id) external;

    /// @notice Sends the caller the MESH owed to it (a client's half of fault fees). Anyone owed.
    /// @return amount MESH sent.
    function withdrawMesh() external returns (uint256 amount);

    /// @notice Burns the burned half of every fault fee collected so far. Anyone; batched like the
    /// registry's and the credits ledger's burns, so no settlement pays for a total-supply checkpoint.
    /// @return amount MESH burned.
    function burnFees() external returns (uint256 amount);

    /// @notice Agrees to end the data set at once with nothing paid or forfeited; ends it when both
    /// parties agreed. Only the client or the provider.
    /// @param id The data set.
    function agreeToEnd(uint256 id) external;

    // ------------------------------------------------------------------ governance

    /// @notice Sets the price of new data sets. Only DEFAULT_ADMIN_ROLE.
    /// @param pricePerTiBMonth Micro-USD per TiB (2^40 bytes) per 30 periods.
    function setPrice(uint256 pricePerTiBMonth) external;

    /// @notice Sets K for new data sets. Only DEFAULT_ADMIN_ROLE.
    /// @param challengeCount In [1, MAX_CHALLENGES].
    function setChallengeCount(uint256 challengeCount) external;

    // ------------------------------------------------------------------ views

    /// @notice A data set's state.
    /// @param id The data set.
    function dataSet(uint256 id) external view returns (DataSet memory);

    /// @notice A piece of a data set.
    /// @param id The data set.
    /// @param pieceIndex The piece's index.
    function piece(uint256 id, uint256 pieceIndex) external view returns (Piece memory);

    /// @notice The global leaf challenge `index` of the stored (not yet settled) period picks: needs its
    /// seed, recorded or still readable from the armed block.
    /// @param id The data set.
    /// @param index The challenge's index.
    function challengeLeaf(uint256 id, uint256 index) external view returns (uint256);

    /// @notice MESH collateral the data set requires now (COLLATERAL_PERIODS periods of rate).
    /// @param id The data set.
    function requiredCollateral(uint256 id) external view returns (uint256);

    /// @notice Price of new data sets, micro-USD per TiB-month.
    function pricePerTiBMonth() external view returns (uint256);

    /// @notice K of new data sets.
    function challengeCount() external view returns (uint256);

    /// @notice Data sets created so far (ids run from 1).
    function dataSetCount() external view returns (uint256);

    /// @notice MESH `account` can withdraw (fault fee shares).
    /// @param account Any account.
    function meshOwed(address account) external view returns (uint256);

    /// @notice Fault fee halves waiting for {burnFees}.
    function feesToBurn() external view returns (uint256);

    /// @notice A storage device's service endpoint (empty if never set or cleared).
    /// @param deviceId The storage device.
    function endpointOf(uint256 deviceId) external view returns (string memory);

    // ------------------------------------------------------------------ storage oracle suspensions

    /// @notice The device is suspended from new data sets by the storage oracles (IStorageSuspensions).
    error StorageDeviceSuspended(uint256 deviceId);

    /// @notice Governance named the StorageSuspensions contract consulted on new data sets (zero: none).
    event SuspensionsSet(address indexed suspensions);

    /// @notice Names the StorageSuspensions contract `createDataSet` and `acceptDataSet` consult (zero
    /// turns the check off). Only DEFAULT_ADMIN_ROLE.
    /// @param suspensions_ The StorageSuspensions contract.
    function setSuspensions(address suspensions_) external;

    /// @notice The StorageSuspensions contract consulted on new data sets (zero until governance sets it).
    function suspensions() external view returns (address);
}
