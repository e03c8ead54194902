/**
 * End to end on the in-process chain: deploy the suite, onboard devices with real secp256k1 and
 * P-256 keys (maker attestation + device signature), assert real H3 res-12 locations, bond, distribute
 * epochs through the controller, produce signed reports with the simulator, run three independent
 * oracle nodes (2-of-3 set), post, wait out the challenge window, claim with the served proofs, and
 * check every balance to the wei against the committed amounts.
 */
import { expect } from "chai";
import * as h3 from "h3-js";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { indexEpoch, type ChainContracts } from "@hexmesh/oracle";
import { EpochRootAggregator, RootConflictError, isTransient, withRetry } from "@hexmesh/oracle";
import { ClaimServer } from "@hexmesh/oracle/post/claims";
import { OracleNode } from "@hexmesh/oracle/post/node";
import { OracleKey, packSignatures } from "@hexmesh/oracle";
import type { Hex } from "@hexmesh/protocol";
import type { CoverageInputs } from "@hexmesh/oracle";
import {
  claimAll,
  closeEpoch,
  computeAndPost,
  passChallengeWindow,
  type PostedEpoch,
  type TimeControl,
} from "../../scripts/demo/epoch.js";
import { onboardFleet, type ChainDevice } from "../../scripts/demo/fleet.js";
import { epochReports } from "../../scripts/demo/reports.js";
import { deploySuite, type Suite } from "../../scripts/demo/suite.js";

/** Boulder, Colorado: inside the oracle's US915 region. */
const BOULDER: [number, number] = [40.015, -105.2705];

