/**
 * End to end on the in-process chain: deploy the suite, onboard devices with real secp256k1 and
 * P-256 keys (maker attestation + device signature), assert real H3 res-12 locations, bond, distribute
 * epochs through the controller, produce signed reports with the simulator, and run three oracle
 * services (2-of-3 set) through the operators' epoch steps over localhost: oracle 0 ingests, the
 * others pull, each closes the epoch on its own, all sign, oracle 0 collects and posts; then wait out
 * the challenge window, claim with the proofs the API serves, and check every balance to the wei
 * against the stored results.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import * as h3 from "h3-js";
import { network } from "hardhat";

import {
  EpochNotOverError,
  EpochRootAggregator,
  indexEpoch,
  OracleKey,
  packSignatures,
  RootConflictError,
  type ChainContracts,
  type CoverageInputs,
  type StoredChainIndex,
  type StoredEpochResult,
} from "@hexmesh/oracle";
import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import { OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../deploy/lib/suite.js";
import { closeEpoch, epochBoundsMs, passChallengeWindow } from "../../scripts/demo/epoch.js";
import { onboardFleet, type ChainDevice } from "../../scripts/demo/fleet.js";
import { claimWithOracleProof, OracleSet, type PostedEpoch } from "../../scripts/demo/oracles.js";
import { epochReports } from "../../scripts/demo/reports.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../scripts/demo/suite.js";

/** Boulder, Colorado: inside the oracle's US915 region. */
const BOULDER: [number, number] = [40.015, -105.2705];

