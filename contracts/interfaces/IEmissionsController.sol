// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Emissions controller interface
/// @notice The MESH minter: an epoch clock, a halving emission schedule that never passes its cap,
/// and the split of every epoch's emission between the subnetworks' reward pools (each paid to its
/// own rewards distributor), the staking vault and the treasury.
/// @dev Split changes, new pools and new recipients apply to every epoch not yet distributed when
/// the change executes, i.e. from `nextEpoch()` onward, including epochs that have already ended
/// but wait for `distribute`. Governance that wants a change to apply strictly from the current
/// epoch on calls `distribute` in the same timelock batch, right before the change.
interface IEmissionsController {
    /// @notice One subnetwork's reward pool.
    /// @param subnetwork The subnetwork id (e.g. keccak256("hexmesh.coverage")).
    /// @param distributor Its RewardsDistributor, which receives the pool share every epoch.
    /// @param bps Its share of each epoch's emission, in basis points.
    struct Pool {
        bytes32 subnetwork;
        address distributor;
        uint16 bps;
    }

    /// @notice A zero address was given where an account is required.
    error EmissionsZeroAddress();
    /// @notice A schedule parameter is out of its bounds (see the constructor's NatSpec).
    error EmissionsInvalidSchedule();
    /// @notice The emission cap exceeds what the token can still mint.
    error EmissionsCapExceedsToken(uint256 emissionCap, uint256 mintable);
    /// @notice No ended epoch is waiting (or `maxEpochs` is zero).
    error EmissionsNothingToDistribute(uint64 nextEpoch, uint64 endedEpochs);
    /// @notice Less gas is left than `distribute` may need for this batch (DISTRIBUTE_GAS_FIXED +
    /// DISTRIBUTE_GAS_PER_FUNDING per epoch and pool): send it with a higher gas limit (a wallet's
    /// estimate always suffices).
    error EmissionsGasReserveTooLow(uint256 gasLeft, uint256 reserve);
    /// @notice The staking share is outside [MIN_STAKING_BPS, MAX_STAKING_BPS].
    error EmissionsStakingShareOutOfBounds(uint256 stakingBps);
    /// @notice The treasury share is above MAX_TREASURY_BPS.
    error EmissionsTreasuryShareOutOfBounds(uint256 treasuryBps);
    /// @notice The shares do not add up to 10,000 basis points.
    error EmissionsSplitNotTotal(uint256 totalBps);
    /// @notice One share per pool is required, in pool order.
    error EmissionsPoolCountMismatch(uint256 given, uint256 pools);
    /// @notice MAX_POOLS pools exist already.
    error EmissionsTooManyPools();
    /// @notice The subnetwork id is zero or already has a pool.
    error EmissionsInvalidSubnetwork(bytes32 subnetwork);
    /// @notice The distributor serves another subnetwork or already receives a pool.
    error EmissionsInvalidDistributor(address distributor);
    /// @notice No pool exists for the subnetwork.
    error EmissionsUnknownSubnetwork(bytes32 subnetwork);
    /// @notice Too little gas left to give a distributor FUND_EPOCH_GAS (send more gas).
    error EmissionsInsufficientGas(uint256 gasLeft);

    /// @notice An epoch's emission was minted and split.
    event EpochDistributed(
        uint64 indexed epoch,
        uint256 emission,
        uint256 toPools,
        uint256 toStaking,
        uint256 toTreasury
    );
    /// @notice A pool received its share of an epoch.
    event PoolFunded(bytes32 indexed subnetwork, uint64 indexed epoch, address distributor, uint256 amount);
    /// @notice A pool's distributor refused its share of an epoch (it reverted); the amount (the
    /// share plus what was already held) stays held for the pool and is added to its next funded epoch.
    event PoolFundingHeld(bytes32 indexed subnetwork, uint64 indexed epoch, address distributor, uint256 amount);
    /// @notice The split changed; applies from `fromEpoch` (the next undistributed epoch) onward.
    event SplitChanged(uint64 fromEpoch, uint16 stakingBps, uint16 treasuryBps, uint16[] poolBps);
    /// @notice A subnetwork pool was added with a zero share; applies from `fromEpoch` onward.
    event PoolAdded(uint256 indexed index, bytes32 indexed subnetwork, address distributor, uint64 fromEpoch);
    /// @notice A pool's distributor was replaced; applies from `fromEpoch` onward.
    event PoolDistributorChanged(bytes32 indexed subnetwork, address previous, address distributor, uint64 fromEpoch);
    /// @notice The staking vault was replaced; applies from `fromEpoch` onward.
    event StakingVaultChanged(address previous, address vault, uint64 fromEpoch);
    /// @notice The treasury was replaced; applies from `fromEpoch` onward.
    event TreasuryChanged(address previous, address treasury, uint64 fromEpoch);

