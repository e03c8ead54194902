// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Usage credits interface
/// @notice The demand side: customers burn MESH for non-transferable credits priced in micro-USD
/// (10^6 credits = $1; a Helium Data Credit is 10 credits), and spend them only through spender
/// contracts that governance registers, one per subnetwork market. Every spend emits
/// `UsageRecorded`, the record each usage reward is reconciled against.
/// @dev Credits cannot be transferred between accounts or redeemed for MESH. The MESH paid for them
/// comes to this contract, which can do nothing with it but burn it: `burnCollected` (anyone) burns
/// it in one batch, so that no buyer pays for a new ERC20Votes total-supply checkpoint (the same
/// reason as the registry's fees). An account authorizes a spender with an allowance (directly, or by
/// an EIP-712 `SpenderApproval` signature with nonce and deadline; ERC-1271 for smart wallets). A
/// spender moves an account's credits into a lock it holds (`lock`), back (`release`), or consumes
/// them, from the lock or straight from the balance (`consumeLocked`, `consume`). Locking and direct
/// consumption spend the allowance; a release gives it back.
/// Accounting invariant: sum of balances + sum of locks + totalConsumed == totalBought.
interface IUsageCredits {
    /// @notice One usage record of a batch: `credits` of `account` consumed for `provider`'s work.
    /// @param account The paying account.
    /// @param provider Who did the work (the reward owner).
    /// @param credits Credits consumed (micro-USD), non-zero.
    struct Usage {
        address account;
        address provider;
        uint256 credits;
    }

    /// @notice A zero address was given where an account is required.
    error CreditsZeroAddress();
    /// @notice The MESH amount (or the credits it buys, or a credit amount) is zero.
    error CreditsZeroAmount();
    /// @notice The purchase would credit fewer than `minCredits`.
    error CreditsSlippage(uint256 credits, uint256 minCredits);
    /// @notice The caller (or the named spender) is not a registered spender.
    error CreditsUnknownSpender(address spender);
    /// @notice The spender is already registered, or the subnetwork id is zero.
    error CreditsInvalidSpender(address spender, bytes32 subnetwork);
    /// @notice The account's available balance is below the amount.
    error CreditsInsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @notice The spender's allowance on the account is below the amount.
    error CreditsInsufficientAllowance(address account, address spender, uint256 allowance, uint256 needed);
    /// @notice The spender's lock on the account is below the amount.
    error CreditsInsufficientLocked(address account, address spender, uint256 locked, uint256 needed);
    /// @notice The signed approval's deadline has passed.
    error CreditsApprovalExpired(uint256 deadline);
    /// @notice The signed approval's nonce is not the account's current one (used or cancelled).
    error CreditsInvalidNonce(address account, uint256 given, uint256 expected);
    /// @notice The signature is not the account's (ECDSA, or ERC-1271 for a contract account).
    error CreditsInvalidSignature(address account);
    /// @notice No MESH is waiting to be burned.
    error CreditsNothingToBurn();
    /// @notice `reclaimLocked` is for locks of spenders governance has removed.
    error CreditsSpenderStillRegistered(address spender);