describe("E2E: coverage epochs from device reports to claimed MESH, through three oracle services", function () {
  this.timeout(240_000);

  let suite: Suite;
  let owners: HardhatEthersSigner[];
  let fleet: ChainDevice[];
  let contracts: ChainContracts;
  let rpc: JsonRpcEndpoint;
  let oracles: OracleSet;
  let domain: { chainId: bigint; verifyingContract: Hex };
  let epoch0: PostedEpoch;
  let index0: StoredChainIndex;
  let balancesAfter0: Map<string, bigint>;

  const inputsFor = (e: bigint): CoverageInputs => {
    const sim = epochReports(fleet, {
      domain,
      ...epochBoundsMs(suite, e),
      seed: `e2e ${e}`,
      witnessesPerBeacon: 6,
    });
    return { reports: sim.reports, entropy: sim.entropy };
  };
  const chainIndex = async (e: bigint) => (await oracles.services[0]!.store.getChainIndex(e))!;
  const amountOf = (r: StoredEpochResult, owner: string) =>
    r.owners.find((o) => o.owner === owner.toLowerCase());

  before(async function () {
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 3, threshold: 2, approveMakerAtDeploy: true });
    const signers = await suite.ethers.getSigners();
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
    domain = {
      chainId: suite.chainId,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
    rpc = await serveJsonRpc(connection.provider);
    const poster = new Wallet(keccak256(toUtf8Bytes("e2e poster")));
    await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
    oracles = await OracleSet.start({
      rpcUrl: rpc.url,
      addresses: await suiteAddresses(suite),
      fromBlock: suite.deployBlock,
      oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
      posterKey: poster.privateKey,
    });
  });

  after(async function () {
    await oracles?.stop();
    await rpc?.close();
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
    await closeEpoch(suite, 0n);
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
    epoch0 = await oracles.runEpoch(0n, inputsFor(0n));
    expect(epoch0.outcome.status).to.equal("posted");
    // Every oracle closed the epoch from its own store (oracles 1 and 2 pulled oracle 0's inputs).
    const [r0, r1, r2] = epoch0.results;
    for (const r of [r1, r2]) expect(r).to.deep.include({ root: r0!.root, dataHash: r0!.dataHash });
    expect(r0!.summary.valid).to.be.greaterThan(0);
    for (const reason of ["self_witness", "bad_rssi", "duplicate", "gateway_not_found"]) {
      expect(r0!.summary.rejected, `reason ${reason}`).to.have.property(reason);
    }
    index0 = await chainIndex(0n);

    const [pendingEpoch, pendingRoot, pendingTotal, readyAt] = await suite.distributor.pendingRoot();
    expect(pendingEpoch).to.equal(0n);
    expect(pendingRoot).to.equal(r0!.root);
    expect(pendingTotal).to.equal(r0!.totalCumulative);
    expect(readyAt).to.be.greaterThan(0n);

    // Idempotent: the same root again is detected as pending and not sent.
    const blockBefore = await suite.ethers.provider.getBlockNumber();
    expect(await oracles.services[0]!.post(0n)).to.deep.equal({ status: "skipped", state: "pending" });
    expect(await suite.ethers.provider.getBlockNumber()).to.equal(blockBefore);

    // Nothing is claimable inside the challenge window: the API serves no proof for the live root yet
    // (only the pending one's, marked pending), and a proof of the pending tree is refused on chain.
    const owner0 = owners[0]!.address.toLowerCase() as Hex;
    const early = await new OracleClient(oracles.urls[1]!).owner(owner0).catch((e: unknown) => e);
    expect(early).to.be.instanceOf(OracleApiError);
    expect(early).to.include({
      status: 404,
      apiMessage: "no root is live yet; epoch 0 is pending (ask with ?epoch=0)",
    });
    const pendingLeaf = await new OracleClient(oracles.urls[1]!).owner(owner0, { epoch: "0" });
    expect(pendingLeaf).to.include({ status: "pending", claimable: "0", root: r0!.root });
    const pendingTree = OwnerMerkleTree.build(
      r0!.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })),
    );
    await expect(
      suite.distributor.claim(owner0, amountOf(r0!, owner0)!.cumulative, pendingTree.proof(owner0)),
    ).to.be.revertedWithCustomError(suite.distributor, "DistributorNoLiveRoot");

    await passChallengeWindow(suite);
    balancesAfter0 = new Map();
    let total = 0n;
    for (const o of owners) {
      const a = o.address.toLowerCase();
      const before = await suite.token.balanceOf(a);
      const paid = await claimWithOracleProof(oracles.urls[2]!, suite.distributor, a);
      const committed = amountOf(r0!, a)?.amount ?? 0n;
      const balance = await suite.token.balanceOf(a);
      expect(balance - before, `owner ${a}`).to.equal(committed);
      expect(paid).to.equal(committed);
      balancesAfter0.set(a, balance);
      total += committed;
    }
    // Bonded owners earned, the unbonded one nothing; everything allocated was paid.
    expect(amountOf(r0!, owner0)?.amount ?? 0n).to.be.greaterThan(0n);
    expect(amountOf(r0!, owners[2]!.address)).to.equal(undefined);
    expect(total).to.equal(r0!.totalCumulative);
    expect(BigInt(r0!.summary.distributed)).to.equal(r0!.totalCumulative);
    const distributorBalance = await suite.token.balanceOf(await suite.distributor.getAddress());
    expect(distributorBalance).to.equal(index0.pool - r0!.totalCumulative);
    expect(BigInt(r0!.summary.dust)).to.equal(index0.pool - r0!.totalCumulative);
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

    // Epoch 1 has ended on chain, but not by the close delay (2 witness windows + the grace):
    // close-epoch refuses and records nothing.
    const end1 = suite.genesisTime + 2n * suite.epochLength;
    await suite.time.increaseTo(end1 + 30n);
    const early = await oracles.services[0]!.epochs!.close(1n).then(
      () => null,
      (e: unknown) => e,
    );
    expect(early).to.be.instanceOf(EpochNotOverError);
    expect((early as Error).message).to.match(
      /^epoch 1 cannot be closed before .* \(its end .* \+ 8000 ms of witness windows \+ 60000 ms of grace\)/,
    );
    expect((await oracles.services[0]!.store.latestClose())!.epoch).to.equal(0n);

    await closeEpoch(suite, 1n);
    const posted = await oracles.runEpoch(1n, inputsFor(1n));
    expect(posted.outcome.status).to.equal("posted");
    const [result] = posted.results;
    const index = await chainIndex(1n);
    const rec = (id: bigint) => index.devices.find((d) => d.id === id)!;
    expect(rec(suspended.record.id).status).to.equal("suspended");
    expect(rec(retired.record.id).status).to.equal("retired");
    expect(rec(retired.record.id).owner).to.equal(owners[0]!.address.toLowerCase());
    expect(rec(moved.record.id)).to.include({ location: newCell, gain: 45, elevation: 12, status: "active" });
    expect(result!.summary.rejected).to.have.property("denied");
    expect(result!.summary.rejected).to.have.property("not_active");
    const funded1 =
      ((await suite.controller.emissionOf(1n)) * BigInt((await suite.controller.pools())[0]!.bps)) / 10_000n;
    const r0 = epoch0.results[0]!;
    expect(index.pool).to.equal(index0.pool - r0.totalCumulative + funded1);
    expect(index.previousCumulative.length).to.equal(r0.owners.length);

    // A different root for the pending epoch is a conflict, never a second post.
    const aggregator = new EpochRootAggregator(suite.distributor, { baseDelayMs: 1 });
    const forged = await aggregator.request({
      epoch: 1n,
      root: `0x${"ab".repeat(32)}` as Hex,
      totalCumulative: result!.totalCumulative,
      dataHash: result!.dataHash,
    });
    const forgedSigs = suite.oracleKeys.map((k) => new OracleKey(k).sign(forged.domain, forged.value));
    let conflict: unknown;
    try {
      await aggregator.post(forged, forgedSigs);
    } catch (e) {
      conflict = e;
    }
    expect(conflict).to.be.instanceOf(RootConflictError);

    await passChallengeWindow(suite);
    // The epoch-0 proof no longer verifies against the new live root.
    const tree0 = OwnerMerkleTree.build(r0.owners.map((o) => ({ owner: o.owner, amount: o.cumulative })));
    const owner0 = owners[0]!.address.toLowerCase() as Hex;
    await expect(
      suite.distributor.claim(owner0, amountOf(r0, owner0)!.cumulative, tree0.proof(owner0)),
    ).to.be.revertedWithCustomError(suite.distributor, "DistributorInvalidProof");

    for (const o of owners) {
      const a = o.address.toLowerCase();
      await claimWithOracleProof(oracles.urls[0]!, suite.distributor, a);
      const p1 = amountOf(result!, a);
      const diff = (p1?.cumulative ?? 0n) - (amountOf(r0, a)?.cumulative ?? 0n);
      expect(diff).to.equal(p1?.amount ?? 0n);
      // Owner 0 paid the assert fee of its re-assert out of the epoch-0 balance.
      const spent = o === owners[0] ? fee : 0n;
      expect((await suite.token.balanceOf(a)) - balancesAfter0.get(a)! + spent, `owner ${a}`).to.equal(diff);
      expect(await suite.distributor.claimed(a)).to.equal(p1?.cumulative ?? 0n);
      // With everything claimed, the API says so.
      if (p1 !== undefined) {
        const served = await new OracleClient(oracles.urls[1]!).owner(a);
        expect(served).to.deep.include({ epoch: "1", claimed: p1.cumulative.toString(), claimable: "0" });
      }
    }
    // The live epoch cannot be posted again: skipped as live; an older epoch is superseded.
    expect(await oracles.services[0]!.post(1n)).to.deep.equal({ status: "skipped", state: "live" });
    expect(await oracles.services[0]!.post(0n)).to.deep.equal({ status: "skipped", state: "superseded" });
  });

  it("the aggregator keeps only current oracles' signatures of the exact root, sorted, k of them", async function () {
    const r0 = epoch0.results[0]!;
    const aggregator = new EpochRootAggregator(suite.distributor);
    const request = await aggregator.request({
      epoch: 0n,
      root: r0.root,
      totalCumulative: r0.totalCumulative,
      dataHash: r0.dataHash,
    });
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
