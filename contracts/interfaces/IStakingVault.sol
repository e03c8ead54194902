// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IMeshToken} from "./IMeshToken.sol";

/// @title Staking vault interface
/// @notice Stakers lock MESH to secure the network and share the staking part of each epoch's emission.
/// Rewards stream linearly over `rewardsDuration` after each `notifyRewards`, and accrue through an
/// O(1) reward-per-share accumulator. Unstaking is a request that matures after a cooldown; stake
/// under cooldown earns nothing and does not bond devices, but can still be slashed. A matured
/// request can always be withdrawn, paused or not.
interface IStakingVault {
    // ------------------------------------------------------------------ errors

    /// @notice A zero amount was given where a positive one is required.
    error StakingZeroAmount();
    /// @notice The zero address was given where an account or contract is required.
    error StakingZeroAddress();
    /// @notice The staker's active stake is smaller than the amount asked for.
    error StakingInsufficientStake(uint256 available, uint256 requested);
    /// @notice The staker has no pending unstake request with this id.
    error StakingUnknownRequest(address staker, uint256 requestId);
    /// @notice The request's cooldown has not ended yet.
    error StakingRequestNotMatured(uint256 requestId, uint256 unlockTime);
    /// @notice The caller has no rewards to claim.
    error StakingNothingToClaim();
    /// @notice The staker has nothing that can be slashed (no stake, or a zero cap).
    error StakingNothingToSlash(address staker);
    /// @notice The vault's MESH balance does not cover what it already owes plus the notified amount.
    error StakingInsufficientRewardBalance(uint256 balance, uint256 required);
    /// @notice The cooldown is outside [MIN_COOLDOWN, MAX_COOLDOWN].
    error StakingCooldownOutOfBounds(uint256 cooldown, uint256 min, uint256 max);
    /// @notice The rewards duration is outside [MIN_REWARDS_DURATION, MAX_REWARDS_DURATION].
    error StakingRewardsDurationOutOfBounds(uint256 duration, uint256 min, uint256 max);
    /// @notice The per-event slash cap is above MAX_SLASH_BPS_LIMIT.
    error StakingMaxSlashBpsTooHigh(uint256 bps, uint256 max);

    // ------------------------------------------------------------------ events

    /// @notice `staker` added `amount` to its active stake.
    event Staked(address indexed staker, uint256 amount);
    /// @notice `staker` moved `amount` from active stake into request `requestId`, withdrawable at `unlockTime`.
    event UnstakeRequested(address indexed staker, uint256 indexed requestId, uint256 amount, uint256 unlockTime);
    /// @notice `staker` cancelled request `requestId`; `restaked` went back to active stake.
    event UnstakeCancelled(address indexed staker, uint256 indexed requestId, uint256 restaked);
    /// @notice `staker` withdrew matured request `requestId` and received `amount`.
    event Withdrawn(address indexed staker, uint256 indexed requestId, uint256 amount);
    /// @notice `staker` received `amount` of accrued rewards.
    event RewardsClaimed(address indexed staker, uint256 amount);
    /// @notice `amount` was added to the reward stream, which now pays `rewardRate` (scaled by PRECISION,
    /// per second) until `periodFinish`.
    event RewardsNotified(address indexed notifier, uint256 amount, uint256 rewardRate, uint256 periodFinish);
    /// @notice Rewards that streamed while nothing was staked were sent to the treasury.
    event TreasuryRewardsReleased(address indexed treasury, uint256 amount);
    /// @notice `slasher` slashed `staker` by `amount` (`fromActive` + `fromPending`) for `reason`; the MESH
    /// went to the treasury.
    event Slashed(
        address indexed staker,
        address indexed slasher,
        bytes32 indexed reason,
        uint256 amount,
        uint256 fromActive,
        uint256 fromPending
    );
    /// @notice The cooldown of new unstake requests changed.
    event CooldownUpdated(uint256 previousCooldown, uint256 newCooldown);
    /// @notice The per-event slash cap (basis points of a staker's total stake) changed.
    event MaxSlashBpsUpdated(uint256 previousBps, uint256 newBps);
    /// @notice The stake needed to bond one device changed.
    event MinStakePerDeviceUpdated(uint256 previousAmount, uint256 newAmount);
    /// @notice The treasury (receiver of slashed MESH and of unstaked-period rewards) changed.
    event TreasuryUpdated(address indexed previousTreasury, address indexed newTreasury);

