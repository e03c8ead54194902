// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MeshToken} from "../../../contracts/token/MeshToken.sol";
import {IMeshToken} from "../../../contracts/interfaces/IMeshToken.sol";
import {DeviceRegistry} from "../../../contracts/registry/DeviceRegistry.sol";
import {IDeviceRegistry} from "../../../contracts/interfaces/IDeviceRegistry.sol";
import {StakingVault} from "../../../contracts/staking/StakingVault.sol";
import {IStakingVault} from "../../../contracts/interfaces/IStakingVault.sol";
import {EmissionsController} from "../../../contracts/emissions/EmissionsController.sol";
import {IEmissionsController} from "../../../contracts/interfaces/IEmissionsController.sol";
import {RewardsDistributor} from "../../../contracts/rewards/RewardsDistributor.sol";
import {IRewardsDistributor} from "../../../contracts/interfaces/IRewardsDistributor.sol";
import {H3} from "../../../contracts/libraries/H3.sol";

/// @notice The deployed suite and the fixed accounts around it, as the handler receives them.
struct System {
    MeshToken token;
    DeviceRegistry registry;
    StakingVault vault;
    EmissionsController controller;
    RewardsDistributor distributor;
    TimelockController timelock;
    address treasury;
    address guardian;
    address slasher;
    address proposer;
    address denylister;
}

/// @notice Keys and constants shared by the handler and the invariant test.
library SystemKeys {
    uint256 internal constant ACTORS = 4;
    uint256 internal constant ORACLES = 3;
    uint256 internal constant MAKER_PK = 0x3A4E5;
    uint32 internal constant MAKER_ID = 1;
    uint16 internal constant DEVICE_CLASS = 1;
    uint96 internal constant ONBOARDING_FEE = 40e18;
    uint256 internal constant SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
    uint256 internal constant P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551;

    function actorKey(uint256 i) internal pure returns (uint256) {
        return 0xA11CE0 + i;
    }

    function oracleKey(uint256 i) internal pure returns (uint256) {
        return 0x0AC1E0 + i;
    }
}

