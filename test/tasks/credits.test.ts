import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { id, ZeroHash } from "ethers";
import { network } from "hardhat";

import { UNLIMITED_ALLOWANCE } from "@hexmesh/protocol";

import { loadHexmeshParameters } from "../../deploy/lib/hexmesh.js";
import { deploySuite, type DeployedSuite } from "../../deploy/lib/suite.js";
import { formatCredits, formatPrice, parseMesh } from "../../tasks/lib/common.js";
import { LOCAL_PARAMETERS } from "../helpers/deploy.js";
import { taskRunner } from "../helpers/tasks.js";

const DEPLOYMENT_ID = `test-credits-tasks-${process.pid}`;
const SUBNETWORK = id("hexmesh.subnetwork.coverage");

describe("tasks: hexmesh credits commands", function () {
  let suite: DeployedSuite;
  let alice: HardhatEthersSigner;
  let app: HardhatEthersSigner;
  let market: HardhatEthersSigner;
  let tmp: string;
  const deploymentDir = path.join("deploy", "deployments", DEPLOYMENT_ID);
  const params = loadHexmeshParameters(LOCAL_PARAMETERS);

  const { run, fails } = taskRunner(DEPLOYMENT_ID);

  before(async function () {
    suite = await deploySuite(await network.getOrCreate(), params);
    const { ethers, networkHelpers } = suite.connection;
    mkdirSync(deploymentDir, { recursive: true });
    writeFileSync(
      path.join(deploymentDir, "deployed_addresses.json"),
      JSON.stringify({
        "Hexmesh#MeshToken": await suite.token.getAddress(),
        "Hexmesh#DeviceRegistry": await suite.registry.getAddress(),
        "Hexmesh#StakingVault": await suite.vault.getAddress(),
        "Hexmesh#RewardsDistributor": await suite.distributor.getAddress(),
        "Hexmesh#UsageCredits": await suite.credits.getAddress(),
      }),
    );
    tmp = path.join(os.tmpdir(), DEPLOYMENT_ID);
    mkdirSync(tmp, { recursive: true });
    const signers = await ethers.getSigners();
    const treasury = signers.find((s) => s.address === params.treasury)!;
    const proposer = signers.find((s) => s.address === params.timelock.proposers[0])!;
    [alice, app, market] = [signers[10]!, signers[11]!, signers[12]!];
    await suite.token.connect(treasury).transfer(alice.address, parseMesh("1000"));
    // Governance registers a market (here an account standing in for a spender contract) through the timelock.
    const data = suite.credits.interface.encodeFunctionData("registerSpender", [market.address, SUBNETWORK]);
    const target = await suite.credits.getAddress();
    await suite.timelock
      .connect(proposer)
      .schedule(target, 0, data, ZeroHash, ZeroHash, params.timelock.minDelay);
    await networkHelpers.time.increase(params.timelock.minDelay);
    await suite.timelock.connect(proposer).execute(target, 0, data, ZeroHash, ZeroHash);
  });

  after(function () {
    rmSync(deploymentDir, { recursive: true, force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("formats credits as micro-USD and prices in USD", function () {
    expect(formatCredits(1_234_567n)).to.equal("1234567 credits ($1.234567)");
    expect(formatCredits(10n)).to.equal("10 credits ($0.00001)");
    expect(formatPrice(5n * 10n ** 16n)).to.equal("$0.05");
  });

  it("credits-buy burns MESH for an app's account in one transaction, with a slippage bound", async function () {
    const supplyBefore = await suite.token.totalSupply();
    const dry = await run("credits-buy", { amount: "20", beneficiary: app.address, dryRun: true }, alice);
    expect(dry.result.dryRun).to.equal(true);
    expect(dry.result.quoted).to.equal(1_000_000n); // 20 MESH x $0.05 = $1
    expect(dry.result.minCredits).to.equal(990_000n);
    expect(await suite.credits.balanceOf(app.address)).to.equal(0n);
    const { result, out } = await run("credits-buy", { amount: "20", beneficiary: app.address }, alice);
    expect(result.credits).to.equal(1_000_000n);
    expect(out).to.match(/bought 1000000 credits \(\$1\)/);
    expect(await suite.credits.balanceOf(app.address)).to.equal(1_000_000n);
    expect(await suite.token.balanceOf(await suite.credits.getAddress())).to.equal(parseMesh("20"));
    const burned = await run("credits-burn", {}, alice);
    expect(burned.result.amount).to.equal(parseMesh("20"));
    expect(await suite.token.totalSupply()).to.equal(supplyBefore - parseMesh("20"));
    await fails("credits-burn", {}, alice, /holds no MESH to burn/);
  });

  it("credits-buy refuses bad input and says why", async function () {
    await fails("credits-buy", { amount: "0" }, alice, /more than 0 MESH/);
    await fails(
      "credits-buy",
      { amount: "1", beneficiary: "nope" },
      alice,
      /--beneficiary must be an address/,
    );
    await fails("credits-buy", { amount: "1", slippage: "120" }, alice, /--slippage must be a percentage/);
    await fails("credits-buy", { amount: "1" }, app, /insufficient MESH balance for buying credits/);
    await fails("credits-buy", { amount: "0.0000000001" }, alice, /buys less than one credit/);
  });

  it("credits-approve authorizes a spender directly, or by a signed approval anyone submits, once", async function () {
    await fails(
      "credits-approve",
      { spender: alice.address, allowance: "5" },
      app,
      /not a registered spender/,
    );
    await fails("credits-approve", { spender: market.address, allowance: "-5" }, app, /--allowance must be/);
    await run("credits-approve", { spender: market.address, allowance: "500000" }, app);
    expect(await suite.credits.allowance(app.address, market.address)).to.equal(500_000n);

    const file = path.join(tmp, "approval.json");
    const signed = await run(
      "credits-approve",
      { spender: market.address, allowance: "unlimited", signOut: file },
      app,
    );
    expect(signed.result.signed.allowance).to.equal(UNLIMITED_ALLOWANCE.toString());
    expect(await suite.credits.allowance(app.address, market.address)).to.equal(500_000n); // nothing sent yet
    const submitted = JSON.parse(readFileSync(file, "utf8")) as { account: string };
    expect(submitted.account).to.equal(app.address);
    await run("credits-approve", { submitFile: file }, alice); // a relayer submits it
    expect(await suite.credits.allowance(app.address, market.address)).to.equal(UNLIMITED_ALLOWANCE);
    await fails("credits-approve", { submitFile: file }, alice, /CreditsInvalidSignature/);
    await fails("credits-approve", { submitFile: path.join(tmp, "missing.json") }, alice, /cannot read/);
  });

  it("credits-status shows balance, allowance, lock, usage by epoch and the price", async function () {
    await suite.credits.connect(market).lock(app.address, 100_000n);
    await suite.credits.connect(market).consume(app.address, 4n, alice.address, 25_000n);
    await suite.credits.connect(market).consumeLocked(app.address, 5n, alice.address, 60_000n);
    const { result, out } = await run("credits-status", { address: app.address }, alice);
    expect(result.balance).to.equal(1_000_000n - 100_000n - 25_000n);
    expect(result.consumed).to.equal(85_000n);
    expect(result.usage.map((u: { epoch: bigint }) => u.epoch)).to.deep.equal([4n, 5n]);
    // The deployment registered the data-transfer settlement too: one grant per registered spender.
    const grants = result.grants as { spender: string; locked: bigint }[];
    expect(grants.map((g) => g.spender)).to.include.members([
      market.address,
      await suite.dataTransfer.getAddress(),
    ]);
    expect(grants.find((g) => g.spender === market.address)!.locked).to.equal(40_000n);
    expect(out).to.match(/allowance unlimited, locked 40000 credits/);
    expect(out).to.match(/usage: 2 record\(s\), 85000 credits \(\$0.085\) consumed/);
    expect(out).to.match(/latest \$0.05 per MESH .* fresh/);
  });

  it("refuses to buy once the governed price has expired", async function () {
    await suite.connection.networkHelpers.time.increase(31 * 86_400);
    await fails("credits-buy", { amount: "1" }, alice, /price is stale.*buying credits is stopped/);
    const { out } = await run("credits-status", {}, alice);
    expect(out).to.match(/STALE: buying credits is stopped/);
  });
});