    // ------------------------------------------------------------------ staker actions

    /// @notice Stakes `amount` MESH from the caller (needs an allowance). Not while paused.
    /// @dev Only rewards streamed after this call accrue to the new stake.
    /// @param amount Amount in wei (18 decimals), > 0.
    function stake(uint256 amount) external;

    /// @notice Approves the vault with an EIP-2612 permit and stakes `amount`, in one transaction.
    /// @dev A permit that fails (for instance because it was front-run and its nonce is spent) is
    /// ignored; the stake then succeeds if the allowance is already in place. Not while paused.
    /// @param amount Amount in wei, > 0; also the permit's value.
    /// @param deadline Permit deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of the caller's active stake into a new unstake request that matures after
    /// the current cooldown. The amount stops earning rewards and bonding devices at once. Not while paused.
    /// @param amount Amount in wei, > 0, at most the caller's active stake.
    /// @return requestId The request's id, unique per staker (ids count up from 1).
    function requestUnstake(uint256 amount) external returns (uint256 requestId);

    /// @notice Cancels the caller's pending request `requestId`; its amount (less any slash it absorbed)
    /// returns to active stake. Not while paused.
    /// @param requestId The request to cancel.
    function cancelUnstake(uint256 requestId) external;

    /// @notice Pays out the caller's matured request `requestId` (less any slash it absorbed). Works while
    /// paused: nothing stops a staker from withdrawing a matured request.
    /// @param requestId The request to withdraw.
    function withdraw(uint256 requestId) external;

    /// @notice Pays the caller all its accrued rewards. Not while paused.
    /// @return amount The amount paid.
    function claimRewards() external returns (uint256 amount);

    // ------------------------------------------------------------------ roles

    /// @notice Adds `amount` to the reward stream: the unstreamed rest of the current stream and `amount`
    /// stream linearly over the next `rewardsDuration`. Only REWARDS_NOTIFIER_ROLE (the emissions
    /// controller), which must have sent the MESH to the vault first. Works while paused. A zero amount is
    /// accepted and changes nothing, so an empty epoch needs no special case.
    /// @dev Reverts with StakingInsufficientRewardBalance unless the vault's balance covers active stake,
    /// pending requests, rewards already reserved and `amount`. Also releases to the treasury whatever
    /// streamed while nothing was staked.
    /// @param amount Reward amount in wei.
    function notifyRewards(uint256 amount) external;

    /// @notice Sends the treasury the rewards that streamed while nothing was staked. Anyone may call.
    /// @return amount The amount sent (may be zero).
    function releaseTreasuryRewards() external returns (uint256 amount);

    /// @notice Slashes `staker` by up to `amount`, capped at maxSlashBps of its active plus pending stake,
    /// taking active stake first and then pending requests; the MESH goes to the treasury. Only
    /// SLASHER_ROLE; not while paused (so the guardian can stop a compromised slasher).
    /// @dev Pending requests are slashed as a whole through a per-staker debt that the staker's next
    /// cancelled or withdrawn requests absorb, in the order the staker chooses: O(1), whatever the number
    /// of requests, and splitting stake into many requests does not escape it.
    /// @param staker The staker to slash.
    /// @param amount The amount asked for, > 0; the amount taken is min(amount, cap).
    /// @param reason A reason code, emitted for indexers.
    /// @return slashed The amount actually taken.
    function slash(address staker, uint256 amount, bytes32 reason) external returns (uint256 slashed);

    /// @notice Pauses stake, unstake requests, cancellations, claims and slashing. Only GUARDIAN_ROLE.
    function pause() external;

    /// @notice Lifts the pause. GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE.
    function unpause() external;

