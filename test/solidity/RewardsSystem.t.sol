// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {EmissionsController} from "../../contracts/emissions/EmissionsController.sol";
import {RewardsDistributor} from "../../contracts/rewards/RewardsDistributor.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";
import {StakingRewardsReceiverMock} from "../../contracts/mocks/StakingRewardsReceiverMock.sol";

/// @dev Drives controller + distributor (+ mock vault) at random: time passes, epochs are
/// distributed, oracles post 4-owner cumulative roots, the guardian vetoes and pauses, owners
/// claim. Ghost state records what the live tree owes and what was paid.
contract RewardsSystemHandler is Test {
    uint256 internal constant OWNERS = 4;
    uint256 internal constant EPOCH = 1 hours;

    MeshToken public immutable token;
    EmissionsController public immutable controller;
    RewardsDistributor public immutable distributor;
    address public immutable guardian;

    uint256[2] private _oracleKeys; // ascending by address

    // The tree of the last posted root (pending or live) and of the live root, as the oracles built them.
    uint256[OWNERS] public pendingCumulative;
    uint256[OWNERS] public liveCumulative;
    bytes32 public pendingRoot;
    bytes32 public liveRoot;

    uint256[OWNERS] public paid;
    uint256 public totalPaid;
    uint256 public posts;
    uint256 public claims;
    uint256 public vetoes;

    constructor(
        MeshToken token_,
        EmissionsController controller_,
        RewardsDistributor distributor_,
        address guardian_,
        uint256[2] memory oracleKeys
    ) {
        token = token_;
        controller = controller_;
        distributor = distributor_;
        guardian = guardian_;
        _oracleKeys = oracleKeys;
    }

    function owner(uint256 i) public pure returns (address) {
        return address(uint160(0x0A11CE + i));
    }

    // ------------------------------------------------------------------ actions

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 3 * EPOCH));
    }

    function distribute(uint256 maxEpochs) external {
        if (controller.endedEpochs() <= controller.nextEpoch()) return;
        controller.distribute(bound(maxEpochs, 1, 40));
    }

    /// @dev Posts the next root: every owner's cumulative grows by a random share of what is
    /// funded and not yet promised, never more than funded in total.
    function postRoot(uint256 seed, uint256 epochSeed) external {
        _syncLive();
        (bool ok, uint64 epoch, uint256 totalFunded) = _postableEpoch(epochSeed);
        if (!ok) return;
        (uint256[OWNERS] memory next, uint256 total) = _grow(seed, totalFunded);
        bytes32 root = _root(next);
        if (distributor.isVetoed(epoch, root)) return;
        IRewardsDistributor.EpochRoot memory r = IRewardsDistributor.EpochRoot({
            epoch: epoch,
            root: root,
            totalCumulative: total,
            dataHash: keccak256(abi.encode(seed)),
            oracleSetVersion: distributor.oracleSetVersion()
        });
        distributor.postRoot(r, _sign(distributor.epochRootDigest(r)));
        pendingCumulative = next;
        pendingRoot = root;
        posts++;
    }

    function _postableEpoch(uint256 epochSeed) private view returns (bool ok, uint64 epoch, uint256 totalFunded) {
        if (distributor.paused()) return (false, 0, 0);
        (, , uint256 readyAt) = _pending();
        if (readyAt != 0) return (false, 0, 0); // one pending root at a time
        uint64 firstEpoch;
        uint64 lastEpoch;
        bool any;
        (totalFunded, firstEpoch, lastEpoch, any) = distributor.funding();
        if (!any) return (false, 0, 0);
        (uint64 liveEpoch, bytes32 live, ) = distributor.liveRoot();
        uint256 minEpoch = live == bytes32(0) ? firstEpoch : uint256(liveEpoch) + 1;
        if (minEpoch > lastEpoch) return (false, 0, 0);
        return (true, uint64(bound(epochSeed, minEpoch, lastEpoch)), totalFunded);
    }

    function _grow(
        uint256 seed,
        uint256 totalFunded
    ) private view returns (uint256[OWNERS] memory next, uint256 total) {
        for (uint256 i = 0; i < OWNERS; ++i) total += liveCumulative[i];
        uint256 share = (totalFunded - total) / OWNERS;
        for (uint256 i = 0; i < OWNERS; ++i) {
            uint256 add = bound(uint256(keccak256(abi.encode(seed, i))), 0, share);
            next[i] = liveCumulative[i] + add;
            total += add;
        }
    }

    function veto() external {
        (uint64 epoch, , uint256 readyAt) = _pending();
        if (readyAt == 0) return;
        vm.prank(guardian);
        distributor.veto(epoch);
        pendingRoot = bytes32(0);
        vetoes++;
    }

    function togglePause(uint256 coin) external {
        if (coin % 4 != 0) return; // pause rarely
        vm.prank(guardian);
        if (distributor.paused()) distributor.unpause();
        else distributor.pause();
    }

    function finalize() external {
        (, bytes32 live, ) = distributor.liveRoot();
        if (live != bytes32(0) && live != liveRoot) distributor.finalize();
        _syncLive();
    }

    function claim(uint256 who, uint256 stale) external {
        _syncLive();
        if (distributor.paused() || liveRoot == bytes32(0)) return;
        uint256 i = bound(who, 0, OWNERS - 1);
        uint256 cumulative = liveCumulative[i];
        if (cumulative <= paid[i]) return;
        // Sometimes try to claim more than the leaf says: must fail and pay nothing.
        if (stale % 5 == 0) {
            bytes32[] memory badProof = _proof(liveCumulative, i);
            vm.expectRevert();
            distributor.claim(owner(i), cumulative + 1, badProof);
        }
        uint256 amount = distributor.claim(owner(i), cumulative, _proof(liveCumulative, i));
        assertEq(amount, cumulative - paid[i], "pays cumulative minus claimed");
        paid[i] = cumulative;
        totalPaid += amount;
        claims++;
    }

    // ------------------------------------------------------------------ helpers

    function _pending() private view returns (uint64 epoch, bytes32 root, uint256 readyAt) {
        uint64 ready;
        (epoch, root, , ready) = distributor.pendingRoot();
        readyAt = ready;
    }

    /// @dev The distributor's live root (lazily promoted) is either our live or our pending tree.
    function _syncLive() private {
        (, bytes32 live, ) = distributor.liveRoot();
        if (live != liveRoot && live == pendingRoot && live != bytes32(0)) {
            liveCumulative = pendingCumulative;
            liveRoot = live;
        }
    }

    function _leaf(address a, uint256 c) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(a, c))));
    }

    function _pair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _root(uint256[OWNERS] memory c) private pure returns (bytes32) {
        return
            _pair(
                _pair(_leaf(owner(0), c[0]), _leaf(owner(1), c[1])),
                _pair(_leaf(owner(2), c[2]), _leaf(owner(3), c[3]))
            );
    }

    function _proof(uint256[OWNERS] memory c, uint256 i) private pure returns (bytes32[] memory proof) {
        proof = new bytes32[](2);
        uint256 sibling = i ^ 1;
        proof[0] = _leaf(owner(sibling), c[sibling]);
        uint256 otherPair = i < 2 ? 2 : 0;
        proof[1] = _pair(_leaf(owner(otherPair), c[otherPair]), _leaf(owner(otherPair + 1), c[otherPair + 1]));
    }

    function _sign(bytes32 digest) private view returns (bytes memory packed) {
        for (uint256 k = 0; k < 2; ++k) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(_oracleKeys[k], digest);
            packed = bytes.concat(packed, r, s, bytes1(v));
        }
    }
}