    /// @notice MESH was paid for credits; `credits` = floor(meshAmount x price / 10^30).
    /// @param buyer Who paid the MESH.
    /// @param beneficiary Whose balance received the credits.
    /// @param meshAmount MESH paid, in wei (burned by the next `burnCollected`).
    /// @param credits Credits created (micro-USD).
    /// @param price The conservative price used (USD per MESH, 18 decimals).
    event CreditsBought(
        address indexed buyer,
        address indexed beneficiary,
        uint256 meshAmount,
        uint256 credits,
        uint256 price
    );
    /// @notice The MESH paid for credits so far was burned.
    event CollectedMeshBurned(address indexed caller, uint256 amount);
    /// @notice Governance registered a spender for a subnetwork's market.
    event SpenderRegistered(address indexed spender, bytes32 indexed subnetwork);
    /// @notice Governance removed a spender; its locks can be reclaimed by their accounts.
    event SpenderRemoved(address indexed spender, bytes32 indexed subnetwork);
    /// @notice An account set a spender's allowance (`type(uint128).max`: unlimited).
    event SpenderApproved(address indexed account, address indexed spender, uint256 allowance);
    /// @notice An account used up or cancelled its current approval nonce.
    event NonceUsed(address indexed account, uint256 nonce);
    /// @notice A spender locked credits of an account.
    event CreditsLocked(address indexed account, address indexed spender, uint256 credits);
    /// @notice Locked credits went back to the account's balance (`spender` released them, or the
    /// account reclaimed them from a removed spender).
    event CreditsReleased(address indexed account, address indexed spender, uint256 credits);
    /// @notice Credits were consumed for work: the record usage rewards are reconciled against.
    /// @param subnetwork The spender's subnetwork.
    /// @param epoch The emissions epoch the work belongs to (the spender's statement).
    /// @param provider Who did the work (the reward owner).
    /// @param credits Credits consumed (micro-USD), gone for good.
    /// @param account Whose credits paid.
    event UsageRecorded(
        bytes32 indexed subnetwork,
        uint64 indexed epoch,
        address indexed provider,
        uint256 credits,
        address account
    );
    /// @notice A batch's usages of `account` were not paid: its balance or its allowance for the
    /// spender could not cover `credits`, their sum. Nothing of them was consumed or recorded.
    event UsageUnpaid(bytes32 indexed subnetwork, uint64 indexed epoch, address indexed account, uint256 credits);
    /// @notice Governance replaced the price source.
    event PriceSourceChanged(address previous, address source);

    // ------------------------------------------------------------------ buying

    /// @notice Buys credits for `beneficiary` with `meshAmount` of the caller's MESH (approved to this
    /// contract), at the price source's `creditPrice()` (the lower of the latest and 24-hour average).
    /// Reverts if the price is stale (`PriceStale` from the source) or the result is under `minCredits`.
    /// @param meshAmount MESH in wei.
    /// @param minCredits Least acceptable credits (slippage bound).
    /// @param beneficiary The account credited (a business may fund its app's account).
    /// @return credits Credits created.
    function burnForCredits(
        uint256 meshAmount,
        uint256 minCredits,
        address beneficiary
    ) external returns (uint256 credits);

    /// @notice {burnForCredits} with the caller's EIP-2612 MESH permit for this contract, in one
    /// transaction. A permit that fails (for example, front-run) is ignored; the purchase then uses
    /// whatever allowance exists.
    /// @param meshAmount MESH in wei (also the permit's value).
    /// @param minCredits Least acceptable credits.
    /// @param beneficiary The account credited.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    /// @return credits Credits created.
    function burnForCreditsWithPermit(
        uint256 meshAmount,
        uint256 minCredits,
        address beneficiary,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 credits);

    /// @notice Burns all MESH this contract holds (paid for credits). Anyone may call.
    /// @return amount MESH burned.
    function burnCollected() external returns (uint256 amount);

    // ------------------------------------------------------------------ accounts

    /// @notice Sets a registered spender's allowance on the caller's credits.
    /// @param spender A registered spender.
    /// @param allowance Credits it may lock or consume (`type(uint128).max`: unlimited).
    function approveSpender(address spender, uint256 allowance) external;

