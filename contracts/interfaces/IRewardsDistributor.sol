// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Rewards distributor interface
/// @notice One deployment per subnetwork. Holds the subnetwork's share of every epoch, accepts
/// k-of-n oracle-signed cumulative Merkle roots that wait out a challenge window (the guardian may
/// veto), and pays claims against the live root: `cumulative - claimed[owner]`, to the owner.
/// @dev Leaves are OpenZeppelin StandardMerkleTree leaves of `["address","uint256"]`:
/// `keccak256(bytes.concat(keccak256(abi.encode(owner, cumulative))))`.
/// EIP-712 domain: name "Hexmesh RewardsDistributor", version "1", this chain, this contract.
/// Signed types:
/// `EpochRoot(uint64 epoch,bytes32 root,uint256 totalCumulative,bytes32 dataHash,uint64 oracleSetVersion)`
/// (oracle signatures; `oracleSetVersion` must be the current one, so a new oracle set kills every
/// signature gathered for an older one) and
/// `Claim(address owner,uint256 cumulative,address relayer,uint256 fee,uint256 nonce,uint256 deadline)`
/// (the owner's gasless claim).
interface IRewardsDistributor {
    /// @notice An epoch result signed by the oracles (the EIP-712 `EpochRoot`).
    /// @param epoch The controller epoch this root covers (cumulative through it).
    /// @param root Merkle root of (owner, lifetime cumulative amount) leaves.
    /// @param totalCumulative Sum of all leaves' cumulative amounts.
    /// @param dataHash Hash of the canonical encoding of the epoch's published results.
    /// @param oracleSetVersion The oracle set the signers belong to (must be current).
    struct EpochRoot {
        uint64 epoch;
        bytes32 root;
        uint256 totalCumulative;
        bytes32 dataHash;
        uint64 oracleSetVersion;
    }

    /// @notice A gasless claim signed by the owner (the EIP-712 `Claim`).
    /// @param owner The leaf's owner, who signs (EOA or ERC-1271 wallet) and receives the funds.
    /// @param cumulative The leaf's lifetime cumulative amount.
    /// @param relayer The only account that may submit it; zero lets anyone submit.
    /// @param fee Paid out of the claim to the relayer (to the submitter when `relayer` is zero).
    /// @param nonce The owner's current claim nonce (`nonces(owner)`).
    /// @param deadline Last valid timestamp.
    struct ClaimRequest {
        address owner;
        uint256 cumulative;
        address relayer;
        uint256 fee;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice A zero address or zero value was given where one is required.
    error DistributorZeroArgument();
    /// @notice The oracle set is empty, too large, has a duplicate or zero member, or k is not in [1, n].
    error DistributorInvalidOracleSet();
    /// @notice The challenge window is outside [MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW].
    error DistributorChallengeWindowOutOfBounds(uint256 window);
    /// @notice Funding epochs must strictly increase.
    error DistributorFundingOutOfOrder(uint64 epoch, uint64 nextFundableEpoch);
    /// @notice A root is pending and its challenge window is still open.
    error DistributorRootPending(uint64 pendingEpoch, uint64 readyAt);
    /// @notice The epoch is not after the live root's epoch.
    error DistributorEpochNotAfterLive(uint64 epoch, uint64 liveEpoch);
    /// @notice The epoch has not been funded.
    error DistributorEpochNotFunded(uint64 epoch);
    /// @notice The root is zero.
    error DistributorZeroRoot();
    /// @notice The new total is below the live root's total.
    error DistributorTotalDecreased(uint256 totalCumulative, uint256 liveTotalCumulative);
    /// @notice The new total exceeds everything funded so far.
    error DistributorTotalExceedsFunded(uint256 totalCumulative, uint256 totalFunded);
    /// @notice The guardian vetoed this root for this epoch.
    error DistributorRootVetoed(uint64 epoch, bytes32 root);
    /// @notice The root was signed for another oracle set version.
    error DistributorStaleOracleSet(uint64 oracleSetVersion, uint64 currentVersion);
    /// @notice The signatures are not a whole number of 65-byte (r, s, v) signatures.
    error DistributorBadSignaturesLength(uint256 length);
    /// @notice Fewer signatures than the threshold.
    error DistributorTooFewSignatures(uint256 count, uint256 threshold);
    /// @notice Signature `index` does not recover (malformed, high s, bad v).
    error DistributorInvalidSignature(uint256 index);
    /// @notice Signers must be strictly ascending (this rejects duplicates).
    error DistributorSignersNotAscending(uint256 index, address signer);
    /// @notice The signer is not in the current oracle set.
    error DistributorNotOracle(address signer);
    /// @notice No pending root for this epoch.
    error DistributorNoPendingRoot(uint64 epoch);
    /// @notice The challenge window of the pending root has closed: it is live and cannot be vetoed.
    error DistributorChallengeWindowClosed(uint64 epoch, uint64 readyAt);
    /// @notice No pending root whose challenge window has passed.
    error DistributorNothingToFinalize();
    /// @notice No live root yet.
    error DistributorNoLiveRoot();
    /// @notice The proof does not prove (owner, cumulative) under the live root.
    error DistributorInvalidProof(address owner, uint256 cumulative);
    /// @notice Nothing left to claim: cumulative is not above what was claimed.
    error DistributorNothingToClaim(address owner, uint256 cumulative, uint256 claimed);
    /// @notice The gasless claim's deadline has passed.
    error DistributorClaimExpired(uint256 deadline);
    /// @notice The gasless claim names another relayer.
    error DistributorWrongRelayer(address relayer, address sender);
    /// @notice The gasless claim's nonce is not the owner's current nonce.
    error DistributorInvalidNonce(address owner, uint256 nonce, uint256 expected);
    /// @notice The owner's signature (ECDSA or ERC-1271) is not valid.
    error DistributorInvalidClaimSignature(address owner);
    /// @notice The relayer fee exceeds the amount claimed.
    error DistributorFeeExceedsClaim(uint256 fee, uint256 amount);

