/**
 * Coverage data transfer end to end through three real oracle services (2 of 3) on localhost over the
 * in-process chain: a customer's routers buy credits and authorize the settlement, sign receipts for
 * packets the hotspots carried; POST /v1/receipts answers each (every refusal code); after the epoch
 * every oracle builds the same settlement, oracle 0 collects a signature and settles on chain; the
 * UsageRecorded logs pay each hotspot owner what its hotspots carried.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { getAddress, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import {
  dataTransferDomain,
  encodePacketReceipt,
  receiptCredits,
  type ContractDomain,
  type PacketReceiptJson,
} from "@hexmesh/protocol";
import { ReceiptSigner } from "@hexmesh/protocol/node";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { closeEpoch } from "../../../scripts/demo/epoch.js";
import { onboardFleet, type ChainDevice } from "../../../scripts/demo/fleet.js";
import { OracleSet } from "../../../scripts/demo/oracles.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../../scripts/demo/suite.js";

const BOULDER: [number, number] = [40.015, -105.2705];
const ORACLE_CLI = path.resolve("packages/oracle/bin/hexmesh-oracle.js");
const MESH = 10n ** 18n;
const keyOf = (w: Wallet) => Uint8Array.from(Buffer.from(w.privateKey.slice(2), "hex"));

describe("packet receipts and data-transfer settlement through the oracle services", function () {
  this.timeout(300_000);

  let suite: Suite;
  let owners: HardhatEthersSigner[];
  let fleet: ChainDevice[];
  let rpc: JsonRpcEndpoint;
  let oracles: OracleSet;
  let dir: string;
  let domain: ContractDomain;
  let routerA: ReceiptSigner;
  let routerB: ReceiptSigner;
  let broke: ReceiptSigner;
  let routerAWallet: Wallet;
  let t0: bigint;

  const payload = (n: number, seed: number) => new Uint8Array(n).fill(seed);
  const client = () => new OracleClient(oracles.urls[0]!);

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-receipts-"));
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 3, threshold: 2, approveMakerAtDeploy: true });
    owners = (await suite.ethers.getSigners()).slice(4, 7);
    fleet = await onboardFleet(suite, owners, {
      devices: 3,
      p256Share: 0,
      spacingM: 500,
      origin: BOULDER,
      seed: "receipts fleet",
    });
    rpc = await serveJsonRpc(connection.provider);
    const poster = new Wallet(keccak256(toUtf8Bytes("receipts poster")));
    await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
    domain = dataTransferDomain(suite.chainId, await suite.dataTransfer.getAddress());
    // Routers: A holds 50,000 credits (1 MESH at $0.05) with an unlimited allowance; B 50,000 with an
    // allowance of 5 credits; "broke" never bought any.
    const wallets = ["router a", "router b", "router broke"].map(
      (s) => new Wallet(keccak256(toUtf8Bytes(s))),
    );
    const settlementAddr = await suite.dataTransfer.getAddress();
    const creditsAddr = await suite.credits.getAddress();
    for (const [i, w] of wallets.entries()) {
      await (await suite.deployer.sendTransaction({ to: w.address, value: 10n ** 18n })).wait();
      if (i === 2) continue;
      await (await suite.token.connect(suite.treasury).approve(creditsAddr, MESH)).wait();
      await (await suite.credits.connect(suite.treasury).burnForCredits(MESH, 0n, w.address)).wait();
      const router = w.connect(suite.ethers.provider);
      await (
        await suite.credits.connect(router).approveSpender(settlementAddr, i === 0 ? 2n ** 128n - 1n : 5n)
      ).wait();
    }
    routerAWallet = wallets[0]!.connect(suite.ethers.provider);
    routerA = new ReceiptSigner(keyOf(wallets[0]!), domain, 0n);
    routerB = new ReceiptSigner(keyOf(wallets[1]!), domain, 0n);
    broke = new ReceiptSigner(keyOf(wallets[2]!), domain, 0n);
    oracles = await OracleSet.start({
      rpcUrl: rpc.url,
      addresses: await suiteAddresses(suite),
      fromBlock: suite.deployBlock,
      oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
      posterKey: poster.privateKey,
      dir,
    });
    t0 = suite.genesisTime * 1000n;
    await suite.time.increaseTo(suite.genesisTime + 600n); // inside epoch 0
  });

  after(async function () {
    await oracles?.stop();
    await rpc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("accepts receipts within a router's credits and refuses each bad one with its code", async function () {
    const [h0, h1, h2] = fleet.map((d) => d.record.id);
    const good = [
      routerA.sign({ hotspot: h0!, payload: payload(51, 1), time: t0 + 1_000n }), // 3 packets
      routerA.sign({ hotspot: h1!, payload: payload(24, 2), time: t0 + 2_000n }), // 1
      routerA.sign({ hotspot: h0!, payload: payload(10, 3), time: t0 + 3_000n }), // 1
      routerB.sign({ hotspot: h2!, payload: payload(100, 4), time: t0 + 4_000n }), // 5: B's whole allowance
    ];
    const overB = routerB.sign({ hotspot: h2!, payload: payload(1, 5), time: t0 + 5_000n });
    const forged = encodePacketReceipt(
      routerA.sign({ hotspot: h1!, payload: payload(5, 6), time: t0 + 6_000n }),
    );
    const tampered: PacketReceiptJson = { ...forged, bytes: 6 };
    const replay = { ...encodePacketReceipt(good[0]!) };
    const unknownHotspot = routerA.sign({ hotspot: 12345n, payload: payload(5, 7), time: t0 + 7_000n });
    const beforeGenesis = routerA.sign({ hotspot: h0!, payload: payload(5, 8), time: t0 - 1n });
    const future = routerA.sign({ hotspot: h0!, payload: payload(5, 9), time: t0 + 86_400_000n * 3n });
    const noCredits = broke.sign({ hotspot: h0!, payload: payload(5, 10), time: t0 + 8_000n });
    const body = [
      ...good.map(encodePacketReceipt),
      encodePacketReceipt(overB),
      tampered,
      { ...forged, router: "0x12" },
      replay,
      encodePacketReceipt(unknownHotspot),
      encodePacketReceipt(beforeGenesis),
      encodePacketReceipt(future),
      encodePacketReceipt(noCredits),
    ];
    const answer = await oracles.submitReceipts(body);
    expect(answer.accepted).to.equal(4);
    expect(answer.refused).to.equal(8);
    expect(answer.results.slice(0, 4).map((r) => r.status)).to.deep.equal([
      "accepted",
      "accepted",
      "accepted",
      "accepted",
    ]);
    expect(answer.results.slice(0, 4).map((r) => r.credits)).to.deep.equal(["3", "1", "1", "5"]);
    expect(answer.results.slice(4).map((r) => r.reason)).to.deep.equal([
      "over_balance",
      "bad_signature",
      "malformed",
      "duplicate",
      "unknown_hotspot",
      "out_of_epoch",
      "out_of_epoch",
      "unknown_router",
    ]);
    expect(answer.results[6]).to.deep.include({ field: "router" });
    expect(receiptCredits(51, 1n)).to.equal(3n);
    // A body that is not a batch is a 400 with a stable code.
    const err = await client()
      .submitReceipts([])
      .then(
        () => expect.fail("an empty batch was accepted"),
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(OracleApiError);
    expect((err as OracleApiError).status).to.equal(400);
  });

  it("settles the epoch once: every oracle builds the same entries, oracle 0 posts, usage is recorded per owner", async function () {
    const c = client();
    await c.epochSettlement(0n).then(
      () => expect.fail("a settlement before the epoch ended"),
      (e: OracleApiError) => expect(e.status).to.equal(404),
    );
    // Before the epoch is over, the operator's command refuses to settle it.
    const config = path.join(dir, "oracle-1.json");
    writeFileSync(
      config,
      JSON.stringify({
        store: { backend: "sqlite", path: path.join(dir, "oracle-1.sqlite") },
        chain: {
          rpcUrl: rpc.url,
          addresses: (({ token: _token, ...oracleAddresses }) => oracleAddresses)(
            await suiteAddresses(suite),
          ),
          fromBlock: suite.deployBlock,
        },
        peers: [],
        log: { level: "warn" },
      }),
    );
    // Asynchronously: the CLI talks to the JSON-RPC endpoint this process serves.
    const settleCli = () =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [ORACLE_CLI, "-c", config, "settle", "0", "--no-post"], {
          env: { ...process.env, HEXMESH_ORACLE_KEY: suite.oracleKeys[1]!.privateKey },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
        child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const early = await settleCli();
    expect(early.status).to.not.equal(0);
    expect(early.stderr, early.stderr).to.match(/cannot be settled before/);
    await closeEpoch(suite, 0n);
    // Oracle 1's operator builds and signs with `hexmesh-oracle settle 0 --no-post` (its store, its key).
    const cli = await settleCli();
    expect(cli.status, cli.stderr).to.equal(0);
    const printed = JSON.parse(cli.stdout) as { entriesHash: string; signature: { signer: string } };
    expect(printed.signature.signer).to.equal(suite.oracleKeys[1]!.address.toLowerCase());
    const consumedBefore = await suite.credits.totalConsumed();
    const { settlement, outcome } = await oracles.settle(0n);
    expect(outcome.status).to.equal("settled");
    const owner = (i: number) => fleet[i]!.record.owner;
    const expected = [
      { router: routerA.router, provider: owner(0), credits: 4n },
      { router: routerA.router, provider: owner(1), credits: 1n },
      { router: routerB.router, provider: owner(2), credits: 5n },
    ].sort((a, b) => (a.router + a.provider < b.router + b.provider ? -1 : 1));
    expect(settlement.entries).to.deep.equal(expected);
    expect(settlement).to.deep.include({
      receipts: 4,
      unknownHotspot: 0,
      credits: 10n,
      creditsPerPacket: 1n,
    });
    expect(await suite.credits.totalConsumed()).to.equal(consumedBefore + 10n);
    const logs = await suite.credits.queryFilter(suite.credits.filters.UsageRecorded(undefined, 0n));
    expect(logs.map((l) => [l.args.provider, l.args.credits, l.args.account])).to.deep.equal(
      expected.map((e) => [getAddress(e.provider), e.credits, getAddress(e.router)]),
    );
    expect(printed.entriesHash).to.equal(settlement.entriesHash);
    const served = await c.epochSettlement(0n);
    expect(served.entriesHash).to.equal(settlement.entriesHash);
    expect(served.txHash).to.equal(outcome.status === "settled" ? outcome.txHash : undefined);
    // Idempotent: a second settle finds the epoch settled on chain.
    expect(await oracles.services[0]!.settle(0n)).to.deep.equal({
      status: "skipped",
      detail: "already settled (next epoch 1)",
    });
    // The epoch's receipts are closed: a late one is refused.
    const late = routerA.sign({ hotspot: fleet[0]!.record.id, payload: payload(5, 11), time: t0 + 9_000n });
    const answer = await oracles.submitReceipts([encodePacketReceipt(late)]);
    expect(answer.results[0]).to.deep.include({ status: "refused", reason: "out_of_epoch" });
  });

  it("a router that withdraws its allowance after its receipts is left unpaid; the epoch still settles", async function () {
    const receipt = routerA.sign({
      hotspot: fleet[0]!.record.id,
      payload: payload(30, 12),
      time: t0 + 86_400_000n + 1_000n,
    });
    await suite.time.increaseTo(suite.genesisTime + suite.epochLength + 600n); // inside epoch 1
    const answer = await oracles.submitReceipts([encodePacketReceipt(receipt)]);
    expect(answer.results[0]).to.deep.include({ status: "accepted", epoch: "1", credits: "2" });
    await (
      await suite.credits.connect(routerAWallet).approveSpender(await suite.dataTransfer.getAddress(), 0n)
    ).wait();
    await closeEpoch(suite, 1n);
    const { settlement, outcome } = await oracles.settle(1n);
    expect(outcome.status).to.equal("settled");
    expect(settlement.entries).to.have.length(1);
    const unpaid = await suite.credits.queryFilter(suite.credits.filters.UsageUnpaid(undefined, 1n));
    expect(unpaid.map((l) => [l.args.account, l.args.credits])).to.deep.equal([
      [getAddress(routerA.router), 2n],
    ]);
    expect(
      await suite.credits.queryFilter(suite.credits.filters.UsageRecorded(undefined, 1n)),
    ).to.have.length(0);
    expect(await suite.dataTransfer.nextEpoch()).to.equal(2n);
  });
});