/// @dev Drives the real suite (token, registry, vault, controller, distributor, timelock) at random for
/// the invariant runner. Every call it makes either must succeed or must fail with one specific error;
/// anything else is counted in `unexpected` (the runner ignores reverts of handler calls, so nothing here
/// may rely on reverting). Ghost state records what the suite owes and what it paid.
contract SystemHandler is Test {
    bytes32 private constant PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "DeviceAttestation(bytes32 keyId,uint16 deviceClass,uint32 makerId,uint64 deadline)"
    );
    bytes32 private constant OWNERSHIP_TYPEHASH = keccak256(
        "DeviceOwnership(bytes32 keyId,address owner,uint64 deadline)"
    );
    bytes32 private constant EPOCH_ROOT_TYPEHASH = keccak256(
        "EpochRoot(uint64 epoch,bytes32 root,uint256 totalCumulative,bytes32 dataHash,uint64 oracleSetVersion)"
    );
    bytes32 private constant CLAIM_TYPEHASH = keccak256(
        "Claim(address owner,uint256 cumulative,address relayer,uint256 fee,uint256 nonce,uint256 deadline)"
    );
    uint256 private constant ACTORS = 4; // SystemKeys.ACTORS (array lengths need a literal here)

    MeshToken public immutable token;
    DeviceRegistry public immutable registry;
    StakingVault public immutable vault;
    EmissionsController public immutable controller;
    RewardsDistributor public immutable distributor;
    TimelockController public immutable timelock;
    address public immutable treasury;
    address public immutable guardian;
    address public immutable slasher;
    address public immutable proposer;
    address public immutable denylister;

    address[ACTORS] private _actors;
    uint256[] private _oracleKeysAscending;
    mapping(address actor => uint256[] ids) private _liveIds;
    mapping(address actor => uint256[] ids) private _devices;
    uint256[] private _retired;

    // ---- ghosts: token
    uint256 public feesPaid; // onboarding and assert fees paid into the registry
    uint256 public burned; // what burnCollectedFees burned
    // ---- ghosts: registry (devices the denylister left suspended)
    mapping(uint256 deviceId => bool) public suspended;
    // ---- ghosts: distributor (cumulative trees of the last posted and of the live root)
    uint256[ACTORS] public pendingCumulative;
    uint256[ACTORS] public liveCumulative;
    bytes32 public pendingRoot;
    uint256 public pendingReadyAt; // zero: no pending root, or it was promoted or vetoed
    bytes32 public liveRoot;
    uint256[ACTORS] public paid;
    uint256 public paidOut;
    // ---- ghosts: governance parameters (only the timelock changes them)
    uint256 public expectedCooldown;
    uint256 public expectedMaxSlashBps;
    uint96 public expectedAssertFee;
    uint256 public expectedChallengeWindow;
    uint16 public expectedStakingBps;
    uint16 public expectedTreasuryBps;
    // ---- outcome checks
    uint256 public unexpected;
    string public lastUnexpected;
    uint256 public privilegedAttempts;
    mapping(bytes32 action => uint256 count) public calls;
    uint256 private _deviceNonce;
    uint256 public makerPk = SystemKeys.MAKER_PK; // the maker's current signing key
    uint256 private _makerRotations;
    uint256 private _saltNonce;

    constructor(System memory s) {
        token = s.token;
        registry = s.registry;
        vault = s.vault;
        controller = s.controller;
        distributor = s.distributor;
        timelock = s.timelock;
        treasury = s.treasury;
        guardian = s.guardian;
        slasher = s.slasher;
        proposer = s.proposer;
        denylister = s.denylister;
        for (uint256 i = 0; i < ACTORS; ++i) _actors[i] = vm.addr(SystemKeys.actorKey(i));
        // postRoot wants signers in ascending address order.
        uint256[] memory keys = new uint256[](SystemKeys.ORACLES);
        for (uint256 i = 0; i < keys.length; ++i) keys[i] = SystemKeys.oracleKey(i);
        for (uint256 i = 1; i < keys.length; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(keys[j - 1]) > vm.addr(keys[j]); --j) {
                (keys[j - 1], keys[j]) = (keys[j], keys[j - 1]);
            }
        }
        _oracleKeysAscending = keys;
        expectedCooldown = s.vault.cooldown();
        expectedMaxSlashBps = s.vault.maxSlashBps();
        expectedAssertFee = s.registry.assertFee();
        expectedChallengeWindow = s.distributor.challengeWindow();
        (expectedStakingBps, expectedTreasuryBps) = s.controller.split();
    }

    // ================================================================== staking

    function stake(uint256 actorSeed, uint256 amount, bool withPermit) external {
        (address actor, uint256 key) = _actor(actorSeed);
        uint256 balance = token.balanceOf(actor);
        if (balance == 0) return;
        amount = bound(amount, 1, balance / 4 + 1);
        bool paused = vault.paused();
        if (withPermit) {
            (uint8 v, bytes32 r, bytes32 s, uint256 deadline) = _permit(key, actor, amount);
            vm.prank(actor);
            try vault.stakeWithPermit(amount, deadline, v, r, s) {
                _expect(!paused, "stakeWithPermit succeeded while paused");
            } catch (bytes memory err) {
                _expectError(paused, err, Pausable.EnforcedPause.selector, "stakeWithPermit failed");
            }
        } else {
            vm.prank(actor);
            token.approve(address(vault), amount);
            vm.prank(actor);
            try vault.stake(amount) {
                _expect(!paused, "stake succeeded while paused");
            } catch (bytes memory err) {
                _expectError(paused, err, Pausable.EnforcedPause.selector, "stake failed");
            }
        }
        calls["stake"]++;
    }

    function requestUnstake(uint256 actorSeed, uint256 amount) external {
        (address actor, ) = _actor(actorSeed);
        uint256 active = vault.activeStakeOf(actor);
        if (active == 0) return;
        amount = amount % 4 == 0 ? active : bound(amount, 1, active);
        bool paused = vault.paused();
        vm.prank(actor);
        try vault.requestUnstake(amount) returns (uint256 id) {
            _expect(!paused, "requestUnstake succeeded while paused");
            _liveIds[actor].push(id);
        } catch (bytes memory err) {
            _expectError(paused, err, Pausable.EnforcedPause.selector, "requestUnstake failed");
        }
        calls["requestUnstake"]++;
    }

    function cancelUnstake(uint256 actorSeed, uint256 idSeed) external {
        (address actor, ) = _actor(actorSeed);
        uint256[] storage ids = _liveIds[actor];
        if (ids.length == 0) return;
        uint256 index = idSeed % ids.length;
        bool paused = vault.paused();
        vm.prank(actor);
        try vault.cancelUnstake(ids[index]) {
            _expect(!paused, "cancelUnstake succeeded while paused");
            _removeAt(ids, index);
        } catch (bytes memory err) {
            _expectError(paused, err, Pausable.EnforcedPause.selector, "cancelUnstake failed");
        }
        calls["cancelUnstake"]++;
    }

    /// @dev Half the time waits for maturity first. A matured request must pay, paused or not, its
    /// amount less the slash debt it absorbs.
    function withdraw(uint256 actorSeed, uint256 idSeed, bool waitForIt) external {
        (address actor, ) = _actor(actorSeed);
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
            _expect(matured, "withdraw before maturity");
            _expect(token.balanceOf(actor) - before == expected, "withdraw paid a wrong amount");
            _removeAt(ids, index);
        } catch (bytes memory err) {
            _expectError(!matured, err, IStakingVault.StakingRequestNotMatured.selector, "matured withdraw failed");
        }
        calls["withdraw"]++;
    }

    function claimStakingRewards(uint256 actorSeed) external {
        (address actor, ) = _actor(actorSeed);
        uint256 owed = vault.earned(actor);
        bool paused = vault.paused();
        uint256 before = token.balanceOf(actor);
        vm.prank(actor);
        try vault.claimRewards() returns (uint256 amount) {
            _expect(!paused && owed != 0, "claimRewards succeeded unexpectedly");
            _expect(amount == owed && token.balanceOf(actor) - before == owed, "claimRewards paid != earned");
        } catch (bytes memory err) {
            bytes4 why = paused ? Pausable.EnforcedPause.selector : IStakingVault.StakingNothingToClaim.selector;
            _expectError(paused || owed == 0, err, why, "claimRewards failed");
        }
        calls["claimStakingRewards"]++;
    }

    function slash(uint256 actorSeed, uint256 amount) external {
        (address actor, ) = _actor(actorSeed);
        amount = bound(amount, 1, 1_000_000e18);
        uint256 cap = ((vault.activeStakeOf(actor) + vault.pendingUnstakeOf(actor)) * vault.maxSlashBps()) / 10_000;
        bool paused = vault.paused();
        uint256 treasuryBefore = token.balanceOf(treasury);
        vm.prank(slasher);
        try vault.slash(actor, amount, keccak256("system invariant")) returns (uint256 slashed) {
            _expect(!paused && cap != 0, "slash succeeded unexpectedly");
            _expect(slashed == (amount < cap ? amount : cap), "slash took a wrong amount");
            _expect(token.balanceOf(treasury) - treasuryBefore == slashed, "slash did not reach the treasury");
        } catch (bytes memory err) {
            bytes4 why = paused ? Pausable.EnforcedPause.selector : IStakingVault.StakingNothingToSlash.selector;
            _expectError(paused || cap == 0, err, why, "slash failed");
        }
        calls["slash"]++;
    }

    // ================================================================== registry

    /// @dev A fresh device key (secp256k1 or P-256) attested by the maker and signed by the device.
    function onboard(uint256 actorSeed, bool p256) external {
        (address actor, ) = _actor(actorSeed);
        if (token.balanceOf(actor) < SystemKeys.ONBOARDING_FEE) return;
        bool paused = registry.paused();
        (bool ok, bytes memory err, uint256 id) = _onboard(actor, p256, makerPk);
        if (ok) {
            _expect(!paused, "onboard succeeded while paused");
            _expect(registry.ownerOf(id) == actor, "onboarded to someone else");
            _devices[actor].push(id);
            feesPaid += SystemKeys.ONBOARDING_FEE;
        } else {
            _expectError(paused, err, Pausable.EnforcedPause.selector, "onboard failed");
        }
        calls["onboard"]++;
    }

    /// @dev The maker rotates its signing key; anyone else is refused. From then on an attestation by the
    /// previous key must not onboard a device.
    function rotateMakerKey(uint256 actorSeed) external {
        (address actor, ) = _actor(actorSeed);
        vm.prank(actor);
        try registry.rotateMakerKey(SystemKeys.MAKER_ID, actor) {
            _expect(false, "a non-signer rotated the maker key");
        } catch (bytes memory err) {
            _expectError(
                true,
                err,
                IDeviceRegistry.RegistryNotMakerSigner.selector,
                "maker key rotation by a non-signer"
            );
        }
        uint256 previous = makerPk;
        uint256 next = bound(uint256(keccak256(abi.encode("maker", ++_makerRotations))), 1, SystemKeys.SECP256K1_N - 1);
        (address signer, address nextSigner) = (vm.addr(previous), vm.addr(next));
        vm.prank(signer);
        try registry.rotateMakerKey(SystemKeys.MAKER_ID, nextSigner) {
            makerPk = next;
            _expect(registry.makerInfo(SystemKeys.MAKER_ID).signer == nextSigner, "maker signer not rotated");
            if (token.balanceOf(actor) >= SystemKeys.ONBOARDING_FEE) {
                bytes4 why =
                    registry.paused()
                        ? Pausable.EnforcedPause.selector
                        : IDeviceRegistry.RegistryInvalidMakerSignature.selector;
                (bool ok, bytes memory err, ) = _onboard(actor, false, previous);
                _expectError(!ok, err, why, "onboarding attested by the previous maker key");
            }
        } catch (bytes memory err) {
            _expectError(false, err, bytes4(0), "maker key rotation failed");
        }
        calls["rotateMakerKey"]++;
    }

    /// @dev Onboards a fresh device key for `actor`, attested by `makerKey`; returns the outcome for the caller
    /// to judge.
    function _onboard(
        address actor,
        bool p256,
        uint256 makerKey
    ) private returns (bool ok, bytes memory err, uint256 id) {
        uint256 devicePk = uint256(keccak256(abi.encode("device", ++_deviceNonce)));
        IDeviceRegistry.OnboardRequest memory req;
        if (p256) {
            devicePk = bound(devicePk, 1, SystemKeys.P256_N - 1);
            (uint256 qx, uint256 qy) = vm.publicKeyP256(devicePk);
            req.key = IDeviceRegistry.DeviceKey(IDeviceRegistry.KeyType.P256, bytes32(qx), bytes32(qy));
        } else {
            devicePk = bound(devicePk, 1, SystemKeys.SECP256K1_N - 1);
            req.key = IDeviceRegistry.DeviceKey(
                IDeviceRegistry.KeyType.Secp256k1,
                bytes32(uint256(uint160(vm.addr(devicePk)))),
                bytes32(0)
            );
        }
        req.deviceClass = SystemKeys.DEVICE_CLASS;
        req.makerId = SystemKeys.MAKER_ID;
        req.owner = actor;
        req.makerDeadline = uint64(block.timestamp + 30 days);
        req.deviceDeadline = uint64(block.timestamp + 1 hours);
        bytes32 keyId = keccak256(abi.encode(uint8(req.key.keyType), req.key.x, req.key.y));
        bytes32 domain = _domain("Hexmesh DeviceRegistry", address(registry));
        bytes memory makerSig = _signK1(
            makerKey,
            _typed(
                domain,
                keccak256(abi.encode(ATTESTATION_TYPEHASH, keyId, req.deviceClass, req.makerId, req.makerDeadline))
            )
        );
        bytes32 ownership = _typed(domain, keccak256(abi.encode(OWNERSHIP_TYPEHASH, keyId, actor, req.deviceDeadline)));
        bytes memory deviceSig = p256 ? _signP256(devicePk, ownership) : _signK1(devicePk, ownership);
        vm.prank(actor);
        try registry.onboard(req, makerSig, deviceSig) returns (uint256 onboarded) {
            return (true, "", onboarded);
        } catch (bytes memory reason) {
            return (false, reason, 0);
        }
    }

    function assertLocation(uint256 actorSeed, uint256 deviceSeed, uint256 cellSeed, uint16 gain) external {
        (address actor, , uint256 id, bool found) = _pickDevice(actorSeed, deviceSeed);
        if (!found) return;
        uint256 fee = registry.deviceInfo(id).assertCount == 0 ? 0 : registry.assertFee();
        if (token.balanceOf(actor) < fee) return;
        uint64 cell = _res12Cell(cellSeed);
        gain = uint16(bound(gain, registry.MIN_GAIN(), registry.MAX_GAIN()));
        bool paused = registry.paused();
        bool held = suspended[id];
        vm.prank(actor);
        try registry.assertLocation(id, cell, gain, int16(int256(cellSeed % 100))) {
            _expect(!paused && !held, "assert succeeded while paused or suspended");
            _expect(registry.deviceInfo(id).cell == cell, "cell not stored");
            feesPaid += fee;
        } catch (bytes memory err) {
            if (paused) _expectError(true, err, Pausable.EnforcedPause.selector, "assertLocation failed");
            else _expectError(held, err, IDeviceRegistry.RegistryDeviceNotActive.selector, "assertLocation failed");
        }
        calls["assertLocation"]++;
    }

    /// @dev The owner retires one of its devices, paused or not, suspended or not: the token is burned, the
    /// device can never be asserted again, and its owner's stake bonds one device fewer. Sometimes another
    /// actor tries first and must be refused.
    function retire(uint256 actorSeed, uint256 deviceSeed, uint256 otherSeed) external {
        (address actor, uint256 index, uint256 id, bool found) = _pickDevice(actorSeed, deviceSeed);
        if (!found) return;
        (address other, ) = _actor(otherSeed);
        if (other != actor) {
            vm.prank(other);
            try registry.retire(id) {
                _expect(false, "a non-owner retired a device");
            } catch (bytes memory err) {
                _expectError(true, err, IDeviceRegistry.RegistryNotDeviceOwner.selector, "non-owner retire");
            }
        }
        vm.prank(actor);
        try registry.retire(id) {
            _removeAt(_devices[actor], index);
            _retired.push(id);
            delete suspended[id];
            (uint64 cell, uint16 gain) = (_res12Cell(deviceSeed), registry.MIN_GAIN()); // read before the prank
            vm.prank(actor);
            try registry.assertLocation(id, cell, gain, 0) {
                _expect(false, "a retired device was asserted");
            } catch (bytes memory err) {
                bool paused = registry.paused();
                bytes4 why =
                    paused ? Pausable.EnforcedPause.selector : IDeviceRegistry.RegistryDeviceIsRetired.selector;
                _expectError(true, err, why, "assert of a retired device");
            }
        } catch (bytes memory err) {
            _expectError(false, err, bytes4(0), "retire failed");
        }
        calls["retire"]++;
    }

    /// @dev The denylister suspends an active device or reinstates a suspended one. Asking for the transition
    /// the device is not in must fail with the state error; anyone else is refused by access control first.
    function denylist(uint256 actorSeed, uint256 deviceSeed, uint16 reason, bool reinstate, bool byOwner) external {
        (address actor, , uint256 id, bool found) = _pickDevice(actorSeed, deviceSeed);
        if (!found) return;
        bool held = suspended[id];
        address caller = byOwner ? actor : denylister;
        bool allowed = !byOwner && held == reinstate;
        bytes4 why =
            byOwner
                ? IAccessControl.AccessControlUnauthorizedAccount.selector
                : (
                    reinstate
                        ? IDeviceRegistry.RegistryDeviceNotSuspended.selector
                        : IDeviceRegistry.RegistryDeviceNotActive.selector
                );
        vm.prank(caller);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory err) = address(registry).call(
            reinstate
                ? abi.encodeCall(DeviceRegistry.reinstate, (id))
                : abi.encodeCall(DeviceRegistry.suspend, (id, reason))
        );
        if (ok) {
            _expect(allowed, "suspend or reinstate succeeded when it should not");
            suspended[id] = !reinstate;
            IDeviceRegistry.DeviceInfo memory info = registry.deviceInfo(id);
            _expect(info.suspensionReason == (reinstate ? 0 : reason), "suspension reason not stored");
        } else {
            _expectError(!allowed, err, why, "suspend or reinstate failed");
        }
        calls[reinstate ? bytes32("reinstate") : bytes32("suspend")]++;
    }

    /// @dev An actor gives a device to another actor (ERC-721 transfer, allowed paused or suspended): the
    /// device keeps its status and the receiver's bond must cover it.
    function transferDevice(uint256 fromSeed, uint256 toSeed, uint256 deviceSeed) external {
        (address from, uint256 index, uint256 id, bool found) = _pickDevice(fromSeed, deviceSeed);
        (address to, ) = _actor(toSeed);
        if (!found || from == to) return;
        vm.prank(from);
        try registry.transferFrom(from, to, id) {
            _removeAt(_devices[from], index);
            _devices[to].push(id);
        } catch (bytes memory err) {
            _expectError(false, err, bytes4(0), "device transfer failed");
        }
        calls["transferDevice"]++;
    }

    /// @dev Anyone may burn the registry's collected fees (all but one wei); nothing to burn is an error.
    function burnFees() external {
        uint256 held = token.balanceOf(address(registry));
        try registry.burnCollectedFees() returns (uint256 amount) {
            _expect(held > 1 && amount == held - 1, "burned other than all but one wei");
            burned += amount;
        } catch (bytes memory err) {
            _expectError(held <= 1, err, IDeviceRegistry.RegistryNoFeesToBurn.selector, "burnCollectedFees failed");
        }
        calls["burnFees"]++;
    }

    // ================================================================== emissions and rewards

    function distribute(uint256 maxEpochs) external {
        uint64 next = controller.nextEpoch();
        uint64 ended = controller.endedEpochs();
        maxEpochs = bound(maxEpochs, 1, controller.MAX_CATCHUP_EPOCHS());
        try controller.distribute(maxEpochs) returns (uint256 n) {
            _expect(ended > next, "distributed nothing");
            uint256 want = ended - next < maxEpochs ? ended - next : maxEpochs;
            _expect(n == want, "distributed a wrong number of epochs");
        } catch (bytes memory err) {
            _expectError(ended <= next, err, IEmissionsController.EmissionsNothingToDistribute.selector, "distribute");
        }
        calls["distribute"]++;
    }

    /// @dev The oracles post the next root: every owner's cumulative grows by a random share of what is
    /// funded and not yet promised. Sometimes the post carries too few signatures and must be refused.
    function postRoot(uint256 seed, uint256 epochSeed) external {
        _syncLive();
        (bool ok, uint64 epoch, uint256 totalFunded) = _postableEpoch(epochSeed);
        if (!ok) return;
        uint256[ACTORS] memory next;
        uint256 total = 0;
        for (uint256 i = 0; i < ACTORS; ++i) total += liveCumulative[i];
        uint256 share = (totalFunded - total) / ACTORS;
        for (uint256 i = 0; i < ACTORS; ++i) {
            uint256 add = bound(uint256(keccak256(abi.encode(seed, i))), 0, share);
            next[i] = liveCumulative[i] + add;
            total += add;
        }
        bytes32 root = _root(next);
        // A root equal to the live one is legal but would make promotion invisible to the ghosts.
        if (root == liveRoot) return;
        IRewardsDistributor.EpochRoot memory r = IRewardsDistributor.EpochRoot({
            epoch: epoch,
            root: root,
            totalCumulative: total,
            dataHash: keccak256(abi.encode("data", seed)),
            oracleSetVersion: distributor.oracleSetVersion()
        });
        bytes32 digest = _typed(
            _domain("Hexmesh RewardsDistributor", address(distributor)),
            keccak256(
                abi.encode(EPOCH_ROOT_TYPEHASH, r.epoch, r.root, r.totalCumulative, r.dataHash, r.oracleSetVersion)
            )
        );
        bool vetoed = distributor.isVetoed(epoch, root);
        uint256 k = distributor.threshold();
        bool tooFew = seed % 7 == 0;
        try distributor.postRoot(r, _oracleSignatures(digest, tooFew ? k - 1 : k)) {
            _expect(!vetoed && !tooFew, "postRoot accepted a vetoed or under-signed root");
            pendingCumulative = next;
            pendingRoot = root;
            pendingReadyAt = block.timestamp + distributor.challengeWindow();
        } catch (bytes memory err) {
            bytes4 why =
                tooFew
                    ? IRewardsDistributor.DistributorTooFewSignatures.selector
                    : IRewardsDistributor.DistributorRootVetoed.selector;
            _expectError(vetoed || tooFew, err, why, "postRoot failed");
        }
        calls["postRoot"]++;
    }

    function veto() external {
        (uint64 epoch, , , uint64 readyAt) = distributor.pendingRoot();
        if (readyAt == 0) return;
        vm.prank(guardian);
        try distributor.veto(epoch) {
            pendingRoot = bytes32(0);
            pendingReadyAt = 0;
        } catch (bytes memory err) {
            _expectError(false, err, bytes4(0), "veto failed");
        }
        calls["veto"]++;
    }

    function finalize() external {
        bool matured = pendingReadyAt != 0 && block.timestamp >= pendingReadyAt;
        try distributor.finalize() {
            _expect(matured, "finalize with nothing matured");
            pendingReadyAt = 0;
        } catch (bytes memory err) {
            _expectError(!matured, err, IRewardsDistributor.DistributorNothingToFinalize.selector, "finalize");
        }
        _syncLive();
        calls["finalize"]++;
    }

    /// @dev Anyone claims for an owner (funds go to the owner), or a relayer submits the owner's signed
    /// gasless claim and keeps a fee. Sometimes first tries one wei more than the leaf: must fail.
    function claim(uint256 actorSeed, uint256 fee, uint256 mode) external {
        _syncLive();
        uint256 i = actorSeed % ACTORS;
        (address owner, uint256 key) = _actor(i);
        uint256 cumulative = liveCumulative[i];
        if (liveRoot == bytes32(0) || cumulative <= paid[i]) return;
        bool paused = distributor.paused();
        bytes32[] memory proof = _proof(liveCumulative, i);
        if (mode % 5 == 0 && !paused) {
            try distributor.claim(owner, cumulative + 1, proof) {
                _expect(false, "claim above the leaf paid");
            } catch (bytes memory overclaimErr) {
                _expectError(true, overclaimErr, IRewardsDistributor.DistributorInvalidProof.selector, "overclaim");
            }
        }
        uint256 amount = cumulative - paid[i];
        uint256 ownerBefore = token.balanceOf(owner);
        uint256 relayerFee = 0;
        bool ok;
        bytes memory err;
        if (mode % 2 == 0) {
            try distributor.claim(owner, cumulative, proof) returns (uint256 got) {
                ok = got == amount;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            relayerFee = bound(fee, 0, amount);
            (ok, err) = _claimWithSig(owner, key, cumulative, relayerFee, amount, proof);
        }
        if (err.length == 0) {
            _expect(!paused, "claim succeeded while paused");
            _expect(ok && token.balanceOf(owner) - ownerBefore == amount - relayerFee, "claim paid a wrong amount");
            paid[i] = cumulative;
            paidOut += amount;
            // A claim against a matured pending root promotes it (roots never repeat the live one).
            if (pendingReadyAt != 0 && block.timestamp >= pendingReadyAt) pendingReadyAt = 0;
        } else {
            _expectError(paused, err, Pausable.EnforcedPause.selector, "claim failed");
        }
        calls["claim"]++;
    }

    /// @dev The owner signs a gasless Claim (EIP-712, computed here by hand) naming this handler as relayer.
    function _claimWithSig(
        address owner,
        uint256 key,
        uint256 cumulative,
        uint256 relayerFee,
        uint256 amount,
        bytes32[] memory proof
    ) private returns (bool ok, bytes memory err) {
        IRewardsDistributor.ClaimRequest memory request = IRewardsDistributor.ClaimRequest({
            owner: owner,
            cumulative: cumulative,
            relayer: address(this),
            fee: relayerFee,
            nonce: distributor.nonces(owner),
            deadline: block.timestamp + 1 hours
        });
        bytes32 digest = _typed(
            _domain("Hexmesh RewardsDistributor", address(distributor)),
            keccak256(
                abi.encode(
                    CLAIM_TYPEHASH,
                    request.owner,
                    request.cumulative,
                    request.relayer,
                    request.fee,
                    request.nonce,
                    request.deadline
                )
            )
        );
        try distributor.claimWithSig(request, proof, _signK1(key, digest)) returns (uint256 got) {
            ok = got == amount;
        } catch (bytes memory e) {
            err = e;
        }
    }

    // ================================================================== guardian, time, governance

    /// @dev The guardian pauses or unpauses one of the three pausable contracts (rarely).
    function togglePause(uint256 which) external {
        if (which % 3 != 0) return;
        which = (which / 3) % 3;
        vm.startPrank(guardian);
        if (which == 0) {
            if (vault.paused()) vault.unpause();
            else vault.pause();
        } else if (which == 1) {
            if (registry.paused()) registry.unpause();
            else registry.pause();
        } else {
            if (distributor.paused()) distributor.unpause();
            else distributor.pause();
        }
        vm.stopPrank();
        calls["togglePause"]++;
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
        calls["warp"]++;
    }

    /// @dev The only legitimate parameter change: the proposer schedules it on the timelock, the delay
    /// passes, anyone executes it. Rare, since it moves time by the whole delay.
    function govern(uint256 which, uint256 value) external {
        if (which % 4 != 0) return;
        which = (which / 4) % 5;
        address target;
        bytes memory data;
        if (which == 0) {
            // Kept below the timelock delay, as deployment requires.
            uint256 cooldown = bound(value, vault.MIN_COOLDOWN(), 7 days);
            (target, data) = (address(vault), abi.encodeCall(StakingVault.setCooldown, (cooldown)));
            expectedCooldown = cooldown;
        } else if (which == 1) {
            uint256 bps = bound(value, 0, vault.MAX_SLASH_BPS_LIMIT());
            (target, data) = (address(vault), abi.encodeCall(StakingVault.setMaxSlashBps, (bps)));
            expectedMaxSlashBps = bps;
        } else if (which == 2) {
            uint96 fee = uint96(bound(value, 0, 20e18));
            (target, data) = (address(registry), abi.encodeCall(DeviceRegistry.setAssertFee, (fee)));
            expectedAssertFee = fee;
        } else if (which == 3) {
            uint256 window = bound(value, distributor.MIN_CHALLENGE_WINDOW(), 1 days);
            (target, data) = (address(distributor), abi.encodeCall(RewardsDistributor.setChallengeWindow, (window)));
            expectedChallengeWindow = window;
        } else {
            uint16 stakingBps = uint16(bound(value, 1_000, 5_000));
            uint16 treasuryBps = uint16(bound(value >> 16, 0, 2_000));
            uint16[] memory pools = new uint16[](1);
            pools[0] = 10_000 - stakingBps - treasuryBps;
            (target, data) = (
                address(controller),
                abi.encodeCall(EmissionsController.setSplit, (stakingBps, treasuryBps, pools))
            );
            (expectedStakingBps, expectedTreasuryBps) = (stakingBps, treasuryBps);
        }
        bytes32 salt = bytes32(++_saltNonce);
        uint256 delay = timelock.getMinDelay();
        vm.prank(proposer);
        timelock.schedule(target, 0, data, bytes32(0), salt, delay);
        vm.warp(block.timestamp + delay);
        timelock.execute(target, 0, data, bytes32(0), salt); // executor role is open (address(0))
        calls["govern"]++;
    }

    /// @dev Anyone but the timelock tries to change a parameter or grant a role: must be refused with the
    /// access error of the contract. The proposer also tries to skip the delay.
    function tryPrivileged(uint256 callerSeed, uint256 which) external {
        address caller = _anyone(callerSeed);
        (address target, bytes memory data, bytes4 why) = _privilegedCall(which, caller);
        vm.prank(caller);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory err) = target.call(data);
        _expect(!ok, "a privileged call succeeded from a non-timelock account");
        _expectError(!ok, err, why, "privileged call refused with the wrong error");
        if (caller == proposer) {
            // The proposer may schedule, but not execute before the delay.
            // (Arguments are read before vm.prank: a prank applies to the very next call, views included.)
            bytes32 salt = bytes32(++_saltNonce);
            uint256 delay = timelock.getMinDelay();
            bytes32 operation = timelock.hashOperation(target, 0, data, bytes32(0), salt);
            vm.prank(proposer);
            timelock.schedule(target, 0, data, bytes32(0), salt, delay);
            try timelock.execute(target, 0, data, bytes32(0), salt) {
                _expect(false, "timelock executed before its delay");
            } catch (bytes memory e) {
                _expectError(true, e, TimelockController.TimelockUnexpectedOperationState.selector, "early execute");
            }
            vm.prank(proposer);
            timelock.cancel(operation);
        }
        privilegedAttempts++;
        calls["tryPrivileged"]++;
    }

    // ================================================================== views for the invariants

    function actorAt(uint256 i) external view returns (address) {
        return _actors[i];
    }

    function liveIds(address who) external view returns (uint256[] memory) {
        return _liveIds[who];
    }

    /// @notice The StandardMerkleTree root and an owner's proof for cumulative amounts `c` of the actors.
    function tree(uint256[ACTORS] calldata c, uint256 owner) external view returns (bytes32, bytes32[] memory) {
        return (_root(c), _proof(c, owner));
    }

    function devicesOf(address who) external view returns (uint256) {
        return _devices[who].length;
    }

    function deviceIdsOf(address who) external view returns (uint256[] memory) {
        return _devices[who];
    }

    function retiredIds() external view returns (uint256[] memory) {
        return _retired;
    }

    /// @notice Accounts that must hold no admin power: actors, guardian, slasher, proposer, maker (its current
    /// key), oracles,
    /// the controller, the handler (relayer), the treasury and the denylister.
    function outsiders() public view returns (address[] memory list) {
        list = new address[](ACTORS + 8 + SystemKeys.ORACLES);
        for (uint256 i = 0; i < ACTORS; ++i) list[i] = _actors[i];
        list[ACTORS] = guardian;
        list[ACTORS + 1] = slasher;
        list[ACTORS + 2] = proposer;
        list[ACTORS + 3] = vm.addr(makerPk);
        list[ACTORS + 4] = address(controller);
        list[ACTORS + 5] = address(this);
        list[ACTORS + 6] = treasury;
        list[ACTORS + 7] = denylister;
        for (uint256 i = 0; i < SystemKeys.ORACLES; ++i) list[ACTORS + 8 + i] = vm.addr(SystemKeys.oracleKey(i));
    }

    // ================================================================== internals

    function _actor(uint256 seed) private view returns (address, uint256) {
        uint256 i = seed % ACTORS;
        return (_actors[i], SystemKeys.actorKey(i));
    }

    /// @dev An actor and one of the devices it holds (`found` false if it holds none).
    function _pickDevice(
        uint256 actorSeed,
        uint256 deviceSeed
    ) private view returns (address actor, uint256 index, uint256 id, bool found) {
        (actor, ) = _actor(actorSeed);
        uint256[] storage ids = _devices[actor];
        if (ids.length == 0) return (actor, 0, 0, false);
        index = deviceSeed % ids.length;
        return (actor, index, ids[index], true);
    }

    function _anyone(uint256 seed) private view returns (address) {
        address[] memory list = outsiders();
        return list[seed % list.length];
    }

    /// @dev One privileged call per `which`, with the error a non-holder must get.
    function _privilegedCall(
        uint256 which,
        address caller
    ) private view returns (address target, bytes memory data, bytes4 why) {
        bytes4 denied = IAccessControl.AccessControlUnauthorizedAccount.selector;
        bytes32 adminRole = bytes32(0);
        which %= 18;
        why = denied;
        if (which == 0) (target, data) = (address(vault), abi.encodeCall(StakingVault.setCooldown, (1 days)));
        else if (which == 1) (target, data) = (address(vault), abi.encodeCall(StakingVault.setMaxSlashBps, (5_000)));
        else if (which == 2) (target, data) = (address(vault), abi.encodeCall(StakingVault.setMinStakePerDevice, (0)));
        else if (which == 3) (target, data) = (address(vault), abi.encodeCall(StakingVault.setTreasury, (caller)));
        else if (which == 4)
            (target, data) = (address(vault), abi.encodeCall(IAccessControl.grantRole, (vault.SLASHER_ROLE(), caller)));
        else if (which == 5)
            (target, data) = (address(registry), abi.encodeCall(DeviceRegistry.addMaker, (99, caller, 1_000)));
        else if (which == 6)
            (target, data) = (
                address(registry),
                abi.encodeCall(DeviceRegistry.setDeviceClass, (1, IDeviceRegistry.DeviceClassInfo(true, 0, 0)))
            );
        else if (which == 7) (target, data) = (address(registry), abi.encodeCall(DeviceRegistry.setAssertFee, (0)));
        else if (which == 8)
            (target, data) = (address(registry), abi.encodeCall(IAccessControl.grantRole, (adminRole, caller)));
        else (target, data, why) = _privilegedCallOutsideRegistryAndVault(which, caller);
    }

    function _privilegedCallOutsideRegistryAndVault(
        uint256 which,
        address caller
    ) private view returns (address target, bytes memory data, bytes4 why) {
        uint16[] memory pools = new uint16[](1);
        pools[0] = 6_000;
        address[] memory oracleSet = new address[](1);
        oracleSet[0] = caller;
        why = IAccessControl.AccessControlUnauthorizedAccount.selector;
        if (which == 9)
            (target, data) = (address(distributor), abi.encodeCall(RewardsDistributor.setOracleSet, (oracleSet, 1)));
        else if (which == 10)
            (target, data) = (address(distributor), abi.encodeCall(RewardsDistributor.setChallengeWindow, (1 hours)));
        else if (which == 11)
            (target, data) = (
                address(distributor),
                abi.encodeCall(IAccessControl.grantRole, (distributor.GUARDIAN_ROLE(), caller))
            );
        else if (which == 12)
            (target, data) = (address(controller), abi.encodeCall(EmissionsController.setSplit, (3_000, 1_000, pools)));
        else if (which == 13)
            (target, data) = (address(controller), abi.encodeCall(EmissionsController.setTreasury, (caller)));
        else if (which == 14)
            (target, data) = (address(controller), abi.encodeCall(EmissionsController.setStakingVault, (caller)));
        else if (which == 15) {
            (target, data) = (address(token), abi.encodeCall(MeshToken.setMinter, (caller)));
            why = IMeshToken.MeshUnauthorizedMinterAdmin.selector;
        } else if (which == 16) {
            (target, data) = (address(timelock), abi.encodeCall(TimelockController.updateDelay, (0)));
            why = TimelockController.TimelockUnauthorizedCaller.selector;
        } else {
            (target, data) = (
                address(timelock),
                abi.encodeCall(IAccessControl.grantRole, (timelock.PROPOSER_ROLE(), caller))
            );
        }
    }

    function _postableEpoch(uint256 epochSeed) private view returns (bool ok, uint64 epoch, uint256 totalFunded) {
        if (distributor.paused()) return (false, 0, 0);
        (, , , uint64 readyAt) = distributor.pendingRoot();
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

    /// @dev The distributor's live root (promoted lazily) is either our live or our pending tree.
    function _syncLive() private {
        (, bytes32 live, ) = distributor.liveRoot();
        if (live != liveRoot && live == pendingRoot && live != bytes32(0)) {
            liveCumulative = pendingCumulative;
            liveRoot = live;
        }
    }

    function _oracleSignatures(bytes32 digest, uint256 count) private view returns (bytes memory packed) {
        for (uint256 i = 0; i < count; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(_oracleKeysAscending[i], digest);
            packed = bytes.concat(packed, r, s, bytes1(v));
        }
    }

    // ---- StandardMerkleTree (@openzeppelin/merkle-tree) over the actors with a non-zero cumulative

    /// @dev Leaves `keccak256(bytes.concat(keccak256(abi.encode(owner, cumulative))))`, sorted ascending,
    /// placed at the end of the node array in reverse order, parents at (i - 1) / 2: StandardMerkleTree.of.
    function _tree(uint256[ACTORS] memory c) private view returns (bytes32[] memory nodes, uint256[] memory pos) {
        uint256 n = 0;
        for (uint256 i = 0; i < ACTORS; ++i) if (c[i] != 0) n++;
        bool all = n == 0; // an empty tree is not a tree: then every actor gets a zero leaf
        if (all) n = ACTORS;
        bytes32[] memory leaves = new bytes32[](n);
        uint256[] memory owners = new uint256[](n);
        uint256 k = 0;
        for (uint256 i = 0; i < ACTORS; ++i) {
            if (!all && c[i] == 0) continue;
            leaves[k] = keccak256(bytes.concat(keccak256(abi.encode(_actors[i], c[i]))));
            owners[k++] = i;
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && leaves[j - 1] > leaves[j]; --j) {
                (leaves[j - 1], leaves[j]) = (leaves[j], leaves[j - 1]);
                (owners[j - 1], owners[j]) = (owners[j], owners[j - 1]);
            }
        }
        nodes = new bytes32[](2 * n - 1);
        pos = new uint256[](ACTORS);
        for (uint256 i = 0; i < n; ++i) {
            nodes[2 * n - 2 - i] = leaves[i];
            pos[owners[i]] = 2 * n - 2 - i;
        }
        for (uint256 i = n - 1; i > 0; --i) nodes[i - 1] = _pair(nodes[2 * i - 1], nodes[2 * i]);
    }

    function _root(uint256[ACTORS] memory c) private view returns (bytes32) {
        (bytes32[] memory nodes, ) = _tree(c);
        return nodes[0];
    }

    function _proof(uint256[ACTORS] memory c, uint256 owner) private view returns (bytes32[] memory proof) {
        (bytes32[] memory nodes, uint256[] memory pos) = _tree(c);
        uint256 j = pos[owner];
        uint256 depth = 0;
        for (uint256 x = j; x > 0; x = (x - 1) / 2) depth++;
        proof = new bytes32[](depth);
        for (uint256 d = 0; d < depth; ++d) {
            proof[d] = nodes[j % 2 == 1 ? j + 1 : j - 1];
            j = (j - 1) / 2;
        }
    }

    function _pair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    // ---- signing

    function _domain(string memory name, address verifyingContract) private view returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256("1"), block.chainid, verifyingContract)
            );
    }

    function _typed(bytes32 domain, bytes32 structHash) private pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _permit(
        uint256 key,
        address owner,
        uint256 amount
    ) private view returns (uint8 v, bytes32 r, bytes32 s, uint256 deadline) {
        deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(PERMIT_TYPEHASH, owner, address(vault), amount, token.nonces(owner), deadline)
        );
        (v, r, s) = vm.sign(key, keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash)));
    }

    function _signK1(uint256 pk, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        if (uint256(s) > SystemKeys.SECP256K1_N / 2) {
            s = bytes32(SystemKeys.SECP256K1_N - uint256(s));
            v = v == 27 ? 28 : 27;
        }
        return abi.encodePacked(r, s, v);
    }

    function _signP256(uint256 pk, bytes32 digest) private pure returns (bytes memory) {
        (bytes32 r, bytes32 s) = vm.signP256(pk, digest);
        uint256 lowS = uint256(s) > SystemKeys.P256_N / 2 ? SystemKeys.P256_N - uint256(s) : uint256(s);
        return abi.encodePacked(r, bytes32(lowS));
    }

    /// @dev A valid resolution-12 H3 cell: a hexagonal base cell (pentagons avoided) and digits 0..6.
    function _res12Cell(uint256 seed) private pure returns (uint64) {
        uint256 base = seed % 122;
        if (H3.isPentagonBaseCell(base)) base += 1; // no two pentagons are adjacent ids
        uint256 h = (uint256(1) << 59) | (uint256(12) << 52) | (base << 45) | 0x1FF;
        for (uint256 r = 1; r <= 12; r++) h |= ((seed >> (r * 8)) % 7) << (3 * (15 - r));
        return uint64(h);
    }

    // ---- outcome bookkeeping

    function _expect(bool condition, string memory what) private {
        if (!condition) {
            unexpected++;
            lastUnexpected = what;
        }
    }

    function _expectError(bool shouldFail, bytes memory err, bytes4 selector, string memory what) private {
        _expect(shouldFail && err.length >= 4 && bytes4(err) == selector, what);
    }

    function _removeAt(uint256[] storage ids, uint256 index) private {
        ids[index] = ids[ids.length - 1];
        ids.pop();
    }
}
