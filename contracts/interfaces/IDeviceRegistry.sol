// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IMeshToken} from "./IMeshToken.sol";

/// @title Hexmesh device registry interface
/// @notice One ERC-721 per device (not enumerable). Makers approved by governance attest device keys;
/// the device key proves possession by signing its new owner; owners assert an H3 location (resolution
/// 12), antenna gain and elevation; the denylist role suspends devices; owners retire them (final,
/// burns the NFT). `balanceOf(owner)` is the owner's number of live (active or suspended) devices.
///
/// Signatures are EIP-712 typed data under the domain {name: "Hexmesh DeviceRegistry", version: "1",
/// chainId, verifyingContract}:
/// - `DeviceAttestation(bytes32 keyId,uint16 deviceClass,uint32 makerId,uint64 deadline)`, signed by the
///   maker's current signing key (ECDSA). Single use by construction: a key registers once, ever.
/// - `DeviceOwnership(bytes32 keyId,address owner,uint64 deadline)`, signed by the device key itself
///   (secp256k1 ECDSA, or P-256 ECDSA over the 32-byte digest with low s).
/// - `LocationAssertion(uint256 deviceId,uint64 cell,uint16 gain,int16 elevation,uint256 nonce,uint256 deadline)`,
///   signed by the device owner (EOA or ERC-1271 wallet) for relayed asserts; `nonce` is `nonces(owner)`.
///
/// `keyId = keccak256(abi.encode(uint8 keyType, bytes32 keyX, bytes32 keyY))` where a secp256k1 key is its
/// Ethereum address as `keyX` (left-padded) with `keyY = 0`, and a P-256 key is its affine point (qx, qy).
/// A device's id (its ERC-721 token id) is `uint256(keyId)`: anyone holding the key knows the id.
///
/// Fees are paid in MESH: the payer approves this registry (or signs a permit for `onboardWithPermit`).
/// The onboarding fee is paid by the caller, the assert fee by the owner. Fees go to this registry,
/// which can do nothing with MESH but burn it: `burnCollectedFees` (anyone) burns them in one batch.
/// Burning each fee at once would cost every payer a new ERC20Votes total-supply checkpoint (~30k gas).
interface IDeviceRegistry is IERC721 {
    // ------------------------------------------------------------------ types

    /// @notice The curve of a device key.
    enum KeyType {
        Secp256k1,
        P256
    }

    /// @notice Life cycle of a device. `None` means the id was never issued.
    enum DeviceStatus {
        None,
        Active,
        Suspended,
        Retired
    }

    /// @notice Life cycle of a maker. `None` means the id was never added.
    enum MakerStatus {
        None,
        Active,
        Revoked
    }

    /// @notice A device public key. secp256k1: `x` = the key's address left-padded, `y` = 0.
    /// P-256: the affine coordinates (qx, qy).
    struct DeviceKey {
        KeyType keyType;
        bytes32 x;
        bytes32 y;
    }

    /// @notice Everything an onboarding binds: the key and class attested by the maker (until
    /// `makerDeadline`) and the owner the device key signed for (until `deviceDeadline`).
    struct OnboardRequest {
        DeviceKey key;
        uint16 deviceClass;
        uint32 makerId;
        address owner;
        uint64 makerDeadline;
        uint64 deviceDeadline;
    }

    /// @notice An EIP-2612 permit for MESH, signed by the fee payer for this registry as spender.
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice A device as the oracle and wallets read it.
    /// @dev `owner` is the current NFT owner, or the last owner for a retired device.
    struct DeviceInfo {
        address owner;
        KeyType keyType;
        bytes32 keyX;
        bytes32 keyY;
        bytes32 keyId;
        uint16 deviceClass;
        uint32 makerId;
        DeviceStatus status;
        uint16 suspensionReason;
        uint64 cell;
        uint16 gain;
        int16 elevation;
        uint32 assertCount;
        uint40 lastAssertAt;
    }

    /// @notice A maker's record.
    struct MakerInfo {
        address signer;
        uint48 allowance;
        uint32 onboarded;
        MakerStatus status;
    }

    /// @notice A device class's configuration. Only enabled classes can be onboarded.
    struct DeviceClassInfo {
        bool enabled;
        uint8 subnetwork;
        uint96 onboardingFee;
    }

    // ------------------------------------------------------------------ errors

