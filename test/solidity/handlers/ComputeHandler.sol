// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "../utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ComputeJobs} from "../../../contracts/compute/ComputeJobs.sol";
import {IComputeJobs} from "../../../contracts/interfaces/IComputeJobs.sol";
import {StakingVault} from "../../../contracts/staking/StakingVault.sol";
import {UsageCredits} from "../../../contracts/credits/UsageCredits.sol";

/// @notice What the compute handler drives: the real market, credits, vault and MESH; a customer, two
/// bonded providers with one compute device each, and the compute oracles' keys (ascending by address).
struct ComputeMarket {
    ComputeJobs jobs;
    UsageCredits credits;
    StakingVault vault;
    IERC20 token;
    address customer;
    address[2] providers;
    uint256[2] devices;
    uint256[2] oracleKeys;
    uint16 deviceClass;
}

/// @dev Drives ComputeJobs at random (Standard and Verified jobs, accepts, commits that agree or not,
/// disputes, finalizations, expiries, cancels, quorum verdicts, penalty executions and vetoes, time).
/// It keeps per-job ghost books of the credits each job deposited, consumed and released (measured
/// around each call from the ledger), and checks each executed penalty against its caps.
contract ComputeHandler is Test {
    ComputeJobs public immutable jobs;
    UsageCredits public immutable credits;
    StakingVault public immutable vault;
    IERC20 public immutable token;
    address public immutable customer;
    uint16 public immutable deviceClass;
    address[2] private _providers;
    uint256[2] private _devices;
    uint256[2] private _oracleKeys;

    mapping(uint256 jobId => uint256) public deposited;
    mapping(uint256 jobId => uint256) public consumed;
    mapping(uint256 jobId => uint256) public released;
    uint256 public violations;
    string public lastViolation;
    mapping(bytes32 action => uint256) public calls;

    constructor(ComputeMarket memory m) {
        jobs = m.jobs;
        credits = m.credits;
        vault = m.vault;
        token = m.token;
        customer = m.customer;
        deviceClass = m.deviceClass;
        _providers = m.providers;
        _devices = m.devices;
        _oracleKeys = m.oracleKeys;
    }

    function provider(uint256 i) external view returns (address) {
        return _providers[i];
    }

    // ------------------------------------------------------------------ actions

    function create(uint256 unitsSeed, uint256 hoursSeed, bool verified) external {
        uint32 units = uint32(bound(unitsSeed, 1, 2_000));
        uint40 deadline = uint40(block.timestamp + bound(hoursSeed, 1, 48) * 1 hours);
        IComputeJobs.Tier tier = verified ? IComputeJobs.Tier.Verified : IComputeJobs.Tier.Standard;
        vm.prank(customer);
        try jobs.createJob(keccak256(abi.encode(unitsSeed)), deviceClass, units, deadline, tier) returns (uint256 id) {
            deposited[id] = uint256(units) * jobs.priceOf(deviceClass) * (verified ? 2 : 1);
            calls["create"]++;
        } catch {}
    }

    function accept(uint256 jobSeed, uint256 providerSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        uint256 i = providerSeed % 2;
        vm.prank(_providers[i]);
        try jobs.acceptJob(id, _devices[i]) {
            calls["accept"]++;
        } catch {}
    }

    function commit(uint256 jobSeed, uint256 providerSeed, uint256 unitsSeed, bool wrong) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        IComputeJobs.Job memory j = jobs.job(id);
        uint32 used = uint32(bound(unitsSeed, 0, j.maxUnits));
        vm.prank(_providers[providerSeed % 2]);
        try jobs.commitResult(id, wrong ? keccak256("wrong") : keccak256("right"), used) {
            calls["commit"]++;
        } catch {}
    }

    function dispute(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        vm.prank(customer);
        try jobs.dispute(id, keccak256("evidence")) {
            calls["dispute"]++;
        } catch {}
    }

    function acceptResult(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        (uint256 balance, uint256 total) = _ledger();
        vm.prank(customer);
        try jobs.acceptResult(id) {
            _settled(id, balance, total);
            calls["acceptResult"]++;
        } catch {}
    }

    function cancel(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        (uint256 balance, uint256 total) = _ledger();
        vm.prank(customer);
        try jobs.cancelJob(id) {
            _settled(id, balance, total);
            calls["cancel"]++;
        } catch {}
    }

    function finalize(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        (uint256 balance, uint256 total) = _ledger();
        try jobs.finalize(id) {
            _settled(id, balance, total);
            calls["finalize"]++;
        } catch {}
    }

    function expire(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        (uint256 balance, uint256 total) = _ledger();
        try jobs.expire(id) {
            _settled(id, balance, total);
            calls["expire"]++;
        } catch {}
    }

    /// @dev The quorum (the first two oracle keys, ascending) convicts one of the job's providers.
    function convict(uint256 jobSeed, bool second) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        address accused = second ? jobs.secondProvider(id).provider : jobs.job(id).provider;
        if (accused == address(0)) return;
        IComputeJobs.FraudVerdict memory v = IComputeJobs.FraudVerdict({
            jobId: id,
            provider: accused,
            reason: 1,
            evidenceHash: keccak256("re-executed output"),
            prover: address(0xBEEF),
            oracleSetVersion: 1,
            deadline: block.timestamp + 1 hours
        });
        bytes32 digest = jobs.verdictDigest(v);
        bytes memory signatures = abi.encodePacked(_sign(_oracleKeys[0], digest), _sign(_oracleKeys[1], digest));
        (uint256 balance, uint256 total) = _ledger();
        try jobs.submitVerdict(v, signatures) {
            _settled(id, balance, total);
            calls["convict"]++;
        } catch {}
    }

    /// @dev Executes a due penalty and checks what it took: from the escrow at most min(amount, escrow),
    /// from the vault at most its per-event cap, together at most the penalty.
    function execute(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        IComputeJobs.Penalty memory p = jobs.penalty(id);
        if (p.status != IComputeJobs.PenaltyStatus.Scheduled || block.timestamp < p.executableAt) return;
        uint256 stakeBefore = vault.activeStakeOf(p.provider) + vault.pendingUnstakeOf(p.provider);
        uint256 cap = (stakeBefore * vault.maxSlashBps()) / 10_000;
        uint256 heldBefore = token.balanceOf(address(jobs));
        jobs.executePenalty(id);
        uint256 fromVault = stakeBefore - (vault.activeStakeOf(p.provider) + vault.pendingUnstakeOf(p.provider));
        uint256 fromCollateral = heldBefore - token.balanceOf(address(jobs));
        _expect(fromCollateral <= p.escrow && fromCollateral <= p.amount, "took more than the escrow or penalty");
        _expect(fromVault <= cap, "slashed the vault above its per-event cap");
        _expect(fromCollateral + fromVault <= p.amount, "took more than the penalty");
        calls["execute"]++;
    }

    function veto(uint256 jobSeed) external {
        (uint256 id, bool any) = _job(jobSeed);
        if (!any) return;
        try jobs.vetoPenalty(id) {
            calls["veto"]++;
        } catch {}
    }

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 5 days));
        vm.roll(block.number + 1);
        calls["warp"]++;
    }

    // ------------------------------------------------------------------ internals

    function _job(uint256 seed) private view returns (uint256 id, bool any) {
        uint256 count = jobs.jobCount();
        if (count == 0) return (0, false);
        return (1 + (seed % count), true);
    }

    function _ledger() private view returns (uint256 balance, uint256 total) {
        return (credits.balanceOf(customer), credits.totalConsumed());
    }

    /// @dev Attributes what a settling call moved to its job: released to the customer, consumed.
    function _settled(uint256 id, uint256 balanceBefore, uint256 totalBefore) private {
        released[id] += credits.balanceOf(customer) - balanceBefore;
        consumed[id] += credits.totalConsumed() - totalBefore;
    }

    function _sign(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        uint256 n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
        if (uint256(s) > n / 2) {
            s = bytes32(n - uint256(s));
            v = v == 27 ? 28 : 27;
        }
        return abi.encodePacked(r, s, v);
    }

    function _expect(bool condition, string memory what) private {
        if (!condition) {
            violations++;
            lastViolation = what;
        }
    }
}
