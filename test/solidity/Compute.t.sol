// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ComputeJobs} from "../../contracts/compute/ComputeJobs.sol";
import {UsageCredits} from "../../contracts/credits/UsageCredits.sol";
import {EmissionsController} from "../../contracts/emissions/EmissionsController.sol";
import {IComputeJobs} from "../../contracts/interfaces/IComputeJobs.sol";
import {IDeviceRegistry} from "../../contracts/interfaces/IDeviceRegistry.sol";
import {IMeshToken} from "../../contracts/interfaces/IMeshToken.sol";
import {RevertingDistributorMock} from "../../contracts/mocks/RevertingDistributorMock.sol";
import {GovernedPrice} from "../../contracts/price/GovernedPrice.sol";
import {DeviceRegistry} from "../../contracts/registry/DeviceRegistry.sol";
import {RewardsDistributor} from "../../contracts/rewards/RewardsDistributor.sol";
import {StakingVault} from "../../contracts/staking/StakingVault.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {ComputeHandler, ComputeMarket} from "./handlers/ComputeHandler.sol";

/// @notice Invariants of the compute market over the real token, price, credits, registry, vault,
/// controller and compute oracle distributor: for every job, locked + consumed + refunded = deposited;
/// each provider's locked collateral is exactly its live jobs' (never below its locks) and the MESH
/// held covers every account and escrow; a penalty never takes more than its cap (escrow, the vault's
/// per-event cap, the penalty). The handler is handlers/ComputeHandler.sol.
contract ComputeInvariantTest is Test {
    address private constant TREASURY = address(0x7AEA);
    address private constant CUSTOMER = address(0xC057);
    uint16 private constant CPU = 7;
    uint32 private constant MAKER_ID = 1;
    uint256 private constant MAKER_PK = 0x3A4E5;
    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "DeviceAttestation(bytes32 keyId,uint16 deviceClass,uint32 makerId,uint64 deadline)"
    );
    bytes32 private constant OWNERSHIP_TYPEHASH = keccak256(
        "DeviceOwnership(bytes32 keyId,address owner,uint64 deadline)"
    );

    MeshToken private token;
    UsageCredits private credits;
    DeviceRegistry private registry;
    StakingVault private vault;
    ComputeJobs private jobs;
    ComputeHandler private handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        uint256[2] memory oracleKeys = _deploy();
        handler = _deployHandler(oracleKeys);
        jobs.grantRole(jobs.GUARDIAN_ROLE(), address(handler));
        _target();
    }

    /// @dev The suite, with this contract as every admin, and the compute oracles' set (2 of 3).
    function _deploy() private returns (uint256[2] memory oracleKeys) {
        token = new MeshToken(address(this), 10_000_000e18, address(this));
        GovernedPrice price = new GovernedPrice(address(this), 0.05e18);
        credits = new UsageCredits(address(token), address(this), address(price));
        registry = new DeviceRegistry(address(this), IMeshToken(address(token)));
        registry.addMaker(MAKER_ID, vm.addr(MAKER_PK), 100);
        registry.setDeviceClass(CPU, IDeviceRegistry.DeviceClassInfo(true, 1, 0));
        vault = new StakingVault(
            address(this),
            IMeshToken(address(token)),
            IERC721(address(registry)),
            TREASURY,
            1 days,
            2 days
        );
        vault.setMinStakePerDevice(100e18);
        EmissionsController controller = _controller();
        jobs = new ComputeJobs(
            address(credits),
            address(registry),
            address(vault),
            address(controller),
            1,
            address(this)
        );
        credits.registerSpender(address(jobs), keccak256("hexmesh.compute"));
        jobs.setPrice(CPU, 1_000);
        vault.grantRole(vault.SLASHER_ROLE(), address(jobs));

        oracleKeys = _sortedKeys(0x0AC1E0, 0x0AC1E1);
        address[] memory oracles = new address[](3);
        (oracles[0], oracles[1], oracles[2]) = (vm.addr(oracleKeys[0]), vm.addr(oracleKeys[1]), vm.addr(0x0AC1E2));
        RewardsDistributor distributor = new RewardsDistributor(
            address(token),
            keccak256("hexmesh.compute"),
            address(this),
            address(this),
            oracles,
            2,
            1 hours
        );
        jobs.setOracleDistributor(address(distributor));
    }

    /// @dev Funds the customer's credits and two bonded providers' collateral; the handler over them.
    function _deployHandler(uint256[2] memory oracleKeys) private returns (ComputeHandler) {
        assertTrue(token.transfer(CUSTOMER, 100_000e18), "fund customer");
        vm.startPrank(CUSTOMER);
        token.approve(address(credits), type(uint256).max);
        credits.burnForCredits(100_000e18, 0, CUSTOMER);
        credits.approveSpender(address(jobs), type(uint128).max);
        vm.stopPrank();

        address[2] memory providers = [address(0xA1), address(0xB2)];
        uint256[2] memory devices;
        for (uint256 i = 0; i < 2; ++i) {
            devices[i] = _onboard(providers[i], 0xD0 + i);
            assertTrue(token.transfer(providers[i], 20_000e18), "fund provider");
            vm.startPrank(providers[i]);
            token.approve(address(vault), type(uint256).max);
            vault.stake(1_000e18);
            token.approve(address(jobs), type(uint256).max);
            jobs.depositCollateral(10_000e18);
            vm.stopPrank();
        }
        return
            new ComputeHandler(
                ComputeMarket({
                    jobs: jobs,
                    credits: credits,
                    vault: vault,
                    token: IERC20(address(token)),
                    customer: CUSTOMER,
                    providers: providers,
                    devices: devices,
                    oracleKeys: oracleKeys,
                    deviceClass: CPU
                })
            );
    }

    function _target() private {
        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = ComputeHandler.create.selector;
        selectors[1] = ComputeHandler.accept.selector;
        selectors[2] = ComputeHandler.commit.selector;
        selectors[3] = ComputeHandler.dispute.selector;
        selectors[4] = ComputeHandler.acceptResult.selector;
        selectors[5] = ComputeHandler.cancel.selector;
        selectors[6] = ComputeHandler.finalize.selector;
        selectors[7] = ComputeHandler.expire.selector;
        selectors[8] = ComputeHandler.convict.selector;
        selectors[9] = ComputeHandler.execute.selector;
        selectors[10] = ComputeHandler.veto.selector;
        selectors[11] = ComputeHandler.warp.selector;
        selectors[12] = ComputeHandler.create.selector; // jobs to act on, twice as often
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice The handler's actions do what they say (none is a silent no-op): a Standard job paid, a
    /// Verified job whose results differ convicted and its penalty executed, a vetoed penalty; the
    /// properties hold after each.
    function test_HandlerDrivesEveryPath() public {
        handler.create(100, 2, false);
        handler.accept(0, 0);
        handler.commit(0, 0, 40, false);
        handler.warp(1 days);
        handler.finalize(0);
        assertTrue(jobs.job(1).status == IComputeJobs.Status.Finalized, "standard job paid");
        handler.create(200, 2, true);
        handler.accept(1, 0);
        handler.accept(1, 1);
        handler.commit(1, 0, 10, false);
        handler.commit(1, 1, 10, true);
        assertTrue(jobs.job(2).status == IComputeJobs.Status.Disputed, "diverging results disputed");
        handler.convict(1, true);
        handler.warp(5 days);
        handler.execute(1);
        assertTrue(jobs.penalty(2).status == IComputeJobs.PenaltyStatus.Executed, "penalty executed");
        handler.create(300, 48, false);
        handler.accept(2, 1);
        handler.commit(2, 1, 300, true);
        handler.dispute(2);
        handler.convict(2, false);
        handler.veto(2);
        assertTrue(jobs.penalty(3).status == IComputeJobs.PenaltyStatus.Vetoed, "penalty vetoed");
        handler.create(10, 1, false);
        handler.cancel(3);
        handler.create(10, 1, false);
        handler.warp(2 hours);
        handler.expire(4);
        assertTrue(jobs.job(5).status == IComputeJobs.Status.Refunded, "expired");
        invariant_Compute();
    }

    /// @notice Every property after every handler call.
    function invariant_Compute() public view {
        assertEq(handler.violations(), 0, handler.lastViolation());
        uint256 count = jobs.jobCount();
        uint256 lockedCredits;
        uint256 escrowed;
        uint256[2] memory lockedCollateral;
        for (uint256 id = 1; id <= count; ++id) {
            IComputeJobs.Job memory j = jobs.job(id);
            bool live =
                j.status == IComputeJobs.Status.Open ||
                    j.status == IComputeJobs.Status.Accepted ||
                    j.status == IComputeJobs.Status.Committed ||
                    j.status == IComputeJobs.Status.Disputed;
            uint256 stillLocked = live ? handler.deposited(id) : 0;
            lockedCredits += stillLocked;
            // Per job: locked + consumed + refunded = deposited.
            assertEq(
                stillLocked + handler.consumed(id) + handler.released(id),
                handler.deposited(id),
                "job books: locked + consumed + refunded != deposited"
            );
            if (live) {
                _addLock(lockedCollateral, j.provider, j.collateral);
                IComputeJobs.SecondProvider memory s = jobs.secondProvider(id);
                _addLock(lockedCollateral, s.provider, s.collateral);
            }
            IComputeJobs.Penalty memory p = jobs.penalty(id);
            if (p.status == IComputeJobs.PenaltyStatus.Scheduled) escrowed += p.escrow;
        }
        assertEq(credits.locked(CUSTOMER, address(jobs)), lockedCredits, "credits locked != live jobs' deposits");
        uint256 held = escrowed;
        for (uint256 i = 0; i < 2; ++i) {
            IComputeJobs.Provider memory a = jobs.providerAccount(handler.provider(i));
            assertEq(a.locked, lockedCollateral[i], "provider's locks != its live jobs' collateral");
            held += uint256(a.free) + a.locked;
        }
        assertEq(token.balanceOf(address(jobs)), held, "MESH held != free + locked + escrowed");
    }

    function _addLock(uint256[2] memory locks, address who, uint256 amount) private view {
        if (who == handler.provider(0)) locks[0] += amount;
        else if (who == handler.provider(1)) locks[1] += amount;
    }

    function _controller() private returns (EmissionsController) {
        RevertingDistributorMock pool = new RevertingDistributorMock(keccak256("hexmesh.coverage"));
        return
            new EmissionsController(
                EmissionsController.InitParams({
                    token: address(token),
                    admin: address(this),
                    treasury: TREASURY,
                    stakingVault: address(vault),
                    genesisTime: uint64(block.timestamp),
                    epochLength: 1 days,
                    initialEmission: 1_000_000e18,
                    halvingInterval: 30,
                    emissionCap: 100_000_000e18,
                    stakingBps: 3_000,
                    treasuryBps: 1_000,
                    subnetwork: keccak256("hexmesh.coverage"),
                    distributor: address(pool)
                })
            );
    }

    function _sortedKeys(uint256 a, uint256 b) private pure returns (uint256[2] memory) {
        return vm.addr(a) < vm.addr(b) ? [a, b] : [b, a];
    }

    /// @dev Onboards a secp256k1 compute device for `owner` through the real registry (maker and device
    /// signatures).
    function _onboard(address owner, uint256 devicePk) private returns (uint256) {
        IDeviceRegistry.OnboardRequest memory req;
        req.key = IDeviceRegistry.DeviceKey(
            IDeviceRegistry.KeyType.Secp256k1,
            bytes32(uint256(uint160(vm.addr(devicePk)))),
            bytes32(0)
        );
        req.deviceClass = CPU;
        req.makerId = MAKER_ID;
        req.owner = owner;
        req.makerDeadline = uint64(block.timestamp + 30 days);
        req.deviceDeadline = uint64(block.timestamp + 1 hours);
        bytes32 keyId = keccak256(abi.encode(uint8(req.key.keyType), req.key.x, req.key.y));
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("Hexmesh DeviceRegistry"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        bytes memory makerSig = _sign(
            MAKER_PK,
            _typed(domain, keccak256(abi.encode(ATTESTATION_TYPEHASH, keyId, CPU, MAKER_ID, req.makerDeadline)))
        );
        bytes memory deviceSig = _sign(
            devicePk,
            _typed(domain, keccak256(abi.encode(OWNERSHIP_TYPEHASH, keyId, owner, req.deviceDeadline)))
        );
        vm.prank(owner);
        return registry.onboard(req, makerSig, deviceSig);
    }

    function _typed(bytes32 domain, bytes32 structHash) private pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _sign(uint256 pk, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        uint256 n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
        if (uint256(s) > n / 2) {
            s = bytes32(n - uint256(s));
            v = v == 27 ? 28 : 27;
        }
        return abi.encodePacked(r, s, v);
    }
}
