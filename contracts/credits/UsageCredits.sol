// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IMeshPrice} from "../interfaces/IMeshPrice.sol";
import {IMeshToken} from "../interfaces/IMeshToken.sol";
import {IUsageCredits} from "../interfaces/IUsageCredits.sol";

/// @title UsageCredits
/// @notice The non-transferable micro-USD credits ledger (see IUsageCredits).
/// @dev Gas-shaped storage: a purchase reads and writes one config word (price source and total
/// bought) and the beneficiary's account word; a spender's call reads its registration and the
/// (account, spender) word holding both its allowance and its lock.
contract UsageCredits is IUsageCredits, EIP712, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Credits per US dollar (credits are micro-USD).
    uint256 public constant CREDITS_PER_USD = 1e6;
    /// @notice Unlimited allowance.
    uint256 public constant UNLIMITED = type(uint128).max;
    /// @notice EIP-712 type hash of an account's SpenderApproval.
    bytes32 public constant SPENDER_APPROVAL_TYPEHASH = keccak256(
        "SpenderApproval(address account,address spender,uint256 allowance,uint256 nonce,uint256 deadline)"
    );

    /// @dev credits = meshWei x price(1e18 USD per MESH) x 1e6 / (1e18 x 1e18).
    uint256 private constant _PRICE_TO_CREDITS = 1e30;

    /// @dev Price source and total bought, one word (both read and written by every purchase).
    struct Config {
        address priceSource;
        uint96 totalBought;
    }

    /// @dev An account's available credits and approval nonce, one word.
    struct Account {
        uint128 balance;
        uint128 nonce;
    }

    /// @dev A spender's allowance and lock on one account, one word.
    struct Grant {
        uint128 allowance;
        uint128 locked;
    }

    IMeshToken private immutable _TOKEN;

    Config private _config;
    uint256 private _totalConsumed;
    mapping(address account => Account) private _accounts;
    mapping(address account => mapping(address spender => Grant)) private _grants;
    mapping(address spender => bytes32 subnetwork) private _spenders;

    /// @param token_ The MESH token.
    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param priceSource_ The MESH/USD price source (IMeshPrice).
    constructor(address token_, address admin, address priceSource_) EIP712("Hexmesh UsageCredits", "1") {
        if (token_ == address(0) || admin == address(0) || priceSource_ == address(0)) revert CreditsZeroAddress();
        _TOKEN = IMeshToken(token_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _config.priceSource = priceSource_;
        emit PriceSourceChanged(address(0), priceSource_);
    }

    // ------------------------------------------------------------------ buying

    /// @inheritdoc IUsageCredits
    function burnForCredits(
        uint256 meshAmount,
        uint256 minCredits,
        address beneficiary
    ) external returns (uint256 credits) {
        return _buy(meshAmount, minCredits, beneficiary);
    }

    /// @inheritdoc IUsageCredits
    function burnForCreditsWithPermit(
        uint256 meshAmount,
        uint256 minCredits,
        address beneficiary,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 credits) {
        // A failed permit (e.g. front-run with the same signature) must not block the purchase.
        // static-check-ignore: call-before-write permit only sets this contract's allowance on MESH (no hooks, no callbacks)
        try IERC20Permit(address(_TOKEN)).permit(msg.sender, address(this), meshAmount, deadline, v, r, s) {} catch {} // solhint-disable-line no-empty-blocks
        return _buy(meshAmount, minCredits, beneficiary);
    }

    /// @inheritdoc IUsageCredits
    function burnCollected() external returns (uint256 amount) {
        amount = _TOKEN.balanceOf(address(this));
        if (amount == 0) revert CreditsNothingToBurn();
        emit CollectedMeshBurned(msg.sender, amount);
        _TOKEN.burn(amount);
    }

    // ------------------------------------------------------------------ accounts

    /// @inheritdoc IUsageCredits
    function approveSpender(address spender, uint256 allowance_) external {
        _approve(msg.sender, spender, allowance_);
    }

    /// @inheritdoc IUsageCredits
    function approveSpenderWithSig(
        address account,
        address spender,
        uint256 allowance_,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert CreditsApprovalExpired(deadline);
        uint256 nonce = _accounts[account].nonce;
        bytes32 digest = _approvalDigest(account, spender, allowance_, nonce, deadline);
        if (!SignatureChecker.isValidSignatureNowCalldata(account, digest, signature)) {
            revert CreditsInvalidSignature(account);
        }
        _useNonce(account, nonce);
        _approve(account, spender, allowance_);
    }

    /// @inheritdoc IUsageCredits
    function useNonce() external {
        _useNonce(msg.sender, _accounts[msg.sender].nonce);
    }

    /// @inheritdoc IUsageCredits
    function reclaimLocked(address spender) external returns (uint256 credits) {
        if (_spenders[spender] != bytes32(0)) revert CreditsSpenderStillRegistered(spender);
        Grant storage grant = _grants[msg.sender][spender];
        credits = grant.locked;
        if (credits == 0) revert CreditsZeroAmount();
        grant.locked = 0;
        _accounts[msg.sender].balance += uint128(credits);
        emit CreditsReleased(msg.sender, spender, credits);
    }

    // ------------------------------------------------------------------ spenders

    /// @inheritdoc IUsageCredits
    function lock(address account, uint256 credits) external {
        _requireSpender(msg.sender);
        Grant storage grant = _grants[account][msg.sender];
        _spend(account, grant, credits);
        grant.locked += uint128(credits); // credits <= a uint128 balance
        emit CreditsLocked(account, msg.sender, credits);
    }

    /// @inheritdoc IUsageCredits
    function release(address account, uint256 credits) external {
        _requireSpender(msg.sender);
        if (credits == 0) revert CreditsZeroAmount();
        Grant storage grant = _grants[account][msg.sender];
        Grant memory g = grant;
        if (credits > g.locked) revert CreditsInsufficientLocked(account, msg.sender, g.locked, credits);
        g.locked -= uint128(credits);
        if (g.allowance != UNLIMITED) {
            // Give the allowance back; one that would pass the top saturates at unlimited.
            uint256 restored = uint256(g.allowance) + credits;
            g.allowance = restored >= UNLIMITED ? uint128(UNLIMITED) : uint128(restored);
        }
        _grants[account][msg.sender] = g;
        _accounts[account].balance += uint128(credits);
        emit CreditsReleased(account, msg.sender, credits);
    }

    /// @inheritdoc IUsageCredits
    function consume(address account, uint64 epoch, address provider, uint256 credits) external {
        bytes32 subnetwork = _requireSpender(msg.sender);
        _spend(account, _grants[account][msg.sender], credits);
        _recordUsage(subnetwork, epoch, provider, credits, account);
    }

    /// @inheritdoc IUsageCredits
    function consumeLocked(address account, uint64 epoch, address provider, uint256 credits) external {
        bytes32 subnetwork = _requireSpender(msg.sender);
        if (credits == 0) revert CreditsZeroAmount();
        Grant storage grant = _grants[account][msg.sender];
        uint256 lockedCredits = grant.locked;
        if (credits > lockedCredits) revert CreditsInsufficientLocked(account, msg.sender, lockedCredits, credits);
        grant.locked = uint128(lockedCredits - credits);
        _recordUsage(subnetwork, epoch, provider, credits, account);
    }

    /// @inheritdoc IUsageCredits
    function consumeBatch(uint64 epoch, Usage[] calldata usages) external returns (uint256 total) {
        bytes32 subnetwork = _requireSpender(msg.sender);
        uint256 n = usages.length;
        uint256 i = 0;
        while (i < n) {
            address account = usages[i].account;
            uint256 start = i;
            uint256 accountTotal = 0;
            for (; i < n && usages[i].account == account; ++i) {
                uint256 credits = usages[i].credits;
                if (credits == 0) revert CreditsZeroAmount();
                accountTotal += credits;
            }
            // One balance and allowance update per run; a run the account cannot cover is skipped whole.
            if (!_trySpend(account, _grants[account][msg.sender], accountTotal)) {
                emit UsageUnpaid(subnetwork, epoch, account, accountTotal);
                continue;
            }
            for (uint256 j = start; j < i; ++j) {
                emit UsageRecorded(subnetwork, epoch, usages[j].provider, usages[j].credits, account);
            }
            total += accountTotal;
        }
        _totalConsumed += total;
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IUsageCredits
    function registerSpender(address spender, bytes32 subnetwork) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (spender == address(0)) revert CreditsZeroAddress();
        if (subnetwork == bytes32(0) || _spenders[spender] != bytes32(0)) {
            revert CreditsInvalidSpender(spender, subnetwork);
        }
        _spenders[spender] = subnetwork;
        emit SpenderRegistered(spender, subnetwork);
    }

    /// @inheritdoc IUsageCredits
    function removeSpender(address spender) external onlyRole(DEFAULT_ADMIN_ROLE) {
        bytes32 subnetwork = _requireSpender(spender);
        delete _spenders[spender];
        emit SpenderRemoved(spender, subnetwork);
    }

    /// @inheritdoc IUsageCredits
    function setPriceSource(address source) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (source == address(0)) revert CreditsZeroAddress();
        address previous = _config.priceSource;
        _config.priceSource = source;
        emit PriceSourceChanged(previous, source);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IUsageCredits
    function token() external view returns (address) {
        return address(_TOKEN);
    }

    /// @inheritdoc IUsageCredits
    function priceSource() external view returns (address) {
        return _config.priceSource;
    }

    /// @inheritdoc IUsageCredits
    function quote(uint256 meshAmount) external view returns (uint256 credits) {
        return (meshAmount * IMeshPrice(_config.priceSource).creditPrice()) / _PRICE_TO_CREDITS;
    }

    /// @inheritdoc IUsageCredits
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @inheritdoc IUsageCredits
    function allowance(address account, address spender) external view returns (uint256) {
        return _grants[account][spender].allowance;
    }

    /// @inheritdoc IUsageCredits
    function locked(address account, address spender) external view returns (uint256) {
        return _grants[account][spender].locked;
    }

    /// @inheritdoc IUsageCredits
    function spenderSubnetwork(address spender) external view returns (bytes32) {
        return _spenders[spender];
    }

    /// @inheritdoc IUsageCredits
    function nonces(address account) external view returns (uint256) {
        return _accounts[account].nonce;
    }

    /// @inheritdoc IUsageCredits
    function totalBought() external view returns (uint256) {
        return _config.totalBought;
    }

    /// @inheritdoc IUsageCredits
    function totalConsumed() external view returns (uint256) {
        return _totalConsumed;
    }

    /// @inheritdoc IUsageCredits
    function spenderApprovalDigest(
        address account,
        address spender,
        uint256 allowance_,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _approvalDigest(account, spender, allowance_, nonce, deadline);
    }

    // ------------------------------------------------------------------ internals

    function _buy(uint256 meshAmount, uint256 minCredits, address beneficiary) private returns (uint256 credits) {
        if (beneficiary == address(0)) revert CreditsZeroAddress();
        Config memory config = _config;
        // A view call to the governance-set price source; it reverts (PriceStale) on a stale price.
        uint256 price = IMeshPrice(config.priceSource).creditPrice();
        credits = (meshAmount * price) / _PRICE_TO_CREDITS;
        if (credits == 0) revert CreditsZeroAmount();
        if (credits < minCredits) revert CreditsSlippage(credits, minCredits);
        _config.totalBought = SafeCast.toUint96(config.totalBought + credits);
        _accounts[beneficiary].balance += uint128(credits); // <= totalBought, a uint96
        emit CreditsBought(msg.sender, beneficiary, meshAmount, credits, price);
        IERC20(address(_TOKEN)).safeTransferFrom(msg.sender, address(this), meshAmount);
    }

    function _approve(address account, address spender, uint256 allowance_) private {
        _requireSpender(spender);
        if (allowance_ > UNLIMITED) allowance_ = UNLIMITED;
        _grants[account][spender].allowance = uint128(allowance_);
        emit SpenderApproved(account, spender, allowance_);
    }

    function _useNonce(address account, uint256 nonce) private {
        _accounts[account].nonce = uint128(nonce + 1);
        emit NonceUsed(account, nonce);
    }

    /// @dev Takes `credits` from `account`'s balance within `grant`'s allowance (spent unless unlimited).
    function _spend(address account, Grant storage grant, uint256 credits) private {
        if (credits == 0) revert CreditsZeroAmount();
        if (_trySpend(account, grant, credits)) return;
        uint256 allowance_ = grant.allowance;
        if (credits > allowance_) revert CreditsInsufficientAllowance(account, msg.sender, allowance_, credits);
        revert CreditsInsufficientBalance(account, _accounts[account].balance, credits);
    }

    /// @dev Spends `credits` of `account` within `grant`; false (and no change) when the balance or the
    /// allowance is short.
    function _trySpend(address account, Grant storage grant, uint256 credits) private returns (bool) {
        uint256 allowance_ = grant.allowance;
        Account storage acc = _accounts[account];
        uint256 balance = acc.balance;
        if (credits > allowance_ || credits > balance) return false;
        if (allowance_ != UNLIMITED) grant.allowance = uint128(allowance_ - credits);
        acc.balance = uint128(balance - credits);
        return true;
    }

    function _recordUsage(
        bytes32 subnetwork,
        uint64 epoch,
        address provider,
        uint256 credits,
        address account
    ) private {
        _totalConsumed += credits;
        emit UsageRecorded(subnetwork, epoch, provider, credits, account);
    }

    function _requireSpender(address spender) private view returns (bytes32 subnetwork) {
        subnetwork = _spenders[spender];
        if (subnetwork == bytes32(0)) revert CreditsUnknownSpender(spender);
    }

    function _approvalDigest(
        address account,
        address spender,
        uint256 allowance_,
        uint256 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(SPENDER_APPROVAL_TYPEHASH, account, spender, allowance_, nonce, deadline))
            );
    }
}
