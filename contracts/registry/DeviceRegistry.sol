// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {IMeshToken} from "../interfaces/IMeshToken.sol";
import {H3} from "../libraries/H3.sol";
import {DeviceKeys} from "../libraries/DeviceKeys.sol";

/// @title DeviceRegistry
/// @notice Hexmesh's device registry: one ERC-721 per device, maker attestations and device proofs of
/// possession (secp256k1 or P-256 keys), H3 location asserts, suspension and retirement. See
/// {IDeviceRegistry} for the signed message formats.
/// @dev Storage is shaped for cheap onboarding: the device id is the key id (no key index, no counter),
/// the assert fee shares a slot with Pausable's flag (read anyway), a device's onboarding data is one slot
/// and its location another (written by asserts only), a maker is one slot, a class is one slot. A new
/// owner's first device writes three fresh slots (NFT owner, NFT balance, device record). Fees are moved
/// into this registry (a rewrite of its nonzero balance) and burned later in one batch.
/// Onboarding calls no external code but MESH, and only after every effect (no NFT receiver hook: the
/// owner is the address the device key signed for). The P-256 Solidity fallback lives in the linked
/// library P256Verifier to keep this contract under 24 KiB.
contract DeviceRegistry is ERC721, AccessControl, EIP712, Nonces, Pausable, IDeviceRegistry {
    using SafeERC20 for IMeshToken;

    /// @inheritdoc IDeviceRegistry
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @inheritdoc IDeviceRegistry
    bytes32 public constant DENYLIST_ROLE = keccak256("DENYLIST_ROLE");

    /// @inheritdoc IDeviceRegistry
    uint8 public constant CELL_RESOLUTION = 12;
    /// @inheritdoc IDeviceRegistry
    uint16 public constant MIN_GAIN = 10;
    /// @inheritdoc IDeviceRegistry
    uint16 public constant MAX_GAIN = 150;
    /// @inheritdoc IDeviceRegistry
    int16 public constant MIN_ELEVATION = -500;
    /// @inheritdoc IDeviceRegistry
    int16 public constant MAX_ELEVATION = 1000;

    bytes32 private constant _ATTESTATION_TYPEHASH = keccak256(
        "DeviceAttestation(bytes32 keyId,uint16 deviceClass,uint32 makerId,uint64 deadline)"
    );
    bytes32 private constant _OWNERSHIP_TYPEHASH = keccak256(
        "DeviceOwnership(bytes32 keyId,address owner,uint64 deadline)"
    );
    bytes32 private constant _LOCATION_TYPEHASH = keccak256(
        "LocationAssertion(uint256 deviceId,uint64 cell,uint16 gain,int16 elevation,uint256 nonce,uint256 deadline)"
    );

    /// @dev What onboarding writes: one slot (30 bytes).
    struct DeviceCore {
        address keyAddress; // secp256k1 keys; zero for P-256 keys (see _p256Keys)
        KeyType keyType;
        DeviceStatus status;
        uint16 deviceClass;
        uint32 makerId;
        uint16 suspensionReason;
    }

    /// @dev What asserts write: one slot (21 bytes).
    struct DeviceLocation {
        uint64 cell;
        uint16 gain;
        int16 elevation;
        uint32 assertCount;
        uint40 lastAssertAt;
    }

    struct P256Key {
        bytes32 x;
        bytes32 y;
    }

    IMeshToken private immutable _MESH_TOKEN;

    // Packs into Pausable's slot (Pausable is the last base): asserts read the pause flag, so the fee
    // comes warm.
    uint96 private _assertFee;

    mapping(uint256 deviceId => DeviceCore) private _devices;
    mapping(uint256 deviceId => DeviceLocation) private _locations;
    mapping(uint256 deviceId => P256Key) private _p256Keys;
    mapping(uint256 deviceId => address) private _retiredOwners;
    mapping(uint32 makerId => MakerInfo) private _makers;
    mapping(uint16 deviceClass => DeviceClassInfo) private _classes;

    /// @param admin DEFAULT_ADMIN_ROLE (the timelock in deployment).
    /// @param mesh_ The MESH token fees are paid in.
    constructor(
        address admin,
        IMeshToken mesh_
    ) ERC721("Hexmesh Device", "HXDEV") EIP712("Hexmesh DeviceRegistry", "1") {
        if (admin == address(0) || address(mesh_) == address(0)) revert RegistryZeroAddress();
        _MESH_TOKEN = mesh_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IDeviceRegistry
    function addMaker(uint32 makerId, address signer, uint48 allowance) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (signer == address(0)) revert RegistryZeroAddress();
        if (_makers[makerId].status != MakerStatus.None) revert RegistryMakerAlreadyExists(makerId);
        _makers[makerId] = MakerInfo({signer: signer, allowance: allowance, onboarded: 0, status: MakerStatus.Active});
        emit MakerAdded(makerId, signer, allowance);
    }

    /// @inheritdoc IDeviceRegistry
    function raiseMakerAllowance(uint32 makerId, uint48 added) external onlyRole(DEFAULT_ADMIN_ROLE) {
        MakerInfo storage maker = _requireActiveMaker(makerId);
        uint256 allowance = uint256(maker.allowance) + added;
        if (allowance > type(uint48).max) revert RegistryMakerAllowanceOverflow(makerId, allowance);
        maker.allowance = uint48(allowance);
        emit MakerAllowanceRaised(makerId, added, uint48(allowance));
    }

    /// @inheritdoc IDeviceRegistry
    function revokeMaker(uint32 makerId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireActiveMaker(makerId).status = MakerStatus.Revoked;
        emit MakerRevoked(makerId);
    }

    /// @inheritdoc IDeviceRegistry
    function setDeviceClass(uint16 deviceClass, DeviceClassInfo calldata config) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _classes[deviceClass] = config;
        emit DeviceClassSet(deviceClass, config.enabled, config.subnetwork, config.onboardingFee);
    }

    /// @inheritdoc IDeviceRegistry
    function setAssertFee(uint96 fee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit AssertFeeSet(_assertFee, fee);
        _assertFee = fee;
    }

    /// @inheritdoc IDeviceRegistry
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @inheritdoc IDeviceRegistry
    function unpause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        _unpause();
    }

    /// @inheritdoc IDeviceRegistry
    function suspend(uint256 deviceId, uint16 reason) external onlyRole(DENYLIST_ROLE) {
        DeviceCore storage core = _devices[deviceId];
        DeviceStatus status = core.status;
        if (status == DeviceStatus.None) revert RegistryUnknownDevice(deviceId);
        if (status != DeviceStatus.Active) revert RegistryDeviceNotActive(deviceId, status);
        core.status = DeviceStatus.Suspended;
        core.suspensionReason = reason;
        emit DeviceSuspended(deviceId, reason);
    }

    /// @inheritdoc IDeviceRegistry
    function reinstate(uint256 deviceId) external onlyRole(DENYLIST_ROLE) {
        DeviceCore storage core = _devices[deviceId];
        DeviceStatus status = core.status;
        if (status == DeviceStatus.None) revert RegistryUnknownDevice(deviceId);
        if (status != DeviceStatus.Suspended) revert RegistryDeviceNotSuspended(deviceId, status);
        core.status = DeviceStatus.Active;
        core.suspensionReason = 0;
        emit DeviceReinstated(deviceId);
    }

    // ------------------------------------------------------------------ makers

    /// @inheritdoc IDeviceRegistry
    function rotateMakerKey(uint32 makerId, address newSigner) external {
        MakerInfo storage maker = _requireActiveMaker(makerId);
        address previous = maker.signer;
        if (msg.sender != previous) revert RegistryNotMakerSigner(makerId, msg.sender);
        if (newSigner == address(0)) revert RegistryZeroAddress();
        maker.signer = newSigner;
        emit MakerKeyRotated(makerId, previous, newSigner);
    }

    // ------------------------------------------------------------------ owners

    /// @inheritdoc IDeviceRegistry
    function onboard(
        OnboardRequest calldata req,
        bytes calldata makerSignature,
        bytes calldata deviceSignature
    ) external whenNotPaused returns (uint256) {
        return _onboard(req, makerSignature, deviceSignature);
    }

    /// @inheritdoc IDeviceRegistry
    function onboardWithPermit(
        OnboardRequest calldata req,
        bytes calldata makerSignature,
        bytes calldata deviceSignature,
        Permit calldata permit
    ) external whenNotPaused returns (uint256) {
        // A failed permit is ignored: someone may have submitted it first (the allowance is then set),
        // and if not, taking the fee fails with the token's allowance error.
        /* solhint-disable no-empty-blocks */
        // static-check-ignore: call-before-write permit only sets this registry's allowance on MESH (no hooks, no callbacks)
        try _MESH_TOKEN.permit(msg.sender, address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s) {
            // permit applied
        } catch {
            // fall through to the allowance check in the fee burn
        }
        /* solhint-enable no-empty-blocks */
        return _onboard(req, makerSignature, deviceSignature);
    }

    /// @inheritdoc IDeviceRegistry
    function assertLocation(uint256 deviceId, uint64 cell, uint16 gain, int16 elevation) external whenNotPaused {
        address owner = _requireLiveOwner(deviceId);
        if (owner != msg.sender) revert RegistryNotDeviceOwner(deviceId, msg.sender);
        _assertLocation(deviceId, owner, cell, gain, elevation);
    }

    /// @inheritdoc IDeviceRegistry
    function assertLocationBySig(
        uint256 deviceId,
        uint64 cell,
        uint16 gain,
        int16 elevation,
        uint256 deadline,
        bytes calldata signature
    ) external whenNotPaused {
        if (block.timestamp > deadline) revert RegistryAssertionExpired(deadline);
        address owner = _requireLiveOwner(deviceId);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_LOCATION_TYPEHASH, deviceId, cell, gain, elevation, _useNonce(owner), deadline))
        );
        if (!SignatureChecker.isValidSignatureNowCalldata(owner, digest, signature)) {
            revert RegistryInvalidOwnerSignature(deviceId, owner);
        }
        _assertLocation(deviceId, owner, cell, gain, elevation);
    }

    /// @inheritdoc IDeviceRegistry
    function retire(uint256 deviceId) external {
        address owner = _requireLiveOwner(deviceId);
        if (owner != msg.sender) revert RegistryNotDeviceOwner(deviceId, msg.sender);
        _devices[deviceId].status = DeviceStatus.Retired;
        _retiredOwners[deviceId] = owner;
        _burn(deviceId);
        emit DeviceRetired(deviceId, owner);
    }

    /// @inheritdoc IDeviceRegistry
    function burnCollectedFees() external returns (uint256 amount) {
        amount = _collectedFees();
        if (amount == 0) revert RegistryNoFeesToBurn();
        emit CollectedFeesBurned(msg.sender, amount);
        _MESH_TOKEN.burn(amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDeviceRegistry
    function mesh() external view returns (IMeshToken) {
        return _MESH_TOKEN;
    }

    /// @inheritdoc IDeviceRegistry
    function assertFee() external view returns (uint96) {
        return _assertFee;
    }

    /// @inheritdoc IDeviceRegistry
    function collectedFees() external view returns (uint256) {
        return _collectedFees();
    }

    /// @inheritdoc IDeviceRegistry
    function deviceInfo(uint256 deviceId) external view returns (DeviceInfo memory info) {
        DeviceCore memory core = _devices[deviceId];
        if (core.status == DeviceStatus.None) revert RegistryUnknownDevice(deviceId);
        DeviceLocation memory loc = _locations[deviceId];
        (bytes32 x, bytes32 y) = _keyOf(deviceId, core);
        info = DeviceInfo({
            owner: core.status == DeviceStatus.Retired ? _retiredOwners[deviceId] : _ownerOf(deviceId),
            keyType: core.keyType,
            keyX: x,
            keyY: y,
            keyId: DeviceKeys.keyId(core.keyType, x, y),
            deviceClass: core.deviceClass,
            makerId: core.makerId,
            status: core.status,
            suspensionReason: core.suspensionReason,
            cell: loc.cell,
            gain: loc.gain,
            elevation: loc.elevation,
            assertCount: loc.assertCount,
            lastAssertAt: loc.lastAssertAt
        });
    }

    /// @inheritdoc IDeviceRegistry
    function statusOf(uint256 deviceId) external view returns (DeviceStatus) {
        return _devices[deviceId].status;
    }

    /// @inheritdoc IDeviceRegistry
    function isEligible(uint256 deviceId) external view returns (bool) {
        return _devices[deviceId].status == DeviceStatus.Active && _locations[deviceId].assertCount != 0;
    }

    /// @inheritdoc IDeviceRegistry
    function deviceIdByKey(bytes32 keyId) external view returns (uint256) {
        return _devices[uint256(keyId)].status == DeviceStatus.None ? 0 : uint256(keyId);
    }

    /// @inheritdoc IDeviceRegistry
    function makerInfo(uint32 makerId) external view returns (MakerInfo memory) {
        return _makers[makerId];
    }

    /// @inheritdoc IDeviceRegistry
    function deviceClassInfo(uint16 deviceClass) external view returns (DeviceClassInfo memory) {
        return _classes[deviceClass];
    }

    /// @inheritdoc IDeviceRegistry
    function nonces(address owner) public view override(IDeviceRegistry, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IDeviceRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internals

    function _onboard(
        OnboardRequest calldata req,
        bytes calldata makerSignature,
        bytes calldata deviceSignature
    ) private returns (uint256 deviceId) {
        if (block.timestamp > req.makerDeadline) revert RegistryAttestationExpired(req.makerDeadline);
        if (block.timestamp > req.deviceDeadline) revert RegistryProofOfPossessionExpired(req.deviceDeadline);
        if (req.owner == address(0)) revert RegistryZeroAddress();

        DeviceKey calldata key = req.key;
        if (!DeviceKeys.isWellFormed(key.keyType, key.x, key.y))
            revert RegistryInvalidDeviceKey(key.keyType, key.x, key.y);
        bytes32 keyId = DeviceKeys.keyId(key.keyType, key.x, key.y);
        // The device id is the key id: no key index to write, and a key registers once because its id
        // exists once (retired devices keep their record).
        deviceId = uint256(keyId);
        if (_devices[deviceId].status != DeviceStatus.None) revert RegistryKeyAlreadyRegistered(keyId, deviceId);

        DeviceClassInfo memory class_ = _classes[req.deviceClass];
        if (!class_.enabled) revert RegistryDeviceClassDisabled(req.deviceClass);

        MakerInfo memory maker = _checkAttestation(req, keyId, makerSignature);
        _checkPossession(req, keyId, deviceSignature);

        _register(req, deviceId, maker, class_.onboardingFee);
        if (class_.onboardingFee != 0) _MESH_TOKEN.safeTransferFrom(msg.sender, address(this), class_.onboardingFee);
    }

    /// @dev Effects of a checked onboarding: maker allowance, device record, NFT, event.
    function _register(OnboardRequest calldata req, uint256 deviceId, MakerInfo memory maker, uint256 fee) private {
        MakerInfo storage makerRecord = _makers[req.makerId];
        makerRecord.onboarded = maker.onboarded + 1;
        unchecked {
            // allowance > 0 was checked.
            makerRecord.allowance = maker.allowance - 1;
        }
        DeviceKey calldata key = req.key;
        bool secp256k1 = key.keyType == KeyType.Secp256k1;
        _devices[deviceId] = DeviceCore({
            keyAddress: secp256k1 ? address(uint160(uint256(key.x))) : address(0),
            keyType: key.keyType,
            status: DeviceStatus.Active,
            deviceClass: req.deviceClass,
            makerId: req.makerId,
            suspensionReason: 0
        });
        if (!secp256k1) _p256Keys[deviceId] = P256Key(key.x, key.y);
        _mint(req.owner, deviceId);
        emit DeviceOnboarded(deviceId, req.owner, req.makerId, key.keyType, key.x, key.y, req.deviceClass, fee);
    }

    /// @dev The device key's proof of possession: it signed the owner. Like the attestation, the digest
    /// commits to this chain and this registry through the EIP-712 domain.
    function _checkPossession(OnboardRequest calldata req, bytes32 keyId, bytes calldata deviceSignature) private view {
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_OWNERSHIP_TYPEHASH, keyId, req.owner, req.deviceDeadline))
        );
        if (!DeviceKeys.verify(req.key.keyType, req.key.x, req.key.y, digest, deviceSignature)) {
            revert RegistryInvalidDeviceSignature(keyId);
        }
    }

    /// @dev The maker, checked to be active with allowance left and to have signed the attestation.
    function _checkAttestation(
        OnboardRequest calldata req,
        bytes32 keyId,
        bytes calldata makerSignature
    ) private view returns (MakerInfo memory maker) {
        uint32 makerId = req.makerId;
        maker = _makers[makerId];
        if (maker.status != MakerStatus.Active) {
            if (maker.status == MakerStatus.None) revert RegistryUnknownMaker(makerId);
            revert RegistryMakerIsRevoked(makerId);
        }
        if (maker.allowance == 0) revert RegistryMakerAllowanceExhausted(makerId);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_ATTESTATION_TYPEHASH, keyId, req.deviceClass, makerId, req.makerDeadline))
        );
        (address attester, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, makerSignature);
        if (err != ECDSA.RecoverError.NoError || attester != maker.signer)
            revert RegistryInvalidMakerSignature(makerId);
    }

    function _assertLocation(uint256 deviceId, address owner, uint64 cell, uint16 gain, int16 elevation) private {
        DeviceStatus status = _devices[deviceId].status;
        if (status != DeviceStatus.Active) revert RegistryDeviceNotActive(deviceId, status);
        if (!H3.isValidCellAtResolution(cell, CELL_RESOLUTION)) revert RegistryInvalidCell(cell);
        if (gain < MIN_GAIN || gain > MAX_GAIN) revert RegistryInvalidGain(gain);
        if (elevation < MIN_ELEVATION || elevation > MAX_ELEVATION) revert RegistryInvalidElevation(elevation);

        uint32 count = _locations[deviceId].assertCount + 1;
        uint256 fee = count == 1 ? 0 : _assertFee;
        _locations[deviceId] = DeviceLocation({
            cell: cell,
            gain: gain,
            elevation: elevation,
            assertCount: count,
            lastAssertAt: uint40(block.timestamp)
        });
        emit LocationAsserted(deviceId, owner, cell, gain, elevation, count, fee);
        if (fee != 0) _MESH_TOKEN.safeTransferFrom(owner, address(this), fee);
    }

    /// @dev The owner of a live device; reverts for retired devices and ids never issued.
    function _requireLiveOwner(uint256 deviceId) private view returns (address owner) {
        owner = _ownerOf(deviceId);
        if (owner == address(0)) {
            if (_devices[deviceId].status == DeviceStatus.Retired) revert RegistryDeviceIsRetired(deviceId);
            revert RegistryUnknownDevice(deviceId);
        }
    }

    /// @dev Everything the registry holds but one wei: the balance slot stays nonzero, so a fee costs
    /// its payer a 2.9k rewrite instead of a 20k fresh write.
    function _collectedFees() private view returns (uint256) {
        uint256 balance = _MESH_TOKEN.balanceOf(address(this));
        return balance > 1 ? balance - 1 : 0;
    }

    function _requireActiveMaker(uint32 makerId) private view returns (MakerInfo storage maker) {
        maker = _makers[makerId];
        if (maker.status == MakerStatus.None) revert RegistryUnknownMaker(makerId);
        if (maker.status == MakerStatus.Revoked) revert RegistryMakerIsRevoked(makerId);
    }

    function _keyOf(uint256 deviceId, DeviceCore memory core) private view returns (bytes32 x, bytes32 y) {
        if (core.keyType == KeyType.Secp256k1) return (bytes32(uint256(uint160(core.keyAddress))), bytes32(0));
        P256Key storage key = _p256Keys[deviceId];
        return (key.x, key.y);
    }
}