    /// @notice The zero address was given where an account is required.
    error RegistryZeroAddress();
    /// @notice No device was ever issued with this id.
    error RegistryUnknownDevice(uint256 deviceId);
    /// @notice The caller is not the device's owner.
    error RegistryNotDeviceOwner(uint256 deviceId, address caller);
    /// @notice The device must be active for this operation.
    error RegistryDeviceNotActive(uint256 deviceId, DeviceStatus status);
    /// @notice The device must be suspended for this operation.
    error RegistryDeviceNotSuspended(uint256 deviceId, DeviceStatus status);
    /// @notice The device is retired; nothing can change it any more.
    error RegistryDeviceIsRetired(uint256 deviceId);
    /// @notice The device key is malformed (secp256k1: not a nonzero address with y = 0; P-256: not on the curve).
    error RegistryInvalidDeviceKey(KeyType keyType, bytes32 x, bytes32 y);
    /// @notice The device key is (or was) registered already; a key registers only once.
    error RegistryKeyAlreadyRegistered(bytes32 keyId, uint256 deviceId);
    /// @notice The device class is not enabled for onboarding.
    error RegistryDeviceClassDisabled(uint16 deviceClass);
    /// @notice No maker was ever added with this id.
    error RegistryUnknownMaker(uint32 makerId);
    /// @notice A maker with this id exists (or existed) already.
    error RegistryMakerAlreadyExists(uint32 makerId);
    /// @notice The maker was revoked.
    error RegistryMakerIsRevoked(uint32 makerId);
    /// @notice The maker has no onboarding allowance left.
    error RegistryMakerAllowanceExhausted(uint32 makerId);
    /// @notice Raising the allowance would overflow its 48-bit counter.
    error RegistryMakerAllowanceOverflow(uint32 makerId, uint256 allowance);
    /// @notice Only the maker's current signing key may rotate it.
    error RegistryNotMakerSigner(uint32 makerId, address caller);
    /// @notice The maker's attestation is not signed by the maker's current signing key.
    error RegistryInvalidMakerSignature(uint32 makerId);
    /// @notice The proof of possession is not signed by the device key.
    error RegistryInvalidDeviceSignature(bytes32 keyId);
    /// @notice The relayed assert is not signed by the device owner.
    error RegistryInvalidOwnerSignature(uint256 deviceId, address owner);
    /// @notice The maker's attestation expired.
    error RegistryAttestationExpired(uint64 deadline);
    /// @notice The device's proof of possession expired.
    error RegistryProofOfPossessionExpired(uint64 deadline);
    /// @notice The owner's signed assert expired.
    error RegistryAssertionExpired(uint256 deadline);
    /// @notice The cell is not a valid H3 cell index at the registry's resolution (12).
    error RegistryInvalidCell(uint64 cell);
    /// @notice The antenna gain is outside [MIN_GAIN, MAX_GAIN] tenths of dBi.
    error RegistryInvalidGain(uint16 gain);
    /// @notice The elevation is outside [MIN_ELEVATION, MAX_ELEVATION] metres.
    error RegistryInvalidElevation(int16 elevation);
    /// @notice The registry holds no collected fees to burn.
    error RegistryNoFeesToBurn();

    // ------------------------------------------------------------------ events

    /// @notice A maker was added by governance.
    event MakerAdded(uint32 indexed makerId, address indexed signer, uint48 allowance);
    /// @notice A maker's onboarding allowance was raised by `added` to `allowance`.
    event MakerAllowanceRaised(uint32 indexed makerId, uint48 added, uint48 allowance);
    /// @notice A maker rotated its signing key; attestations signed by the old key stop working.
    event MakerKeyRotated(uint32 indexed makerId, address indexed previousSigner, address indexed newSigner);
    /// @notice A maker was revoked by governance; it cannot onboard any more (its devices stay).
    event MakerRevoked(uint32 indexed makerId);
    /// @notice A device class was configured.
    event DeviceClassSet(uint16 indexed deviceClass, bool enabled, uint8 subnetwork, uint96 onboardingFee);
    /// @notice The fee for every location assert after the first changed.
    event AssertFeeSet(uint96 previousFee, uint96 newFee);
    /// @notice A device was onboarded. Carries the key so an oracle can index devices from events alone.
    event DeviceOnboarded(
        uint256 indexed deviceId,
        address indexed owner,
        uint32 indexed makerId,
        KeyType keyType,
        bytes32 keyX,
        bytes32 keyY,
        uint16 deviceClass,
        uint256 feePaid
    );
    /// @notice A device's location was asserted; `assertCount` counts this one (1 = the free first).
    event LocationAsserted(
        uint256 indexed deviceId,
        address indexed owner,
        uint64 indexed cell,
        uint16 gain,
        int16 elevation,
        uint32 assertCount,
        uint256 feePaid
    );
    /// @notice The denylist role suspended a device with a reason code.
    event DeviceSuspended(uint256 indexed deviceId, uint16 reason);
    /// @notice The denylist role reinstated a suspended device.
    event DeviceReinstated(uint256 indexed deviceId);
    /// @notice The owner retired a device (final; its NFT is burned).
    event DeviceRetired(uint256 indexed deviceId, address indexed owner);
    /// @notice Collected onboarding and assert fees were burned (MESH total supply fell by `amount`).
    event CollectedFeesBurned(address indexed caller, uint256 amount);

