// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {OracleSignatures} from "../libraries/OracleSignatures.sol";
import {RewardsMerkle} from "../libraries/RewardsMerkle.sol";

/// @title RewardsDistributor
/// @notice One subnetwork's reward pool: funded by the emissions controller every epoch, pays
/// owners against k-of-n oracle-signed cumulative Merkle roots after a guardian challenge window.
/// @dev Gas-shaped storage. A claim touches two cold slots of this contract: `_claimRoot` and the
/// owner's account (claimed amount and gasless nonce in one word); the token is an immutable.
/// `_claimRoot` is the live root while not paused and zero while paused (no proof hashes to zero),
/// so a successful claim needs neither the pause flag nor the root-state word. Only a proof that
/// does not match `_claimRoot` takes the slow path, which reports the pause (OZ `EnforcedPause`),
/// or promotes a matured pending root and checks the proof against it, or fails.
/// Invariant: `_claimRoot == (paused() ? 0 : _liveRoot)`.
/// There is deliberately no running "total claimed" (it would add a write to every claim):
/// solvency rests on `totalCumulative <= total funded`, checked at posting, and on the oracles'
/// tree summing to `totalCumulative`, which anyone can check off chain from the published data
/// and the guardian can veto.
/// Root lifecycle: posted -> pending for `challengeWindow` -> live (recorded lazily by the next
/// post or claim, or by `finalize`). One pending root at a time.
contract RewardsDistributor is IRewardsDistributor, EIP712, AccessControl, Pausable {
    using SafeERC20 for IERC20;

    /// @notice May pause and veto pending roots; never moves funds.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Records epoch funding (the emissions controller).
    bytes32 public constant FUNDER_ROLE = keccak256("FUNDER_ROLE");

    /// @notice Shortest challenge window governance may set.
    uint256 public constant MIN_CHALLENGE_WINDOW = 1 hours;
    /// @notice Longest challenge window governance may set.
    uint256 public constant MAX_CHALLENGE_WINDOW = 7 days;
    /// @notice The challenge window at deploy unless another is given (SPEC: 6 hours).
    uint256 public constant DEFAULT_CHALLENGE_WINDOW = 6 hours;
    /// @notice Largest oracle set (bounds `setOracleSet`'s loop).
    uint256 public constant MAX_ORACLES = 32;

    /// @notice EIP-712 type hash of the oracles' EpochRoot.
    bytes32 public constant EPOCH_ROOT_TYPEHASH = keccak256(
        "EpochRoot(uint64 epoch,bytes32 root,uint256 totalCumulative,bytes32 dataHash,uint64 oracleSetVersion)"
    );
    /// @notice EIP-712 type hash of the owner's gasless Claim.
    bytes32 public constant CLAIM_TYPEHASH = keccak256(
        "Claim(address owner,uint256 cumulative,address relayer,uint256 fee,uint256 nonce,uint256 deadline)"
    );

    /// @dev An owner's account word: claimed total in the low 192 bits, gasless-claim nonce above.
    /// One word, read once and written once per claim. Nonces cannot overflow 64 bits: each use
    /// needs a claim of at least 1 wei.
    /// Wrapped in a struct so that a claim computes the mapping slot once for its read and write.
    struct Account {
        uint256 word;
    }
    uint256 private constant _CLAIMED_MASK = type(uint192).max;
    uint256 private constant _NONCE_SHIFT = 192;

    /// @dev totalCumulative of the live and of the pending root, one word.
    struct Totals {
        uint128 live;
        uint128 pending;
    }

    /// @dev Funding so far, one word. `end` is the last funded epoch + 1 (zero: nothing funded).
    struct Funding {
        uint128 total;
        uint64 firstEpoch;
        uint64 end;
    }

    /// @dev What postRoot reads about the oracle set and the window, one word.
    struct OracleConfig {
        uint64 version;
        uint32 challengeWindow;
        uint8 threshold;
    }

    IERC20 private immutable _TOKEN;
    bytes32 private immutable _SUBNETWORK;

    // Root state. Declared first so that it shares a word with Pausable's `_paused` (declared
    // right before it in the linearized layout): postRoot reads both in one cold SLOAD.
    uint64 private _liveEpoch;
    uint64 private _pendingEpoch;
    uint64 private _pendingReadyAt; // zero: no pending root
    bool private _hasLive;

    // The root claims are checked against: the live root, or zero while paused.
    bytes32 private _claimRoot;

    bytes32 private _liveRoot;
    bytes32 private _pendingRoot;
    Totals private _totals;
    Funding private _funding;
    OracleConfig private _config;

    address[] private _oracles;
    mapping(address oracle => uint64 version) private _oracleVersion;
    mapping(bytes32 epochAndRoot => bool) private _vetoed;
    mapping(address owner => Account) private _accounts;

    /// @param token_ The MESH token.
    /// @param subnetwork_ Non-zero id of the subnetwork this distributor pays.
    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param guardian GUARDIAN_ROLE.
    /// @param oracles_ Initial oracle set (version 1).
    /// @param threshold_ Initial k.
    /// @param challengeWindow_ Initial challenge window in seconds (DEFAULT_CHALLENGE_WINDOW is 6 h).
    constructor(
        address token_,
        bytes32 subnetwork_,
        address admin,
        address guardian,
        address[] memory oracles_,
        uint256 threshold_,
        uint256 challengeWindow_
    ) EIP712("Hexmesh RewardsDistributor", "1") {
        if (token_ == address(0) || subnetwork_ == bytes32(0) || admin == address(0) || guardian == address(0)) {
            revert DistributorZeroArgument();
        }
        _TOKEN = IERC20(token_);
        _SUBNETWORK = subnetwork_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, guardian);
        _setOracleSet(oracles_, threshold_);
        _setChallengeWindow(challengeWindow_);
    }

    // ------------------------------------------------------------------ funding

    /// @inheritdoc IRewardsDistributor
    function fundEpoch(uint64 epoch, uint256 amount) external onlyRole(FUNDER_ROLE) {
        uint64 end = _funding.end;
        if (epoch < end || epoch == type(uint64).max) revert DistributorFundingOutOfOrder(epoch, end);
        if (end == 0) _funding.firstEpoch = epoch;
        _funding.end = epoch + 1;
        uint128 total = SafeCast.toUint128(_funding.total + amount);
        _funding.total = total;
        emit EpochFunded(epoch, amount, total);
    }

    // ------------------------------------------------------------------ roots

    /// @inheritdoc IRewardsDistributor
    function postRoot(EpochRoot calldata epochRoot, bytes calldata signatures) external whenNotPaused {
        uint64 readyAt = _pendingReadyAt;
        if (readyAt != 0) {
            if (block.timestamp < readyAt) revert DistributorRootPending(_pendingEpoch, readyAt);
            _promote();
        }
        uint64 epoch = epochRoot.epoch;
        if (_hasLive && epoch <= _liveEpoch) revert DistributorEpochNotAfterLive(epoch, _liveEpoch);
        uint64 end = _funding.end;
        if (end == 0 || epoch >= end || epoch < _funding.firstEpoch) revert DistributorEpochNotFunded(epoch);
        if (epochRoot.root == bytes32(0)) revert DistributorZeroRoot();
        uint256 total = epochRoot.totalCumulative;
        if (total < _totals.live) revert DistributorTotalDecreased(total, _totals.live);
        if (total > _funding.total) revert DistributorTotalExceedsFunded(total, _funding.total);
        if (_vetoed[_vetoKey(epoch, epochRoot.root)]) revert DistributorRootVetoed(epoch, epochRoot.root);
        uint64 version = _config.version;
        if (epochRoot.oracleSetVersion != version) {
            revert DistributorStaleOracleSet(epochRoot.oracleSetVersion, version);
        }
        _checkOracleSignatures(_epochRootDigest(epochRoot), signatures, version, _config.threshold);

        uint64 newReadyAt = uint64(block.timestamp) + _config.challengeWindow;
        _pendingRoot = epochRoot.root;
        _totals.pending = uint128(total); // total <= _funding.total, a uint128
        _pendingEpoch = epoch;
        _pendingReadyAt = newReadyAt;
        emit RootPosted(epoch, epochRoot.root, total, epochRoot.dataHash, version, newReadyAt);
    }

    /// @inheritdoc IRewardsDistributor
    function veto(uint64 epoch) external onlyRole(GUARDIAN_ROLE) {
        uint64 readyAt = _pendingReadyAt;
        if (readyAt == 0 || _pendingEpoch != epoch) revert DistributorNoPendingRoot(epoch);
        if (block.timestamp >= readyAt) revert DistributorChallengeWindowClosed(epoch, readyAt);
        bytes32 root = _pendingRoot;
        _vetoed[_vetoKey(epoch, root)] = true;
        _pendingReadyAt = 0;
        emit RootVetoed(epoch, root, msg.sender);
    }

    /// @inheritdoc IRewardsDistributor
    function finalize() external {
        uint64 readyAt = _pendingReadyAt;
        if (readyAt == 0 || block.timestamp < readyAt) revert DistributorNothingToFinalize();
        _promote();
    }

    // ------------------------------------------------------------------ claims

    /// @inheritdoc IRewardsDistributor
    function claim(address owner, uint256 cumulative, bytes32[] calldata proof) external returns (uint256 amount) {
        Account storage account = _accounts[owner];
        uint256 word = account.word;
        amount = _settle(word, owner, cumulative, proof);
        // Keep the nonce, replace the claimed total (_settle checked that it fits 192 bits).
        account.word = (word & ~_CLAIMED_MASK) | cumulative;
        emit Claimed(owner, cumulative);
        _TOKEN.safeTransfer(owner, amount);
    }

    /// @inheritdoc IRewardsDistributor
    function claimWithSig(
        ClaimRequest calldata request,
        bytes32[] calldata proof,
        bytes calldata signature
    ) external returns (uint256 amount) {
        if (block.timestamp > request.deadline) revert DistributorClaimExpired(request.deadline);
        address relayer = request.relayer;
        if (relayer == address(0)) relayer = msg.sender;
        else if (relayer != msg.sender) revert DistributorWrongRelayer(relayer, msg.sender);
        address owner = request.owner;
        Account storage account = _accounts[owner];
        uint256 word = account.word;
        uint256 nonce = word >> _NONCE_SHIFT;
        if (request.nonce != nonce) revert DistributorInvalidNonce(owner, request.nonce, nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(owner, _claimDigest(request), signature)) {
            revert DistributorInvalidClaimSignature(owner);
        }
        uint256 cumulative = request.cumulative;
        amount = _settle(word, owner, cumulative, proof);
        uint256 fee = request.fee;
        if (fee > amount) revert DistributorFeeExceedsClaim(fee, amount);
        account.word = ((nonce + 1) << _NONCE_SHIFT) | cumulative;
        emit Claimed(owner, cumulative);
        emit ClaimRelayed(owner, relayer, fee, nonce);
        if (fee != 0) _TOKEN.safeTransfer(relayer, fee);
        if (amount != fee) _TOKEN.safeTransfer(owner, amount - fee);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IRewardsDistributor
    function setOracleSet(address[] calldata oracles_, uint256 threshold_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setOracleSet(oracles_, threshold_);
    }

    /// @inheritdoc IRewardsDistributor
    function setChallengeWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengeWindow(window);
    }

    /// @inheritdoc IRewardsDistributor
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
        _claimRoot = bytes32(0);
    }

    /// @inheritdoc IRewardsDistributor
    function unpause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        _unpause();
        _claimRoot = _liveRoot;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRewardsDistributor
    function token() external view returns (address) {
        return address(_TOKEN);
    }

    /// @inheritdoc IRewardsDistributor
    function subnetwork() external view returns (bytes32) {
        return _SUBNETWORK;
    }

    /// @inheritdoc IRewardsDistributor
    function oracleSetVersion() external view returns (uint64) {
        return _config.version;
    }

    /// @inheritdoc IRewardsDistributor
    function threshold() external view returns (uint256) {
        return _config.threshold;
    }

    /// @inheritdoc IRewardsDistributor
    function oracles() external view returns (address[] memory) {
        return _oracles;
    }

    /// @inheritdoc IRewardsDistributor
    function isOracle(address account) external view returns (bool) {
        return _oracleVersion[account] == _config.version;
    }

    /// @inheritdoc IRewardsDistributor
    function challengeWindow() external view returns (uint256) {
        return _config.challengeWindow;
    }

    /// @inheritdoc IRewardsDistributor
    function funding() external view returns (uint256 totalFunded, uint64 firstEpoch, uint64 lastEpoch, bool any) {
        uint64 end = _funding.end;
        any = end != 0;
        return (_funding.total, _funding.firstEpoch, any ? end - 1 : 0, any);
    }

    /// @inheritdoc IRewardsDistributor
    function liveRoot() external view returns (uint64 epoch, bytes32 root, uint256 totalCumulative) {
        uint64 readyAt = _pendingReadyAt;
        if (readyAt != 0 && block.timestamp >= readyAt) return (_pendingEpoch, _pendingRoot, _totals.pending);
        if (!_hasLive) return (0, bytes32(0), 0);
        return (_liveEpoch, _liveRoot, _totals.live);
    }

    /// @inheritdoc IRewardsDistributor
    function pendingRoot() external view returns (uint64 epoch, bytes32 root, uint256 totalCumulative, uint64 readyAt) {
        readyAt = _pendingReadyAt;
        if (readyAt == 0 || block.timestamp >= readyAt) return (0, bytes32(0), 0, 0);
        return (_pendingEpoch, _pendingRoot, _totals.pending, readyAt);
    }

    /// @inheritdoc IRewardsDistributor
    function isVetoed(uint64 epoch, bytes32 root) external view returns (bool) {
        return _vetoed[_vetoKey(epoch, root)];
    }

    /// @inheritdoc IRewardsDistributor
    function claimed(address owner) external view returns (uint256) {
        return _accounts[owner].word & _CLAIMED_MASK;
    }

    /// @inheritdoc IRewardsDistributor
    function nonces(address owner) external view returns (uint256) {
        return _accounts[owner].word >> _NONCE_SHIFT;
    }

    /// @inheritdoc IRewardsDistributor
    function epochRootDigest(EpochRoot calldata epochRoot) external view returns (bytes32) {
        return _epochRootDigest(epochRoot);
    }

    /// @inheritdoc IRewardsDistributor
    function claimDigest(ClaimRequest calldata request) external view returns (bytes32) {
        return _claimDigest(request);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Verifies the leaf against the live root and returns what is owed given the owner's
    /// account `word`. Leaves the account write to the caller.
    function _settle(
        uint256 word,
        address owner,
        uint256 cumulative,
        bytes32[] calldata proof
    ) private returns (uint256 amount) {
        bytes32 computed = RewardsMerkle.processProofCalldata(proof, RewardsMerkle.leaf(owner, cumulative));
        if (computed != _claimRoot) _slowPath(computed, owner, cumulative);
        uint256 already = word & _CLAIMED_MASK;
        if (cumulative <= already) revert DistributorNothingToClaim(owner, cumulative, already);
        // Callers store `cumulative` in 192 bits; a larger leaf (only a broken tree has one) is refused.
        SafeCast.toUint192(cumulative);
        unchecked {
            amount = cumulative - already;
        }
    }

    /// @dev A proof that does not match `_claimRoot`: paused, or made for a pending root whose
    /// window has passed (promote it and accept a match), or wrong.
    function _slowPath(bytes32 computed, address owner, uint256 cumulative) private {
        _requireNotPaused();
        uint64 readyAt = _pendingReadyAt;
        if (readyAt != 0 && block.timestamp >= readyAt) {
            if (_promote() == computed) return;
        }
        if (!_hasLive) revert DistributorNoLiveRoot();
        revert DistributorInvalidProof(owner, cumulative);
    }

    /// @dev Makes the pending root live. Callers checked that its window has passed.
    function _promote() private returns (bytes32 root) {
        root = _pendingRoot;
        uint64 epoch = _pendingEpoch;
        uint128 total = _totals.pending;
        _liveRoot = root;
        if (!paused()) _claimRoot = root;
        _totals.live = total;
        _liveEpoch = epoch;
        _hasLive = true;
        _pendingReadyAt = 0;
        emit RootFinalized(epoch, root, total);
    }

    /// @dev Requires at least `k` signatures by distinct current oracles, signers strictly ascending.
    function _checkOracleSignatures(bytes32 digest, bytes calldata signatures, uint64 version, uint256 k) private view {
        (uint256 count, bool whole) = OracleSignatures.count(signatures);
        if (!whole) revert DistributorBadSignaturesLength(signatures.length);
        if (count < k) revert DistributorTooFewSignatures(count, k);
        address previous = address(0);
        for (uint256 i = 0; i < count; ++i) {
            address signer = OracleSignatures.signerAt(signatures, i, digest);
            if (signer == address(0)) revert DistributorInvalidSignature(i);
            if (signer <= previous) revert DistributorSignersNotAscending(i, signer);
            if (_oracleVersion[signer] != version) revert DistributorNotOracle(signer);
            previous = signer;
        }
    }

    function _setOracleSet(address[] memory oracles_, uint256 threshold_) private {
        uint256 n = oracles_.length;
        if (n == 0 || n > MAX_ORACLES || threshold_ == 0 || threshold_ > n) revert DistributorInvalidOracleSet();
        uint64 version = _config.version + 1;
        for (uint256 i = 0; i < n; ++i) {
            address oracle = oracles_[i];
            // Marking as we go makes a repeated address show up as already in this version.
            if (oracle == address(0) || _oracleVersion[oracle] == version) revert DistributorInvalidOracleSet();
            _oracleVersion[oracle] = version;
        }
        _oracles = oracles_;
        _config.version = version;
        _config.threshold = uint8(threshold_); // <= MAX_ORACLES
        emit OracleSetChanged(version, oracles_, threshold_);
    }

    function _setChallengeWindow(uint256 window) private {
        if (window < MIN_CHALLENGE_WINDOW || window > MAX_CHALLENGE_WINDOW) {
            revert DistributorChallengeWindowOutOfBounds(window);
        }
        _config.challengeWindow = uint32(window);
        emit ChallengeWindowChanged(window);
    }

    function _epochRootDigest(EpochRoot calldata r) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(EPOCH_ROOT_TYPEHASH, r.epoch, r.root, r.totalCumulative, r.dataHash, r.oracleSetVersion)
                )
            );
    }

    function _claimDigest(ClaimRequest calldata c) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(CLAIM_TYPEHASH, c.owner, c.cumulative, c.relayer, c.fee, c.nonce, c.deadline))
            );
    }

    function _vetoKey(uint64 epoch, bytes32 root) private pure returns (bytes32) {
        return keccak256(abi.encode(epoch, root));
    }
}
