// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {HexmeshTimelock} from "../../contracts/governance/HexmeshTimelock.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {IMeshToken} from "../../contracts/interfaces/IMeshToken.sol";
import {DeviceRegistry} from "../../contracts/registry/DeviceRegistry.sol";
import {IDeviceRegistry} from "../../contracts/interfaces/IDeviceRegistry.sol";
import {StakingVault} from "../../contracts/staking/StakingVault.sol";
import {EmissionsController} from "../../contracts/emissions/EmissionsController.sol";
import {RewardsDistributor} from "../../contracts/rewards/RewardsDistributor.sol";
import {System, SystemHandler, SystemKeys} from "./handlers/SystemHandler.sol";

/// @notice System invariants of the whole suite, deployed as in production: a TimelockController is the
/// admin of registry, vault, controller and distributor; the controller is MESH's only minter; one guardian
/// pauses everything and vetoes roots. The handler (handlers/SystemHandler.sol) stakes, unstakes, slashes,
/// onboards secp256k1 and P-256 devices, rotates the maker's key, asserts locations, suspends, reinstates,
/// transfers and retires devices, distributes epochs, posts k-of-n signed roots
/// of StandardMerkleTree trees, vetoes, claims (directly and gasless), pauses, governs through the
/// timelock, tries privileged calls from everyone else, and moves time.
/// Quick profile in `npm test`; the deep one: `HEXMESH_FUZZ_PROFILE=deep hardhat test solidity
/// test/solidity/System.t.sol` (10,000 runs x depth 100).
contract SystemInvariantTest is Test {
    uint256 private constant GENESIS = 300_000_000e18;
    uint256 private constant EMISSION_CAP = 50_000_000e18; // reached after ~80 daily epochs: the cap is hit
    uint256 private constant TIMELOCK_DELAY = 8 days; // longer than any cooldown the handler sets (<= 7 days)
    uint256 private constant BOND = 1_000e18;
    uint256 private constant ACTOR_FUNDS = 10_000_000e18;
    address private constant TREASURY = address(0x7AEA);
    address private constant GUARDIAN = address(0x6A2D);
    address private constant SLASHER = address(0x51A5);
    address private constant PROPOSER = address(0x9709);
    address private constant DENYLISTER = address(0xDE71);
    bytes32 private constant COVERAGE = keccak256("hexmesh.coverage");

    HexmeshTimelock private timelock;
    MeshToken private token;
    DeviceRegistry private registry;
    StakingVault private vault;
    EmissionsController private controller;
    RewardsDistributor private distributor;
    SystemHandler private handler;

    function setUp() public {
        _deploy();
        _wireThroughTimelock();
        _fundActors();
        _deployHandler();
    }

    /// @dev The suite as deployment builds it, the timelock as every contract's admin.
    function _deploy() private {
        address[] memory proposers = new address[](1);
        proposers[0] = PROPOSER;
        address[] memory executors = new address[](1); // address(0): anyone executes a ready operation
        timelock = new HexmeshTimelock(TIMELOCK_DELAY, proposers, executors, address(0));
        address admin = address(timelock);

        token = new MeshToken(TREASURY, GENESIS, address(this));
        registry = new DeviceRegistry(admin, IMeshToken(address(token)));
        vault = new StakingVault(
            admin,
            IMeshToken(address(token)),
            IERC721(address(registry)),
            TREASURY,
            1 days,
            2 days
        );
        address[] memory oracles = new address[](SystemKeys.ORACLES);
        for (uint256 i = 0; i < oracles.length; ++i) oracles[i] = vm.addr(SystemKeys.oracleKey(i));
        distributor = new RewardsDistributor(address(token), COVERAGE, admin, GUARDIAN, oracles, 2, 6 hours);
        controller = new EmissionsController(
            EmissionsController.InitParams({
                token: address(token),
                admin: admin,
                treasury: TREASURY,
                stakingVault: address(vault),
                genesisTime: uint64(block.timestamp),
                epochLength: 1 days,
                initialEmission: 1_000_000e18,
                halvingInterval: 30,
                emissionCap: EMISSION_CAP,
                stakingBps: 3_000,
                treasuryBps: 1_000,
                subnetwork: COVERAGE,
                distributor: address(distributor)
            })
        );
        token.setMinter(address(controller)); // the deployer's one-shot power, spent here
    }

    /// @dev Actors get MESH from the genesis treasury (transfers only: supply is untouched) and approve the
    /// registry for fees.
    function _fundActors() private {
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address a = vm.addr(SystemKeys.actorKey(i));
            vm.prank(a);
            token.approve(address(registry), type(uint256).max); // onboarding and assert fees
            vm.prank(TREASURY);
            assertTrue(token.transfer(a, ACTOR_FUNDS), "fund actor");
        }
    }

    function _deployHandler() private {
        handler = new SystemHandler(
            System({
                token: token,
                registry: registry,
                vault: vault,
                controller: controller,
                distributor: distributor,
                timelock: timelock,
                treasury: TREASURY,
                guardian: GUARDIAN,
                slasher: SLASHER,
                proposer: PROPOSER,
                denylister: DENYLISTER
            })
        );
        bytes4[] memory selectors = new bytes4[](22);
        selectors[0] = SystemHandler.stake.selector;
        selectors[1] = SystemHandler.requestUnstake.selector;
        selectors[2] = SystemHandler.cancelUnstake.selector;
        selectors[3] = SystemHandler.withdraw.selector;
        selectors[4] = SystemHandler.claimStakingRewards.selector;
        selectors[5] = SystemHandler.slash.selector;
        selectors[6] = SystemHandler.onboard.selector;
        selectors[7] = SystemHandler.assertLocation.selector;
        selectors[8] = SystemHandler.distribute.selector;
        selectors[9] = SystemHandler.postRoot.selector;
        selectors[10] = SystemHandler.veto.selector;
        selectors[11] = SystemHandler.finalize.selector;
        selectors[12] = SystemHandler.claim.selector;
        selectors[13] = SystemHandler.togglePause.selector;
        selectors[14] = SystemHandler.warp.selector;
        selectors[15] = SystemHandler.govern.selector;
        selectors[16] = SystemHandler.tryPrivileged.selector;
        selectors[17] = SystemHandler.burnFees.selector;
        selectors[18] = SystemHandler.retire.selector;
        selectors[19] = SystemHandler.denylist.selector;
        selectors[20] = SystemHandler.transferDevice.selector;
        selectors[21] = SystemHandler.rotateMakerKey.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Deployment's wiring, as one timelock batch: roles, the maker, the device class, fees, the bond.
    function _wireThroughTimelock() private {
        address[] memory targets = new address[](10);
        bytes[] memory payloads = new bytes[](10);
        (targets[0], payloads[0]) = (
            address(distributor),
            abi.encodeCall(IAccessControl.grantRole, (distributor.FUNDER_ROLE(), address(controller)))
        );
        (targets[1], payloads[1]) = (
            address(vault),
            abi.encodeCall(IAccessControl.grantRole, (vault.REWARDS_NOTIFIER_ROLE(), address(controller)))
        );
        (targets[2], payloads[2]) = (
            address(vault),
            abi.encodeCall(IAccessControl.grantRole, (vault.GUARDIAN_ROLE(), GUARDIAN))
        );
        (targets[3], payloads[3]) = (
            address(vault),
            abi.encodeCall(IAccessControl.grantRole, (vault.SLASHER_ROLE(), SLASHER))
        );
        (targets[4], payloads[4]) = (address(vault), abi.encodeCall(StakingVault.setMinStakePerDevice, (BOND)));
        (targets[5], payloads[5]) = (
            address(registry),
            abi.encodeCall(IAccessControl.grantRole, (registry.GUARDIAN_ROLE(), GUARDIAN))
        );
        (targets[6], payloads[6]) = (
            address(registry),
            abi.encodeCall(
                DeviceRegistry.addMaker,
                (SystemKeys.MAKER_ID, vm.addr(SystemKeys.MAKER_PK), type(uint48).max)
            )
        );
        (targets[7], payloads[7]) = (
            address(registry),
            abi.encodeCall(
                DeviceRegistry.setDeviceClass,
                (SystemKeys.DEVICE_CLASS, IDeviceRegistry.DeviceClassInfo(true, 0, SystemKeys.ONBOARDING_FEE))
            )
        );
        (targets[8], payloads[8]) = (address(registry), abi.encodeCall(DeviceRegistry.setAssertFee, (5e18)));
        (targets[9], payloads[9]) = (
            address(registry),
            abi.encodeCall(IAccessControl.grantRole, (registry.DENYLIST_ROLE(), DENYLISTER))
        );
        uint256[] memory values = new uint256[](10);
        vm.prank(PROPOSER);
        timelock.scheduleBatch(targets, values, payloads, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        vm.warp(block.timestamp + TIMELOCK_DELAY);
        timelock.executeBatch(targets, values, payloads, bytes32(0), bytes32(0));
    }

    // ================================================================== invariants

    /// @notice All system properties, checked after every handler call. One invariant function on purpose:
    /// the runner fuzzes a separate campaign per invariant function, so eight functions would cost eight
    /// times the calls for the same checks. Each property below fails with its own message.
    function invariant_System() public {
        checkSupplyFollowsSchedule();
        checkVaultHoldsWhatItOwes();
        checkDistributorHoldsWhatItOwes();
        checkEveryTokenAccountedFor();
        checkOnlyTimelockGoverns();
        checkBondedDevices();
        checkDeviceLifecycle();
        checkNoUnexpectedOutcome();
        checkMaturedUnstakeAlwaysWithdrawable();
    }

    /// @notice Supply never passes the cap, and is exactly genesis + the schedule of the distributed
    /// epochs - what was burned (collected onboarding and assert fees); the registry holds exactly the
    /// fees paid and not yet burned.
    function checkSupplyFollowsSchedule() internal view {
        uint256 supply = token.totalSupply();
        assertLe(supply, token.cap(), "supply <= cap");
        uint256 scheduled = controller.scheduledEmission(controller.nextEpoch());
        assertEq(controller.emitted(), scheduled, "emitted == schedule of distributed epochs");
        assertLe(scheduled, EMISSION_CAP, "emission cap");
        assertEq(supply, GENESIS + scheduled - handler.burned(), "supply == genesis + schedule - burned");
        assertEq(
            token.balanceOf(address(registry)),
            handler.feesPaid() - handler.burned(),
            "registry holds fees paid - burned"
        );
    }

    /// @notice The vault's balance is its stakes, pending requests and reserved rewards, and covers every
    /// staker's claimable rewards, what still streams and what the treasury is due.
    function checkVaultHoldsWhatItOwes() internal view {
        uint256 balance = token.balanceOf(address(vault));
        uint256 stakes = vault.totalActiveStake() + vault.totalPendingUnstake();
        assertEq(balance, stakes + vault.rewardsReserved(), "vault balance == stakes + reserved");
        uint256 owed = vault.streamingRewards() + vault.treasuryRewardsDue();
        uint256 active = 0;
        uint256 pending = 0;
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address a = handler.actorAt(i);
            owed += vault.earned(a);
            active += vault.activeStakeOf(a);
            pending += vault.pendingUnstakeOf(a);
        }
        assertGe(balance, stakes + owed, "vault covers stakes and owed rewards");
        assertEq(active, vault.totalActiveStake(), "sum of active == total active");
        assertEq(pending, vault.totalPendingUnstake(), "sum of pending == total pending");
    }

    /// @notice The distributor holds what it was funded less what it paid, at least what the live root
    /// still owes; no owner was ever paid more than its cumulative amount.
    function checkDistributorHoldsWhatItOwes() internal view {
        (uint256 funded, , , ) = distributor.funding();
        uint256 balance = token.balanceOf(address(distributor));
        assertEq(balance + handler.paidOut(), funded, "distributor balance == funded - paid");
        (, , uint256 liveTotal) = distributor.liveRoot();
        assertLe(liveTotal, funded, "live total <= funded");
        uint256 owed = 0;
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address o = handler.actorAt(i);
            uint256 claimed = distributor.claimed(o);
            assertEq(claimed, handler.paid(i), "claimed == paid");
            assertLe(claimed, handler.liveCumulative(i), "paid <= cumulative");
            owed += handler.liveCumulative(i) - claimed;
        }
        assertLe(owed, balance, "distributor holds what the live root owes");
    }

    /// @notice Every MESH is held by someone the suite knows: nothing is created or lost between contracts.
    function checkEveryTokenAccountedFor() internal view {
        uint256 held =
            token.balanceOf(TREASURY) +
                token.balanceOf(address(vault)) +
                token.balanceOf(address(distributor)) +
                token.balanceOf(address(registry)) + // collected fees
                token.balanceOf(address(handler)); // relayer fees
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) held += token.balanceOf(handler.actorAt(i));
        assertEq(held, token.totalSupply(), "balances sum to supply");
    }

    /// @notice Every live unstake request can be withdrawn once matured, even with the vault, the registry
    /// and the distributor all paused: tried for all of them in a snapshot that is then thrown away.
    function checkMaturedUnstakeAlwaysWithdrawable() internal {
        uint256 timeBefore = block.timestamp;
        uint256 snapshot = vm.snapshotState();
        vm.startPrank(GUARDIAN);
        if (!vault.paused()) vault.pause();
        if (!registry.paused()) registry.pause();
        if (!distributor.paused()) distributor.pause();
        vm.stopPrank();
        uint256 latest = block.timestamp;
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address a = handler.actorAt(i);
            uint256[] memory ids = handler.liveIds(a);
            for (uint256 j = 0; j < ids.length; ++j) {
                (, uint256 unlock) = vault.unstakeRequest(a, ids[j]);
                if (unlock > latest) latest = unlock;
            }
        }
        vm.warp(latest);
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address a = handler.actorAt(i);
            uint256[] memory ids = handler.liveIds(a);
            for (uint256 j = 0; j < ids.length; ++j) {
                (uint256 amount, ) = vault.unstakeRequest(a, ids[j]);
                uint256 debt = vault.slashDebtOf(a);
                uint256 expected = amount - (debt < amount ? debt : amount);
                uint256 before = token.balanceOf(a);
                vm.prank(a);
                vault.withdraw(ids[j]); // a revert here fails the invariant
                assertEq(token.balanceOf(a) - before, expected, "withdrawal pays the request less slash debt");
            }
            assertEq(vault.pendingUnstakeOf(a), 0, "nothing pending after withdrawing every request");
        }
        assertTrue(vm.revertToState(snapshot), "snapshot restored");
        assertEq(block.timestamp, timeBefore, "time restored");
    }

    /// @notice Only the timelock governs: it alone holds the admin roles, parameters are what it last set,
    /// the controller remains the only minter, and every privileged call by anyone else was refused.
    function checkOnlyTimelockGoverns() internal view {
        bytes32 adminRole = bytes32(0);
        address[] memory others = handler.outsiders();
        IAccessControl[4] memory governed = [
            IAccessControl(address(registry)),
            IAccessControl(address(vault)),
            IAccessControl(address(controller)),
            IAccessControl(address(distributor))
        ];
        for (uint256 c = 0; c < governed.length; ++c) {
            assertTrue(governed[c].hasRole(adminRole, address(timelock)), "timelock is admin");
            for (uint256 i = 0; i < others.length; ++i) {
                assertTrue(!governed[c].hasRole(adminRole, others[i]), "no outsider is admin");
            }
        }
        for (uint256 i = 0; i < others.length; ++i) {
            assertTrue(!timelock.hasRole(adminRole, others[i]), "no outsider administers the timelock");
            assertTrue(!vault.hasRole(vault.SLASHER_ROLE(), others[i]) || others[i] == SLASHER, "slasher role");
            assertTrue(
                !distributor.hasRole(distributor.FUNDER_ROLE(), others[i]) || others[i] == address(controller),
                "funder role"
            );
        }
        assertEq(timelock.getMinDelay(), TIMELOCK_DELAY, "timelock delay");
        assertEq(token.minter(), address(controller), "minter");
        assertEq(token.minterAdmin(), address(0), "minter admin spent");
        assertEq(vault.cooldown(), handler.expectedCooldown(), "cooldown");
        assertEq(vault.maxSlashBps(), handler.expectedMaxSlashBps(), "max slash");
        assertEq(vault.minStakePerDevice(), BOND, "bond");
        assertEq(vault.treasury(), TREASURY, "vault treasury");
        assertEq(registry.assertFee(), handler.expectedAssertFee(), "assert fee");
        assertEq(distributor.challengeWindow(), handler.expectedChallengeWindow(), "challenge window");
        assertEq(distributor.oracleSetVersion(), 1, "oracle set");
        (uint16 stakingBps, uint16 treasuryBps) = controller.split();
        assertEq(stakingBps, handler.expectedStakingBps(), "staking bps");
        assertEq(treasuryBps, handler.expectedTreasuryBps(), "treasury bps");
        assertEq(controller.treasury(), TREASURY, "controller treasury");
        assertEq(controller.stakingVault(), address(vault), "controller vault");
    }

    /// @notice A device owner's reward-eligible devices are min(devices, stake / bond), read across the
    /// registry and the vault.
    function checkBondedDevices() internal view {
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address a = handler.actorAt(i);
            uint256 devices = handler.devicesOf(a);
            assertEq(registry.balanceOf(a), devices, "devices onboarded");
            uint256 covered = vault.activeStakeOf(a) / BOND;
            assertEq(vault.bondedDeviceCount(a), covered < devices ? covered : devices, "bonded devices");
        }
    }

    /// @notice The registry agrees with the handler's record of every device: each one an actor holds is
    /// owned by it, suspended exactly when the denylister left it so, and eligible for rewards exactly when
    /// active with a location; each retired one has no owner, stays retired and is never eligible.
    function checkDeviceLifecycle() internal view {
        for (uint256 i = 0; i < SystemKeys.ACTORS; ++i) {
            address a = handler.actorAt(i);
            uint256[] memory ids = handler.deviceIdsOf(a);
            for (uint256 j = 0; j < ids.length; ++j) {
                IDeviceRegistry.DeviceInfo memory info = registry.deviceInfo(ids[j]);
                assertEq(registry.ownerOf(ids[j]), a, "device owned by the actor that holds it");
                assertEq(info.owner, a, "deviceInfo owner");
                IDeviceRegistry.DeviceStatus expected =
                    handler.suspended(ids[j])
                        ? IDeviceRegistry.DeviceStatus.Suspended
                        : IDeviceRegistry.DeviceStatus.Active;
                assertEq(uint8(info.status), uint8(expected), "device status");
                bool eligible = expected == IDeviceRegistry.DeviceStatus.Active && info.assertCount != 0;
                assertTrue(registry.isEligible(ids[j]) == eligible, "eligible iff active and located");
            }
        }
        uint256[] memory retired = handler.retiredIds();
        for (uint256 j = 0; j < retired.length; ++j) {
            assertEq(uint8(registry.statusOf(retired[j])), uint8(IDeviceRegistry.DeviceStatus.Retired), "retired");
            (bool owned, ) = address(registry).staticcall(abi.encodeCall(IERC721.ownerOf, (retired[j])));
            assertTrue(!owned, "a retired device has no owner");
            assertTrue(!registry.isEligible(retired[j]), "a retired device is never eligible");
        }
    }

    /// @notice Every handler call behaved as specified (success exactly when it should, failures only with
    /// the expected custom error).
    function checkNoUnexpectedOutcome() internal view {
        assertEq(handler.unexpected(), 0, handler.lastUnexpected());
    }

    // ================================================================== direct checks of the harness

    /// @notice The handler's tree is @openzeppelin/merkle-tree's StandardMerkleTree (owners with a zero
    /// cumulative are left out): the root below is what `StandardMerkleTree.of([[actor0, 5e18], [actor2, 7],
    /// [actor3, 1e24]], ["address", "uint256"]).root` returns in node (actor i = the address of key 0xA11CE0 + i).
    function test_TreeMatchesStandardMerkleTree() public view {
        uint256[4] memory c = [uint256(5e18), 0, 7, 1e24];
        (bytes32 root, bytes32[] memory proof) = handler.tree(c, 3);
        assertEq(root, STANDARD_TREE_ROOT, "StandardMerkleTree root");
        bytes32 node = keccak256(bytes.concat(keccak256(abi.encode(handler.actorAt(3), c[3]))));
        for (uint256 i = 0; i < proof.length; ++i) {
            node = node < proof[i] ? keccak256(abi.encode(node, proof[i])) : keccak256(abi.encode(proof[i], node));
        }
        assertEq(node, root, "proof verifies");
    }

    bytes32 private constant STANDARD_TREE_ROOT = 0xf568fbaa70ea80ef75761a1e9e959b70949122ed4e2a42b28ea3bd6f66bd76eb;

    /// @notice Each action of the handler runs and behaves as specified at least once on a fixed path,
    /// so none of them is dead code in the invariant run.
    function test_EveryActionRuns() public {
        handler.stake(0, 500_000e18, false);
        handler.stake(1, 400_000e18, true);
        handler.onboard(0, false);
        handler.onboard(1, true);
        handler.assertLocation(0, 0, 12345, 30);
        handler.assertLocation(0, 0, 67890, 40);
        handler.burnFees();
        handler.burnFees(); // nothing left but one wei: RegistryNoFeesToBurn
        handler.requestUnstake(0, 3);
        handler.cancelUnstake(0, 0);
        handler.requestUnstake(1, 100e18);
        handler.slash(1, 1e18);
        handler.warp(1 days);
        handler.distribute(32);
        handler.postRoot(1, 0);
        handler.veto();
        handler.postRoot(2, 0);
        handler.warp(1 days);
        handler.finalize();
        handler.claim(0, 0, 0);
        handler.claim(1, 1e15, 1);
        handler.claimStakingRewards(0);
        handler.withdraw(1, 0, true);
        handler.togglePause(0);
        handler.togglePause(0);
        handler.govern(0, 3 days);
        handler.tryPrivileged(6, 0); // the proposer
        handler.tryPrivileged(4, 16); // the guardian
        handler.onboard(2, false);
        handler.onboard(2, true);
        handler.denylist(2, 0, 7, false, true); // the owner may not suspend: access error
        handler.denylist(2, 0, 7, false, false); // suspended
        handler.denylist(2, 0, 7, false, false); // already suspended: RegistryDeviceNotActive
        handler.assertLocation(2, 0, 4242, 30); // suspended: RegistryDeviceNotActive
        handler.transferDevice(2, 3, 0); // moves suspended
        handler.denylist(3, 0, 0, true, false); // the denylister reinstates it at its new owner
        handler.denylist(3, 0, 0, true, false); // not suspended: RegistryDeviceNotSuspended
        handler.retire(2, 0, 3); // another actor tries first: RegistryNotDeviceOwner; then retired
        handler.rotateMakerKey(1); // actor 1 is refused; the maker rotates; its old key no longer attests
        handler.onboard(1, false); // the new key does
        _checkDeviceOutcomes();
        _checkEveryActionCounted();
        invariant_System();
    }

    function _checkDeviceOutcomes() private view {
        assertEq(handler.devicesOf(handler.actorAt(2)), 0, "actor 2 gave one device away and retired the other");
        assertEq(handler.devicesOf(handler.actorAt(3)), 1, "actor 3 received one");
        assertEq(handler.retiredIds().length, 1, "one retired");
        assertEq(handler.devicesOf(handler.actorAt(1)), 2, "actor 1 onboarded with the first and the rotated key");
        assertTrue(handler.makerPk() != SystemKeys.MAKER_PK, "maker key rotated");
    }

    function _checkEveryActionCounted() private view {
        string[21] memory actions = [
            "stake",
            "burnFees",
            "onboard",
            "assertLocation",
            "suspend",
            "reinstate",
            "transferDevice",
            "retire",
            "rotateMakerKey",
            "requestUnstake",
            "cancelUnstake",
            "slash",
            "distribute",
            "postRoot",
            "veto",
            "finalize",
            "claim",
            "claimStakingRewards",
            "withdraw",
            "govern",
            "tryPrivileged"
        ];
        for (uint256 i = 0; i < actions.length; ++i) {
            assertGe(handler.calls(bytes32(bytes(actions[i]))), 1, actions[i]);
        }
        assertEq(handler.unexpected(), 0, handler.lastUnexpected());
    }
}