    /// @notice Sets the cooldown of future unstake requests (pending ones keep theirs). Only the admin.
    /// @param newCooldown Seconds, within [MIN_COOLDOWN, MAX_COOLDOWN].
    function setCooldown(uint256 newCooldown) external;

    /// @notice Sets the per-event slash cap in basis points of a staker's total. Only the admin.
    /// @param newBps At most MAX_SLASH_BPS_LIMIT; zero disables slashing.
    function setMaxSlashBps(uint256 newBps) external;

    /// @notice Sets the active stake that bonds one device. Only the admin.
    /// @param newAmount Wei per device; zero bonds every device without stake.
    function setMinStakePerDevice(uint256 newAmount) external;

    /// @notice Sets the treasury. Only the admin.
    /// @param newTreasury Non-zero address.
    function setTreasury(address newTreasury) external;

    // ------------------------------------------------------------------ views

    /// @notice The MESH token.
    function mesh() external view returns (IMeshToken);

    /// @notice The device registry (an ERC-721 whose balanceOf counts an owner's live devices).
    function deviceRegistry() external view returns (IERC721);

    /// @notice Receiver of slashed MESH and of rewards that streamed while nothing was staked.
    function treasury() external view returns (address);

    /// @notice Seconds over which each notified amount streams (one epoch).
    function rewardsDuration() external view returns (uint256);

    /// @notice Cooldown, in seconds, of new unstake requests.
    function cooldown() external view returns (uint256);

    /// @notice Per-event slash cap in basis points of a staker's active plus pending stake.
    function maxSlashBps() external view returns (uint256);

    /// @notice Active stake needed per bonded device (zero: every device is bonded).
    function minStakePerDevice() external view returns (uint256);

    /// @notice Sum of all active stake.
    function totalActiveStake() external view returns (uint256);

    /// @notice Sum of all pending unstake requests (net of slashes).
    function totalPendingUnstake() external view returns (uint256);

    /// @notice Rewards notified and not yet paid out to stakers or the treasury (streaming, accrued,
    /// treasury-due and rounding dust). The vault holds at least stakes + pending + this.
    function rewardsReserved() external view returns (uint256);

    /// @notice `staker`'s active (earning, bonding) stake.
    function activeStakeOf(address staker) external view returns (uint256);

    /// @notice `staker`'s pending unstake total, net of slashes.
    function pendingUnstakeOf(address staker) external view returns (uint256);

    /// @notice Slash taken from `staker`'s pending requests and not yet absorbed by a cancel or withdraw.
    function slashDebtOf(address staker) external view returns (uint256);

    /// @notice A pending request: its amount before slash debt, and when it matures (zeros if none).
    /// @param staker The staker.
    /// @param requestId The request id.
    function unstakeRequest(
        address staker,
        uint256 requestId
    ) external view returns (uint256 amount, uint256 unlockTime);

    /// @notice The id the staker's next request will get (ids count up from 1; 0 is never an id).
    function nextRequestId(address staker) external view returns (uint256);

    /// @notice Rewards `staker` could claim now.
    function earned(address staker) external view returns (uint256);

    /// @notice The reward-per-share accumulator as of now (scaled by PRECISION).
    function rewardPerShare() external view returns (uint256);

    /// @notice Current stream rate, wei per second scaled by PRECISION.
    function rewardRate() external view returns (uint256);

    /// @notice End of the current stream.
    function periodFinish() external view returns (uint256);

    /// @notice Last time the accumulator was brought up to date.
    function lastUpdateTime() external view returns (uint256);

    /// @notice Rewards still to stream from now to periodFinish (rounded down).
    function streamingRewards() external view returns (uint256);

    /// @notice Rewards streamed while nothing was staked, owed to the treasury and not yet sent (rounded down).
    function treasuryRewardsDue() external view returns (uint256);

    /// @notice How many of `owner`'s devices are bonded: min(devices in the registry, active stake /
    /// minStakePerDevice); every device when minStakePerDevice is zero. Pending requests do not count.
    function bondedDeviceCount(address owner) external view returns (uint256);
}
