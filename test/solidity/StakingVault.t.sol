// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {IMeshToken} from "../../contracts/interfaces/IMeshToken.sol";
import {StakingVault} from "../../contracts/staking/StakingVault.sol";
import {IStakingVault} from "../../contracts/interfaces/IStakingVault.sol";
import {DeviceRegistryMock} from "../../contracts/mocks/DeviceRegistryMock.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @dev Drives the vault at random for the invariant runner. It is the token's minter (it plays the
/// emissions controller), the vault's admin, guardian and slasher, and acts for five stakers whose keys
/// it knows (to sign permits). Every call it makes either must succeed or must fail with one specific
/// error; anything else is counted in `unexpected`, which an invariant requires to stay zero (the runner
/// ignores reverts of handler calls, so the handler never relies on reverting).
contract StakingVaultHandler is Test {
    bytes32 private constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    uint256 private constant ACTORS = 5;
    uint256 private constant MAX_AMOUNT = 1_000_000e18;

    StakingVault public immutable vault;
    MeshToken public immutable token;
    address public immutable treasury;

    address[] private _actors;
    mapping(address actor => uint256 key) private _keys;
    mapping(address actor => uint256[] ids) private _liveIds;

    // ghosts
    uint256 public notifiedTotal;
    uint256 public paidRewards;
    uint256 public slashedTotal;
    uint256 public checkpoints;
    uint256 public maxTotalActive;
    uint256 public unexpected;
    uint256 public withdrawalsWhilePaused;

    constructor(StakingVault vault_, MeshToken token_, address treasury_) {
        vault = vault_;
        token = token_;
        treasury = treasury_;
        for (uint256 i = 0; i < ACTORS; i++) {
            uint256 key = 0xA11CE + i;
            address actor = vm.addr(key);
            _actors.push(actor);
            _keys[actor] = key;
        }
    }

    // ------------------------------------------------------------------ actions

    function stake(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        amount = bound(amount, 1, MAX_AMOUNT);
        token.mint(actor, amount);
        vm.prank(actor);
        token.approve(address(vault), amount);
        vm.prank(actor);
        try vault.stake(amount) {
            _expectSuccess(!vault.paused());
            checkpoints++;
        } catch (bytes memory err) {
            _expectFailure(vault.paused(), err, Pausable.EnforcedPause.selector);
        }
        _track();
    }

    function stakeWithPermit(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        amount = bound(amount, 1, MAX_AMOUNT);
        token.mint(actor, amount);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, actor, address(vault), amount, token.nonces(actor), deadline)
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[actor], digest);
        vm.prank(actor);
        try vault.stakeWithPermit(amount, deadline, v, r, s) {
            _expectSuccess(!vault.paused());
            checkpoints++;
        } catch (bytes memory err) {
            _expectFailure(vault.paused(), err, Pausable.EnforcedPause.selector);
        }
        _track();
    }

    function requestUnstake(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        uint256 active = vault.activeStakeOf(actor);
        if (active == 0) return;
        amount = amount % 4 == 0 ? active : bound(amount, 1, active);
        vm.prank(actor);
        try vault.requestUnstake(amount) returns (uint256 id) {
            _expectSuccess(!vault.paused());
            _liveIds[actor].push(id);
            checkpoints++;
        } catch (bytes memory err) {
            _expectFailure(vault.paused(), err, Pausable.EnforcedPause.selector);
        }
        _track();
    }

    function cancelUnstake(uint256 actorSeed, uint256 idSeed) external {
        address actor = _actor(actorSeed);
        uint256[] storage ids = _liveIds[actor];
        if (ids.length == 0) return;
        uint256 index = idSeed % ids.length;
        uint256 id = ids[index];
        vm.prank(actor);
        try vault.cancelUnstake(id) {
            _expectSuccess(!vault.paused());
            _removeId(ids, index);
            checkpoints++;
        } catch (bytes memory err) {
            _expectFailure(vault.paused(), err, Pausable.EnforcedPause.selector);
        }
        _track();
    }

    /// @dev Half the time waits for the request to mature first. Must succeed once matured, paused or not,
    /// and pay the request less the slash debt it absorbs.
    function withdraw(uint256 actorSeed, uint256 idSeed, bool waitForIt) external {
        address actor = _actor(actorSeed);
        uint256[] storage ids = _liveIds[actor];
        if (ids.length == 0) return;
        uint256 index = idSeed % ids.length;
        uint256 id = ids[index];
        (uint256 amount, uint256 unlockTime) = vault.unstakeRequest(actor, id);
        if (waitForIt && block.timestamp < unlockTime) vm.warp(unlockTime);
        bool matured = block.timestamp >= unlockTime;
        uint256 debt = vault.slashDebtOf(actor);
        uint256 expected = amount - (debt < amount ? debt : amount);
        uint256 before = token.balanceOf(actor);
        vm.prank(actor);
        try vault.withdraw(id) {
            _expectSuccess(matured);
            if (token.balanceOf(actor) - before != expected) unexpected++;
            _removeId(ids, index);
            if (vault.paused()) withdrawalsWhilePaused++;
        } catch (bytes memory err) {
            _expectFailure(!matured, err, IStakingVault.StakingRequestNotMatured.selector);
        }
        _track();
    }

    function claimRewards(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        uint256 owed = vault.earned(actor);
        uint256 before = token.balanceOf(actor);
        vm.prank(actor);
        try vault.claimRewards() returns (uint256 amount) {
            _expectSuccess(!vault.paused() && owed != 0);
            uint256 got = token.balanceOf(actor) - before;
            if (got != amount || got != owed) unexpected++;
            paidRewards += got;
            checkpoints++;
        } catch (bytes memory err) {
            bytes4 why =
                vault.paused() ? Pausable.EnforcedPause.selector : IStakingVault.StakingNothingToClaim.selector;
            _expectFailure(vault.paused() || owed == 0, err, why);
        }
        _track();
    }

    function slash(uint256 actorSeed, uint256 amount, uint256 bpsSeed) external {
        address actor = _actor(actorSeed);
        if (bpsSeed % 3 == 0) vault.setMaxSlashBps(bound(bpsSeed, 0, vault.MAX_SLASH_BPS_LIMIT()));
        amount = bound(amount, 1, MAX_AMOUNT);
        uint256 total = vault.activeStakeOf(actor) + vault.pendingUnstakeOf(actor);
        uint256 cap = (total * vault.maxSlashBps()) / 10_000;
        uint256 treasuryBefore = token.balanceOf(treasury);
        try vault.slash(actor, amount, keccak256("invariant")) returns (uint256 slashed) {
            _expectSuccess(!vault.paused() && cap != 0);
            if (slashed != (amount < cap ? amount : cap)) unexpected++;
            if (token.balanceOf(treasury) - treasuryBefore != slashed) unexpected++;
            slashedTotal += slashed;
            checkpoints++;
        } catch (bytes memory err) {
            bytes4 why =
                vault.paused() ? Pausable.EnforcedPause.selector : IStakingVault.StakingNothingToSlash.selector;
            _expectFailure(vault.paused() || cap == 0, err, why);
        }
        _track();
    }

    /// @dev The emissions controller's move: mint the epoch's staking rewards to the vault, then notify.
    function notifyRewards(uint256 amount) external {
        amount = bound(amount, 0, MAX_AMOUNT);
        token.mint(address(vault), amount);
        try vault.notifyRewards(amount) {
            notifiedTotal += amount;
        } catch {
            unexpected++;
        }
        _track();
    }

    /// @dev Notifying more than was sent must fail, and leave everything as it was.
    function notifyUnfunded(uint256 amount) external {
        amount = bound(amount, 1, MAX_AMOUNT);
        try vault.notifyRewards(amount) {
            unexpected++;
        } catch (bytes memory err) {
            _expectFailure(true, err, IStakingVault.StakingInsufficientRewardBalance.selector);
        }
    }

    function releaseTreasuryRewards() external {
        try vault.releaseTreasuryRewards() {} catch {
            unexpected++;
        }
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 3 days));
    }

    function togglePause() external {
        if (vault.paused()) vault.unpause();
        else vault.pause();
    }

    function setCooldown(uint256 cooldown) external {
        vault.setCooldown(bound(cooldown, vault.MIN_COOLDOWN(), vault.MAX_COOLDOWN()));
    }

    // ------------------------------------------------------------------ views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function liveIds(address actor) external view returns (uint256[] memory) {
        return _liveIds[actor];
    }

    /// @notice MESH the treasury received as rewards (it also receives every slash).
    function treasuryRewards() external view returns (uint256) {
        return token.balanceOf(treasury) - slashedTotal;
    }

    // ------------------------------------------------------------------ internals

    function _actor(uint256 seed) private view returns (address) {
        return _actors[seed % ACTORS];
    }

    function _removeId(uint256[] storage ids, uint256 index) private {
        ids[index] = ids[ids.length - 1];
        ids.pop();
    }

    function _expectSuccess(bool shouldSucceed) private {
        if (!shouldSucceed) unexpected++;
    }

    function _expectFailure(bool shouldFail, bytes memory err, bytes4 selector) private {
        if (!shouldFail || err.length < 4 || bytes4(err) != selector) unexpected++;
    }

    function _track() private {
        uint256 total = vault.totalActiveStake();
        if (total > maxTotalActive) maxTotalActive = total;
    }
}