describe("E2E: one coverage epoch from device reports to claimed MESH", function () {
  this.timeout(240_000);

  let suite: Suite;
  let time: TimeControl;
  let owners: HardhatEthersSigner[];
  let fleet: ChainDevice[];
  let contracts: ChainContracts;
  let nodes: OracleNode[];
  let aggregator: EpochRootAggregator;
  let domain: { chainId: bigint; verifyingContract: Hex };
  let epoch0: PostedEpoch;
  let balancesAfter0: Map<string, bigint>;

  const inputsFor = (e: bigint): CoverageInputs[] => {
    const start = Number(suite.genesisTime + e * suite.epochLength) * 1000;
    const sim = epochReports(fleet, {
      domain,
      epochStart: start,
      epochEnd: start + Number(suite.epochLength) * 1000,
      seed: `e2e ${e}`,
      witnessesPerBeacon: 6,
    });
    // Each oracle receives the same reports in its own order.
    return [
      { reports: sim.reports, entropy: sim.entropy },
      { reports: [...sim.reports].reverse(), entropy: [...sim.entropy].reverse() },
      { reports: [...sim.reports.slice(1), sim.reports[0]!], entropy: sim.entropy },
    ];
  };

  before(async function () {
    const connection = await network.create();
    const { ethers, networkHelpers } = connection;
    time = {
      increaseTo: (t) => networkHelpers.time.increaseTo(t),
      latest: () => networkHelpers.time.latest(),
    };
    suite = await deploySuite(connection, { oracleCount: 3, threshold: 2, approveMakerAtDeploy: true });
    const signers = await ethers.getSigners();
    owners = signers.slice(4, 7);
    // Owner 2 does not bond: its devices are verified but earn nothing.
    fleet = await onboardFleet(
      suite,
      owners,
      { devices: 16, p256Share: 0.5, spacingM: 500, origin: BOULDER, seed: "e2e fleet" },
      new Set([0, 1]),
    );
    contracts = {
      registry: suite.registry,
      vault: suite.vault,
      controller: suite.controller,
      distributor: suite.distributor,
    };
    nodes = suite.oracleKeys.map(
      (k) =>
        new OracleNode(new OracleKey(k), contracts, {
          fromBlock: suite.deployBlock,
          coverage: { preparer: "inline" },
        }),
    );
    aggregator = new EpochRootAggregator(suite.distributor, { baseDelayMs: 1 });
    domain = {
      chainId: suite.chainId,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
  });

  it("onboarded both key types through maker attestations and device signatures", async function () {
    const types = new Set(fleet.map((d) => d.signer.key.type));
    expect(types).to.deep.equal(new Set(["secp256k1", "p256"]));
    for (const d of fleet) {
      const info = await suite.registry.deviceInfo(d.record.id);
      expect(info.owner.toLowerCase()).to.equal(d.record.owner);
      expect(info.cell).to.equal(d.record.location);
      expect(info.keyType).to.equal(d.signer.key.type === "p256" ? 1n : 0n);
    }
    expect(await suite.vault.bondedDeviceCount(owners[0]!.address)).to.equal(
      BigInt(fleet.filter((d) => d.ownerSigner === owners[0]).length),
    );
    expect(await suite.vault.bondedDeviceCount(owners[2]!.address)).to.equal(0n);
  });

  it("indexes the chain at the epoch's last block: devices, keys, locations, bonds, pool", async function () {
    await closeEpoch(suite, time, 0n);
    // A transfer after the epoch ended must not change epoch 0's index (it counts from epoch 1).
    const moved = fleet.find((d) => d.ownerSigner === owners[1])!;
    await (
      await suite.registry
        .connect(owners[1]!)
        .transferFrom(owners[1]!.address, owners[0]!.address, moved.record.id)
    ).wait();

    const index = await indexEpoch(contracts, 0n, { fromBlock: suite.deployBlock });
    const block = await suite.ethers.provider.getBlock(index.snapshotBlock);
    const next = await suite.ethers.provider.getBlock(index.snapshotBlock + 1);
    const end = suite.genesisTime + suite.epochLength;
    expect(BigInt(block!.timestamp)).to.be.lessThan(end);
    expect(BigInt(next!.timestamp)).to.be.at.least(end);
    expect(index.epochStart).to.equal(Number(suite.genesisTime) * 1000);
    expect(index.epochEnd).to.equal(Number(end) * 1000);
    expect(index.chainId).to.equal(suite.chainId);
    expect(index.devices).to.have.length(fleet.length);
    for (const d of fleet) {
      const rec = index.devices.find((x) => x.id === d.record.id)!;
      expect(rec.owner).to.equal(d.record.owner); // the pre-transfer owner for `moved`
      expect(rec.key).to.deep.equal(d.signer.key);
      expect(rec.location).to.equal(d.record.location);
      expect(rec.gain).to.equal(d.record.gain);
      expect(rec.elevation).to.equal(d.record.elevation);
      expect(rec.status).to.equal("active");
    }
    for (const o of owners) {
      const expected = await suite.vault.bondedDeviceCount(o.address, { blockTag: index.snapshotBlock });
      const got = index.bonds.find((b) => b.owner === o.address.toLowerCase())?.bondedDevices ?? 0;
      expect(BigInt(got)).to.equal(expected);
    }
    // Chunked log queries (public RPCs cap eth_getLogs spans) give the same index.
    const chunked = await indexEpoch(contracts, 0n, { fromBlock: suite.deployBlock, maxBlockRange: 7 });
    expect(chunked).to.deep.equal(index);
    const emission = await suite.controller.emissionOf(0n);
    const pools = await suite.controller.pools();
    expect(index.pool).to.equal((emission * BigInt(pools[0]!.bps)) / 10_000n);
    expect(index.pool).to.be.greaterThan(0n);
    // Move it back so the fleet's ownership stays as onboarded.
    await (
      await suite.registry
        .connect(owners[0]!)
        .transferFrom(owners[0]!.address, owners[1]!.address, moved.record.id)
    ).wait();
  });

  it("three oracles agree on epoch 0, 2 of 3 post it, a re-post is skipped, claims pay to the wei", async function () {
    epoch0 = await computeAndPost(nodes, aggregator, 0n, inputsFor(0n));
    expect(epoch0.outcome.status).to.equal("posted");
    const [c0, c1, c2] = epoch0.computed;
    const bytes = (c: typeof c0) => Buffer.concat(c!.result.commit.encoding.map((b) => Buffer.from(b)));
    expect(bytes(c1).equals(bytes(c0))).to.equal(true);
    expect(bytes(c2).equals(bytes(c0))).to.equal(true);
    const result = c0!.result;
    const root = result.commit.epochRoot;
    const verdicts = result.work.verdicts;
    const reasons = new Set(verdicts.map((v) => v.reason));
    for (const r of [null, "self_witness", "bad_rssi", "duplicate", "gateway_not_found"]) {
      expect(reasons, `reason ${r}`).to.include(r);
    }

    const [pendingEpoch, pendingRoot, pendingTotal, readyAt] = await suite.distributor.pendingRoot();
    expect(pendingEpoch).to.equal(0n);
    expect(pendingRoot).to.equal(root.root);
    expect(pendingTotal).to.equal(root.totalCumulative);
    expect(readyAt).to.be.greaterThan(0n);

    // Idempotent: the same root again is detected as pending and not sent.
    const blockBefore = await suite.ethers.provider.getBlockNumber();
    const signatures = nodes.map((n, i) =>
      n.sign(epoch0.request.domain, epoch0.request.value, epoch0.computed[i]!),
    );
    const again = await aggregator.post(epoch0.request, signatures);
    expect(again).to.deep.equal({ status: "skipped", state: "pending" });
    expect(await suite.ethers.provider.getBlockNumber()).to.equal(blockBefore);

    // Nothing is claimable inside the challenge window.
    const owner0 = owners[0]!.address.toLowerCase() as Hex;
    const server = nodes[1]!.claimServer!;
    const p0 = server.proof(owner0)!;
    await expect(
      suite.distributor.claim(p0.owner, p0.cumulative, [...p0.proof]),
    ).to.be.revertedWithCustomError(suite.distributor, "DistributorNoLiveRoot");

    await passChallengeWindow(suite, time);
    const before = new Map<string, bigint>();
    for (const o of owners) before.set(o.address.toLowerCase(), await suite.token.balanceOf(o.address));
    const paid = await claimAll(suite, nodes[2]!);
    balancesAfter0 = new Map();
    let total = 0n;
    for (const o of owners) {
      const a = o.address.toLowerCase() as Hex;
      const committed = result.payout.owners.find((x) => x.owner === a)?.amount ?? 0n;
      const balance = await suite.token.balanceOf(o.address);
      expect(balance - before.get(a)!, `owner ${a}`).to.equal(committed);
      expect(paid.get(a) ?? 0n).to.equal(committed);
      balancesAfter0.set(a, balance);
      total += committed;
    }
    // Bonded owners earned, the unbonded one nothing; everything allocated was paid.
    expect(result.payout.owners.find((x) => x.owner === owner0)?.amount ?? 0n).to.be.greaterThan(0n);
    expect(result.payout.owners.find((x) => x.owner === owners[2]!.address.toLowerCase())).to.equal(
      undefined,
    );
    expect(total).to.equal(root.totalCumulative);
    const distributorBalance = await suite.token.balanceOf(await suite.distributor.getAddress());
    expect(distributorBalance).to.equal(epoch0.computed[0]!.index.pool - root.totalCumulative);
    // Every device amount is the committed share; the amounts sum to what was distributed.
    expect(result.payout.devices.reduce((s, d) => s + d.amount, 0n)).to.equal(result.payout.distributed);
  });

  it("epoch 1: the pool carries epoch 0's dust and cumulative claims pay only the difference", async function () {
    // During epoch 1: one device suspended, one retired, one moved to a neighbouring res-12 cell.
    const mine = fleet.filter((d) => d.ownerSigner === owners[0]);
    const [suspended, retired, moved] = [mine[0]!, mine[1]!, mine[2]!];
    await (await suite.registry.connect(suite.guardian).suspend(suspended.record.id, 9)).wait();
    await (await suite.registry.connect(owners[0]!).retire(retired.record.id)).wait();
    const newCell = BigInt(
      `0x${h3.gridDisk(moved.record.location!.toString(16), 1).find((c) => BigInt(`0x${c}`) !== moved.record.location)!}`,
    );
    // A second assert pays the assert fee, into the registry until someone burns collected fees.
    const fee = await suite.registry.assertFee();
    expect(fee).to.be.greaterThan(0n);
    const collected = await suite.registry.collectedFees();
    await (await suite.token.connect(owners[0]!).approve(await suite.registry.getAddress(), fee)).wait();
    await (await suite.registry.connect(owners[0]!).assertLocation(moved.record.id, newCell, 45, 12)).wait();
    expect(await suite.registry.collectedFees()).to.equal(collected + fee);

    await closeEpoch(suite, time, 1n);
    const posted = await computeAndPost(nodes, aggregator, 1n, inputsFor(1n));
    expect(posted.outcome.status).to.equal("posted");
    const { index, result } = posted.computed[0]!;
    const rec = (id: bigint) => index.devices.find((d) => d.id === id)!;
    expect(rec(suspended.record.id).status).to.equal("suspended");
    expect(rec(retired.record.id).status).to.equal("retired");
    expect(rec(retired.record.id).owner).to.equal(owners[0]!.address.toLowerCase());
    expect(rec(moved.record.id)).to.include({ location: newCell, gain: 45, elevation: 12, status: "active" });
    const reasons = new Set(result.work.verdicts.map((v) => v.reason));
    expect(reasons).to.include("denied");
    expect(reasons).to.include("not_active");
    const funded1 =
      ((await suite.controller.emissionOf(1n)) * BigInt((await suite.controller.pools())[0]!.bps)) / 10_000n;
    const prev = epoch0.computed[0]!.result.commit.epochRoot.totalCumulative;
    expect(index.pool).to.equal(epoch0.computed[0]!.index.pool - prev + funded1);
    expect(index.previousCumulative.length).to.equal(epoch0.computed[0]!.result.payout.owners.length);

    // A different root for the pending epoch is a conflict, never a second post.
    const forged = {
      ...posted.request,
      value: { ...posted.request.value, root: `0x${"ab".repeat(32)}` as Hex },
    };
    const forgedSigs = suite.oracleKeys.map((k) => new OracleKey(k).sign(forged.domain, forged.value));
    let conflict: unknown;
    try {
      await aggregator.post(forged, forgedSigs);
    } catch (e) {
      conflict = e;
    }
    expect(conflict).to.be.instanceOf(RootConflictError);

    await passChallengeWindow(suite, time);
    // The epoch-0 proof no longer verifies against the new live root.
    const stale = new ClaimServer(epoch0.computed[0]!.result.commit).proof(owners[0]!.address)!;
    await expect(
      suite.distributor.claim(stale.owner, stale.cumulative, [...stale.proof]),
    ).to.be.revertedWithCustomError(suite.distributor, "DistributorInvalidProof");

    await claimAll(suite, nodes[0]!);
    for (const o of owners) {
      const a = o.address.toLowerCase() as Hex;
      const p1 = result.payout.owners.find((x) => x.owner === a);
      const p0 = epoch0.computed[0]!.result.payout.owners.find((x) => x.owner === a);
      const diff = (p1?.cumulative ?? 0n) - (p0?.cumulative ?? 0n);
      expect(diff).to.equal(p1?.amount ?? 0n);
      // Owner 0 paid the assert fee of its re-assert out of the epoch-0 balance.
      const spent = o === owners[0] ? fee : 0n;
      expect(
        (await suite.token.balanceOf(o.address)) - balancesAfter0.get(a)! + spent,
        `owner ${a}`,
      ).to.equal(diff);
      expect(await suite.distributor.claimed(o.address)).to.equal(p1?.cumulative ?? 0n);
    }
    // The live epoch cannot be posted again: skipped as live.
    const sigs = nodes.map((n, i) =>
      n.sign(posted.request.domain, posted.request.value, posted.computed[i]!),
    );
    expect(await aggregator.post(posted.request, sigs)).to.deep.equal({ status: "skipped", state: "live" });
    // And an older epoch is superseded.
    const old = nodes.map((n) => n.key.sign(epoch0.request.domain, epoch0.request.value));
    expect(await aggregator.post(epoch0.request, old)).to.deep.equal({
      status: "skipped",
      state: "superseded",
    });
  });

  it("the aggregator keeps only current oracles' signatures of the exact root, sorted, k of them", async function () {
    const request = epoch0.request;
    const good = suite.oracleKeys.map((k) => new OracleKey(k).sign(request.domain, request.value));
    const outsider = new OracleKey(suite.makerKey).sign(request.domain, request.value);
    const wrongValue = new OracleKey(suite.oracleKeys[0]!).sign(request.domain, {
      ...request.value,
      totalCumulative: request.value.totalCumulative + 1n,
    });
    const kept = aggregator.verified(request, [outsider, wrongValue, ...good]);
    expect(kept.map((s) => s.signer)).to.deep.equal(good.map((s) => s.signer));
    const packed = packSignatures([...kept].reverse(), 2);
    expect(packed.length).to.equal(2 + 2 * 65 * 2);
    const first = kept.map((s) => s.signer).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0]!;
    expect(packed.slice(0, 132)).to.equal(kept.find((s) => s.signer === first)!.signature);
    expect(() => packSignatures([good[0]!, good[0]!], 2)).to.throw(/need 2/);
  });

  it("retries RPC failures with bounded backoff and never retries a revert", async function () {
    let calls = 0;
    const delays: number[] = [];
    const ok = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error("socket hang up"), { code: "NETWORK_ERROR" });
        return "done";
      },
      { attempts: 5, baseDelayMs: 10, sleep: async (ms) => void delays.push(ms) },
    );
    expect(ok).to.equal("done");
    expect(delays).to.deep.equal([10, 20]);

    calls = 0;
    const timeout = Object.assign(new Error("timeout"), { code: "TIMEOUT" });
    let thrown: unknown;
    try {
      await withRetry(
        async () => {
          calls++;
          throw timeout;
        },
        { attempts: 3, baseDelayMs: 1, sleep: async () => {} },
      );
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.equal(timeout);
    expect(calls).to.equal(3);

    calls = 0;
    const revert = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" });
    expect(isTransient(revert)).to.equal(false);
    try {
      await withRetry(async () => {
        calls++;
        throw revert;
      });
    } catch {
      // expected
    }
    expect(calls).to.equal(1);
  });

  it("refuses to index an epoch that is not funded yet", async function () {
    const next = await suite.controller.nextEpoch();
    let error: unknown;
    try {
      await indexEpoch(contracts, next, { fromBlock: suite.deployBlock });
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/not (funded|reached)/);
  });
});