    /// @notice Sets a spender's allowance on `account` with the account's EIP-712
    /// `SpenderApproval(address account,address spender,uint256 allowance,uint256 nonce,uint256 deadline)`
    /// signature (ERC-1271 for contract accounts). Anyone may submit it.
    /// @param account The account that signed.
    /// @param spender A registered spender.
    /// @param allowance The new allowance.
    /// @param deadline Last second the signature is valid.
    /// @param signature The account's signature over the current nonce.
    function approveSpenderWithSig(
        address account,
        address spender,
        uint256 allowance,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Cancels the caller's current approval nonce (kills an unsubmitted signed approval).
    function useNonce() external;

    /// @notice Returns credits locked by a spender that governance has removed to the caller's balance.
    /// @param spender A removed spender.
    /// @return credits Credits returned.
    function reclaimLocked(address spender) external returns (uint256 credits);

    // ------------------------------------------------------------------ spenders

    /// @notice Moves `credits` of `account`'s balance into the caller's lock. Only a registered
    /// spender, within its allowance (spent).
    /// @param account The paying account.
    /// @param credits Amount to lock.
    function lock(address account, uint256 credits) external;

    /// @notice Returns `credits` of the caller's lock to `account`'s balance and its allowance.
    /// Only a registered spender.
    /// @param account The account.
    /// @param credits Amount to release.
    function release(address account, uint256 credits) external;

    /// @notice Consumes `credits` of `account`'s balance for `provider`'s work in `epoch`, within the
    /// caller's allowance (spent). Only a registered spender. Emits {UsageRecorded}.
    /// @param account The paying account.
    /// @param epoch The epoch of the work.
    /// @param provider Who did it.
    /// @param credits Amount consumed.
    function consume(address account, uint64 epoch, address provider, uint256 credits) external;

    /// @notice Consumes `credits` of the caller's lock on `account` for `provider`'s work in `epoch`.
    /// Only a registered spender. Emits {UsageRecorded}.
    /// @param account The paying account.
    /// @param epoch The epoch of the work.
    /// @param provider Who did it.
    /// @param credits Amount consumed.
    function consumeLocked(address account, uint64 epoch, address provider, uint256 credits) external;

    /// @notice Consumes many usages of one epoch at once, each from its account's balance within the
    /// caller's allowance (spent), like {consume} for each; one {UsageRecorded} per usage. Consecutive
    /// usages of one account (a run) update its balance and allowance once (a settlement sorted by
    /// account pays one storage update per account, not per provider). A run its account cannot cover
    /// is skipped whole with {UsageUnpaid} instead of reverting, so one account that spent its credits
    /// or lowered its allowance cannot block the others' settlement. Only a registered spender.
    /// @param epoch The epoch of the work.
    /// @param usages The usages; each `credits` non-zero.
    /// @return total Credits consumed in all (skipped runs excluded).
    function consumeBatch(uint64 epoch, Usage[] calldata usages) external returns (uint256 total);

    // ------------------------------------------------------------------ governance

    /// @notice Registers a spender contract for a subnetwork's market. Only DEFAULT_ADMIN_ROLE.
    /// @param spender The market contract.
    /// @param subnetwork Its non-zero subnetwork id (written into every UsageRecorded it causes).
    function registerSpender(address spender, bytes32 subnetwork) external;

    /// @notice Removes a spender: it can no longer lock, release or consume; accounts reclaim its
    /// locks with {reclaimLocked}. Only DEFAULT_ADMIN_ROLE.
    /// @param spender A registered spender.
    function removeSpender(address spender) external;

    /// @notice Replaces the MESH/USD price source. Only DEFAULT_ADMIN_ROLE.
    /// @param source An IMeshPrice.
    function setPriceSource(address source) external;

    // ------------------------------------------------------------------ views

    /// @notice The MESH token.
    function token() external view returns (address);

    /// @notice The MESH/USD price source (IMeshPrice).
    function priceSource() external view returns (address);

    /// @notice Credits `meshAmount` buys now (reverts like {burnForCredits} on a stale price).
    /// @param meshAmount MESH in wei.
    function quote(uint256 meshAmount) external view returns (uint256 credits);

    /// @notice `account`'s available (unlocked) credits.
    /// @param account Any account.
    function balanceOf(address account) external view returns (uint256);

    /// @notice `spender`'s remaining allowance on `account`.
    /// @param account Any account.
    /// @param spender Any spender.
    function allowance(address account, address spender) external view returns (uint256);

    /// @notice Credits of `account` locked by `spender`.
    /// @param account Any account.
    /// @param spender Any spender.
    function locked(address account, address spender) external view returns (uint256);

    /// @notice The subnetwork a spender is registered for (zero: not registered).
    /// @param spender Any address.
    function spenderSubnetwork(address spender) external view returns (bytes32);

    /// @notice `account`'s current approval nonce.
    /// @param account Any account.
    function nonces(address account) external view returns (uint256);

    /// @notice Credits ever created.
    function totalBought() external view returns (uint256);

    /// @notice Credits ever consumed.
    function totalConsumed() external view returns (uint256);

    /// @notice EIP-712 digest of a SpenderApproval, as the account signs it.
    /// @param account The account.
    /// @param spender The spender.
    /// @param allowance The allowance.
    /// @param nonce The account's nonce.
    /// @param deadline The deadline.
    function spenderApprovalDigest(
        address account,
        address spender,
        uint256 allowance,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);
}