    /// @notice Distributes ended epochs in order, each exactly once, at most
    /// min(maxEpochs, MAX_CATCHUP_EPOCHS) of them. Permissionless.
    /// @dev For each epoch: calls `fundEpoch(epoch, share + held)` on each pool's distributor (also
    /// for a zero share, so every distributor sees every epoch) and mints what it accepted to it; a
    /// distributor that reverts does not stop the others: its amount is held for it (minted to this
    /// contract, {heldFor}) and added to its next epoch that succeeds, in this call or a later one. Mints the staking share to the vault and calls `notifyRewards` once for the batch,
    /// and mints the treasury share (which takes the rounding remainder).
    /// @param maxEpochs Upper bound on the epochs distributed by this call.
    /// @return distributed Number of epochs distributed.
    function distribute(uint256 maxEpochs) external returns (uint256 distributed);

    /// @notice Sets the split, from the next undistributed epoch on. Only DEFAULT_ADMIN_ROLE.
    /// @dev Bounds: MIN_STAKING_BPS <= stakingBps <= MAX_STAKING_BPS, treasuryBps <= MAX_TREASURY_BPS,
    /// and stakingBps + treasuryBps + sum(poolBps) == 10,000.
    /// @param stakingBps Share of the staking vault.
    /// @param treasuryBps Share of the treasury.
    /// @param poolBps One share per pool, in the order of `pools()`.
    function setSplit(uint16 stakingBps, uint16 treasuryBps, uint16[] calldata poolBps) external;

    /// @notice Adds a subnetwork pool with a zero share (give it one with `setSplit`, in the same
    /// timelock batch). Only DEFAULT_ADMIN_ROLE. At most MAX_POOLS pools.
    /// @param subnetwork Non-zero id, not yet used; must equal `distributor.subnetwork()`.
    /// @param distributor The subnetwork's RewardsDistributor (grant this controller its FUNDER_ROLE).
    function addPool(bytes32 subnetwork, address distributor) external;

    /// @notice Replaces a pool's distributor, from the next undistributed epoch on. Only DEFAULT_ADMIN_ROLE.
    /// @param subnetwork An existing pool's id; must equal `distributor.subnetwork()`.
    /// @param distributor The new distributor.
    function setPoolDistributor(bytes32 subnetwork, address distributor) external;

    /// @notice Replaces the staking vault, from the next undistributed epoch on. Only DEFAULT_ADMIN_ROLE.
    /// @param vault The new vault (it must grant this controller its REWARDS_NOTIFIER_ROLE).
    function setStakingVault(address vault) external;

    /// @notice Replaces the treasury, from the next undistributed epoch on. Only DEFAULT_ADMIN_ROLE.
    /// @param treasury The new treasury.
    function setTreasury(address treasury) external;

    /// @notice The MESH token (this contract is its minter).
    function token() external view returns (address);

    /// @notice Start of epoch 0 (unix seconds).
    function genesisTime() external view returns (uint64);

    /// @notice Length of an epoch in seconds.
    function epochLength() external view returns (uint64);

    /// @notice Emission of each epoch of the first halving period.
    function initialEmission() external view returns (uint256);

    /// @notice Epochs per halving period.
    function halvingInterval() external view returns (uint64);

    /// @notice The most the schedule will ever emit (at most the token's cap minus its supply at deploy).
    function emissionCap() external view returns (uint256);

    /// @notice The epoch containing the current time (0 before genesis).
    function currentEpoch() external view returns (uint64);

    /// @notice Number of epochs that have ended: epochs 0 .. endedEpochs() - 1 may be distributed.
    function endedEpochs() external view returns (uint64);

    /// @notice The next epoch to distribute (epochs before it are distributed).
    function nextEpoch() external view returns (uint64);

    /// @notice Total minted by this controller so far.
    function emitted() external view returns (uint256);

    /// @notice Scheduled emission of `epoch`, cap included.
    /// @param epoch Any epoch number.
    function emissionOf(uint64 epoch) external view returns (uint256);

    /// @notice Scheduled total emission of epochs 0 .. epochCount - 1, cap included.
    /// @param epochCount Number of epochs from genesis.
    function scheduledEmission(uint64 epochCount) external view returns (uint256);

    /// @notice The current split (applies to the next undistributed epoch).
    /// @return stakingBps Staking vault share.
    /// @return treasuryBps Treasury share.
    function split() external view returns (uint16 stakingBps, uint16 treasuryBps);

    /// @notice All pools, in index order.
    function pools() external view returns (Pool[] memory);

    /// @notice MESH held for a pool whose distributor refused its funding (paid with its next accepted epoch).
    /// @param subnetwork The pool's subnetwork id.
    function heldFor(bytes32 subnetwork) external view returns (uint256);

    /// @notice The staking vault.
    function stakingVault() external view returns (address);

    /// @notice The treasury.
    function treasury() external view returns (address);
}