    // ------------------------------------------------------------------ governance

    /// @notice Adds a maker. Only DEFAULT_ADMIN_ROLE.
    /// @param makerId A new, never used id.
    /// @param signer The maker's signing key (ECDSA) for device attestations.
    /// @param allowance How many devices the maker may onboard.
    function addMaker(uint32 makerId, address signer, uint48 allowance) external;

    /// @notice Raises a maker's onboarding allowance. Only DEFAULT_ADMIN_ROLE; not for revoked makers.
    /// @param makerId The maker.
    /// @param added Devices added to the remaining allowance.
    function raiseMakerAllowance(uint32 makerId, uint48 added) external;

    /// @notice Revokes a maker for good: it cannot onboard any more. Only DEFAULT_ADMIN_ROLE.
    /// @param makerId The maker.
    function revokeMaker(uint32 makerId) external;

    /// @notice Configures a device class: enabled, subnetwork and onboarding fee. Only DEFAULT_ADMIN_ROLE.
    /// @param deviceClass The class id.
    /// @param config The new configuration.
    function setDeviceClass(uint16 deviceClass, DeviceClassInfo calldata config) external;

    /// @notice Sets the MESH fee of every location assert after the first. Only DEFAULT_ADMIN_ROLE.
    /// @param fee The fee in MESH wei.
    function setAssertFee(uint96 fee) external;

    /// @notice Pauses onboarding and location asserts. Only GUARDIAN_ROLE.
    function pause() external;

    /// @notice Resumes onboarding and location asserts. GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE.
    function unpause() external;

    /// @notice Suspends an active device with a reason code. Only DENYLIST_ROLE.
    /// @param deviceId The device.
    /// @param reason An off-chain reason code (recorded and emitted).
    function suspend(uint256 deviceId, uint16 reason) external;

    /// @notice Reinstates a suspended device. Only DENYLIST_ROLE.
    /// @param deviceId The device.
    function reinstate(uint256 deviceId) external;

    // ------------------------------------------------------------------ makers

    /// @notice Replaces the maker's signing key. Only the maker's current signing key.
    /// @param makerId The maker.
    /// @param newSigner The new signing key.
    function rotateMakerKey(uint32 makerId, address newSigner) external;

    // ------------------------------------------------------------------ owners

    /// @notice Onboards a device: checks the maker's attestation and the device's proof of possession,
    /// mints the device NFT to `req.owner` and collects the class's onboarding fee from the caller for
    /// burning (see {burnCollectedFees}). Anyone may submit (for example a maker onboarding for its
    /// buyers): the device key's signature fixes the owner.
    /// @param req The key, class, maker, owner and the two deadlines.
    /// @param makerSignature 65-byte ECDSA signature of the DeviceAttestation by the maker's signing key.
    /// @param deviceSignature The device key's DeviceOwnership signature: 65 bytes (r, s, v) for secp256k1,
    /// 64 bytes (r, s) for P-256.
    /// @return deviceId The new device id.
    function onboard(
        OnboardRequest calldata req,
        bytes calldata makerSignature,
        bytes calldata deviceSignature
    ) external returns (uint256 deviceId);

    /// @notice Same as {onboard}, first applying the caller's EIP-2612 MESH permit for this registry.
    /// A permit that fails (for example, already used by a front-runner) is ignored; the fee is then
    /// taken from whatever allowance exists.
    /// @param req The key, class, maker, owner and the two deadlines.
    /// @param makerSignature The maker's attestation signature.
    /// @param deviceSignature The device's proof of possession.
    /// @param permit The caller's MESH permit (spender: this registry).
    /// @return deviceId The new device id.
    function onboardWithPermit(
        OnboardRequest calldata req,
        bytes calldata makerSignature,
        bytes calldata deviceSignature,
        Permit calldata permit
    ) external returns (uint256 deviceId);

