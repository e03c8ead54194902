// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "./utils/Test.sol";
import {MeshToken} from "../../contracts/token/MeshToken.sol";
import {DeviceRegistry} from "../../contracts/registry/DeviceRegistry.sol";
import {IDeviceRegistry} from "../../contracts/interfaces/IDeviceRegistry.sol";

/// @notice Fuzz tests of onboarding (secp256k1 with vm.sign, P-256 with vm.signP256) and of location
/// asserts (cells checked against a loop-by-digit reference written from the H3 spec, not the library).
contract DeviceRegistryFuzzTest is Test {
    uint256 private constant SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
    uint256 private constant P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551;
    uint256 private constant MAKER_PK = 0xA11CE;
    uint32 private constant MAKER_ID = 7;
    uint16 private constant CLASS = 1;
    uint96 private constant FEE = 40e18;
    uint96 private constant ASSERT_FEE = 5e18;
    address private constant OWNER = address(0x0BEEF);

    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "DeviceAttestation(bytes32 keyId,uint16 deviceClass,uint32 makerId,uint64 deadline)"
    );
    bytes32 private constant OWNERSHIP_TYPEHASH = keccak256(
        "DeviceOwnership(bytes32 keyId,address owner,uint64 deadline)"
    );

    MeshToken private mesh;
    DeviceRegistry private registry;

    function setUp() public {
        mesh = new MeshToken(address(this), 1_000_000e18, address(this));
        registry = new DeviceRegistry(address(this), mesh);
        registry.addMaker(MAKER_ID, vm.addr(MAKER_PK), 1_000_000);
        registry.setDeviceClass(CLASS, IDeviceRegistry.DeviceClassInfo(true, 0, FEE));
        registry.setAssertFee(ASSERT_FEE);
        mesh.approve(address(registry), type(uint256).max);
    }

    // ------------------------------------------------------------------ onboarding

    /// @notice Any secp256k1 key and any owner onboard once; the fee is collected, then burned in a batch;
    /// a replay and a swapped owner fail.
    function testFuzz_OnboardSecp256k1(uint256 devicePk, address owner, address other) public {
        devicePk = bound(devicePk, 1, SECP256K1_N - 1);
        vm.assume(owner != address(0) && other != owner);
        address deviceAddr = vm.addr(devicePk);
        IDeviceRegistry.OnboardRequest memory req = _request(
            IDeviceRegistry.KeyType.Secp256k1,
            bytes32(uint256(uint160(deviceAddr))),
            bytes32(0),
            owner
        );
        bytes32 keyId = keccak256(abi.encode(uint8(0), req.key.x, req.key.y));
        bytes memory makerSig = _signK1(MAKER_PK, _attestationDigest(keyId, req));
        bytes memory deviceSig = _signK1(devicePk, _ownershipDigest(keyId, req.owner, req.deviceDeadline));

        if (other != address(0)) {
            IDeviceRegistry.OnboardRequest memory swapped = _request(req.key.keyType, req.key.x, req.key.y, other);
            vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidDeviceSignature.selector, keyId));
            registry.onboard(swapped, makerSig, deviceSig);
        }

        uint256 supply = mesh.totalSupply();
        uint256 held = mesh.balanceOf(address(registry));
        uint256 id = registry.onboard(req, makerSig, deviceSig);
        assertEq(id, uint256(keyId), "the id is the key id");
        assertEq(registry.ownerOf(id), owner, "owner");
        assertEq(registry.balanceOf(owner), 1, "count");
        assertEq(registry.deviceIdByKey(keyId), id, "by key");
        assertEq(mesh.balanceOf(address(registry)), held + FEE, "fee collected");
        uint256 burned = registry.burnCollectedFees();
        assertEq(burned, held + FEE - 1, "all but one wei burned");
        assertEq(mesh.totalSupply(), supply - burned, "fees burned");
        IDeviceRegistry.DeviceInfo memory info = registry.deviceInfo(id);
        assertEq(info.keyX, req.key.x, "key");
        assertEq(info.keyId, keyId, "key id");

        vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryKeyAlreadyRegistered.selector, keyId, id));
        registry.onboard(req, makerSig, deviceSig);
    }

    /// @notice Any P-256 key onboards with a low-s signature; its high-s twin and a foreign key are refused.
    function testFuzz_OnboardP256(uint256 devicePk, uint256 otherPk) public {
        devicePk = bound(devicePk, 1, P256_N - 1);
        otherPk = bound(otherPk, 1, P256_N - 1);
        vm.assume(otherPk != devicePk);
        (uint256 qx, uint256 qy) = vm.publicKeyP256(devicePk);
        IDeviceRegistry.OnboardRequest memory req = _request(
            IDeviceRegistry.KeyType.P256,
            bytes32(qx),
            bytes32(qy),
            OWNER
        );
        bytes32 keyId = keccak256(abi.encode(uint8(1), req.key.x, req.key.y));
        bytes memory makerSig = _signK1(MAKER_PK, _attestationDigest(keyId, req));
        bytes32 digest = _ownershipDigest(keyId, OWNER, req.deviceDeadline);
        (bytes32 r, bytes32 s) = vm.signP256(devicePk, digest);
        uint256 lowS = uint256(s) > P256_N / 2 ? P256_N - uint256(s) : uint256(s);

        vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidDeviceSignature.selector, keyId));
        registry.onboard(req, makerSig, abi.encodePacked(r, bytes32(P256_N - lowS)));

        (bytes32 r2, bytes32 s2) = vm.signP256(otherPk, digest);
        uint256 lowS2 = uint256(s2) > P256_N / 2 ? P256_N - uint256(s2) : uint256(s2);
        vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidDeviceSignature.selector, keyId));
        registry.onboard(req, makerSig, abi.encodePacked(r2, bytes32(lowS2)));

        uint256 id = registry.onboard(req, makerSig, abi.encodePacked(r, bytes32(lowS)));
        assertEq(registry.ownerOf(id), OWNER, "owner");
        IDeviceRegistry.DeviceInfo memory info = registry.deviceInfo(id);
        assertEq(info.keyX, bytes32(qx), "qx");
        assertEq(info.keyY, bytes32(qy), "qy");
    }

    /// @notice An attestation binds the class and the key: changing either breaks the maker's signature.
    function testFuzz_AttestationBindsKeyAndClass(uint256 devicePk, uint16 otherClass, bytes32 otherKey) public {
        devicePk = bound(devicePk, 1, SECP256K1_N - 1);
        vm.assume(otherClass != CLASS);
        registry.setDeviceClass(otherClass, IDeviceRegistry.DeviceClassInfo(true, 1, 0));
        IDeviceRegistry.OnboardRequest memory req = _request(
            IDeviceRegistry.KeyType.Secp256k1,
            bytes32(uint256(uint160(vm.addr(devicePk)))),
            bytes32(0),
            OWNER
        );
        bytes32 keyId = keccak256(abi.encode(uint8(0), req.key.x, req.key.y));
        bytes memory makerSig = _signK1(MAKER_PK, _attestationDigest(keyId, req));
        bytes memory deviceSig = _signK1(devicePk, _ownershipDigest(keyId, OWNER, req.deviceDeadline));

        req.deviceClass = otherClass;
        vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidMakerSignature.selector, MAKER_ID));
        registry.onboard(req, makerSig, deviceSig);

        req.deviceClass = CLASS;
        otherKey = bytes32(uint256(otherKey) >> 96);
        vm.assume(otherKey != 0 && otherKey != req.key.x);
        req.key.x = otherKey;
        bytes32 otherId = keccak256(abi.encode(uint8(0), otherKey, bytes32(0)));
        vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidMakerSignature.selector, MAKER_ID));
        registry.onboard(req, makerSig, _signK1(devicePk, _ownershipDigest(otherId, OWNER, req.deviceDeadline)));
    }

    // ------------------------------------------------------------------ location asserts

    /// @notice Any 64-bit value is accepted exactly when the reference says it is a valid res-12 cell.
    function testFuzz_AssertRawCell(uint64 cell) public {
        uint256 id = _onboardFixedDevice();
        _assertAndCheck(id, cell, 50, 10);
    }

    /// @notice Structured cells: correct headers with fuzzed base cells and digits, often valid, sometimes
    /// corrupted in one field; the registry agrees with the reference on every one.
    function testFuzz_AssertStructuredCell(uint8 base, uint256 digitSeed, uint8 leadingZeros, uint8 corruption) public {
        uint256 id = _onboardFixedDevice();
        uint256 b = uint256(base) % 122;
        if (corruption >= 128) b = _pentagonBase(digitSeed % 12); // half the runs under a pentagon
        uint256 zeros = uint256(leadingZeros) % 13;
        uint64 cell = _buildCell(b, digitSeed, zeros);
        uint256 c = corruption % 8;
        if (c == 1) cell |= uint64(1) << 63;
        else if (c == 2)
            cell ^= uint64(1 + (digitSeed % 7)) << 56; // reserved bits
        else if (c == 3)
            cell = (cell & ~(uint64(0xF) << 52)) | (uint64(digitSeed % 16) << 52); // resolution
        else if (c == 4)
            cell |= uint64(7) << uint64(3 * (3 + (digitSeed % 12))); // a digit to 7
        else if (c == 5)
            cell &= ~(uint64(7) << uint64(3 * (digitSeed % 3))); // a digit past res to 0
        else if (c == 6 && zeros < 12) {
            // The first nonzero digit becomes 1: the deleted subsequence under a pentagon.
            uint64 shift = uint64(3 * (14 - zeros));
            cell = (cell & ~(uint64(7) << shift)) | (uint64(1) << shift);
        }
        _assertAndCheck(id, cell, 50, 10);
    }

    /// @notice Gain and elevation bounds, and the fee: the first assert is free, every later one pays.
    function testFuzz_AssertGainElevationAndFees(uint16 gain, int16 elevation, uint8 asserts) public {
        uint256 id = _onboardFixedDevice();
        uint64 cell = _buildCell(8, 12345, 0);
        bool gainOk = gain >= 10 && gain <= 150;
        bool elevationOk = elevation >= -500 && elevation <= 1000;
        if (!gainOk) {
            vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidGain.selector, gain));
        } else if (!elevationOk) {
            vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidElevation.selector, elevation));
        }
        vm.prank(OWNER);
        registry.assertLocation(id, cell, gain, elevation);
        if (!gainOk || !elevationOk) return;

        uint256 n = bound(asserts, 0, 5);
        uint256 held = mesh.balanceOf(address(registry));
        for (uint256 i = 0; i < n; i++) {
            vm.prank(OWNER);
            registry.assertLocation(id, cell, gain, elevation);
        }
        assertEq(mesh.balanceOf(address(registry)), held + n * ASSERT_FEE, "later asserts pay the fee");
        IDeviceRegistry.DeviceInfo memory info = registry.deviceInfo(id);
        assertEq(info.assertCount, n + 1, "assert count");
        assertEq(info.gain, gain, "gain");
        assertEq(uint256(int256(info.elevation) + 1000), uint256(int256(elevation) + 1000), "elevation");
        assertTrue(registry.isEligible(id), "eligible");
    }

    // ------------------------------------------------------------------ helpers

    function _request(
        IDeviceRegistry.KeyType keyType,
        bytes32 x,
        bytes32 y,
        address owner
    ) private view returns (IDeviceRegistry.OnboardRequest memory req) {
        req.key = IDeviceRegistry.DeviceKey(keyType, x, y);
        req.deviceClass = CLASS;
        req.makerId = MAKER_ID;
        req.owner = owner;
        req.makerDeadline = uint64(block.timestamp + 365 days);
        req.deviceDeadline = uint64(block.timestamp + 1 hours);
    }

    /// @dev The EIP-712 domain computed here, independently of the registry.
    function _domainSeparator() private view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("Hexmesh DeviceRegistry"),
                    keccak256("1"),
                    block.chainid,
                    address(registry)
                )
            );
    }

    function _attestationDigest(
        bytes32 keyId,
        IDeviceRegistry.OnboardRequest memory req
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(ATTESTATION_TYPEHASH, keyId, req.deviceClass, req.makerId, req.makerDeadline)
        );
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    function _ownershipDigest(bytes32 keyId, address owner, uint64 deadline) private view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(OWNERSHIP_TYPEHASH, keyId, owner, deadline));
        return keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash));
    }

    function _signK1(uint256 pk, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        if (uint256(s) > SECP256K1_N / 2) {
            s = bytes32(SECP256K1_N - uint256(s));
            v = v == 27 ? 28 : 27;
        }
        return abi.encodePacked(r, s, v);
    }

    function _onboardFixedDevice() private returns (uint256 id) {
        uint256 devicePk = 0xD3;
        IDeviceRegistry.OnboardRequest memory req = _request(
            IDeviceRegistry.KeyType.Secp256k1,
            bytes32(uint256(uint160(vm.addr(devicePk)))),
            bytes32(0),
            OWNER
        );
        bytes32 keyId = keccak256(abi.encode(uint8(0), req.key.x, req.key.y));
        id = registry.onboard(
            req,
            _signK1(MAKER_PK, _attestationDigest(keyId, req)),
            _signK1(devicePk, _ownershipDigest(keyId, OWNER, req.deviceDeadline))
        );
        assertTrue(mesh.transfer(OWNER, 100 * uint256(ASSERT_FEE)), "fund owner");
        vm.prank(OWNER);
        mesh.approve(address(registry), type(uint256).max);
    }

    /// @dev Asserts `cell` as the owner; expects success exactly when the reference accepts it.
    function _assertAndCheck(uint256 id, uint64 cell, uint16 gain, int16 elevation) private {
        bool valid = _referenceIsValidRes12(cell);
        if (!valid) vm.expectRevert(abi.encodeWithSelector(IDeviceRegistry.RegistryInvalidCell.selector, cell));
        vm.prank(OWNER);
        registry.assertLocation(id, cell, gain, elevation);
        if (valid) {
            assertEq(registry.deviceInfo(id).cell, cell, "cell stored");
            assertTrue(registry.isEligible(id), "eligible");
        }
    }

    /// @dev A resolution-12 cell from a base cell and digits 0..6 (with `zeros` leading zeros); pentagons
    /// whose first nonzero digit would be 1 get 2 instead, so the result is valid.
    function _buildCell(uint256 base, uint256 seed, uint256 zeros) private pure returns (uint64) {
        uint256 h = (uint256(1) << 59) | (uint256(12) << 52) | (base << 45) | 0x1FF;
        bool leading = true;
        for (uint256 r = 1; r <= 12; r++) {
            uint256 d = r <= zeros ? 0 : (seed >> (r * 8)) % 7;
            if (leading && d != 0) {
                leading = false;
                if (d == 1 && _isPentagon(base)) d = 2;
            }
            h |= d << (3 * (15 - r));
        }
        return uint64(h);
    }

    /// @dev isValidCell of H3 v4, digit by digit, restricted to resolution 12.
    function _referenceIsValidRes12(uint64 h) private pure returns (bool) {
        uint256 x = h;
        if (x >> 63 != 0) return false;
        if ((x >> 59) & 0xF != 1) return false;
        if ((x >> 56) & 0x7 != 0) return false;
        if ((x >> 52) & 0xF != 12) return false;
        uint256 base = (x >> 45) & 0x7F;
        if (base >= 122) return false;
        bool seenNonZero = false;
        for (uint256 r = 1; r <= 15; r++) {
            uint256 d = (x >> (3 * (15 - r))) & 7;
            if (r <= 12) {
                if (d == 7) return false;
                if (!seenNonZero && d != 0) {
                    seenNonZero = true;
                    if (d == 1 && _isPentagon(base)) return false;
                }
            } else if (d != 7) {
                return false;
            }
        }
        return true;
    }

    function _pentagonBase(uint256 i) private pure returns (uint256) {
        uint8[12] memory bases = [4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117];
        return bases[i];
    }

    function _isPentagon(uint256 base) private pure returns (bool) {
        return
            base == 4 ||
            base == 14 ||
            base == 24 ||
            base == 38 ||
            base == 49 ||
            base == 58 ||
            base == 63 ||
            base == 72 ||
            base == 83 ||
            base == 97 ||
            base == 107 ||
            base == 117;
    }
}
