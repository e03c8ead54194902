// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {EmissionsController} from "../../contracts/emissions/EmissionsController.sol";
import {RewardsDistributor} from "../../contracts/rewards/RewardsDistributor.sol";
import {StakingRewardsReceiverMock} from "../../contracts/mocks/StakingRewardsReceiverMock.sol";

/// @notice The wiring deployment uses: a TimelockController (delay longer than the 7-day unstake
/// cooldown) is admin of the controller and the distributor; the guardian pauses and vetoes but
/// holds no admin power and cannot move funds.
contract RewardsGovernanceTest is Test {
    uint256 private constant DELAY = 8 days;
    address private constant PROPOSER = address(0x9709);
    address private constant GUARDIAN = address(0x6A2D);
    address private constant TREASURY = address(0x7AEA);
    bytes32 private constant COVERAGE = keccak256("hexmesh.coverage");

    TimelockController private timelock;
    MeshToken private token;
    EmissionsController private controller;
    RewardsDistributor private distributor;

    function setUp() public {
        address[] memory proposers = new address[](1);
        proposers[0] = PROPOSER;
        address[] memory executors = new address[](1); // zero: anyone executes a ready operation
        timelock = new TimelockController(DELAY, proposers, executors, address(0));
        token = new MeshToken(TREASURY, 300_000_000e18, address(this));
        StakingRewardsReceiverMock vault = new StakingRewardsReceiverMock(token);
        address[] memory oracles = new address[](1);
        oracles[0] = address(0x0AC1E);
        distributor = new RewardsDistributor(
            address(token),
            COVERAGE,
            address(timelock),
            GUARDIAN,
            oracles,
            1,
            6 hours
        );
        controller = new EmissionsController(
            EmissionsController.InitParams({
                token: address(token),
                admin: address(timelock),
                treasury: TREASURY,
                stakingVault: address(vault),
                genesisTime: uint64(block.timestamp),
                epochLength: 1 days,
                initialEmission: 1_000e18,
                halvingInterval: 365,
                emissionCap: 100_000e18,
                stakingBps: 3_000,
                treasuryBps: 1_000,
                subnetwork: COVERAGE,
                distributor: address(distributor)
            })
        );
        token.setMinter(address(controller));
        // Wiring the funder goes through the timelock too.
        _timelocked(
            address(distributor),
            abi.encodeCall(IAccessControl.grantRole, (distributor.FUNDER_ROLE(), address(controller)))
        );
    }

    function _timelocked(address target, bytes memory data) private {
        bytes32 salt = keccak256(data);
        vm.prank(PROPOSER);
        timelock.schedule(target, 0, data, bytes32(0), salt, DELAY);
        vm.expectRevert();
        timelock.execute(target, 0, data, bytes32(0), salt); // not before the delay
        vm.warp(block.timestamp + DELAY);
        timelock.execute(target, 0, data, bytes32(0), salt);
    }

    function test_TimelockIsTheOnlyAdminWithADelayBeyondTheCooldown() public view {
        assertTrue(timelock.getMinDelay() > 7 days, "delay > unstake cooldown");
        bytes32 admin = distributor.DEFAULT_ADMIN_ROLE();
        assertTrue(controller.hasRole(admin, address(timelock)), "timelock admin of controller");
        assertTrue(distributor.hasRole(admin, address(timelock)), "timelock admin of distributor");
        assertTrue(!controller.hasRole(admin, address(this)), "deployer holds nothing");
        assertTrue(!distributor.hasRole(admin, GUARDIAN), "guardian is not admin");
        assertTrue(distributor.hasRole(distributor.FUNDER_ROLE(), address(controller)), "controller funds");
        assertEq(token.minter(), address(controller), "controller is the minter");
    }

    function test_SplitChangesOnlyThroughTheTimelock() public {
        uint16[] memory pools = new uint16[](1);
        pools[0] = 7_000;
        vm.prank(PROPOSER);
        vm.expectRevert();
        controller.setSplit(2_000, 1_000, pools);
        // A batch that distributes the ended epochs first makes the split apply from the current epoch on.
        address[] memory targets = new address[](2);
        targets[0] = address(controller);
        targets[1] = address(controller);
        bytes[] memory payloads = new bytes[](2);
        payloads[0] = abi.encodeCall(EmissionsController.distribute, (32));
        payloads[1] = abi.encodeCall(EmissionsController.setSplit, (2_000, 1_000, pools));
        uint256[] memory values = new uint256[](2);
        vm.prank(PROPOSER);
        timelock.scheduleBatch(targets, values, payloads, bytes32(0), bytes32(0), DELAY);
        vm.warp(block.timestamp + DELAY);
        timelock.executeBatch(targets, values, payloads, bytes32(0), bytes32(0));
        (uint16 staking, ) = controller.split();
        assertEq(staking, 2_000, "new split");
        assertEq(controller.nextEpoch(), controller.endedEpochs(), "ended epochs distributed under the old split");
    }

    function test_GuardianPausesButHasNoAdminPower() public {
        vm.startPrank(GUARDIAN);
        distributor.pause();
        assertTrue(distributor.paused(), "paused");
        distributor.unpause();
        vm.expectRevert();
        distributor.fundEpoch(1, 1);
        vm.expectRevert();
        distributor.setOracleSet(new address[](1), 1);
        vm.expectRevert();
        distributor.setChallengeWindow(1 days);
        uint16[] memory pools = new uint16[](1);
        pools[0] = 6_000;
        vm.expectRevert();
        controller.setSplit(3_000, 1_000, pools);
        vm.expectRevert();
        controller.setTreasury(GUARDIAN);
        bytes32 guardianRole = distributor.GUARDIAN_ROLE();
        vm.expectRevert();
        distributor.grantRole(guardianRole, address(0xBAD));
        vm.stopPrank();
    }
}
