/**
 * Epochs with no valid work, end to end through three oracle services (2 of 3) on the in-process
 * chain: an epoch with no devices and an epoch whose reports are all refused have an empty tree
 * (zero root, which the distributor refuses with DistributorZeroRoot); every oracle computes the
 * same empty result and skips posting it. Cumulative totals carry over: the next epoch with rewards
 * posts normally, and an epoch with no reports after it posts the carried totals. Also: the
 * distributor's custom errors decoded by name (the zero root posted by hand; the `hexmesh-oracle
 * post` CLI inside the previous root's challenge window).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import { decodeContractError, describeContractError } from "@hexmesh/contracts";
import { packSignatures, type CoverageInputs } from "@hexmesh/oracle";
import type { Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { closeEpoch } from "../../../scripts/demo/epoch.js";
import { onboardFleet, type ChainDevice } from "../../../scripts/demo/fleet.js";
import { OracleSet } from "../../../scripts/demo/oracles.js";
import { epochReports } from "../../../scripts/demo/reports.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../../scripts/demo/suite.js";

const ORACLE_CLI = path.resolve("packages/oracle/bin/hexmesh-oracle.js");
const ZERO = `0x${"00".repeat(32)}`;
const BOULDER: [number, number] = [40.015, -105.2705];

describe("empty epochs: the oracles agree to skip, totals carry over, later epochs post; errors decoded by name", function () {
  this.timeout(300_000);

  let suite: Suite;
  let owners: HardhatEthersSigner[];
  let fleet: ChainDevice[];
  let rpc: JsonRpcEndpoint;
  let oracles: OracleSet;
  let dir: string;
  let domain: { chainId: bigint; verifyingContract: Hex };
  let poster: Wallet;

  const window = (e: bigint) => {
    const start = Number(suite.genesisTime + e * suite.epochLength) * 1000;
    return { epochStart: start, epochEnd: start + Number(suite.epochLength) * 1000 };
  };
  const inputsFor = (e: bigint): CoverageInputs => {
    const sim = epochReports(fleet, { domain, ...window(e), seed: `empty ${e}`, witnessesPerBeacon: 4 });
    return { reports: sim.reports, entropy: sim.entropy };
  };

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-empty-"));
    const connection = await network.create();
    // A two-day challenge window: epoch 2's root is still pending when epoch 3 has ended.
    suite = await deployDemoSuite(connection, {
      oracleCount: 3,
      threshold: 2,
      approveMakerAtDeploy: true,
      challengeWindow: 2n * 86_400n,
    });
    owners = (await suite.ethers.getSigners()).slice(4, 10); // one device each: no same_owner witnesses
    domain = {
      chainId: suite.chainId,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
    rpc = await serveJsonRpc(connection.provider);
    poster = new Wallet(keccak256(toUtf8Bytes("empty epochs poster")));
    await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
    oracles = await OracleSet.start({
      rpcUrl: rpc.url,
      addresses: await suiteAddresses(suite),
      fromBlock: suite.deployBlock,
      oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
      posterKey: poster.privateKey,
      dir,
    });
  });

  after(async function () {
    await oracles?.stop();
    await rpc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("epoch 0 with no devices: every oracle computes the zero root and skips posting it, no transaction", async function () {
    await closeEpoch(suite, 0n);
    const results = await oracles.close(0n);
    for (const r of results) {
      expect(r.root).to.equal(ZERO);
      expect(r.totalCumulative).to.equal(0n);
      expect(r.summary).to.deep.include({ reports: 0, devices: 0 });
    }
    const block = await suite.ethers.provider.getBlockNumber();
    expect(await oracles.post(0n)).to.deep.equal({ status: "skipped", state: "empty" });
    expect(await suite.ethers.provider.getBlockNumber()).to.equal(block);
    const status = await oracles.services[0]!.store.getPostStatus(0n);
    expect(status).to.deep.include({ status: "skipped" });
    expect(status!.detail).to.match(/empty epoch: zero root/);
  });

  it("the zero root posted by hand reverts, and the revert decodes to DistributorZeroRoot() with what to do", async function () {
    const signed = await Promise.all(oracles.services.map((s) => s.store.signatures(0n)));
    const sigs = signed.flat().map((s) => ({ signer: s.signer, signature: s.signature }));
    const r = (await oracles.services[0]!.store.getEpochResult(0n))!;
    const err = await suite.distributor
      .connect(suite.deployer)
      .postRoot(
        { epoch: 0n, root: r.root, totalCumulative: 0n, dataHash: r.dataHash, oracleSetVersion: 1n },
        packSignatures(sigs, 2),
      )
      .then(
        () => expect.fail("a zero root was accepted"),
        (e: unknown) => e,
      );
    const decoded = decodeContractError(err);
    expect(decoded).to.deep.include({
      name: "DistributorZeroRoot",
      text: "DistributorZeroRoot()",
      selector: "0xa67ab733",
    });
    expect(describeContractError(err)).to.match(
      /^DistributorZeroRoot\(\): the root is zero: nobody has ever earned/,
    );
  });

  it("epoch 1, every report refused: still nothing earned, so again an agreed skip", async function () {
    fleet = await onboardFleet(suite, owners, {
      devices: 6,
      p256Share: 0.5,
      spacingM: 500,
      origin: BOULDER,
      seed: "empty fleet",
    });
    await closeEpoch(suite, 1n);
    const inputs = inputsFor(1n);
    // Forge every signature (flip a digit): all refused as bad_signature.
    const forged = inputs.reports.map((r) => {
      const at = r.raw.indexOf(`"signature":"0x`) + 16;
      return { ...r, raw: r.raw.slice(0, at) + (r.raw[at] === "0" ? "1" : "0") + r.raw.slice(at + 1) };
    });
    await oracles.ingest(1n, { reports: forged, entropy: inputs.entropy });
    const results = await oracles.close(1n);
    expect(results[0]!.summary.valid).to.equal(0);
    expect(results[0]!.summary.reports).to.be.greaterThan(0);
    expect(results[0]!.root).to.equal(ZERO);
    expect(await oracles.post(1n)).to.deep.equal({ status: "skipped", state: "empty" });
  });

  it("epoch 2 pays and posts normally", async function () {
    await closeEpoch(suite, 2n);
    await oracles.ingest(2n, inputsFor(2n));
    const results = await oracles.close(2n);
    expect(
      results[0]!.root,
      JSON.stringify(results[0]!.summary, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v)),
    ).to.not.equal(ZERO);
    expect(results[0]!.totalCumulative).to.be.greaterThan(0n);
    expect((await oracles.post(2n)).status).to.equal("posted");
    const [pendingEpoch, pendingRoot, pendingTotal] = await suite.distributor.pendingRoot();
    expect([pendingEpoch, pendingRoot, pendingTotal]).to.deep.equal([
      2n,
      results[0]!.root,
      results[0]!.totalCumulative,
    ]);
  });

  it("epoch 3 without reports carries epoch 2's totals; `hexmesh-oracle post` inside epoch 2's challenge window names DistributorRootPending and when to retry, then posts", async function () {
    await closeEpoch(suite, 3n);
    // The services' ethers providers may answer the block number from a cache for a moment.
    await new Promise((r) => setTimeout(r, 1_000));
    const two = (await oracles.services[0]!.store.getEpochResult(2n))!;
    const results = await oracles.close(3n);
    expect(results[0]!.summary.reports).to.equal(0);
    expect(results[0]!.totalCumulative).to.equal(two.totalCumulative);
    expect(results[0]!.root).to.equal(two.root);
    expect(results[0]!.owners.map((o) => [o.owner, o.cumulative])).to.deep.equal(
      two.owners.map((o) => [o.owner, o.cumulative]),
    );
    for (const s of oracles.services) await s.epochs!.sign(3n);
    const { registry, vault, controller, distributor } = await suiteAddresses(suite);
    const oracleAddresses = { registry, vault, controller, distributor };

    const config = path.join(dir, "oracle-0.json");
    writeFileSync(
      config,
      JSON.stringify({
        store: { backend: "sqlite", path: path.join(dir, "oracle-0.sqlite") },
        chain: { rpcUrl: rpc.url, addresses: oracleAddresses, fromBlock: suite.deployBlock },
        peers: oracles.urls.slice(1),
        log: { level: "warn" },
      }),
    );
    // Asynchronously: the CLI talks to the JSON-RPC endpoint this process serves.
    const postCli = () =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [ORACLE_CLI, "-c", config, "post", "3"], {
          env: {
            ...process.env,
            HEXMESH_ORACLE_KEY: suite.oracleKeys[0]!.privateKey,
            HEXMESH_POSTER_KEY: poster.privateKey,
          },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
        child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const [, , , readyAt] = await suite.distributor.pendingRoot();
    const early = await postCli();
    expect(early.status, early.stderr).to.equal(1);
    expect(early.stderr).to.include(
      `DistributorRootPending(pendingEpoch=2, readyAt=${readyAt}): epoch 2 is in its challenge window until ${readyAt}`,
    );
    expect(early.stderr).to.not.match(/unknown custom error/);

    await suite.time.increaseTo(readyAt);
    const posted = await postCli();
    expect(posted.status, posted.stderr).to.equal(0);
    expect(JSON.parse(posted.stdout)).to.deep.include({ epoch: "3", status: "posted" });
    const [liveEpoch, liveRoot] = await suite.distributor.liveRoot();
    expect([liveEpoch, liveRoot]).to.deep.equal([2n, two.root]);
    const [pendingEpoch, , pendingTotal] = await suite.distributor.pendingRoot();
    expect([pendingEpoch, pendingTotal]).to.deep.equal([3n, two.totalCumulative]);
  });
});