    /// @notice The oracle set changed; signatures for older versions are dead.
    event OracleSetChanged(uint64 indexed version, address[] oracles, uint256 threshold);
    /// @notice The challenge window changed (applies to roots posted from now on).
    event ChallengeWindowChanged(uint256 window);
    /// @notice The funder funded `epoch` with `amount`.
    event EpochFunded(uint64 indexed epoch, uint256 amount, uint256 totalFunded);
    /// @notice A root was posted and is pending until `readyAt`.
    event RootPosted(
        uint64 indexed epoch,
        bytes32 root,
        uint256 totalCumulative,
        bytes32 dataHash,
        uint64 oracleSetVersion,
        uint64 readyAt
    );
    /// @notice The guardian vetoed the pending root of `epoch`.
    event RootVetoed(uint64 indexed epoch, bytes32 root, address guardian);
    /// @notice A pending root became the live root (recorded lazily, at or after `readyAt`).
    event RootFinalized(uint64 indexed epoch, bytes32 root, uint256 totalCumulative);
    /// @notice A claim paid `owner` up to `cumulative`, its claimed total from now on. The amount
    /// paid is the increase over the owner's previous total (and shows in the token's Transfer).
    event Claimed(address indexed owner, uint256 cumulative);
    /// @notice A gasless claim paid `fee` of its amount to `relayer` and used `nonce`.
    event ClaimRelayed(address indexed owner, address indexed relayer, uint256 fee, uint256 nonce);

    /// @notice Records `amount` (already minted to this contract) as the funding of `epoch`.
    /// Only FUNDER_ROLE (the emissions controller). Epochs strictly increase; gaps count as
    /// funded with zero. Never paused, so it never blocks the controller.
    /// @param epoch The controller epoch.
    /// @param amount The pool share of that epoch (may be zero).
    function fundEpoch(uint64 epoch, uint256 amount) external;

    /// @notice Posts a root signed by at least `threshold()` oracles of the current set.
    /// @dev Requires: not paused; no pending root in its window (a pending root whose window has
    /// passed is finalized first); `epoch` after the live epoch (gaps allowed: leaves are
    /// cumulative) and funded; totalCumulative >= the live total and <= total funded; the
    /// (epoch, root) pair not vetoed; `oracleSetVersion` current. Signers strictly ascending.
    /// @param epochRoot The signed result.
    /// @param signatures Concatenated 65-byte (r, s, v) ECDSA signatures, signers ascending.
    function postRoot(EpochRoot calldata epochRoot, bytes calldata signatures) external;

    /// @notice Vetoes the pending root of `epoch` during its challenge window. Only GUARDIAN_ROLE;
    /// works while paused. The same (epoch, root) can never be posted again; a new root for the
    /// same epoch can.
    /// @param epoch The pending root's epoch.
    function veto(uint64 epoch) external;