    /// @notice Asserts the device's location. Only its owner; the device must be active. The first
    /// assert is free; later ones take `assertFee()` MESH from the owner.
    /// @param deviceId The device.
    /// @param cell An H3 cell index at resolution 12.
    /// @param gain Antenna gain in tenths of dBi, in [MIN_GAIN, MAX_GAIN].
    /// @param elevation Antenna height above ground in metres, in [MIN_ELEVATION, MAX_ELEVATION].
    function assertLocation(uint256 deviceId, uint64 cell, uint16 gain, int16 elevation) external;

    /// @notice {assertLocation} submitted by anyone with the owner's EIP-712 LocationAssertion signature
    /// (EOA or ERC-1271). Consumes the owner's nonce; the fee, if due, is taken from the owner.
    /// @param deviceId The device.
    /// @param cell An H3 cell index at resolution 12.
    /// @param gain Antenna gain in tenths of dBi.
    /// @param elevation Antenna height above ground in metres.
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param signature The owner's signature.
    function assertLocationBySig(
        uint256 deviceId,
        uint64 cell,
        uint16 gain,
        int16 elevation,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Retires a device for good and burns its NFT. Only its owner; active or suspended devices.
    /// @param deviceId The device.
    function retire(uint256 deviceId) external;

    /// @notice Burns the MESH fees this registry has collected, all but one wei (kept so that the next
    /// fee does not pay for a fresh balance slot). Anyone may call it; the registry can do nothing else
    /// with MESH it holds, so collected fees are out of circulation from the moment they are paid.
    /// @return amount The MESH burned.
    function burnCollectedFees() external returns (uint256 amount);

    // ------------------------------------------------------------------ views

    /// @notice The role that pauses and unpauses onboarding and asserts: keccak256("GUARDIAN_ROLE").
    // solhint-disable-next-line func-name-mixedcase
    function GUARDIAN_ROLE() external view returns (bytes32);

    /// @notice The role that suspends and reinstates devices: keccak256("DENYLIST_ROLE").
    // solhint-disable-next-line func-name-mixedcase
    function DENYLIST_ROLE() external view returns (bytes32);

    /// @notice The H3 resolution every asserted cell must have (12: about 307 m^2 per cell, 9.4 m edge).
    // solhint-disable-next-line func-name-mixedcase
    function CELL_RESOLUTION() external view returns (uint8);

    /// @notice Lowest accepted antenna gain, tenths of dBi (1.0 dBi).
    // solhint-disable-next-line func-name-mixedcase
    function MIN_GAIN() external view returns (uint16);

    /// @notice Highest accepted antenna gain, tenths of dBi (15.0 dBi).
    // solhint-disable-next-line func-name-mixedcase
    function MAX_GAIN() external view returns (uint16);

    /// @notice Lowest accepted antenna height above ground, metres.
    // solhint-disable-next-line func-name-mixedcase
    function MIN_ELEVATION() external view returns (int16);

    /// @notice Highest accepted antenna height above ground, metres.
    // solhint-disable-next-line func-name-mixedcase
    function MAX_ELEVATION() external view returns (int16);

    /// @notice The MESH token fees are paid in.
    function mesh() external view returns (IMeshToken);

    /// @notice The MESH fee of every location assert after the first.
    function assertFee() external view returns (uint96);

    /// @notice Fees collected and not yet burned: what {burnCollectedFees} would burn now.
    function collectedFees() external view returns (uint256);

    /// @notice A device's full record. Reverts with RegistryUnknownDevice for ids never issued.
    /// @param deviceId The device.
    function deviceInfo(uint256 deviceId) external view returns (DeviceInfo memory);

    /// @notice A device's status (`None` for ids never issued).
    /// @param deviceId The device.
    function statusOf(uint256 deviceId) external view returns (DeviceStatus);

    /// @notice Whether the device may earn: active and located at least once.
    /// @param deviceId The device.
    function isEligible(uint256 deviceId) external view returns (bool);

    /// @notice The device registered with a key id, or 0 if none (retired devices keep their key).
    /// @param keyId The key id (see the interface notes).
    function deviceIdByKey(bytes32 keyId) external view returns (uint256);

    /// @notice A maker's record (status `None` if never added).
    /// @param makerId The maker.
    function makerInfo(uint32 makerId) external view returns (MakerInfo memory);

    /// @notice A device class's configuration (disabled and zero if never set).
    /// @param deviceClass The class.
    function deviceClassInfo(uint16 deviceClass) external view returns (DeviceClassInfo memory);

    /// @notice The next nonce the owner must sign into a LocationAssertion.
    /// @param owner The device owner.
    function nonces(address owner) external view returns (uint256);
}
