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
import { cellToParent } from "h3-js";
import { network } from "hardhat";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { formatUnits } from "viem";
import { mnemonicToAccount } from "viem/accounts";

import { OracleClient } from "@hexmesh/oracle/api/client";
import { verifyOwnerProof, type Hex } from "@hexmesh/protocol";

import { launchChromium, startWebStack, type WebStack } from "../../scripts/demo/web.js";
import { testWallet, type TestWallet } from "./wallet.js";

// Screenshots of every page are taken on each run; HEXMESH_WEB_SCREENSHOTS=1 writes them over the
// committed ones in docs/web/ (otherwise into a temporary folder).
const SHOTS =
  process.env.HEXMESH_WEB_SCREENSHOTS === "1"
    ? path.resolve("docs/web")
    : mkdtempSync(path.join(os.tmpdir(), "hexmesh-web-shots-"));
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const MESH = (n: number) => BigInt(n) * 10n ** 18n;

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
  const status = () => page.getByTestId("tx-status");
  /** Waits until the write on the page reports its block (or fails with what the page said). */
  /**
   * Clicks, then waits until the page reports the write `label` settled (it says "<label>: waiting …"
   * while busy, then "<label>: confirmed in block N" or why not) with a text other than before the
   * click, and expects it confirmed.
   */
  const confirmed = async (label: string, click: () => Promise<void>) => {
    const before = (await status().count()) > 0 ? await status().textContent() : null;
    await click();
    await page.waitForFunction(
      `(() => { const t = document.querySelector("[data-testid=tx-status]")?.textContent ?? "";
        return t !== ${JSON.stringify(before)} && t.startsWith(${JSON.stringify(label + ":")}) && !t.includes("waiting"); })()`,
      undefined,
      { timeout: 30_000 },
    );
    const text = (await status().textContent()) ?? "";
    expect(text, text).to.match(new RegExp(`^${label.replace(/[#()]/g, "\\$&")}: confirmed in block`));
  };

  before(async function () {
    const connection = await network.create();
    stack = await startWebStack(connection);
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
      .getByTestId("owner-claimable")
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
    await page.getByRole("button", { name: /^Claim / }).click();
    await status().filter({ hasText: "does not verify against the root on chain" }).waitFor();
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
    await confirmed("Claim", () => page.getByRole("button", { name: /^Claim / }).click());
    expect(await stack.suite.distributor.claimed(owner)).to.equal(BigInt(leaf.cumulative));
    expect((await stack.suite.token.balanceOf(owner)) - before).to.equal(BigInt(leaf.claimable));
    await page.getByTestId("owner-claimable").filter({ hasText: "0.0000 MESH" }).waitFor();
    await page
      .getByTestId("owner-claimed")
      .filter({ hasText: mesh(BigInt(leaf.cumulative), 4) })
      .waitFor();
    await shot("owner");
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
});
