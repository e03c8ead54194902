// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {MeshToken} from "../../../contracts/token/MeshToken.sol";
import {GovernedPrice} from "../../../contracts/price/GovernedPrice.sol";
import {UsageCredits} from "../../../contracts/credits/UsageCredits.sol";
import {IUsageCredits} from "../../../contracts/interfaces/IUsageCredits.sol";
import {EmissionsController} from "../../../contracts/emissions/EmissionsController.sol";
import {RevertingDistributorMock} from "../../../contracts/mocks/RevertingDistributorMock.sol";

/// @notice What the demand handler drives.
struct Demand {
    MeshToken token;
    GovernedPrice price;
    UsageCredits credits;
    EmissionsController controller;
    RevertingDistributorMock[2] pools;
    bytes32[2] subnetworks;
    address governance;
}

/// @notice Random actions on the demand side: buyers burn MESH for credits (price fresh or expired),
/// governance moves the price (in and out of bounds, too soon or not), accounts approve spenders,
/// spenders lock, release and consume (within and beyond balances and allowances), spenders are removed
/// and their locks reclaimed, collected MESH is burned, epochs are distributed while pools fail and
/// recover, and time moves. Ghost totals record what every call should have done; a call that succeeds
/// where it must fail (or the reverse) counts a violation.
contract DemandHandler is Test {
    uint256 public constant ACTORS = 4;
    uint256 public constant SPENDERS = 2;

    MeshToken private immutable token;
    GovernedPrice private immutable price;
    UsageCredits private immutable credits;
    EmissionsController private immutable controller;
    address private immutable governance;
    RevertingDistributorMock[2] private pools;
    bytes32[2] private subnetworks;

    uint256 public meshPaid;
    uint256 public meshBurned;
    uint256 public ghostBought;
    uint256 public ghostConsumed;
    uint256 public violations;
    string public lastViolation;
    mapping(address account => mapping(address spender => uint256)) public ghostLocked;

    constructor(Demand memory d) {
        token = d.token;
        price = d.price;
        credits = d.credits;
        controller = d.controller;
        governance = d.governance;
        pools = d.pools;
        subnetworks = d.subnetworks;
    }

    function actor(uint256 i) public pure returns (address) {
        return address(uint160(0xA000 + (i % ACTORS)));
    }

    function spender(uint256 i) public pure returns (address) {
        return address(uint160(0x5000 + (i % SPENDERS)));
    }

    function _expect(bool ok, string memory what) private {
        if (!ok) {
            violations++;
            lastViolation = what;
        }
    }

    // ------------------------------------------------------------------ buying

    function buy(uint256 who, uint256 beneficiary, uint256 amount) external {
        address buyer = actor(who);
        amount = bound(amount, 0, token.balanceOf(buyer));
        bool fresh = price.isFresh();
        uint256 expected = fresh ? (amount * price.creditPrice()) / 1e30 : 0;
        vm.prank(buyer);
        try credits.burnForCredits(amount, 0, actor(beneficiary)) returns (uint256 got) {
            _expect(fresh, "bought at a stale price");
            _expect(got == expected && got > 0, "credits != mesh x conservative price");
            meshPaid += amount;
            ghostBought += got;
        } catch {
            _expect(!fresh || expected == 0, "a valid purchase failed");
        }
    }

    function burnCollected() external {
        uint256 held = token.balanceOf(address(credits));
        try credits.burnCollected() returns (uint256 burned) {
            _expect(burned == held, "burned other than held");
            meshBurned += burned;
        } catch {
            _expect(held == 0, "could not burn collected MESH");
        }
    }

    function setPrice(uint256 bps) external {
        (uint256 previous, uint64 updatedAt) = price.latestPrice();
        uint256 next = (previous * bound(bps, 7_000, 13_000)) / 10_000;
        bool allowed =
            block.timestamp >= updatedAt + 1 days &&
                next * 10_000 >= previous * 8_000 &&
                next * 10_000 <= previous * 12_000 &&
                next > 0;
        vm.prank(governance);
        try price.setPrice(next) {
            _expect(allowed, "price change out of bounds or too soon accepted");
        } catch {
            _expect(!allowed, "a valid price change failed");
        }
    }

    // ------------------------------------------------------------------ accounts and spenders

    function approve(uint256 who, uint256 which, uint256 allowance) external {
        vm.prank(actor(who));
        try credits.approveSpender(spender(which), bound(allowance, 0, 1e12)) {} catch {
            _expect(credits.spenderSubnetwork(spender(which)) == bytes32(0), "approval refused");
        }
    }

    function lock(uint256 which, uint256 who, uint256 amount) external {
        (address s, address a) = (spender(which), actor(who));
        amount = bound(amount, 1, 2e12);
        bool ok = _canSpend(s, a, amount);
        vm.prank(s);
        try credits.lock(a, amount) {
            _expect(ok, "locked beyond balance or allowance");
            ghostLocked[a][s] += amount;
        } catch {
            _expect(!ok, "a valid lock failed");
        }
    }

    function release(uint256 which, uint256 who, uint256 amount) external {
        (address s, address a) = (spender(which), actor(who));
        amount = bound(amount, 1, 2e12);
        bool ok = credits.spenderSubnetwork(s) != bytes32(0) && amount <= credits.locked(a, s);
        vm.prank(s);
        try credits.release(a, amount) {
            _expect(ok, "released beyond the lock");
            ghostLocked[a][s] -= amount;
        } catch {
            _expect(!ok, "a valid release failed");
        }
    }

    function consume(uint256 which, uint256 who, uint256 amount, uint64 epoch) external {
        (address s, address a) = (spender(which), actor(who));
        amount = bound(amount, 1, 2e12);
        bool ok = _canSpend(s, a, amount);
        vm.prank(s);
        try credits.consume(a, epoch, actor(epoch), amount) {
            _expect(ok, "consumed beyond balance or allowance");
            ghostConsumed += amount;
        } catch {
            _expect(!ok, "a valid consume failed");
        }
    }

    /// @dev A batch of three usages: two of one account (one run), then one of another (or, when both
    /// actors are the same, a single run of three). Each run is consumed whole or, when its account
    /// cannot cover it, skipped whole; only an unregistered spender's batch reverts.
    function consumeBatch(uint256 which, uint256 who, uint256 other, uint256 x, uint256 y, uint256 z) external {
        (address s, address a, address b) = (spender(which), actor(who), actor(other));
        (x, y, z) = (bound(x, 1, 1e12), bound(y, 1, 1e12), bound(z, 1, 1e12));
        bool registered = credits.spenderSubnetwork(s) != bytes32(0);
        uint256 expected;
        if (a == b) {
            expected = _canSpend(s, a, x + y + z) ? x + y + z : 0;
        } else {
            expected = (_canSpend(s, a, x + y) ? x + y : 0) + (_canSpend(s, b, z) ? z : 0);
        }
        IUsageCredits.Usage[] memory usages = new IUsageCredits.Usage[](3);
        usages[0] = IUsageCredits.Usage(a, actor(0), x);
        usages[1] = IUsageCredits.Usage(a, actor(1), y);
        usages[2] = IUsageCredits.Usage(b, actor(2), z);
        vm.prank(s);
        try credits.consumeBatch(7, usages) returns (uint256 total) {
            _expect(registered, "an unregistered spender consumed");
            _expect(total == expected, "batch total is not the sum of the runs its accounts could pay");
            ghostConsumed += total;
        } catch {
            _expect(!registered, "a registered spender's batch reverted");
        }
    }

    function consumeLocked(uint256 which, uint256 who, uint256 amount, uint64 epoch) external {
        (address s, address a) = (spender(which), actor(who));
        amount = bound(amount, 1, 2e12);
        bool ok = credits.spenderSubnetwork(s) != bytes32(0) && amount <= credits.locked(a, s);
        vm.prank(s);
        try credits.consumeLocked(a, epoch, actor(epoch), amount) {
            _expect(ok, "consumed beyond the lock");
            ghostLocked[a][s] -= amount;
            ghostConsumed += amount;
        } catch {
            _expect(!ok, "a valid consumeLocked failed");
        }
    }

    /// @dev Governance removes or re-registers a spender; accounts reclaim locks of removed ones.
    function toggleSpender(uint256 which) external {
        address s = spender(which);
        bytes32 subnetwork = credits.spenderSubnetwork(s);
        vm.prank(governance);
        if (subnetwork == bytes32(0)) credits.registerSpender(s, subnetworks[which % SPENDERS]);
        else credits.removeSpender(s);
    }

    function reclaim(uint256 which, uint256 who) external {
        (address s, address a) = (spender(which), actor(who));
        uint256 lockedBefore = credits.locked(a, s);
        bool ok = credits.spenderSubnetwork(s) == bytes32(0) && lockedBefore > 0;
        vm.prank(a);
        try credits.reclaimLocked(s) returns (uint256 got) {
            _expect(ok && got == lockedBefore, "reclaimed wrongly");
            ghostLocked[a][s] = 0;
        } catch {
            _expect(!ok, "a valid reclaim failed");
        }
    }

    /// @dev A spender tries to take MESH from the credits contract or from an account: always refused.
    function spenderTriesMesh(uint256 which, uint256 who, uint256 amount) external {
        address s = spender(which);
        amount = bound(amount, 1, 1e24);
        vm.prank(s);
        try token.transferFrom(address(credits), s, amount) returns (bool) {
            _expect(false, "a spender moved the credits contract's MESH");
        } catch {}
        vm.prank(s);
        try token.transferFrom(actor(who), s, amount) returns (bool) {
            _expect(false, "a spender moved an account's MESH");
        } catch {}
    }

    // ------------------------------------------------------------------ emissions

    function distribute(uint256 maxEpochs) external {
        uint64 next = controller.nextEpoch();
        uint64 ended = controller.endedEpochs();
        try controller.distribute(bound(maxEpochs, 1, 4)) {} catch {
            _expect(ended <= next, "distribute failed with epochs waiting");
        }
    }

    function togglePool(uint256 which, bool failing, bool exhaust) external {
        pools[which % 2].setFailing(failing, exhaust && failing);
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 3 days));
    }

    function _canSpend(address s, address a, uint256 amount) private view returns (bool) {
        return
            credits.spenderSubnetwork(s) != bytes32(0) &&
            amount <= credits.allowance(a, s) &&
            amount <= credits.balanceOf(a);
    }
}
