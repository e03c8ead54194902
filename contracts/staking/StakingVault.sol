// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IMeshToken} from "../interfaces/IMeshToken.sol";
import {IStakingVault} from "../interfaces/IStakingVault.sol";

/// @title StakingVault
/// @notice Stake MESH, share the staking emission, unstake through a cooldown, bond devices, get slashed.
/// @dev Accounting, in short:
/// - Rewards stream: `notifyRewards` re-spreads the unstreamed rest of the stream plus the new amount
///   over `rewardsDuration` (Synthetix style). The rate is kept in wei * PRECISION per second and the
///   division remainder is carried into the next notification, so a stream pays out exactly what was
///   notified (less < 1 wei that waits for the next notification).
/// - Accumulator: streamed wei * PRECISION is divided by total active stake into `_acc.rewardPerShare`; the
///   remainder (`_acc.carry`, < total active stake, in wei * PRECISION) is added to the next step, so no
///   streamed wei is ever dropped by the global division. Each staker's share is floored once per
///   checkpoint (< 1 wei per checkpoint stays in the vault as dust, counted in `rewardsReserved`).
/// - While total active stake is zero, whatever streams (and any carry) accrues to the treasury
///   (`_treasuryDueScaledPlusOne`), released by `notifyRewards` or by anyone through `releaseTreasuryRewards`.
/// - `_rewardsReserved` = notified - paid to stakers - sent to the treasury. The vault's balance always
///   covers active stake + pending requests + `_rewardsReserved`; `notifyRewards` refuses any amount the
///   balance does not cover beyond that.
/// - Amounts are stored as uint96: MESH is capped at 1e27 wei < 2^96, so any balance the vault can
///   hold fits (inputs are range-checked with SafeCast). The accumulator is stored as uint160: it can
///   only overflow after more than 1.4e30 wei of rewards per wei of total stake, i.e. 1,400 times the
///   whole MESH supply streamed to a vault holding a single wei.
/// - Slashing takes active stake first, then pending requests through a per-staker `_slashDebt` that the
///   staker's next cancelled or withdrawn requests absorb (O(1) however many requests the staker
///   holds; splitting stake into many requests does not dilute or escape a slash). Slashed MESH goes
///   to the treasury rather than being burned: the supply schedule is fixed, so burning would only
///   shrink the float for good, while the treasury (the timelock) can make whole the parties a fault
///   harmed, or return a slash that governance later finds mistaken.
/// - Pause stops stake, requests, cancels, claims and slashes. Withdrawal of a matured request, reward
///   notifications and treasury releases never stop.
contract StakingVault is IStakingVault, AccessControl, Pausable {
    using SafeERC20 for IMeshToken;

    /// @notice Pauses and unpauses.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Slashes stakers.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice Notifies rewards (the emissions controller).
    bytes32 public constant REWARDS_NOTIFIER_ROLE = keccak256("REWARDS_NOTIFIER_ROLE");

    /// @notice Fixed-point scale of the accumulator and of the reward rate.
    uint256 public constant PRECISION = 1e18;
    /// @notice Shortest cooldown governance may set: one day, long enough for a slash to land.
    uint256 public constant MIN_COOLDOWN = 1 days;
    /// @notice Longest cooldown governance may set: 30 days, so stake is never locked for long; the
    /// timelock's delay must exceed the cooldown in force so stakers can leave before a change lands.
    uint256 public constant MAX_COOLDOWN = 30 days;
    /// @notice Shortest epoch a stream may span (demo networks run minute-long epochs).
    uint256 public constant MIN_REWARDS_DURATION = 1 minutes;
    /// @notice Longest epoch a stream may span.
    uint256 public constant MAX_REWARDS_DURATION = 365 days;
    /// @notice Highest per-event slash cap governance may set: half of a staker's stake.
    uint256 public constant MAX_SLASH_BPS_LIMIT = 5_000;
    /// @notice Per-event slash cap at deployment: 10% of a staker's stake.
    uint256 public constant DEFAULT_MAX_SLASH_BPS = 1_000;
    uint256 private constant _BPS = 10_000;

    /// @dev A staker's active stake and accumulator snapshot share one slot, so a stake writes once.
    struct Account {
        uint96 active;
        uint160 rewardPerSharePaid;
    }

    /// @dev Accrued rewards, pending total (net of slash debt) and the next request id.
    struct Book {
        uint96 rewards;
        uint96 pending;
        uint64 nextRequestId;
    }

    /// @dev Reward per share (wei * PRECISION per wei staked) and the division remainder carried forward.
    struct Accumulator {
        uint160 rewardPerShare;
        uint96 carry;
    }

    /// @dev Stream rate (wei * PRECISION per second), its end, and the governance parameters read with it.
    struct Schedule {
        uint160 rewardRate;
        uint40 periodFinish;
        uint40 cooldown;
        uint16 maxSlashBps;
    }

    struct Request {
        uint96 amount;
        uint64 unlockTime;
    }

    IMeshToken private immutable _MESH_TOKEN;
    IERC721 private immutable _DEVICE_REGISTRY;
    uint256 private immutable _REWARDS_DURATION;

    // The three fields below pack into the slot that holds Pausable's `_paused`, so the pause check
    // and the totals every stake touches cost one cold read.
    uint96 private _totalActive;
    uint96 private _totalPending;
    uint40 private _lastUpdate;

    Accumulator private _acc;
    Schedule private _schedule;

    uint256 private _rateRemainder;
    /// @dev Wei * PRECISION owed to the treasury, stored plus one so that the slot never returns to zero
    /// (a stake after an unstaked stretch then pays 2,900 gas for it, not 20,000).
    uint256 private _treasuryDueScaledPlusOne;
    uint256 private _rewardsReserved;
    uint256 private _minStakePerDevice;
    address private _treasury;

    mapping(address staker => Account) private _accounts;
    mapping(address staker => Book) private _books;
    mapping(address staker => uint256) private _slashDebt;
    mapping(address staker => mapping(uint256 requestId => Request)) private _requests;

    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param mesh_ The MESH token.
    /// @param deviceRegistry_ The device registry (ERC-721; balanceOf counts live devices).
    /// @param treasury_ Receives slashed MESH and rewards streamed while nothing is staked.
    /// @param rewardsDuration_ Stream length in seconds (one epoch), within the duration bounds.
    /// @param cooldown_ Initial unstake cooldown (7 days by default in deployment), within the bounds.
    constructor(
        address admin,
        IMeshToken mesh_,
        IERC721 deviceRegistry_,
        address treasury_,
        uint64 rewardsDuration_,
        uint64 cooldown_
    ) {
        if (
            admin == address(0) ||
            address(mesh_) == address(0) ||
            address(deviceRegistry_) == address(0) ||
            treasury_ == address(0)
        ) revert StakingZeroAddress();
        if (rewardsDuration_ < MIN_REWARDS_DURATION || rewardsDuration_ > MAX_REWARDS_DURATION) {
            revert StakingRewardsDurationOutOfBounds(rewardsDuration_, MIN_REWARDS_DURATION, MAX_REWARDS_DURATION);
        }
        _checkCooldown(cooldown_);
        _MESH_TOKEN = mesh_;
        _DEVICE_REGISTRY = deviceRegistry_;
        _REWARDS_DURATION = rewardsDuration_;
        _treasury = treasury_;
        _schedule.cooldown = uint40(cooldown_);
        _schedule.maxSlashBps = uint16(DEFAULT_MAX_SLASH_BPS);
        // Non-zero starts keep the hot slots off the 20,000-gas zero-to-non-zero store: the totals slot
        // (via _lastUpdate) and the accumulator, which starts at 1 (only differences of it matter, and a
        // zero snapshot then marks an account that never staked).
        _lastUpdate = uint40(block.timestamp);
        _acc.rewardPerShare = 1;
        _treasuryDueScaledPlusOne = 1;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit TreasuryUpdated(address(0), treasury_);
        emit CooldownUpdated(0, cooldown_);
        emit MaxSlashBpsUpdated(0, DEFAULT_MAX_SLASH_BPS);
    }

    // ------------------------------------------------------------------ staker actions

    /// @inheritdoc IStakingVault
    function stake(uint256 amount) external whenNotPaused {
        _stake(amount);
    }

    /// @inheritdoc IStakingVault
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external whenNotPaused {
        // A permit can be front-run (its signature is public in the mempool): if it fails, carry on and let
        // the transfer rely on the allowance, as OpenZeppelin advises for IERC20Permit.
        /* solhint-disable no-empty-blocks */
        // static-check-ignore: call-before-write permit only sets this vault's allowance on MESH (no hooks, no callbacks)
        try IERC20Permit(address(_MESH_TOKEN)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        /* solhint-enable no-empty-blocks */
        _stake(amount);
    }

    /// @inheritdoc IStakingVault
    function requestUnstake(uint256 amount) external whenNotPaused returns (uint256 requestId) {
        if (amount == 0) revert StakingZeroAmount();
        uint256 acc = _accrue();
        Account memory account = _accounts[msg.sender];
        if (amount > account.active) revert StakingInsufficientStake(account.active, amount);
        uint96 amount96 = uint96(amount); // <= active, a uint96
        Book memory book = _books[msg.sender];
        book.rewards += _owed(account, acc);
        book.pending += amount96;
        requestId = book.nextRequestId++;
        uint256 unlockTime = block.timestamp + _schedule.cooldown;

        _books[msg.sender] = book;
        _accounts[msg.sender] = Account(account.active - amount96, uint160(acc));
        _requests[msg.sender][requestId] = Request(amount96, uint64(unlockTime));
        _totalActive -= amount96;
        _totalPending += amount96;
        emit UnstakeRequested(msg.sender, requestId, amount, unlockTime);
    }

    /// @inheritdoc IStakingVault
    function cancelUnstake(uint256 requestId) external whenNotPaused {
        Request memory request = _requests[msg.sender][requestId];
        if (request.amount == 0) revert StakingUnknownRequest(msg.sender, requestId);
        uint256 acc = _accrue();
        uint96 restaked = _closeRequest(requestId, request.amount);
        Account memory account = _accounts[msg.sender];
        uint96 owed = _owed(account, acc);
        if (owed != 0) _books[msg.sender].rewards += owed;
        _accounts[msg.sender] = Account(account.active + restaked, uint160(acc));
        _totalActive += restaked;
        emit UnstakeCancelled(msg.sender, requestId, restaked);
    }

    /// @inheritdoc IStakingVault
    function withdraw(uint256 requestId) external {
        // No pause check and no reward accrual: pending stake earns nothing, and nothing may block a
        // matured withdrawal.
        Request memory request = _requests[msg.sender][requestId];
        if (request.amount == 0) revert StakingUnknownRequest(msg.sender, requestId);
        if (block.timestamp < request.unlockTime) revert StakingRequestNotMatured(requestId, request.unlockTime);
        uint96 payout = _closeRequest(requestId, request.amount);
        emit Withdrawn(msg.sender, requestId, payout);
        if (payout != 0) _MESH_TOKEN.safeTransfer(msg.sender, payout);
    }

    /// @inheritdoc IStakingVault
    function claimRewards() external whenNotPaused returns (uint256 amount) {
        uint256 acc = _accrue();
        Account memory account = _accounts[msg.sender];
        amount = _books[msg.sender].rewards + _owed(account, acc);
        if (amount == 0) revert StakingNothingToClaim();
        _books[msg.sender].rewards = 0;
        _accounts[msg.sender].rewardPerSharePaid = uint160(acc);
        _rewardsReserved -= amount;
        emit RewardsClaimed(msg.sender, amount);
        _MESH_TOKEN.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ roles

    /// @inheritdoc IStakingVault
    function notifyRewards(uint256 amount) external onlyRole(REWARDS_NOTIFIER_ROLE) {
        if (amount == 0) return;
        _accrue();
        uint256 reserved = _rewardsReserved;
        uint256 required = uint256(_totalActive) + _totalPending + reserved + amount;
        uint256 balance = _MESH_TOKEN.balanceOf(address(this));
        if (balance < required) revert StakingInsufficientRewardBalance(balance, required);

        uint256 duration = _REWARDS_DURATION;
        uint256 finish = _schedule.periodFinish;
        uint256 leftover = block.timestamp < finish ? uint256(_schedule.rewardRate) * (finish - block.timestamp) : 0;
        uint256 scaled = amount * PRECISION + leftover + _rateRemainder;
        uint256 rate = scaled / duration;
        uint256 newFinish = block.timestamp + duration;
        _schedule.rewardRate = SafeCast.toUint160(rate);
        _rateRemainder = scaled % duration;
        _schedule.periodFinish = uint40(newFinish);
        _lastUpdate = uint40(block.timestamp);
        _rewardsReserved = reserved + amount;
        emit RewardsNotified(msg.sender, amount, rate, newFinish);
        _releaseTreasuryRewards();
    }

    /// @inheritdoc IStakingVault
    function releaseTreasuryRewards() external returns (uint256 amount) {
        _accrue();
        amount = _releaseTreasuryRewards();
    }

    /// @inheritdoc IStakingVault
    function slash(
        address staker,
        uint256 amount,
        bytes32 reason
    ) external onlyRole(SLASHER_ROLE) whenNotPaused returns (uint256 slashed) {
        if (amount == 0) revert StakingZeroAmount();
        uint256 acc = _accrue();
        Account memory account = _accounts[staker];
        Book memory book = _books[staker];
        uint256 cap = ((uint256(account.active) + book.pending) * _schedule.maxSlashBps) / _BPS;
        if (cap == 0) revert StakingNothingToSlash(staker);
        slashed = amount < cap ? amount : cap;
        // cap <= active + pending, so both parts fit their uint96 sources.
        uint96 fromActive = uint96(slashed < account.active ? slashed : account.active);
        uint96 fromPending = uint96(slashed - fromActive);

        book.rewards += _owed(account, acc);
        book.pending -= fromPending;
        _books[staker] = book;
        _accounts[staker] = Account(account.active - fromActive, uint160(acc));
        if (fromPending != 0) {
            _slashDebt[staker] += fromPending;
            _totalPending -= fromPending;
        }
        _totalActive -= fromActive;
        emit Slashed(staker, msg.sender, reason, slashed, fromActive, fromPending);
        _MESH_TOKEN.safeTransfer(_treasury, slashed);
    }

    /// @inheritdoc IStakingVault
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IStakingVault
    function unpause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        _unpause();
    }

    /// @inheritdoc IStakingVault
    function setCooldown(uint256 newCooldown) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkCooldown(newCooldown);
        emit CooldownUpdated(_schedule.cooldown, newCooldown);
        _schedule.cooldown = uint40(newCooldown);
    }

    /// @inheritdoc IStakingVault
    function setMaxSlashBps(uint256 newBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newBps > MAX_SLASH_BPS_LIMIT) revert StakingMaxSlashBpsTooHigh(newBps, MAX_SLASH_BPS_LIMIT);
        emit MaxSlashBpsUpdated(_schedule.maxSlashBps, newBps);
        _schedule.maxSlashBps = uint16(newBps);
    }

    /// @inheritdoc IStakingVault
    function setMinStakePerDevice(uint256 newAmount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit MinStakePerDeviceUpdated(_minStakePerDevice, newAmount);
        _minStakePerDevice = newAmount;
    }

    /// @inheritdoc IStakingVault
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert StakingZeroAddress();
        emit TreasuryUpdated(_treasury, newTreasury);
        _treasury = newTreasury;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStakingVault
    function mesh() external view returns (IMeshToken) {
        return _MESH_TOKEN;
    }

    /// @inheritdoc IStakingVault
    function deviceRegistry() external view returns (IERC721) {
        return _DEVICE_REGISTRY;
    }

    /// @inheritdoc IStakingVault
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IStakingVault
    function rewardsDuration() external view returns (uint256) {
        return _REWARDS_DURATION;
    }

    /// @inheritdoc IStakingVault
    function cooldown() external view returns (uint256) {
        return _schedule.cooldown;
    }

    /// @inheritdoc IStakingVault
    function maxSlashBps() external view returns (uint256) {
        return _schedule.maxSlashBps;
    }

    /// @inheritdoc IStakingVault
    function minStakePerDevice() external view returns (uint256) {
        return _minStakePerDevice;
    }

    /// @inheritdoc IStakingVault
    function totalActiveStake() external view returns (uint256) {
        return _totalActive;
    }

    /// @inheritdoc IStakingVault
    function totalPendingUnstake() external view returns (uint256) {
        return _totalPending;
    }

    /// @inheritdoc IStakingVault
    function rewardsReserved() external view returns (uint256) {
        return _rewardsReserved;
    }

    /// @inheritdoc IStakingVault
    function activeStakeOf(address staker) external view returns (uint256) {
        return _accounts[staker].active;
    }

    /// @inheritdoc IStakingVault
    function pendingUnstakeOf(address staker) external view returns (uint256) {
        return _books[staker].pending;
    }

    /// @inheritdoc IStakingVault
    function slashDebtOf(address staker) external view returns (uint256) {
        return _slashDebt[staker];
    }

    /// @inheritdoc IStakingVault
    function unstakeRequest(
        address staker,
        uint256 requestId
    ) external view returns (uint256 amount, uint256 unlockTime) {
        Request memory request = _requests[staker][requestId];
        return (request.amount, request.unlockTime);
    }

    /// @inheritdoc IStakingVault
    function nextRequestId(address staker) external view returns (uint256) {
        uint256 next = _books[staker].nextRequestId;
        return next == 0 ? 1 : next;
    }

    /// @inheritdoc IStakingVault
    function earned(address staker) external view returns (uint256) {
        return _books[staker].rewards + _owed(_accounts[staker], _currentRewardPerShare());
    }

    /// @inheritdoc IStakingVault
    function rewardPerShare() external view returns (uint256) {
        return _currentRewardPerShare();
    }

    /// @inheritdoc IStakingVault
    function rewardRate() external view returns (uint256) {
        return _schedule.rewardRate;
    }

    /// @inheritdoc IStakingVault
    function periodFinish() external view returns (uint256) {
        return _schedule.periodFinish;
    }

    /// @inheritdoc IStakingVault
    function lastUpdateTime() external view returns (uint256) {
        return _lastUpdate;
    }

    /// @inheritdoc IStakingVault
    function streamingRewards() external view returns (uint256) {
        uint256 finish = _schedule.periodFinish;
        if (block.timestamp >= finish) return 0;
        return (uint256(_schedule.rewardRate) * (finish - block.timestamp)) / PRECISION;
    }

    /// @inheritdoc IStakingVault
    function treasuryRewardsDue() external view returns (uint256) {
        uint256 due = _treasuryDueScaledPlusOne - 1;
        if (_totalActive == 0) {
            // Mirrors _accrue: the carry moves along with the next streamed step.
            uint256 streamed = _unaccruedStream();
            if (streamed != 0) due += streamed + _acc.carry;
        }
        return due / PRECISION;
    }

    /// @inheritdoc IStakingVault
    function bondedDeviceCount(address owner) external view returns (uint256) {
        uint256 devices = _DEVICE_REGISTRY.balanceOf(owner);
        uint256 bond = _minStakePerDevice;
        if (bond == 0) return devices;
        uint256 covered = _accounts[owner].active / bond;
        return covered < devices ? covered : devices;
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IStakingVault).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _stake(uint256 amount) private {
        if (amount == 0) revert StakingZeroAmount();
        uint96 amount96 = SafeCast.toUint96(amount);
        uint256 acc = _accrue();
        Account memory account = _accounts[msg.sender];
        uint96 owed = _owed(account, acc);
        if (owed != 0) {
            _books[msg.sender].rewards += owed;
        } else if (account.rewardPerSharePaid == 0) {
            // First stake: open the book (request ids start at 1), so that later stakes, which credit
            // rewards to it, never pay for a fresh slot. This keeps later stakes well under budget.
            _books[msg.sender].nextRequestId = 1;
        }
        _accounts[msg.sender] = Account(account.active + amount96, uint160(acc));
        _totalActive += amount96;
        emit Staked(msg.sender, amount);
        _MESH_TOKEN.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Deletes the caller's request and takes any slash debt out of it; returns what is left of it,
    /// which leaves the pending totals.
    function _closeRequest(uint256 requestId, uint96 amount) private returns (uint96 remaining) {
        delete _requests[msg.sender][requestId];
        remaining = amount;
        uint256 debt = _slashDebt[msg.sender];
        if (debt != 0) {
            uint96 absorbed = debt < amount ? uint96(debt) : amount;
            _slashDebt[msg.sender] = debt - absorbed;
            remaining -= absorbed;
        }
        if (remaining != 0) {
            _books[msg.sender].pending -= remaining;
            _totalPending -= remaining;
        }
    }

    /// @dev Brings the accumulator up to now and returns it. Streams to the treasury while nothing is staked.
    function _accrue() private returns (uint256 acc) {
        Accumulator memory accumulator = _acc;
        acc = accumulator.rewardPerShare;
        uint256 last = _lastUpdate;
        uint256 finish = _schedule.periodFinish;
        uint256 end = block.timestamp < finish ? block.timestamp : finish;
        if (end <= last) return acc;
        uint256 streamed = uint256(_schedule.rewardRate) * (end - last) + accumulator.carry;
        uint256 total = _totalActive;
        if (total == 0) {
            _treasuryDueScaledPlusOne += streamed;
            if (accumulator.carry != 0) _acc.carry = 0;
        } else {
            acc += streamed / total;
            _acc = Accumulator(SafeCast.toUint160(acc), uint96(streamed % total)); // remainder < total, a uint96
        }
        _lastUpdate = uint40(end);
    }

    function _releaseTreasuryRewards() private returns (uint256 amount) {
        uint256 duePlusOne = _treasuryDueScaledPlusOne;
        amount = (duePlusOne - 1) / PRECISION;
        if (amount == 0) return 0;
        _treasuryDueScaledPlusOne = duePlusOne - amount * PRECISION;
        _rewardsReserved -= amount;
        address to = _treasury;
        emit TreasuryRewardsReleased(to, amount);
        _MESH_TOKEN.safeTransfer(to, amount);
    }

    function _currentRewardPerShare() private view returns (uint256 acc) {
        acc = _acc.rewardPerShare;
        uint256 total = _totalActive;
        if (total != 0) {
            uint256 streamed = _unaccruedStream();
            if (streamed != 0) acc += (streamed + _acc.carry) / total;
        }
    }

    /// @dev Wei * PRECISION streamed since the last accrual.
    function _unaccruedStream() private view returns (uint256) {
        uint256 finish = _schedule.periodFinish;
        uint256 end = block.timestamp < finish ? block.timestamp : finish;
        uint256 last = _lastUpdate;
        return end > last ? uint256(_schedule.rewardRate) * (end - last) : 0;
    }

    /// @dev Rewards earned by `account` since its last checkpoint (part of what the vault holds, so it
    /// fits uint96; checked anyway).
    function _owed(Account memory account, uint256 acc) private pure returns (uint96) {
        return SafeCast.toUint96((uint256(account.active) * (acc - account.rewardPerSharePaid)) / PRECISION);
    }

    function _checkCooldown(uint256 value) private pure {
        if (value < MIN_COOLDOWN || value > MAX_COOLDOWN) {
            revert StakingCooldownOutOfBounds(value, MIN_COOLDOWN, MAX_COOLDOWN);
        }
    }
}
