// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {GovernedPrice} from "../../contracts/price/GovernedPrice.sol";
import {UsageCredits} from "../../contracts/credits/UsageCredits.sol";
import {EmissionsController} from "../../contracts/emissions/EmissionsController.sol";
import {RevertingDistributorMock} from "../../contracts/mocks/RevertingDistributorMock.sol";
import {StakingRewardsReceiverMock} from "../../contracts/mocks/StakingRewardsReceiverMock.sol";
import {Demand, DemandHandler} from "./handlers/DemandHandler.sol";

/// @notice Invariants of the demand side over token, credits, price and controller: credits are only
/// created by burning MESH at a non-stale price; total consumed <= total bought and every credit is
/// a balance, a lock or consumed; no account spends more than its balance and allowances; a spender
/// never moves MESH; supply = genesis + emitted - burned for credits, and a failing pool's share is
/// held, never lost. The handler is handlers/DemandHandler.sol.
contract DemandInvariantTest is Test {
    uint256 private constant GENESIS = 300_000_000e18;
    address private constant GOVERNANCE = address(0x7111);
    address private constant TREASURY = address(0x7AEA);

    MeshToken private token;
    GovernedPrice private price;
    UsageCredits private credits;
    EmissionsController private controller;
    StakingRewardsReceiverMock private vault;
    RevertingDistributorMock[2] private pools;
    DemandHandler private handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        bytes32[2] memory subnetworks = [keccak256("hexmesh.coverage"), keccak256("hexmesh.compute")];
        _deploy(subnetworks);
        _deployHandler(subnetworks);
        _target();
    }

    /// @dev MESH, a governed price, credits, and a controller with two pools whose distributors can fail.
    function _deploy(bytes32[2] memory subnetworks) private {
        token = new MeshToken(address(this), GENESIS, address(this));
        price = new GovernedPrice(GOVERNANCE, 0.05e18);
        credits = new UsageCredits(address(token), GOVERNANCE, address(price));
        vault = new StakingRewardsReceiverMock(IERC20(address(token)));
        pools[0] = new RevertingDistributorMock(subnetworks[0]);
        pools[1] = new RevertingDistributorMock(subnetworks[1]);
        controller = new EmissionsController(
            EmissionsController.InitParams({
                token: address(token),
                admin: GOVERNANCE,
                treasury: TREASURY,
                stakingVault: address(vault),
                genesisTime: uint64(block.timestamp),
                epochLength: 1 days,
                initialEmission: 1_000_000e18,
                halvingInterval: 30,
                emissionCap: 100_000_000e18,
                stakingBps: 3_000,
                treasuryBps: 1_000,
                subnetwork: subnetworks[0],
                distributor: address(pools[0])
            })
        );
        token.setMinter(address(controller));
        vm.startPrank(GOVERNANCE);
        controller.addPool(subnetworks[1], address(pools[1]));
        uint16[] memory bps = new uint16[](2);
        (bps[0], bps[1]) = (4_000, 2_000);
        controller.setSplit(3_000, 1_000, bps);
        vm.stopPrank();
    }

    /// @dev The handler, its two registered spenders, and actors holding MESH approved to the credits.
    function _deployHandler(bytes32[2] memory subnetworks) private {
        handler = new DemandHandler(
            Demand({
                token: token,
                price: price,
                credits: credits,
                controller: controller,
                pools: pools,
                subnetworks: subnetworks,
                governance: GOVERNANCE
            })
        );
        vm.startPrank(GOVERNANCE);
        credits.registerSpender(handler.spender(0), subnetworks[0]);
        credits.registerSpender(handler.spender(1), subnetworks[1]);
        vm.stopPrank();
        for (uint256 i = 0; i < handler.ACTORS(); ++i) {
            address a = handler.actor(i);
            assertTrue(token.transfer(a, 1_000_000e18), "fund actor");
            vm.prank(a);
            token.approve(address(credits), type(uint256).max);
        }
    }

    function _target() private {
        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = DemandHandler.buy.selector;
        selectors[1] = DemandHandler.burnCollected.selector;
        selectors[2] = DemandHandler.setPrice.selector;
        selectors[3] = DemandHandler.approve.selector;
        selectors[4] = DemandHandler.lock.selector;
        selectors[5] = DemandHandler.release.selector;
        selectors[6] = DemandHandler.consume.selector;
        selectors[7] = DemandHandler.consumeLocked.selector;
        selectors[8] = DemandHandler.toggleSpender.selector;
        selectors[9] = DemandHandler.reclaim.selector;
        selectors[10] = DemandHandler.spenderTriesMesh.selector;
        selectors[11] = DemandHandler.distribute.selector;
        selectors[12] = DemandHandler.togglePool.selector;
        selectors[13] = DemandHandler.warp.selector;
        selectors[14] = DemandHandler.consumeBatch.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Every property, after every handler call (one function: one campaign).
    function invariant_Demand() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        checkCreditsAccounting();
        checkMeshAccounting();
        checkPoolsHeldNotLost();
    }

    /// @notice Credits come only from purchases; every credit is a balance, a lock or consumed.
    function checkCreditsAccounting() internal view {
        uint256 bought = credits.totalBought();
        uint256 consumed = credits.totalConsumed();
        assertEq(bought, handler.ghostBought(), "totalBought == credits bought at fresh prices");
        assertEq(consumed, handler.ghostConsumed(), "totalConsumed == successful consumptions");
        assertLe(consumed, bought, "consumed <= bought");
        uint256 held = 0;
        for (uint256 i = 0; i < handler.ACTORS(); ++i) {
            address a = handler.actor(i);
            held += credits.balanceOf(a);
            for (uint256 j = 0; j < handler.SPENDERS(); ++j) {
                address s = handler.spender(j);
                uint256 lockedCredits = credits.locked(a, s);
                assertEq(lockedCredits, handler.ghostLocked(a, s), "lock == ghost lock");
                held += lockedCredits;
            }
        }
        assertEq(held + consumed, bought, "balances + locks + consumed == bought");
    }

    /// @notice MESH paid for credits sits in the credits contract until burned; spenders hold none;
    /// supply is genesis + emitted - burned for credits.
    function checkMeshAccounting() internal view {
        assertEq(
            token.balanceOf(address(credits)),
            handler.meshPaid() - handler.meshBurned(),
            "credits contract holds MESH paid - burned"
        );
        for (uint256 j = 0; j < handler.SPENDERS(); ++j) {
            assertEq(token.balanceOf(handler.spender(j)), 0, "a spender holds no MESH");
        }
        assertEq(
            token.totalSupply(),
            GENESIS + controller.emitted() - handler.meshBurned(),
            "supply == genesis + emitted - burned for credits"
        );
    }

    /// @notice Each pool got exactly its shares: what its distributor accepted plus what is held for it.
    function checkPoolsHeldNotLost() internal view {
        uint256 held = 0;
        uint256 toPools = 0;
        for (uint256 i = 0; i < 2; ++i) {
            uint256 h = controller.heldFor(pools[i].SUBNETWORK());
            held += h;
            assertEq(token.balanceOf(address(pools[i])), pools[i].totalFunded(), "distributor got what it accepted");
            toPools += pools[i].totalFunded() + h;
        }
        assertEq(token.balanceOf(address(controller)), held, "controller holds exactly the held shares");
        uint256 emitted = controller.emitted();
        uint256 others = token.balanceOf(address(vault)) + token.balanceOf(TREASURY);
        assertEq(toPools + others, emitted, "pools (paid + held) + staking + treasury == emitted");
    }
}