contract StakingVaultInvariantTest is Test {
    address private constant TREASURY = address(0x7AEA);
    uint256 private constant PRECISION = 1e18;

    MeshToken private token;
    StakingVault private vault;
    DeviceRegistryMock private registry;
    StakingVaultHandler private handler;

    function setUp() public {
        token = new MeshToken(TREASURY, 0, address(this));
        registry = new DeviceRegistryMock();
        vault = new StakingVault(address(this), IMeshToken(address(token)), registry, TREASURY, 1 days, 7 days);
        handler = new StakingVaultHandler(vault, token, TREASURY);
        token.setMinter(address(handler));
        vault.grantRole(vault.DEFAULT_ADMIN_ROLE(), address(handler));
        vault.grantRole(vault.GUARDIAN_ROLE(), address(handler));
        vault.grantRole(vault.SLASHER_ROLE(), address(handler));
        vault.grantRole(vault.REWARDS_NOTIFIER_ROLE(), address(handler));
        targetContract(address(handler));
    }

    /// @notice The vault's MESH is exactly active stake + pending requests + rewards reserved (nothing
    /// else is ever sent to it here), and covers everything it owes: stake, pending, every staker's
    /// claimable rewards, what still streams and what the treasury is due.
    function invariant_BalanceCoversEverythingOwed() public view {
        uint256 balance = token.balanceOf(address(vault));
        uint256 stakes = vault.totalActiveStake() + vault.totalPendingUnstake();
        assertEq(balance, stakes + vault.rewardsReserved(), "balance == stakes + reserved");
        assertGe(balance, stakes + _owedRewards(), "balance covers stakes and owed rewards");
    }

    /// @notice Per-staker stakes add up to the totals; pending equals live requests less slash debt.
    function invariant_StakesSumToTotals() public view {
        address[] memory actors = handler.actors();
        uint256 active;
        uint256 pending;
        for (uint256 i = 0; i < actors.length; i++) {
            active += vault.activeStakeOf(actors[i]);
            uint256 p = vault.pendingUnstakeOf(actors[i]);
            pending += p;
            uint256[] memory ids = handler.liveIds(actors[i]);
            uint256 face;
            for (uint256 j = 0; j < ids.length; j++) {
                (uint256 amount, ) = vault.unstakeRequest(actors[i], ids[j]);
                face += amount;
            }
            assertEq(face, p + vault.slashDebtOf(actors[i]), "requests == pending + slash debt");
        }
        assertEq(active, vault.totalActiveStake(), "sum of active == total active");
        assertEq(pending, vault.totalPendingUnstake(), "sum of pending == total pending");
    }

    /// @notice Treasury receipts + paid rewards + owed rewards == notified total, short by at most the
    /// documented dust: the accumulator's carry (< max total stake / 1e18 wei), one wei per staker
    /// checkpoint, one per staker's view, and one each for the stream, treasury and rate remainders.
    function invariant_RewardsConserved() public view {
        uint256 notified = handler.notifiedTotal();
        uint256 out = handler.treasuryRewards() + handler.paidRewards();
        uint256 accounted = out + _owedRewards();
        assertLe(accounted, notified, "never more than notified");
        uint256 dustBound = handler.maxTotalActive() / PRECISION + handler.checkpoints() + 5 + 3;
        assertLe(notified - accounted, dustBound, "dust bounded");
        assertEq(vault.rewardsReserved(), notified - out, "reserved == notified - paid out");
    }

    /// @notice Every call behaved as specified (matured withdrawals never blocked, even while paused;
    /// failures only with the expected error).
    function invariant_NoUnexpectedOutcome() public view {
        assertEq(handler.unexpected(), 0, "unexpected success or failure");
    }

    function _owedRewards() private view returns (uint256 owed) {
        address[] memory actors = handler.actors();
        for (uint256 i = 0; i < actors.length; i++) owed += vault.earned(actors[i]);
        owed += vault.streamingRewards() + vault.treasuryRewardsDue();
    }

    // ------------------------------------------------------------------ fuzz

    /// @notice A lone staker earns the streamed share of a notification, never more, never less than
    /// the dust bound, whatever the amounts and the time elapsed.
    function testFuzz_LoneStakerEarnsStreamedShare(uint256 stakeAmount, uint256 reward, uint256 elapsed) public {
        stakeAmount = bound(stakeAmount, 1, 100_000_000e18);
        reward = bound(reward, 1, 100_000_000e18);
        elapsed = bound(elapsed, 0, 3 days);
        address staker = address(0xBEEF);
        StakingVault v = new StakingVault(
            address(this),
            IMeshToken(address(token)),
            registry,
            TREASURY,
            1 days,
            7 days
        );
        v.grantRole(v.REWARDS_NOTIFIER_ROLE(), address(this));
        vm.prank(address(handler));
        token.mint(staker, stakeAmount);
        vm.prank(staker);
        token.approve(address(v), stakeAmount);
        vm.prank(staker);
        v.stake(stakeAmount);
        vm.prank(address(handler));
        token.mint(address(v), reward);
        v.notifyRewards(reward);
        vm.warp(block.timestamp + elapsed);
        uint256 ideal = (reward * (elapsed < 1 days ? elapsed : 1 days)) / 1 days;
        uint256 got = v.earned(staker);
        assertLe(got, ideal, "not more than streamed");
        assertLe(ideal - got, stakeAmount / PRECISION + 2, "not less than streamed, up to the carry");
        assertLe(got + v.streamingRewards(), reward, "owed + streaming <= notified");
    }
}
