/**
 * The web app in a real browser (Debian's Chromium driven by playwright-core) against a real chain
 * (Hardhat's, on localhost JSON-RPC) with the suite deployed and a real 2-of-3 oracle set that
 * closed and posted epoch 0; oracle 0 serves the built app. A test wallet, injected into the page
 * and announced by EIP-6963, signs in Node with an owner's key. Each flow asserts what the page
 * shows and the chain (or the oracle) behind it. HEXMESH_WEB_SCREENSHOTS=1 refreshes docs/web/.
 */
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import AxeBuilder from "@axe-core/playwright";
import { expect } from "chai";
import type { Interface, Log } from "ethers";
import { cellToParent } from "h3-js";
import { network } from "hardhat";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { formatUnits, keccak256, maxUint128, toHex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";

import { OracleClient } from "@hexmesh/oracle/api/client";
import { SUBNETWORK_COMPUTE, verifyOwnerProof, type Hex } from "@hexmesh/protocol";

import { closeEpoch, passChallengeWindow } from "../../scripts/demo/epoch.js";
import { startOperator, type Operator } from "../../scripts/demo/operators.js";
import { COMPUTE_CPU_CLASS, STORAGE_CLASS } from "../../scripts/demo/suite.js";
import { launchChromium, startWebStack, type WebStack } from "../../scripts/demo/web.js";
import { lastUsageEpoch } from "../../scripts/demo/work-epochs.js";
import { testWallet, type TestWallet } from "./wallet.js";

// Screenshots of every page are taken on each run; HEXMESH_WEB_SCREENSHOTS=1 writes them over the
// committed ones in docs/web/ (otherwise into a temporary folder).
const SHOTS =
  process.env.HEXMESH_WEB_SCREENSHOTS === "1"
    ? path.resolve("docs/web")
    : mkdtempSync(path.join(os.tmpdir(), "hexmesh-web-shots-"));
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const MESH = (n: number) => BigInt(n) * 10n ** 18n;
const CLAIM_COVERAGE = /^Claim .* MESH of coverage rewards$/;

/** As the app prints MESH: thousands separators, `digits` decimals rounded down. */
function mesh(v: bigint, digits = 2): string {
  const [i = "0", f = ""] = formatUnits(v, 18).split(".");
  return `${BigInt(i).toLocaleString("en-US")}.${f.padEnd(digits, "0").slice(0, digits)}`;
}

describe("web app in Chromium against a local chain and oracle set", function () {
  this.timeout(180_000);

  let stack: WebStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let wallet: TestWallet;
  let owner: `0x${string}`;

  const shot = async (name: string) => {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };
  const status = (on = page) => on.getByTestId("tx-status");
  /** Waits until the write on the page reports its block (or fails with what the page said). */
  /**
   * Clicks, then waits until the page reports the write `label` settled (it says "<label>: waiting …"
   * while busy, then "<label>: confirmed in block N" or why not) with a text other than before the
   * click, and expects it confirmed.
   */
  const confirmed = async (label: string, click: () => Promise<void>, on = page) => {
    const before = (await status(on).count()) > 0 ? await status(on).textContent() : null;
    await click();
    await on.waitForFunction(
      `(() => { const t = document.querySelector("[data-testid=tx-status]")?.textContent ?? "";
        return t !== ${JSON.stringify(before)} && t.startsWith(${JSON.stringify(label + ":")}) && !t.includes("waiting"); })()`,
      undefined,
      { timeout: 30_000 },
    );
    const text = (await status(on).textContent()) ?? "";
    expect(text, text).to.match(new RegExp(`^${label.replace(/[#()]/g, "\\$&")}: confirmed in block`));
  };

  before(async function () {
    const connection = await network.create();
    // The oracles serve compute epochs but not storage ones: the owner page says so for storage.
    stack = await startWebStack(connection, { works: ["compute"] });
    const account = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: 4 });
    const signers = await connection.ethers.getSigners();
    if (account.address !== signers[4]!.address)
      throw new Error("the chain's accounts are not Hardhat's default mnemonic");
    owner = account.address;
    wallet = testWallet(account, stack.rpc.url, Number(stack.suite.chainId));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    await wallet.install(page);
    page.on("console", (m) => {
      if (m.type() === "error") console.log(`  [page] ${m.text()}`);
    });
  });

  after(async function () {
    await browser?.close();
    await stack?.stop();
  });

  it("overview: the map and the hex table show the chain's devices and hexes", async function () {
    await page.goto(stack.appUrl);
    const devices = stack.fleet.length;
    await page
      .getByTestId("stat-devices")
      .filter({ hasText: String(devices) })
      .waitFor();
    const hexes = new Set(stack.fleet.map((d) => cellToParent(d.record.location!.toString(16), 8)));
    const rows = page.getByTestId("hex-table").locator("tbody tr");
    await expect(await rows.count()).to.equal(hexes.size);
    for (const h of hexes) await page.getByTestId("hex-table").getByText(h, { exact: true }).waitFor();
    expect(await page.getByTestId("stat-active-hexes").textContent()).to.equal(String(hexes.size));
    expect(await page.getByTestId("stat-staked").textContent()).to.equal(
      `${mesh(await stack.suite.vault.totalActiveStake())} MESH`,
    );
    // Epoch 0 ended and was posted; the chain is in epoch 1 or later.
    expect(Number(await page.getByTestId("stat-epoch").textContent())).to.be.greaterThan(0);
    await page.locator(".maplibregl-canvas").waitFor();
    expect(await page.getByTestId("device-table").locator("tbody tr").count()).to.equal(devices);
    await page.waitForTimeout(500); // let the map finish drawing for the screenshot
    await shot("overview");
  });

  it("connects the EIP-6963 wallet and switches it to the app's network", async function () {
    await page.goto(`${stack.appUrl}#/owner`);
    expect(wallet.chainId).to.equal(1);
    await page.getByRole("button", { name: "Connect Hexmesh Test Wallet" }).click();
    await page.getByTestId("account").filter({ hasText: owner }).waitFor();
    expect(wallet.calls.some((c) => c.method === "wallet_switchEthereumChain")).to.equal(true);
    expect(wallet.chainId).to.equal(Number(stack.suite.chainId));
    await page.getByTestId("wallet").getByText(`on chain ${stack.suite.chainId}`).waitFor();
  });

  it("refuses to claim with a proof that does not verify against the on-chain root, sending nothing", async function () {
    const leaf = await new OracleClient(stack.oracles.urls[0]!).owner(owner);
    expect(BigInt(leaf.claimable)).to.be.greaterThan(0n);
    await page
      .getByTestId("coverage-claimable")
      .filter({ hasText: mesh(BigInt(leaf.claimable), 4) })
      .waitFor();
    // The oracle's answer is altered on the way: one more wei than the tree holds.
    await page.route("**/v1/owners/**", async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { cumulative: string };
      body.cumulative = (BigInt(body.cumulative) + 1n).toString();
      await route.fulfill({ response: res, json: body });
    });
    const sentBefore = wallet.calls.filter((c) => c.method === "eth_sendTransaction").length;
    await page.getByRole("button", { name: CLAIM_COVERAGE }).click();
    await status().filter({ hasText: "does not verify against the coverage root on chain" }).waitFor();
    expect(wallet.calls.filter((c) => c.method === "eth_sendTransaction").length).to.equal(sentBefore);
    expect(await stack.suite.distributor.claimed(owner)).to.equal(0n);
    await page.unroute("**/v1/owners/**");
  });

  it("claims coverage rewards with the proof verified in the browser; the balance changes on chain", async function () {
    const leaf = await new OracleClient(stack.oracles.urls[0]!).owner(owner);
    const [, root] = await stack.suite.distributor.liveRoot();
    expect(
      verifyOwnerProof(root as Hex, { owner, amount: BigInt(leaf.cumulative) }, leaf.proof as Hex[]),
    ).to.equal(true);
    const before = await stack.suite.token.balanceOf(owner);
    await confirmed("Claim coverage", () => page.getByRole("button", { name: CLAIM_COVERAGE }).click());
    expect(await stack.suite.distributor.claimed(owner)).to.equal(BigInt(leaf.cumulative));
    expect((await stack.suite.token.balanceOf(owner)) - before).to.equal(BigInt(leaf.claimable));
    await page.getByTestId("coverage-claimable").filter({ hasText: "0.0000 MESH" }).waitFor();
    await page
      .getByTestId("coverage-claimed")
      .filter({ hasText: mesh(BigInt(leaf.cumulative), 4) })
      .waitFor();
    await shot("owner");
  });

  it("the owner page has a rewards section per distributor: storage not served by this oracle, no compute root live yet", async function () {
    await page
      .getByTestId("storage-note")
      .filter({ hasText: "The oracle does not serve storage rewards" })
      .waitFor();
    await page
      .getByTestId("compute-note")
      .filter({ hasText: "No compute root is live on chain yet" })
      .waitFor();
    for (const work of ["storage", "compute"]) {
      expect(await page.getByTestId(`${work}-earned`).textContent()).to.equal("none");
      expect(await page.getByTestId(`${work}-claimable`).textContent()).to.equal("0.0000 MESH");
      expect(
        await page.getByRole("button", { name: new RegExp(`^Claim .* of ${work} rewards$`) }).isDisabled(),
      ).to.equal(true);
    }
    expect(await page.getByTestId("compute-root").textContent()).to.equal("none live");
  });

  it("stakes with a permit: one signature, one transaction", async function () {
    await page.getByRole("link", { name: "Stake" }).click();
    const active = await stack.suite.vault.activeStakeOf(owner);
    const calls = wallet.calls.length;
    await page.getByLabel("Amount to stake (MESH)").fill("100");
    await confirmed("Stake with permit", () =>
      page.getByRole("button", { name: "Stake with permit" }).click(),
    );
    const made = wallet.calls.slice(calls).map((c) => c.method);
    expect(made.filter((m) => m === "eth_signTypedData_v4")).to.have.length(1);
    expect(made.filter((m) => m === "eth_sendTransaction")).to.have.length(1);
    expect(await stack.suite.vault.activeStakeOf(owner)).to.equal(active + MESH(100));
    await page
      .getByTestId("stake-active")
      .filter({ hasText: `${mesh(active + MESH(100), 4)} MESH` })
      .waitFor();
  });

  it("stakes with approve + stake: two transactions", async function () {
    const active = await stack.suite.vault.activeStakeOf(owner);
    const calls = wallet.calls.length;
    await page.getByLabel("Amount to stake (MESH)").fill("50");
    await confirmed("Stake", () => page.getByRole("button", { name: "Approve and stake" }).click());
    expect(wallet.calls.slice(calls).filter((c) => c.method === "eth_sendTransaction")).to.have.length(2);
    expect(await stack.suite.vault.activeStakeOf(owner)).to.equal(active + MESH(50));
  });

  it("shows the wallet refusing a signature and changes nothing", async function () {
    const active = await stack.suite.vault.activeStakeOf(owner);
    wallet.refuse = true;
    try {
      await page.getByLabel("Amount to stake (MESH)").fill("10");
      await page.getByRole("button", { name: "Stake with permit" }).click();
      await status().filter({ hasText: "the wallet refused the request" }).waitFor();
    } finally {
      wallet.refuse = false;
    }
    expect(await stack.suite.vault.activeStakeOf(owner)).to.equal(active);
    // A malformed amount is refused by the page before the wallet is asked.
    const calls = wallet.calls.length;
    await page.getByLabel("Amount to stake (MESH)").fill("1.2.3");
    await page.getByRole("button", { name: "Stake with permit" }).click();
    await status().filter({ hasText: "enter a positive amount" }).waitFor();
    expect(wallet.calls.length).to.equal(calls);
  });

  it("requests an unstake, shows the countdown in chain time, cancels it", async function () {
    const active = await stack.suite.vault.activeStakeOf(owner);
    await page.getByLabel("Amount to unstake (MESH)").fill("40");
    await confirmed("Request unstake", () => page.getByRole("button", { name: "Request unstake" }).click());
    const next = await stack.suite.vault.nextRequestId(owner);
    const id = next - 1n;
    const [amount] = await stack.suite.vault.unstakeRequest(owner, id);
    expect(amount).to.equal(MESH(40));
    const row = page.getByTestId("unstake-requests").locator("tbody tr", { hasText: `#${id}` });
    await row.filter({ hasText: "40.0000 MESH" }).waitFor();
    // The cooldown is 7 days of chain time.
    expect(await row.locator("td").nth(3).textContent()).to.match(/^(7d|6d 23h)/);
    expect(await row.getByRole("button", { name: `Withdraw #${id}` }).isDisabled()).to.equal(true);
    await shot("stake");
    await confirmed(`Cancel request #${id}`, () =>
      row.getByRole("button", { name: `Cancel #${id}` }).click(),
    );
    expect(await stack.suite.vault.pendingUnstakeOf(owner)).to.equal(0n);
    expect(await stack.suite.vault.activeStakeOf(owner)).to.equal(active);
    await page.getByTestId("unstake-requests").getByText("no pending requests").waitFor();
  });

  it("withdraws once the cooldown has passed in chain time, and claims streamed staking rewards", async function () {
    await page.getByLabel("Amount to unstake (MESH)").fill("40");
    await confirmed("Request unstake", () => page.getByRole("button", { name: "Request unstake" }).click());
    const id = (await stack.suite.vault.nextRequestId(owner)) - 1n;
    const [, unlockTime] = await stack.suite.vault.unstakeRequest(owner, id);
    await stack.suite.time.increaseTo(unlockTime);
    const row = page.getByTestId("unstake-requests").locator("tbody tr", { hasText: `#${id}` });
    await row.getByText("ready", { exact: true }).waitFor();
    const before = await stack.suite.token.balanceOf(owner);
    await confirmed(`Withdraw request #${id}`, () =>
      row.getByRole("button", { name: `Withdraw #${id}` }).click(),
    );
    expect((await stack.suite.token.balanceOf(owner)) - before).to.equal(MESH(40));

    // Epoch 0's staking share streamed over epoch 1, which has passed by now.
    expect(await stack.suite.vault.earned(owner)).to.be.greaterThan(0n);
    const beforeRewards = await stack.suite.token.balanceOf(owner);
    await confirmed("Claim staking rewards", () =>
      page.getByRole("button", { name: "Claim staking rewards" }).click(),
    );
    expect(await stack.suite.token.balanceOf(owner)).to.be.greaterThan(beforeRewards);
    expect(await stack.suite.vault.earned(owner)).to.equal(0n);
  });

  it("verifies epoch 0 in the browser: it matches the chain", async function () {
    await page.getByRole("link", { name: "Epochs" }).click();
    const cell = page.getByTestId("verify-0");
    await cell.getByRole("button").click();
    await cell
      .getByTestId("verify-outcome")
      .filter({ hasText: "Matches the chain: keccak256 of the" })
      .waitFor();
    const [, root] = await stack.suite.distributor.liveRoot();
    expect(await page.getByTestId("epoch-table").locator(`code[title="${root}"]`).count()).to.equal(1);
    // The postRoot signatures recover to oracles of the set.
    const set = (await stack.suite.distributor.oracles()).map((a) => a.slice(0, 8));
    const cells = page.getByTestId("epoch-table").locator("tbody tr td");
    expect(await cells.nth(1).textContent()).to.equal(
      `${mesh(await stack.suite.controller.emissionOf(0))} MESH`,
    );
    // The coverage pool's share of epoch 0, as the distributor's EpochFunded recorded it.
    const [funded] = await stack.suite.distributor.queryFilter(
      stack.suite.distributor.filters.EpochFunded(0),
    );
    expect(await cells.nth(2).textContent()).to.equal(`${mesh(funded!.args.amount)} MESH`);
    const signedBy = (await cells.nth(7).textContent()) ?? "";
    const shown = signedBy.split(", ").map((s) => s.slice(0, 8));
    expect(shown.length).to.be.greaterThanOrEqual(2);
    for (const s of shown) expect(set).to.include(s);
    await shot("epochs");
  });

  it("verify in the browser shows a mismatch and the first altered leaf when the served encoding is tampered", async function () {
    const results = await new OracleClient(stack.oracles.urls[0]!).results(0);
    const n = results.owners.length;
    expect(n).to.be.greaterThan(1);
    const victim = results.owners[1]!.owner;
    // The encoding ends with the owners (address 20 | amount 32 | cumulative 32 bytes each), then
    // distributed, dust, totalCumulative and root (32 bytes each): owner 1's cumulative gains 1 wei.
    await page.route("**/v1/epochs/0/encoding", async (route) => {
      const res = await route.fetch();
      const body = Buffer.from(await res.body());
      const owner1 = body.length - 128 - (n - 1) * 84;
      expect(`0x${body.subarray(owner1, owner1 + 20).toString("hex")}`).to.equal(victim);
      body[owner1 + 83]! ^= 1;
      await route.fulfill({ response: res, body });
    });
    try {
      const cell = page.getByTestId("verify-0");
      await cell.getByRole("button").click();
      await cell.getByTestId("verify-outcome").filter({ hasText: "Mismatch: data_hash_mismatch" }).waitFor();
      expect(await cell.getByTestId("verify-outcome").textContent()).to.contain("root_mismatch");
      await cell
        .getByTestId("first-mismatch")
        .filter({ hasText: `#1 owner ${victim}` })
        .waitFor();
    } finally {
      await page.unroute("**/v1/epochs/0/encoding");
    }
  });

  it("a device page lists every report with its verdict and reason, and exports them as CSV", async function () {
    const device = stack.fleet[0]!;
    await page.goto(`${stack.appUrl}#/device/${device.record.id}`);
    const results = await new OracleClient(stack.oracles.urls[0]!).deviceResults(device.signer.keyId, {
      limit: 1000,
    });
    expect(results.results.length).to.be.greaterThan(0);
    const rows = page.getByTestId("device-reports").locator("tbody tr");
    await rows.nth(results.results.length - 1).waitFor();
    expect(await rows.count()).to.equal(results.results.length);
    const refused = results.results.filter((r) => !r.valid);
    for (const r of refused.slice(0, 3))
      await page.getByTestId("device-reports").getByText(r.reason!, { exact: true }).first().waitFor();
    await page.getByTestId("device-status").filter({ hasText: "active" }).waitFor();
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const file = await (await download).path();
    const lines = readFileSync(file, "utf8").trimEnd().split("\r\n");
    expect(lines[0]).to.equal("epoch,report,kind,receivedAt,valid,reason,detail,selected,units");
    expect(lines).to.have.length(results.results.length + 1);
    expect(lines.slice(1).map((l) => l.split(",")[1])).to.deep.equal(results.results.map((r) => r.id));
    await shot("device");
  });

  it("a hex page lists its devices, its neighbours and the density counts at each resolution", async function () {
    const byHex = new Map<string, number>();
    for (const d of stack.fleet) {
      const h = cellToParent(d.record.location!.toString(16), 8);
      byHex.set(h, (byHex.get(h) ?? 0) + 1);
    }
    const [hex, count] = [...byHex.entries()].sort((a, b) => b[1] - a[1])[0]!;
    await page.goto(`${stack.appUrl}#/`);
    await page.getByTestId("hex-table").getByRole("link", { name: hex }).click();
    await page
      .getByTestId("hex-devices")
      .locator("tbody tr")
      .nth(count - 1)
      .waitFor();
    expect(await page.getByTestId("hex-devices").locator("tbody tr").count()).to.equal(count);
    // Itself and its six neighbours; the devices per neighbour as on the overview.
    const neighbours = page.getByTestId("hex-neighbours").locator("tbody tr");
    expect(await neighbours.count()).to.equal(7);
    for (const row of await neighbours.all()) {
      const [h, n] = await row.locator("td").allTextContents();
      expect(Number(n), h).to.equal(byHex.get(h!) ?? 0);
    }
    // One counted cell per level at resolutions 4..8 (this hex or its ancestors), the finer ones inside it.
    const density = page.getByTestId("hex-density").locator("tbody tr");
    const resolutions = (await density.locator("td:first-child").allTextContents()).map(Number);
    for (const r of [4, 5, 6, 7, 8]) expect(resolutions.filter((x) => x === r)).to.have.length(1);
    expect(resolutions.every((r) => r >= 4 && r <= 10)).to.equal(true);
    await shot("hex");
  });

  it("the network page shows the oracle set and the reward parameters read from the chain", async function () {
    await page.getByRole("link", { name: "Network" }).click();
    const set = await stack.suite.distributor.oracles();
    const rows = page.getByTestId("oracle-set").locator("tbody tr");
    await rows.nth(set.length - 1).waitFor();
    expect(await rows.locator("td:nth-child(2)").allTextContents()).to.deep.equal([...set]);
    await page
      .getByTestId("oracle-set")
      .getByText(`a root needs ${await stack.suite.distributor.threshold()} of ${set.length} signatures`)
      .waitFor();
    const [stakingBps] = await stack.suite.controller.split();
    await page
      .getByTestId("parameters")
      .getByText(`${(Number(stakingBps) / 100).toFixed(2)}%, streamed`)
      .waitFor();
    await page
      .getByTestId("parameters")
      .getByText(`${mesh(await stack.suite.controller.initialEmission())} MESH`, { exact: true })
      .waitFor();
    await page.getByTestId("pools").getByText("coverage", { exact: true }).waitFor();
    await shot("network");
  });

  it("the main pages pass axe's WCAG 2 A and AA checks", async function () {
    const device = stack.fleet[0]!.record.id;
    for (const [route, ready] of [
      ["#/", "hex-table"],
      [`#/owner/${owner}`, "owner-devices"],
      ["#/stake", "unstake-requests"],
      ["#/epochs", "epoch-table"],
      [`#/device/${device}`, "device-reports"],
      ["#/network", "oracle-set"],
      [`#/hex/${cellToParent(stack.fleet[0]!.record.location!.toString(16), 8)}`, "hex-devices"],
    ] as const) {
      await page.goto(`${stack.appUrl}${route}`);
      await page.getByTestId(ready).locator("tbody tr").first().waitFor();
      const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
      const found = violations.map(
        (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`,
      );
      expect(found, `${route}\n${found.join("\n")}`).to.deep.equal([]);
    }
  });

  it("with the oracle unreachable, the chain's figures still show, under a banner", async function () {
    await page.route("**/health", (route) => route.abort("connectionrefused"));
    await page.route("**/v1/**", (route) => route.abort("connectionrefused"));
    try {
      await page.goto(`${stack.appUrl}#/`);
      await page.getByTestId("oracle-down").waitFor();
      await page
        .getByTestId("stat-devices")
        .filter({ hasText: String(stack.fleet.length) })
        .waitFor();
    } finally {
      await page.unrouteAll();
    }
  });
  describe("the demand side: credits, storage and compute", function () {
    // The connected wallet (Hardhat's account #4) is the client and the customer; one storage and one
    // compute operator (a bonded device each, no agent) serve it from the test's side of the chain.
    let storage: Operator;
    let compute: Operator;
    const asOwner = async () => (await stack.suite.ethers.getSigners())[4]!;
    const reverted = (text: string) => status().filter({ hasText: text }).waitFor();
    /** An argument of the first `name` event among a receipt's logs. */
    const eventArg = (iface: Interface, logs: readonly Log[], name: string, arg: string): bigint => {
      for (const log of logs) {
        const parsed = iface.parseLog(log);
        if (parsed?.name === name) return parsed.args[arg] as bigint;
      }
      throw new Error(`no ${name} in the receipt`);
    };

    before(async function () {
      storage = await startOperator(stack.suite, "web storage", STORAGE_CLASS, MESH(100));
      compute = await startOperator(stack.suite, "web compute", COMPUTE_CPU_CLASS, MESH(100));
    });

    it("credits: a burn with permit adds the ledger's quote to the balance shown; the price and its source are the chain's", async function () {
      const { credits, meshPrice } = stack.suite;
      await page.goto(`${stack.appUrl}#/credits`);
      const before = await credits.balanceOf(owner);
      await page
        .getByTestId("credits-balance")
        .filter({ hasText: `${before.toLocaleString("en-US")} credits` })
        .waitFor();
      const [latest] = await meshPrice.latestPrice();
      await page
        .getByTestId("credits-latest")
        .filter({ hasText: `$${formatUnits(latest, 18)} per MESH` })
        .waitFor();
      expect(await page.getByTestId("credits-source").textContent()).to.contain("set by governance");
      const quote = await credits.quote(MESH(10));
      expect(quote).to.be.greaterThan(0n);
      await page.getByLabel("MESH to burn for credits").fill("10");
      await page
        .getByTestId("credits-quote")
        .filter({ hasText: `gives ${quote.toLocaleString("en-US")} credits` })
        .waitFor();
      const calls = wallet.calls.length;
      await confirmed("Burn with permit", () =>
        page.getByRole("button", { name: "Burn with permit" }).click(),
      );
      const made = wallet.calls.slice(calls).map((c) => c.method);
      expect(made.filter((m) => m === "eth_signTypedData_v4")).to.have.length(1);
      expect(made.filter((m) => m === "eth_sendTransaction")).to.have.length(1);
      expect(await credits.balanceOf(owner)).to.equal(before + quote);
      await page
        .getByTestId("credits-balance")
        .filter({ hasText: `${(before + quote).toLocaleString("en-US")} credits` })
        .waitFor();
      await page.getByTestId("credit-purchases").getByText("10.0000 MESH").waitFor();
      // The markets are the ledger's spenders; the wallet lets storage and compute spend.
      for (const market of ["storage", "compute"]) {
        await confirmed(`Allow ${market}`, () =>
          page.getByRole("button", { name: `Allow ${market}` }).click(),
        );
        await page
          .getByTestId("credit-spenders")
          .locator("tr", { hasText: market })
          .getByText("unlimited")
          .waitFor();
      }
      expect(await credits.allowance(owner, await stack.suite.storageDeals.getAddress())).to.equal(
        maxUint128,
      );
      expect(await credits.allowance(owner, await stack.suite.computeJobs.getAddress())).to.equal(maxUint128);
      await shot("credits");
    });

    it("storage: a data set shows its pieces, locks and collateral; funding adds credits, an unfundable amount shows the contract's reason, terminating ends it", async function () {
      const deals = stack.suite.storageDeals;
      const client = await asOwner();
      const created = await (await deals.connect(client).createDataSet(storage.deviceId)).wait();
      const id = eventArg(deals.interface, created!.logs, "DataSetCreated", "id");
      await (await deals.connect(storage.wallet).acceptDataSet(id)).wait();
      const pieces = [
        { root: keccak256(toHex("web piece 0")), size: 1n << 20n },
        { root: keccak256(toHex("web piece 1")), size: 123_457n },
      ];
      await (await deals.connect(client).addPieces(id, pieces)).wait();
      const required = await deals.requiredCollateral(id);
      await (
        await stack.suite.token.connect(storage.wallet).approve(await deals.getAddress(), required)
      ).wait();
      await (await deals.connect(storage.wallet).depositCollateral(id, required)).wait();
      const ds = await deals.dataSet(id);

      await page.goto(`${stack.appUrl}#/storage`);
      const row = page.getByTestId("data-sets").locator("tbody tr", { hasText: `#${id}` });
      await row.getByText("active", { exact: true }).waitFor();
      expect(await row.locator("td").nth(1).textContent()).to.equal("client");
      await row.getByRole("link", { name: `#${id}` }).click();
      await page.getByTestId("ds-provider").filter({ hasText: storage.wallet.address }).waitFor();
      expect(await page.getByTestId("ds-status").textContent()).to.equal("active");
      expect(await page.getByTestId("ds-locked").textContent()).to.contain(
        `${ds.locked.toLocaleString("en-US")} credits`,
      );
      expect(await page.getByTestId("ds-collateral").textContent()).to.contain(`${mesh(required, 6)} MESH`);
      const rows = page.getByTestId("ds-pieces").locator("tbody tr");
      expect(await rows.count()).to.equal(2);
      for (const [i, p] of pieces.entries()) {
        const cells = await rows.nth(i).locator("td").allTextContents();
        expect(cells[1]).to.equal(p.root);
        expect(cells[2]).to.equal(p.size.toLocaleString("en-US"));
      }
      expect(await page.getByTestId("ds-periods").textContent()).to.match(/^0 proven, 0 faulty/);

      // The first period: its challenge armed and seeded in the window, no proof: the free miss.
      const { periodEnd } = await deals.dataSet(id);
      await stack.suite.time.increaseTo(periodEnd - 20n * 60n);
      await (await deals.connect(client).recordSeed(id)).wait(); // arms: the next block is the challenge
      await stack.suite.ethers.provider.send("evm_mine", []);
      await (await deals.connect(client).recordSeed(id)).wait(); // that block's hash is the seed
      await stack.suite.time.increaseTo(periodEnd + 60n);
      await (await deals.connect(client).settle(id)).wait();
      const [missed] = await deals.queryFilter(deals.filters.PeriodSettled(id));
      expect(missed!.args.outcome).to.equal(3n); // FreeMiss
      await page.getByTestId("ds-periods").filter({ hasText: "0 proven, 1 faulty" }).waitFor();
      expect(await page.getByTestId("ds-periods").textContent()).to.contain("first free miss used");
      const settled = await page
        .getByTestId("ds-periods-table")
        .locator("tbody tr")
        .first()
        .locator("td")
        .allTextContents();
      expect(settled.slice(0, 4)).to.deep.equal([
        missed!.args.period.toString(),
        "free miss",
        "0",
        "0.000000 MESH",
      ]);

      await page.getByLabel("Credits to lock for this data set").fill("1000");
      await confirmed("Fund", () => page.getByRole("button", { name: "Fund" }).click());
      expect((await deals.dataSet(id)).locked).to.equal(ds.locked + 1000n);
      await page
        .getByTestId("ds-locked")
        .filter({ hasText: `${(ds.locked + 1000n).toLocaleString("en-US")} credits` })
        .waitFor();
      await shot("storage");

      // More credits than the account holds: refused by the simulation, nothing sent.
      const sent = wallet.calls.filter((c) => c.method === "eth_sendTransaction").length;
      await page.getByLabel("Credits to lock for this data set").fill("1000000000000");
      await page.getByRole("button", { name: "Fund" }).click();
      await reverted("Fund: refused by the contract: CreditsInsufficientBalance");
      expect(wallet.calls.filter((c) => c.method === "eth_sendTransaction").length).to.equal(sent);

      await confirmed("Terminate", () => page.getByRole("button", { name: "Terminate" }).click());
      const [ended] = await deals.queryFilter(deals.filters.DataSetTerminated(id));
      await page.getByTestId("ds-status").filter({ hasText: "terminated" }).waitFor();
      await page
        .getByTestId("ds-paid")
        .filter({ hasText: `${ended!.args.paidToProvider.toLocaleString("en-US")} credits` })
        .waitFor();
      expect(await page.getByTestId("ds-returned").textContent()).to.contain(
        `${ended!.args.creditsReleased.toLocaleString("en-US")} credits`,
      );
      // A terminated data set cannot be funded: the contract's reason.
      await page.getByLabel("Credits to lock for this data set").fill("5");
      await page.getByRole("button", { name: "Fund" }).click();
      await reverted(
        `Fund: refused by the contract: StorageWrongStatus(${id}, 3): data set ${id} is terminated`,
      );
    });

    it("compute: a committed job shows its figures; accept early pays it, dispute records the evidence, a refused action says why", async function () {
      const jobs = stack.suite.computeJobs;
      const customer = await asOwner();
      await (
        await stack.suite.token.connect(compute.wallet).approve(await jobs.getAddress(), MESH(100))
      ).wait();
      await (await jobs.connect(compute.wallet).depositCollateral(MESH(100))).wait();
      const now = BigInt(await stack.suite.time.latest());
      const ids: bigint[] = [];
      for (const label of ["web job accept", "web job dispute"]) {
        const receipt = await (
          await jobs
            .connect(customer)
            .createJob(keccak256(toHex(label)), COMPUTE_CPU_CLASS, 100, now + 3_600n, 0)
        ).wait();
        const id = eventArg(jobs.interface, receipt!.logs, "JobCreated", "jobId");
        await (await jobs.connect(compute.wallet).acceptJob(id, compute.deviceId)).wait();
        await (
          await jobs.connect(compute.wallet).commitResult(id, keccak256(toHex(`${label} result`)), 70)
        ).wait();
        ids.push(id);
      }
      const [accepted, disputed] = ids as [bigint, bigint];
      const job = await jobs.job(accepted);

      await page.goto(`${stack.appUrl}#/compute`);
      const row = page.getByTestId("jobs").locator("tbody tr", { hasText: `#${accepted}` });
      await row.getByText("committed", { exact: true }).waitFor();
      expect(await row.locator("td").nth(5).textContent()).to.equal("70 / 100");
      await row.getByRole("link", { name: `#${accepted}` }).click();
      await page.getByTestId("job-result").filter({ hasText: job.resultHash }).waitFor();
      expect(await page.getByTestId("job-provider").textContent()).to.equal(compute.wallet.address);
      expect(await page.getByTestId("job-device").textContent()).to.equal(`device ${compute.deviceId}`);
      expect(await page.getByTestId("job-price").textContent()).to.contain(
        `${job.pricePerUnit.toLocaleString("en-US")} credits`,
      );
      expect(await page.getByTestId("job-window").textContent()).to.match(/closes in (1d|23h)/);
      // A new provider's first jobs are always spot-checked.
      expect(await page.getByTestId("job-spot-check").textContent()).to.match(/^forced/);
      await shot("compute");

      const before = await stack.suite.credits.balanceOf(owner);
      await confirmed("Accept result", () => page.getByRole("button", { name: "Accept result" }).click());
      const [paid] = await jobs.queryFilter(jobs.filters.JobFinalized(accepted));
      expect(paid!.args.consumed).to.equal(70n * job.pricePerUnit);
      expect((await stack.suite.credits.balanceOf(owner)) - before).to.equal(paid!.args.released);
      await page.getByTestId("job-status").filter({ hasText: "finalized" }).waitFor();
      await page
        .getByTestId("job-outcome")
        .filter({ hasText: `${paid!.args.consumed} credits consumed` })
        .waitFor();
      // Disputing a finalized job: the contract's reason, nothing sent.
      const sent = wallet.calls.filter((c) => c.method === "eth_sendTransaction").length;
      await page.getByLabel("Evidence for a dispute").fill("too late");
      await page.getByRole("button", { name: "Dispute" }).click();
      await reverted(
        `Dispute: refused by the contract: ComputeWrongStatus(${accepted}, 5): job ${accepted} is finalized`,
      );
      expect(wallet.calls.filter((c) => c.method === "eth_sendTransaction").length).to.equal(sent);

      await page.goto(`${stack.appUrl}#/compute/${disputed}`);
      await page.getByTestId("job-status").filter({ hasText: "committed" }).waitFor();
      await page.getByLabel("Evidence for a dispute").fill("frame 7 is black");
      await confirmed("Dispute", () => page.getByRole("button", { name: "Dispute" }).click());
      const [d] = await jobs.queryFilter(jobs.filters.JobDisputed(disputed));
      expect(d!.args.evidenceHash).to.equal(keccak256(toHex("frame 7 is black")));
      await page.getByTestId("job-status").filter({ hasText: "disputed" }).waitFor();
      await page
        .getByTestId("job-disputes")
        .filter({ hasText: d!.args.evidenceHash.slice(0, 8) })
        .waitFor();

      // The consumption is on the credits page, under compute, for the provider.
      await page.getByRole("link", { name: "Credits" }).click();
      const usage = page.getByTestId("credit-usage").locator("tbody tr", { hasText: "compute" });
      await usage.filter({ hasText: paid!.args.consumed.toLocaleString("en-US") }).waitFor();
      await page
        .getByTestId("credit-spenders")
        .locator("tr", { hasText: "compute" })
        .getByText(paid!.args.consumed.toLocaleString("en-US"), { exact: true })
        .waitFor();
    });

    it("compute rewards: the provider's owner sees what it earned and claims it through the page, the proof verified in the browser", async function () {
      // The accepted job's UsageRecorded (compute subnetwork) is in this epoch: the oracles close the
      // compute epochs up to it and post it to the compute distributor (the demo's path), it goes live.
      const { suite } = stack;
      const usage = await lastUsageEpoch(suite, SUBNETWORK_COMPUTE);
      expect(usage).to.not.equal(null);
      await closeEpoch(suite, usage!.last);
      await stack.oracles.closeWorkRange(0n, usage!.last - 1n, "compute");
      const posted = await stack.oracles.runWorkEpoch(usage!.last, "compute");
      expect(posted.outcome.status).to.equal("posted");
      await passChallengeWindow({ distributor: suite.computeDistributor, time: suite.time });
      const provider = compute.wallet.address as Hex;
      const leaf = await new OracleClient(stack.oracles.urls[0]!).owner(provider, { work: "compute" });
      expect(leaf.status).to.equal("live");
      expect(BigInt(leaf.claimable)).to.be.greaterThan(0n);
      // The connected owner (#4) earned nothing from compute: the page says so.
      await page.goto(`${stack.appUrl}#/owner/${owner}`);
      await page
        .getByTestId("compute-note")
        .filter({ hasText: "has earned nothing in the live compute root" })
        .waitFor();

      // The provider's owner, in a browser context of its own with its own wallet.
      const providerWallet = testWallet(
        privateKeyToAccount(compute.wallet.privateKey as Hex),
        stack.rpc.url,
        Number(suite.chainId),
      );
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const p = await ctx.newPage();
        await providerWallet.install(p);
        await p.goto(`${stack.appUrl}#/owner/${provider}`);
        await p.getByRole("button", { name: "Connect Hexmesh Test Wallet" }).click();
        await p.getByTestId("account").filter({ hasText: provider }).waitFor();
        const earned = BigInt(leaf.cumulative);
        await p
          .getByTestId("compute-earned")
          .filter({ hasText: `${mesh(earned, 4)} MESH` })
          .waitFor();
        await p
          .getByTestId("compute-claimable")
          .filter({ hasText: `${mesh(earned, 4)} MESH` })
          .waitFor();
        expect(await p.getByTestId("compute-claimed").textContent()).to.equal("0.0000 MESH");
        expect(await p.getByTestId("compute-root").textContent()).to.equal(`epoch ${usage!.last}, live`);
        // Per epoch, from the compute epochs' published sets (?work=compute): the live one's leaf last.
        const last = p.getByTestId("compute-history").locator("tbody tr").last();
        await last.filter({ hasText: `${mesh(earned, 4)}` }).waitFor();
        expect(await last.locator("td").first().textContent()).to.equal(String(usage!.last));
        expect(await last.locator("td").last().textContent()).to.equal(mesh(earned, 4));
        const claimButton = p.getByRole("button", { name: /^Claim .* MESH of compute rewards$/ });

        // A proof altered on the way does not verify against the compute root: nothing is sent.
        await p.route("**/v1/owners/**", async (route) => {
          const res = await route.fetch();
          const body = (await res.json()) as { cumulative: string };
          body.cumulative = (BigInt(body.cumulative) + 1n).toString();
          await route.fulfill({ response: res, json: body });
        });
        await claimButton.click();
        await status(p).filter({ hasText: "does not verify against the compute root on chain" }).waitFor();
        expect(providerWallet.calls.filter((c) => c.method === "eth_sendTransaction")).to.have.length(0);
        await p.unroute("**/v1/owners/**");

        const before = await suite.token.balanceOf(provider);
        await confirmed("Claim compute", () => claimButton.click(), p);
        expect(await suite.computeDistributor.claimed(provider)).to.equal(earned);
        expect((await suite.token.balanceOf(provider)) - before).to.equal(earned);
        expect(await suite.distributor.claimed(provider)).to.equal(0n);
        await p
          .getByTestId("compute-claimed")
          .filter({ hasText: `${mesh(earned, 4)} MESH` })
          .waitFor();
        await p.getByTestId("compute-claimable").filter({ hasText: "0.0000 MESH" }).waitFor();
        await p
          .getByTestId("owner-balance")
          .filter({ hasText: `${mesh(before + earned, 4)} MESH` })
          .waitFor();
        const { violations } = await new AxeBuilder({ page: p }).withTags(["wcag2a", "wcag2aa"]).analyze();
        const found = violations.map(
          (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`,
        );
        expect(found, found.join("\n")).to.deep.equal([]);
      } finally {
        await ctx.close();
      }
    });

    it("verifies the compute epoch in the browser against the compute distributor's root, and catches a tampered one", async function () {
      const [epoch, root] = await stack.suite.computeDistributor.liveRoot();
      await page.goto(`${stack.appUrl}#/epochs`);
      // Its own table: the compute distributor's RootPosted, beside coverage's; storage has none.
      const table = page.getByTestId("epoch-table-compute");
      await table.locator(`code[title="${root}"]`).waitFor();
      expect(await page.getByTestId("epoch-table-storage").textContent()).to.contain(
        "no storage root has been posted yet",
      );
      const cell = page.getByTestId(`verify-compute-${epoch}`);
      await cell.getByRole("button", { name: `Verify compute epoch ${epoch} in browser` }).click();
      await cell
        .getByTestId("verify-outcome")
        .filter({ hasText: "Matches the chain: keccak256 of the" })
        .waitFor();
      // The bytes the oracle serves for ?work=compute, one byte altered on the way: a mismatch.
      const served = (url: URL) =>
        url.pathname === `/v1/epochs/${epoch}/encoding` && url.searchParams.get("work") === "compute";
      await page.route(served, async (route) => {
        const res = await route.fetch();
        const body = Buffer.from(await res.body());
        body[body.length - 40]! ^= 1; // inside totalCumulative
        await route.fulfill({ response: res, body });
      });
      try {
        await cell.getByRole("button").click();
        await cell
          .getByTestId("verify-outcome")
          .filter({ hasText: "Mismatch: data_hash_mismatch" })
          .waitFor();
      } finally {
        await page.unroute(served);
      }
    });

    it("the credits, storage and compute pages pass axe's WCAG 2 A and AA checks", async function () {
      for (const [route, ready] of [
        ["#/credits", "credit-spenders"],
        ["#/storage", "data-sets"],
        ["#/storage/1", "ds-pieces"],
        ["#/compute", "jobs"],
        ["#/compute/1", "job-status"],
      ] as const) {
        await page.goto(`${stack.appUrl}${route}`);
        await page.getByTestId(ready).first().waitFor();
        const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
        const found = violations.map(
          (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`,
        );
        expect(found, `${route}\n${found.join("\n")}`).to.deep.equal([]);
      }
    });
  });
});