/// @notice System invariants over controller + distributor + (mock) staking vault.
contract RewardsSystemInvariantTest is Test {
    uint256 private constant GENESIS = 300_000_000e18;
    uint256 private constant EMISSION_CAP = 700e18; // below the schedule's 800 total: reached in epoch 12
    address private constant TREASURY = address(0x7AEA);
    address private constant GUARDIAN = address(0x6A2D);
    address private constant ADMIN = address(0xAD);

    MeshToken private token;
    EmissionsController private controller;
    RewardsDistributor private distributor;
    StakingRewardsReceiverMock private vault;
    RewardsSystemHandler private handler;

    function setUp() public {
        token = new MeshToken(TREASURY, GENESIS, address(this));
        vault = new StakingRewardsReceiverMock(token);
        uint256[2] memory keys = [uint256(0xA11CE5), uint256(0xB0B5)];
        if (vm.addr(keys[0]) > vm.addr(keys[1])) keys = [keys[1], keys[0]];
        address[] memory oracles = new address[](3);
        oracles[0] = vm.addr(keys[0]);
        oracles[1] = vm.addr(keys[1]);
        oracles[2] = vm.addr(0xC0FFEE);
        distributor = new RewardsDistributor(
            address(token),
            keccak256("hexmesh.coverage"),
            ADMIN,
            GUARDIAN,
            oracles,
            2,
            6 hours
        );
        controller = new EmissionsController(
            EmissionsController.InitParams({
                token: address(token),
                admin: ADMIN,
                treasury: TREASURY,
                stakingVault: address(vault),
                genesisTime: uint64(block.timestamp),
                epochLength: 1 hours,
                initialEmission: 100e18,
                halvingInterval: 4,
                emissionCap: EMISSION_CAP,
                stakingBps: 3_000,
                treasuryBps: 1_000,
                subnetwork: keccak256("hexmesh.coverage"),
                distributor: address(distributor)
            })
        );
        token.setMinter(address(controller));
        vm.startPrank(ADMIN);
        distributor.grantRole(distributor.FUNDER_ROLE(), address(controller));
        vm.stopPrank();
        handler = new RewardsSystemHandler(token, controller, distributor, GUARDIAN, keys);
        targetContract(address(handler));
    }

    /// @notice Supply never passes the token cap, and minted = the schedule of the distributed epochs.
    function invariant_MintedEqualsScheduleWithinCap() public view {
        assertLe(token.totalSupply(), token.cap(), "supply <= cap");
        uint256 minted = token.totalSupply() - GENESIS;
        assertEq(minted, controller.emitted(), "minted = emitted");
        assertEq(minted, controller.scheduledEmission(controller.nextEpoch()), "minted = schedule(distributed)");
        assertLe(minted, EMISSION_CAP, "emission cap");
    }

    /// @notice Every minted token is at a recipient: distributor, vault, treasury or a claimant.
    function invariant_EmissionsAllAccountedFor() public view {
        uint256 held =
            token.balanceOf(address(distributor)) +
                token.balanceOf(address(vault)) +
                (token.balanceOf(TREASURY) - GENESIS) +
                handler.totalPaid();
        assertEq(held, controller.emitted(), "all emissions accounted for");
        assertEq(vault.totalNotified(), token.balanceOf(address(vault)), "vault notified of all it got");
    }

    /// @notice No owner receives more than its live cumulative amount, and the distributor's
    /// books match what owners hold.
    function invariant_NoOwnerPaidBeyondCumulative() public view {
        for (uint256 i = 0; i < 4; ++i) {
            address o = handler.owner(i);
            assertLe(handler.paid(i), handler.liveCumulative(i), "paid <= live cumulative");
            assertEq(token.balanceOf(o), handler.paid(i), "owner holds what it was paid");
            assertEq(distributor.claimed(o), handler.paid(i), "claimed = paid");
        }
    }

    /// @notice The distributor holds what is still owed under the live root, and what was funded
    /// minus what was paid.
    function invariant_DistributorSolvent() public view {
        (uint256 totalFunded, , , ) = distributor.funding();
        uint256 balance = token.balanceOf(address(distributor));
        assertEq(balance + handler.totalPaid(), totalFunded, "balance = funded - paid");
        (, , uint256 liveTotal) = distributor.liveRoot();
        uint256 owed = 0;
        for (uint256 i = 0; i < 4; ++i) owed += handler.liveCumulative(i) - handler.paid(i);
        assertLe(owed, balance, "holds what is owed");
        assertLe(liveTotal, totalFunded, "live total <= funded");
    }
}
