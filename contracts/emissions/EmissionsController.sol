// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEmissionsController} from "../interfaces/IEmissionsController.sol";
import {IMeshToken} from "../interfaces/IMeshToken.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakingRewardsReceiver} from "../interfaces/IStakingRewardsReceiver.sol";
import {EmissionSchedule} from "../libraries/EmissionSchedule.sol";

/// @title EmissionsController
/// @notice The MESH minter. Epoch `e` spans [genesisTime + e * epochLength, genesisTime + (e + 1) *
/// epochLength). Once it has ended anyone may distribute it, once, in order: its emission (halving
/// every `halvingInterval` epochs, never past `emissionCap`) is minted and split in basis points
/// between the subnetworks' reward pools, the staking vault and the treasury.
/// @dev The schedule is fixed at deploy. The split, the pools and the recipients are governance's
/// (DEFAULT_ADMIN_ROLE, the timelock) and apply to every epoch not yet distributed when the change
/// executes (see IEmissionsController). The controller is the token's permanent minter, which is
/// why recipients can be replaced: the controller itself never can.
contract EmissionsController is IEmissionsController, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Basis points in a whole.
    uint16 public constant BPS = 10_000;
    /// @notice Lowest staking share governance may set (10%).
    uint16 public constant MIN_STAKING_BPS = 1_000;
    /// @notice Highest staking share governance may set (50%).
    uint16 public constant MAX_STAKING_BPS = 5_000;
    /// @notice Highest treasury share governance may set (20%); pools therefore get 30% to 90%.
    uint16 public constant MAX_TREASURY_BPS = 2_000;
    /// @notice Most subnetwork pools (bounds the per-epoch loop).
    uint256 public constant MAX_POOLS = 8;
    /// @notice Most epochs one `distribute` call handles.
    uint256 public constant MAX_CATCHUP_EPOCHS = 32;
    /// @notice Gas `distribute` requires up front: DISTRIBUTE_GAS_FIXED + DISTRIBUTE_GAS_PER_FUNDING per
    /// (epoch, pool) it funds, an upper bound of what the call can use.
    /// @dev Its cost depends on the block's time, not only on the state: MESH's ERC-5805 supply
    /// checkpoint is pushed, not updated, at a new timestamp, and the staking vault's notifyRewards
    /// accrues and may pay the treasury only when time has passed. A wallet's estimate made at the block
    /// of the previous distribute (no time elapsed) was up to ~37k gas short and the transaction ran
    /// out of gas. Requiring the worst case before any work makes every estimate cover it (estimators
    /// search the least gas that succeeds); gas not used is not charged.
    uint256 public constant DISTRIBUTE_GAS_FIXED = 250_000;
    /// @notice See DISTRIBUTE_GAS_FIXED.
    uint256 public constant DISTRIBUTE_GAS_PER_FUNDING = 20_000;
    /// @notice Shortest epoch (a demo chain); a real network uses one day.
    uint64 public constant MIN_EPOCH_LENGTH = 60;
    /// @notice Longest epoch.
    uint64 public constant MAX_EPOCH_LENGTH = 30 days;
    /// @notice Gas given to each distributor's `fundEpoch`: a distributor that reverts or runs out
    /// of it has its share held (see {heldFor}) and cannot stop the others.
    uint256 public constant FUND_EPOCH_GAS = 100_000;

    /// @notice Constructor arguments.
    /// @param token The MESH token (this contract must become its minter).
    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param treasury Receives the treasury share.
    /// @param stakingVault Receives the staking share (IStakingRewardsReceiver).
    /// @param genesisTime Start of epoch 0.
    /// @param epochLength Seconds, in [MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH].
    /// @param initialEmission Per-epoch emission of the first halving period, in (0, emissionCap].
    /// @param halvingInterval Epochs per halving period, in [1, 2^32).
    /// @param emissionCap Total the schedule may ever emit, <= token cap - token supply at deploy.
    /// @param stakingBps Initial staking share.
    /// @param treasuryBps Initial treasury share.
    /// @param subnetwork Id of the first pool (coverage); it gets the remaining basis points.
    /// @param distributor The first pool's RewardsDistributor.
    struct InitParams {
        address token;
        address admin;
        address treasury;
        address stakingVault;
        uint64 genesisTime;
        uint64 epochLength;
        uint256 initialEmission;
        uint64 halvingInterval;
        uint256 emissionCap;
        uint16 stakingBps;
        uint16 treasuryBps;
        bytes32 subnetwork;
        address distributor;
    }

    /// @dev What one `distribute` call mints: per-epoch pool shares (row-major: epoch, then pool),
    /// staking and treasury totals, and the new emitted total.
    struct Batch {
        uint256[] poolShares;
        uint256 stakingTotal;
        uint256 treasuryTotal;
        uint256 emitted;
    }

    IMeshToken private immutable _TOKEN;
    uint64 private immutable _GENESIS_TIME;
    uint64 private immutable _EPOCH_LENGTH;
    uint64 private immutable _HALVING_INTERVAL;
    uint256 private immutable _INITIAL_EMISSION;
    uint256 private immutable _EMISSION_CAP;

    // Hot word: read and written once per distribute.
    uint64 private _nextEpoch;
    uint128 private _emitted;
    uint16 private _stakingBps;
    uint16 private _treasuryBps;

    address private _stakingVault;
    address private _treasury;
    Pool[] private _pools;
    /// @dev Shares of pools whose distributor refused them, minted to this contract and owed to the
    /// pool: added to its next epoch that its distributor accepts.
    mapping(bytes32 subnetwork => uint256 amount) private _held;

    /// @param p See {InitParams}.
    constructor(InitParams memory p) {
        if (
            p.token == address(0) ||
            p.admin == address(0) ||
            p.treasury == address(0) ||
            p.stakingVault == address(0) ||
            p.distributor == address(0)
        ) revert EmissionsZeroAddress();
        if (
            p.epochLength < MIN_EPOCH_LENGTH ||
            p.epochLength > MAX_EPOCH_LENGTH ||
            p.halvingInterval == 0 ||
            p.halvingInterval >= 2 ** 32 ||
            p.initialEmission == 0 ||
            p.initialEmission > p.emissionCap
        ) revert EmissionsInvalidSchedule();
        IMeshToken meshToken = IMeshToken(p.token);
        uint256 mintable = meshToken.cap() - meshToken.totalSupply();
        if (p.emissionCap > mintable) revert EmissionsCapExceedsToken(p.emissionCap, mintable);

        _TOKEN = meshToken;
        _GENESIS_TIME = p.genesisTime;
        _EPOCH_LENGTH = p.epochLength;
        _HALVING_INTERVAL = p.halvingInterval;
        _INITIAL_EMISSION = p.initialEmission;
        _EMISSION_CAP = p.emissionCap;
        _grantRole(DEFAULT_ADMIN_ROLE, p.admin);
        _stakingVault = p.stakingVault;
        _treasury = p.treasury;

        _addPool(p.subnetwork, p.distributor);
        uint16[] memory poolBps = new uint16[](1);
        // Shares within bounds never pass 100%; out-of-bounds ones are reported by _setSplit.
        if (uint256(p.stakingBps) + p.treasuryBps <= BPS) poolBps[0] = BPS - p.stakingBps - p.treasuryBps;
        _setSplit(p.stakingBps, p.treasuryBps, poolBps);
    }

    // ------------------------------------------------------------------ distribution

    /// @inheritdoc IEmissionsController
    function distribute(uint256 maxEpochs) external returns (uint256 distributed) {
        uint64 from = _nextEpoch;
        uint64 ended = _endedEpochs();
        if (maxEpochs > MAX_CATCHUP_EPOCHS) maxEpochs = MAX_CATCHUP_EPOCHS;
        uint64 to = ended;
        if (to > from + maxEpochs) to = from + uint64(maxEpochs);
        if (to <= from) revert EmissionsNothingToDistribute(from, ended);
        distributed = to - from;

        Pool[] memory pools_ = _pools;
        uint256 reserve = DISTRIBUTE_GAS_FIXED + distributed * pools_.length * DISTRIBUTE_GAS_PER_FUNDING;
        uint256 left = gasleft();
        if (left < reserve) revert EmissionsGasReserveTooLow(left, reserve);
        Batch memory batch = _split(from, distributed, pools_);

        // Effects before any external call.
        _nextEpoch = to;
        _emitted = uint128(batch.emitted); // <= _EMISSION_CAP <= token cap < 2^128

        _pay(from, distributed, pools_, batch);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IEmissionsController
    function setSplit(
        uint16 stakingBps_,
        uint16 treasuryBps_,
        uint16[] calldata poolBps
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSplit(stakingBps_, treasuryBps_, poolBps);
    }

    /// @inheritdoc IEmissionsController
    function addPool(bytes32 subnetwork, address distributor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _addPool(subnetwork, distributor);
    }

    /// @inheritdoc IEmissionsController
    function setPoolDistributor(bytes32 subnetwork, address distributor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 count = _pools.length;
        // static-check-ignore: unbounded-loop _pools grows only by governance and is capped at MAX_POOLS (8)
        for (uint256 i = 0; i < count; ++i) {
            if (_pools[i].subnetwork == subnetwork) {
                _checkDistributor(subnetwork, distributor);
                address previous = _pools[i].distributor;
                _pools[i].distributor = distributor;
                emit PoolDistributorChanged(subnetwork, previous, distributor, _nextEpoch);
                return;
            }
        }
        revert EmissionsUnknownSubnetwork(subnetwork);
    }

    /// @inheritdoc IEmissionsController
    function setStakingVault(address vault) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (vault == address(0)) revert EmissionsZeroAddress();
        address previous = _stakingVault;
        _stakingVault = vault;
        emit StakingVaultChanged(previous, vault, _nextEpoch);
    }

    /// @inheritdoc IEmissionsController
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert EmissionsZeroAddress();
        address previous = _treasury;
        _treasury = treasury_;
        emit TreasuryChanged(previous, treasury_, _nextEpoch);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEmissionsController
    function token() external view returns (address) {
        return address(_TOKEN);
    }

    /// @inheritdoc IEmissionsController
    function genesisTime() external view returns (uint64) {
        return _GENESIS_TIME;
    }

    /// @inheritdoc IEmissionsController
    function epochLength() external view returns (uint64) {
        return _EPOCH_LENGTH;
    }

    /// @inheritdoc IEmissionsController
    function initialEmission() external view returns (uint256) {
        return _INITIAL_EMISSION;
    }

    /// @inheritdoc IEmissionsController
    function halvingInterval() external view returns (uint64) {
        return _HALVING_INTERVAL;
    }

    /// @inheritdoc IEmissionsController
    function emissionCap() external view returns (uint256) {
        return _EMISSION_CAP;
    }

    /// @inheritdoc IEmissionsController
    function currentEpoch() external view returns (uint64) {
        if (block.timestamp < _GENESIS_TIME) return 0;
        return uint64((block.timestamp - _GENESIS_TIME) / _EPOCH_LENGTH);
    }

    /// @inheritdoc IEmissionsController
    function endedEpochs() external view returns (uint64) {
        return _endedEpochs();
    }

    /// @inheritdoc IEmissionsController
    function nextEpoch() external view returns (uint64) {
        return _nextEpoch;
    }

    /// @inheritdoc IEmissionsController
    function emitted() external view returns (uint256) {
        return _emitted;
    }

    /// @inheritdoc IEmissionsController
    function emissionOf(uint64 epoch) external view returns (uint256) {
        uint256 before = EmissionSchedule.cumulative(epoch, _INITIAL_EMISSION, _HALVING_INTERVAL, _EMISSION_CAP);
        return EmissionSchedule.emissionAt(epoch, before, _INITIAL_EMISSION, _HALVING_INTERVAL, _EMISSION_CAP);
    }

    /// @inheritdoc IEmissionsController
    function scheduledEmission(uint64 epochCount) external view returns (uint256) {
        return EmissionSchedule.cumulative(epochCount, _INITIAL_EMISSION, _HALVING_INTERVAL, _EMISSION_CAP);
    }

    /// @inheritdoc IEmissionsController
    function split() external view returns (uint16 stakingBps, uint16 treasuryBps) {
        return (_stakingBps, _treasuryBps);
    }

    /// @inheritdoc IEmissionsController
    function pools() external view returns (Pool[] memory) {
        return _pools;
    }

    /// @inheritdoc IEmissionsController
    function heldFor(bytes32 subnetwork) external view returns (uint256) {
        return _held[subnetwork];
    }

    /// @inheritdoc IEmissionsController
    function stakingVault() external view returns (address) {
        return _stakingVault;
    }

    /// @inheritdoc IEmissionsController
    function treasury() external view returns (address) {
        return _treasury;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Computes the emission and split of epochs `from .. from + count - 1` and emits
    /// EpochDistributed for each; no state is written.
    function _split(uint64 from, uint256 count, Pool[] memory pools_) private returns (Batch memory b) {
        uint256 poolCount = pools_.length;
        uint256 stakingBps_ = _stakingBps;
        b.poolShares = new uint256[](count * poolCount);
        b.emitted = _emitted;
        for (uint256 k = 0; k < count; ++k) {
            uint64 epoch = from + uint64(k);
            uint256 emission = EmissionSchedule.emissionAt(
                epoch,
                b.emitted,
                _INITIAL_EMISSION,
                _HALVING_INTERVAL,
                _EMISSION_CAP
            );
            b.emitted += emission;
            uint256 toPools = 0;
            for (uint256 i = 0; i < poolCount; ++i) {
                uint256 share = (emission * pools_[i].bps) / BPS;
                b.poolShares[k * poolCount + i] = share;
                toPools += share;
            }
            uint256 toStaking = (emission * stakingBps_) / BPS;
            // The treasury takes the rounding remainder, so the shares always sum to the emission.
            uint256 toTreasury = emission - toPools - toStaking;
            b.stakingTotal += toStaking;
            b.treasuryTotal += toTreasury;
            emit EpochDistributed(epoch, emission, toPools, toStaking, toTreasury);
        }
    }

    /// @dev Pays a batch: per pool, `fundEpoch` per epoch (also for zero shares, so each distributor
    /// sees every epoch) with the epoch's share plus whatever is held for the pool; then one mint (and
    /// a transfer of the held tokens) for what its distributor accepted. A distributor that reverts
    /// (or uses up FUND_EPOCH_GAS) leaves the amount held, minted to this contract, for a later call.
    /// Then the staking vault (one mint and one `notifyRewards`) and the treasury.
    function _pay(uint64 from, uint256 count, Pool[] memory pools_, Batch memory b) private {
        uint256 poolCount = pools_.length;
        for (uint256 i = 0; i < poolCount; ++i) {
            Pool memory pool = pools_[i];
            uint256 heldBefore = _held[pool.subnetwork];
            uint256 carry = heldBefore;
            uint256 paid = 0;
            for (uint256 k = 0; k < count; ++k) {
                uint64 epoch = from + uint64(k);
                uint256 amount = b.poolShares[k * poolCount + i] + carry;
                // static-check-ignore: call-before-write _held is written after the calls because it depends on their outcome; the epochs are already marked distributed (_nextEpoch), so a reentrant distribute has nothing to pay, and distributors are governance's
                if (_tryFund(pool.distributor, epoch, amount)) {
                    paid += amount;
                    carry = 0;
                    emit PoolFunded(pool.subnetwork, epoch, pool.distributor, amount);
                } else {
                    carry = amount;
                    emit PoolFundingHeld(pool.subnetwork, epoch, pool.distributor, amount);
                }
            }
            // paid + carry == heldBefore + poolTotal. Any success took the held amount with it.
            if (carry != heldBefore) _held[pool.subnetwork] = carry;
            if (paid != 0) {
                if (heldBefore != 0) IERC20(address(_TOKEN)).safeTransfer(pool.distributor, heldBefore);
                if (paid > heldBefore) _TOKEN.mint(pool.distributor, paid - heldBefore);
                if (carry != 0) _TOKEN.mint(address(this), carry);
            } else if (carry > heldBefore) {
                _TOKEN.mint(address(this), carry - heldBefore);
            }
        }
        if (b.stakingTotal != 0) {
            address vault = _stakingVault;
            _TOKEN.mint(vault, b.stakingTotal);
            IStakingRewardsReceiver(vault).notifyRewards(b.stakingTotal);
        }
        if (b.treasuryTotal != 0) _TOKEN.mint(_treasury, b.treasuryTotal);
    }

    /// @dev Calls `fundEpoch` with FUND_EPOCH_GAS; false if it reverts. Refuses to start with too
    /// little gas for that, so a caller cannot make a healthy distributor fail by starving it.
    function _tryFund(address distributor, uint64 epoch, uint256 amount) private returns (bool) {
        // EIP-150 forwards at most 63/64 of what is left; keep a margin for the call itself.
        if (gasleft() < (FUND_EPOCH_GAS * 64) / 63 + 5_000) revert EmissionsInsufficientGas(gasleft());
        try IRewardsDistributor(distributor).fundEpoch{gas: FUND_EPOCH_GAS}(epoch, amount) {
            return true;
        } catch {
            return false;
        }
    }

    function _endedEpochs() private view returns (uint64) {
        if (block.timestamp < _GENESIS_TIME) return 0;
        return uint64((block.timestamp - _GENESIS_TIME) / _EPOCH_LENGTH);
    }

    function _setSplit(uint16 stakingBps_, uint16 treasuryBps_, uint16[] memory poolBps) private {
        if (stakingBps_ < MIN_STAKING_BPS || stakingBps_ > MAX_STAKING_BPS) {
            revert EmissionsStakingShareOutOfBounds(stakingBps_);
        }
        if (treasuryBps_ > MAX_TREASURY_BPS) revert EmissionsTreasuryShareOutOfBounds(treasuryBps_);
        uint256 count = _pools.length;
        if (poolBps.length != count) revert EmissionsPoolCountMismatch(poolBps.length, count);
        uint256 total = uint256(stakingBps_) + treasuryBps_;
        // static-check-ignore: unbounded-loop _pools grows only by governance and is capped at MAX_POOLS (8)
        for (uint256 i = 0; i < count; ++i) total += poolBps[i];
        if (total != BPS) revert EmissionsSplitNotTotal(total);
        // static-check-ignore: unbounded-loop _pools grows only by governance and is capped at MAX_POOLS (8)
        for (uint256 i = 0; i < count; ++i) _pools[i].bps = poolBps[i];
        _stakingBps = stakingBps_;
        _treasuryBps = treasuryBps_;
        emit SplitChanged(_nextEpoch, stakingBps_, treasuryBps_, poolBps);
    }

    function _addPool(bytes32 subnetwork, address distributor) private {
        uint256 count = _pools.length;
        if (count >= MAX_POOLS) revert EmissionsTooManyPools();
        if (subnetwork == bytes32(0)) revert EmissionsInvalidSubnetwork(subnetwork);
        // static-check-ignore: unbounded-loop _pools grows only by governance and is capped at MAX_POOLS (8)
        for (uint256 i = 0; i < count; ++i) {
            if (_pools[i].subnetwork == subnetwork) revert EmissionsInvalidSubnetwork(subnetwork);
        }
        _checkDistributor(subnetwork, distributor);
        _pools.push(Pool({subnetwork: subnetwork, distributor: distributor, bps: 0}));
        emit PoolAdded(count, subnetwork, distributor, _nextEpoch);
    }

    /// @dev The distributor must serve `subnetwork` and not already be any pool's distributor.
    function _checkDistributor(bytes32 subnetwork, address distributor) private view {
        if (distributor == address(0)) revert EmissionsZeroAddress();
        uint256 count = _pools.length;
        // static-check-ignore: unbounded-loop _pools grows only by governance and is capped at MAX_POOLS (8)
        for (uint256 i = 0; i < count; ++i) {
            if (_pools[i].distributor == distributor) revert EmissionsInvalidDistributor(distributor);
        }
        if (IRewardsDistributor(distributor).subnetwork() != subnetwork) {
            revert EmissionsInvalidDistributor(distributor);
        }
    }
}
