/**
 * The demo's storage and compute sections (scripts/demo/storage.ts, scripts/demo/compute.ts), run as
 * `npm run demo` runs them: the demo suite deployed with Ignition on the in-process chain, served as
 * JSON-RPC on localhost, with the real storage and compute provider agents. Asserts what the printed
 * lines claim: the honest storage provider proved and was paid every period, the faulty one had its
 * first miss free, paid a fee for every later miss and was terminated after 14 faulty days, its
 * retrieval score fell below 0.6 and the storage oracles' quorum-signed update suspended it from new
 * data sets (a new one is refused), the download is byte-exact; the cheating compute provider was caught by re-execution, slashed after the
 * veto window (20% to the prover, the rest of the job collateral burned, the vault part to the
 * treasury; the customer refunded), the honest one was paid and
 * its frame is a PNG hashing to its commitment.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { keccak256 } from "ethers";
import { network } from "hardhat";
import pngjs from "pngjs";

import { SCORE_ONE } from "@hexmesh/protocol";

import { runComputeSection } from "../../scripts/demo/compute.js";
import { prepareMarkets } from "../../scripts/demo/governance.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import { demoFileBytes, FILE_SIZE, runStorageSection } from "../../scripts/demo/storage.js";
import { deployDemoSuite, type Suite } from "../../scripts/demo/suite.js";
import { runWorkEpochsSection } from "../../scripts/demo/work-epochs.js";

describe("demo: the storage and compute sections", function () {
  this.timeout(600_000);
  let suite: Suite;
  let rpc: JsonRpcEndpoint;
  let dir: string;
  const lines: string[] = [];

  before(async function () {
    suite = await deployDemoSuite(await network.create(), {
      oracleCount: 3,
      threshold: 2,
      approveMakerAtDeploy: true,
    });
    await prepareMarkets(suite);
    rpc = await serveJsonRpc(suite.connection.provider);
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-demo-sections-"));
  });

  after(async function () {
    await rpc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("storage: the honest provider is paid every period, the faulty one pays fees, is terminated and suspended, the file comes back byte-exact", async function () {
    const r = await runStorageSection(suite, rpc.url, dir, (l) => lines.push(l));
    expect(r.fileSize).to.equal(FILE_SIZE);
    expect(FILE_SIZE & (FILE_SIZE - 1)).to.not.equal(0); // not a power of two
    expect(r.pieces).to.equal(4);
    // 3 healthy days + 14 faulty ones: A proved all 17, each paid (UsageRecorded) at the rate.
    const ds = await suite.storageDeals.dataSet(r.honest.dataSet);
    expect(r.honest.provenPeriods).to.equal(17);
    expect(r.honest.paidCredits).to.equal(17n * ds.rate);
    expect(ds.status).to.equal(2n); // still active
    // B: 3 proven, the first miss free, 13 charged; ended by faults.
    expect(r.faulty.provenPeriods).to.equal(3);
    expect(r.faulty.outcomes).to.deep.equal([
      ...Array(3).fill("Proven"),
      "FreeMiss",
      ...Array(13).fill("Faulted"),
    ]);
    const b = await suite.storageDeals.dataSet(r.faulty.dataSet);
    expect(b.status).to.equal(3n); // Terminated
    expect(r.faulty.endReason).to.equal("Faults");
    expect(r.faulty.fees).to.be.greaterThan(0n);
    expect(r.faulty.feesToClient + r.faulty.feesBurned).to.equal(r.faulty.fees);
    expect(r.faulty.forfeit).to.be.greaterThan(0n);
    // Storage oracle 0's probes: A served every day's range; B failed from its loss on (a probe may
    // land in the 4 KiB each piece kept: 1 chance in 256 a day), so its score fell below 0.6.
    expect(r.retrieval.honest).to.deep.equal({ score: SCORE_ONE, probes: 17, failures: 0 });
    expect(r.retrieval.faulty.probes).to.equal(17);
    expect(r.retrieval.faulty.failures).to.be.within(13, 14);
    expect(r.retrieval.faulty.score).to.be.lessThan(600_000);
    // The suspension round: oracles 0 and 1 signed, the update went through StorageSuspensions, and a
    // new data set with B is refused (its ended one stays ended; A is untouched).
    expect(r.suspension.signatures).to.equal(2);
    expect(await suite.storageSuspensions.isSuspended(r.suspension.deviceId)).to.equal(true);
    expect(await suite.storageSuspensions.nonceOf(r.suspension.deviceId)).to.equal(1n);
    expect(r.suspension.refusal).to.match(/^StorageDeviceSuspended\(deviceId=\d+\)/);
    expect(lines.some((l) => l.startsWith("Suspended") && l.includes("SuspensionUpdated"))).to.equal(true);
    expect(lines.some((l) => l.startsWith("Refused") && l.includes("StorageDeviceSuspended"))).to.equal(true);
    // The download equals the generated file.
    expect(r.download.equal).to.equal(true);
    expect(readFileSync(r.download.file).equals(demoFileBytes(FILE_SIZE))).to.equal(true);
    expect(lines.some((l) => l.startsWith("Download") && l.includes("equal to the original"))).to.equal(true);
    expect(lines.some((l) => l.startsWith("Ended") && l.includes("reason Faults"))).to.equal(true);
  });

  it("compute: the cheat is caught, its verdict executes after the veto window, the honest provider is paid and its frame is written", async function () {
    const supplyBefore = await suite.token.totalSupply();
    const r = await runComputeSection(suite, rpc.url, dir, (l) => lines.push(l));
    const jobs = suite.computeJobs;
    // The honest job: re-execution matches, finalized, paid for its units.
    expect(r.honest.spotChecked).to.equal(true);
    expect(r.honest.check).to.equal("match");
    expect((await jobs.job(r.honest.jobId)).status).to.equal(5n); // Finalized
    const price = await jobs.priceOf((await jobs.job(r.honest.jobId)).deviceClass);
    expect(r.honest.consumed).to.equal(r.honest.usedUnits * price);
    // Billed from the program's metered ticks, not the clock: the same 10 units on every run and machine.
    expect(r.honest.usedUnits).to.equal(10n);
    // The frame: a PNG whose keccak256 is the committed result.
    const frame = readFileSync(r.honest.frameFile);
    expect(keccak256(frame)).to.equal(r.honest.committedHash);
    const png = pngjs.PNG.sync.read(frame);
    expect([png.width, png.height]).to.deep.equal([160, 120]);
    // The cheat: caught, refunded, slashed after the 4-day veto window; 20% to the prover, the rest burned.
    expect(r.cheat.spotChecked).to.equal(true);
    expect(r.cheat.check).to.equal("fraud");
    expect(r.cheat.evidenceHash).to.not.equal(r.cheat.committedHash);
    expect((await jobs.penalty(r.cheat.jobId)).prover).to.equal(suite.oracleKeys[0]!.address);
    expect((await jobs.job(r.cheat.jobId)).status).to.equal(6n); // Refunded
    expect(r.cheat.refunded).to.be.greaterThan(0n);
    expect(r.cheat.vetoDelay).to.equal(4n * 86_400n);
    // Taken: the escrowed job collateral first, then the vault (up to its per-event cap); the prover
    // gets 20% of all of it, out of the collateral part, whose rest is burned.
    const taken = r.cheat.fromCollateral + r.cheat.fromVault;
    expect(r.cheat.fromCollateral).to.be.greaterThan(0n);
    expect(taken).to.be.lessThanOrEqual(r.cheat.penalty);
    expect(r.cheat.toProver).to.equal((taken * 2_000n) / 10_000n);
    expect(r.cheat.toProver + r.cheat.burned).to.equal(r.cheat.fromCollateral);
    expect((await jobs.penalty(r.cheat.jobId)).status).to.equal(2n); // Executed
    // The customer paid only for the honest job's units.
    expect(r.customerCredits.before - r.customerCredits.after).to.equal(r.honest.consumed);
    expect(await suite.token.totalSupply()).to.be.lessThanOrEqual(supplyBefore - r.cheat.burned);
    expect(
      lines.some((l) => l.startsWith("Frame") && l.includes(path.basename(r.honest.frameFile))),
    ).to.equal(true);
  });

  it("storage and compute epochs: three oracles post each subnetwork's root, the providers' owners claim it", async function () {
    const outcomes = await runWorkEpochsSection(suite, rpc.url, (l) => lines.push(l));
    expect(outcomes.map((o) => o.work)).to.deep.equal(["storage", "compute"]);
    for (const o of outcomes) {
      const distributor = o.work === "storage" ? suite.storageDistributor : suite.computeDistributor;
      // The posted root went live (after the challenge window) on the kind's own distributor.
      const [epoch, root] = await distributor.liveRoot();
      expect([epoch, root.toLowerCase()]).to.deep.equal([o.epochs.at(-1), o.root]);
      expect(o.claimed.length).to.be.greaterThan(0);
      for (const c of o.claimed) {
        expect(c.amount).to.be.greaterThan(0n);
        expect(await distributor.claimed(c.owner)).to.equal(c.amount);
      }
    }
    // Storage pays both providers' proven capacity; compute pays the honest provider's paid job.
    expect(outcomes[0]!.claimed).to.have.length(2);
    expect(outcomes[1]!.claimed).to.have.length(1);
    // The coverage distributor was not touched by either kind.
    expect((await suite.distributor.liveRoot())[1]).to.equal(`0x${"00".repeat(32)}`);
  });
});