    /// @notice Records a pending root whose challenge window has passed as the live root.
    /// Permissionless; `postRoot` and claims do it lazily too.
    function finalize() external;

    /// @notice Pays `cumulative - claimed(owner)` to `owner` against the live root. Anyone may call.
    /// @param owner The leaf's owner (receives the funds).
    /// @param cumulative The leaf's lifetime cumulative amount.
    /// @param proof The StandardMerkleTree proof of the leaf.
    /// @return amount Amount paid.
    function claim(address owner, uint256 cumulative, bytes32[] calldata proof) external returns (uint256 amount);

    /// @notice Gasless claim: pays the owner's claim minus `fee`, and `fee` to the relayer.
    /// @param request The owner's signed `Claim`.
    /// @param proof The StandardMerkleTree proof of (owner, cumulative).
    /// @param signature The owner's signature: 65-byte ECDSA for an EOA, anything its ERC-1271
    /// `isValidSignature` accepts for a contract.
    /// @return amount Total paid out (owner share + fee).
    function claimWithSig(
        ClaimRequest calldata request,
        bytes32[] calldata proof,
        bytes calldata signature
    ) external returns (uint256 amount);

    /// @notice Replaces the oracle set and bumps `oracleSetVersion()`. Only DEFAULT_ADMIN_ROLE.
    /// A pending root keeps its place (its signatures were valid when posted).
    /// @param oracles 1 .. MAX_ORACLES distinct non-zero addresses.
    /// @param threshold k, in [1, oracles.length].
    function setOracleSet(address[] calldata oracles, uint256 threshold) external;

    /// @notice Sets the challenge window for roots posted from now on. Only DEFAULT_ADMIN_ROLE.
    /// @param window Seconds, in [MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW].
    function setChallengeWindow(uint256 window) external;

    /// @notice Stops root posting, finalizing and claims. Only GUARDIAN_ROLE.
    function pause() external;

    /// @notice Resumes. GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE.
    function unpause() external;

    /// @notice The MESH token.
    function token() external view returns (address);

    /// @notice The subnetwork this distributor pays.
    function subnetwork() external view returns (bytes32);

    /// @notice Current oracle set version (part of every signed EpochRoot).
    function oracleSetVersion() external view returns (uint64);

    /// @notice Current threshold k.
    function threshold() external view returns (uint256);

    /// @notice Current oracle set.
    function oracles() external view returns (address[] memory);

    /// @notice Whether `account` is in the current oracle set.
    /// @param account Any address.
    function isOracle(address account) external view returns (bool);

    /// @notice Challenge window (seconds) applied to newly posted roots.
    function challengeWindow() external view returns (uint256);

    /// @notice Funding so far.
    /// @return totalFunded Sum of all funded amounts.
    /// @return firstEpoch First funded epoch (0 if none).
    /// @return lastEpoch Last funded epoch (0 if none).
    /// @return any Whether anything was funded.
    function funding() external view returns (uint256 totalFunded, uint64 firstEpoch, uint64 lastEpoch, bool any);

    /// @notice The live root, counting a pending root whose window has passed as live.
    /// @return epoch Its epoch.
    /// @return root The root (zero if none).
    /// @return totalCumulative Its total.
    function liveRoot() external view returns (uint64 epoch, bytes32 root, uint256 totalCumulative);

    /// @notice The pending root still in its challenge window (all zero if none).
    /// @return epoch Its epoch.
    /// @return root The root.
    /// @return totalCumulative Its total.
    /// @return readyAt When it becomes live.
    function pendingRoot() external view returns (uint64 epoch, bytes32 root, uint256 totalCumulative, uint64 readyAt);

    /// @notice Whether the guardian vetoed `root` for `epoch`.
    /// @param epoch The epoch.
    /// @param root The root.
    function isVetoed(uint64 epoch, bytes32 root) external view returns (bool);

    /// @notice Amount claimed so far by `owner`.
    /// @param owner Any address.
    function claimed(address owner) external view returns (uint256);

    /// @notice The nonce `owner`'s next gasless claim must carry.
    /// @param owner Any address.
    function nonces(address owner) external view returns (uint256);

    /// @notice EIP-712 digest of an EpochRoot, as the oracles sign it.
    /// @param epochRoot The result.
    function epochRootDigest(EpochRoot calldata epochRoot) external view returns (bytes32);

    /// @notice EIP-712 digest of a Claim, as the owner signs it.
    /// @param request The claim.
    function claimDigest(ClaimRequest calldata request) external view returns (bytes32);
}
