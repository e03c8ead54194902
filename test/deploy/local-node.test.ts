/**
 * Deploys as a new user would: a real JSON-RPC node on localhost (Hardhat's node, and Anvil at its
 * default chain id 31337, as docs/deploy.md says), the README's `npm run deploy` command as a
 * subprocess, checks that the contracts answer, reruns and checks nothing changed. A node restarted
 * under a record of another chain id: the rerun fails saying the record is stale, a scripted
 * --reset (no terminal) deploys again. Nodes are always killed in after hooks.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Contract, JsonRpcProvider } from "ethers";

import { loadHexmeshParameters, ROLES } from "../../deploy/lib/hexmesh.js";
import { LOCAL_PARAMETERS, runDeployCommand, runHexmesh } from "../helpers/deploy.js";
import { coverageRun } from "../helpers/gas.js";
import { BIN, freePort, startProcessGroup, stopProcessGroup, waitForRpc } from "../helpers/service.js";

const ABI = [
  "function totalSupply() view returns (uint256)",
  "function minter() view returns (address)",
  "function cooldown() view returns (uint256)",
  "function hasRole(bytes32, address) view returns (bool)",
  "function getMinDelay() view returns (uint256)",
];

for (const kind of ["hardhat", "anvil"] as const) {
  describe(`deploy: the README's command against a ${kind} node on localhost`, function () {
    this.timeout(180_000);
    const deploymentId = `test-${kind}-node-${process.pid}`;
    const dir = path.join("deploy", "deployments", deploymentId);
    let node: ReturnType<typeof startProcessGroup> | undefined;
    let url: string;
    let provider: JsonRpcProvider;
    const expectedChainId = 31337n;

    before(async function () {
      // Under --coverage Hardhat passes HARDHAT_COVERAGE to the `npm run deploy` subprocess, which then
      // deploys instrumented bytecode (over the size limit Anvil enforces). These tests are about the
      // deploy command, not contract code: the normal `hardhat test` runs them.
      if (coverageRun) this.skip();
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      node =
        kind === "hardhat"
          ? startProcessGroup(path.join(BIN, "hardhat"), ["node", "--port", String(port)])
          : startProcessGroup("npx", ["-y", "@foundry-rs/anvil@1.7.1", "--port", String(port)]);
      await waitForRpc(url, node.child, node.output);
      provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
    });

    after(async function () {
      provider?.destroy();
      await stopProcessGroup(node?.child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    });

    it("deploys the suite, and the contracts answer", async function () {
      expect((await provider.getNetwork()).chainId).to.equal(expectedChainId);
      const out = await runDeployCommand(url, deploymentId);
      expect(out).to.contain("successfully deployed");
      expect(out).to.contain(
        "Checked on chain 31337: 15 recorded addresses hold their artifacts' runtime code",
      );
      const file = path.join(dir, "deployed_addresses.json");
      expect(existsSync(file)).to.equal(true);
      const addresses = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
      const params = loadHexmeshParameters(LOCAL_PARAMETERS);
      const at = (key: string) => new Contract(addresses[`Hexmesh#${key}`]!, ABI, provider);
      expect(await at("MeshToken").getFunction("totalSupply")()).to.equal(params.genesisSupply);
      expect(await at("MeshToken").getFunction("minter")()).to.equal(
        addresses["Hexmesh#EmissionsController"],
      );
      expect(await at("StakingVault").getFunction("cooldown")()).to.equal(BigInt(params.vault.cooldown));
      expect(await at("HexmeshTimelock").getFunction("getMinDelay")()).to.equal(
        BigInt(params.timelock.minDelay),
      );
      const timelock = addresses["Hexmesh#HexmeshTimelock"]!;
      const deployer = (await provider.send("eth_accounts", []))[0] as string;
      for (const key of [
        "DeviceRegistry",
        "StakingVault",
        "RewardsDistributor",
        "EmissionsController",
        "UsageCredits",
        "DataTransferSettlement",
        "StorageDistributor",
        "ComputeDistributor",
        "StorageDeals",
        "ComputeJobs",
      ]) {
        expect(await at(key).getFunction("hasRole")(ROLES.DEFAULT_ADMIN, timelock), key).to.equal(true);
        expect(await at(key).getFunction("hasRole")(ROLES.DEFAULT_ADMIN, deployer), key).to.equal(false);
      }
    });

    it("changes nothing when rerun with the same parameters", async function () {
      const block = await provider.getBlockNumber();
      const addresses = readFileSync(path.join(dir, "deployed_addresses.json"), "utf8");
      const out = await runDeployCommand(url, deploymentId);
      expect(out).to.match(/Nothing new to deploy/i);
      expect(await provider.getBlockNumber()).to.equal(block);
      expect(readFileSync(path.join(dir, "deployed_addresses.json"), "utf8")).to.equal(addresses);
    });

    if (kind === "hardhat") {
      it("refuses to silently change a deployed suite when a parameter changed", async function () {
        const raw = JSON.parse(readFileSync(LOCAL_PARAMETERS, "utf8")) as { Hexmesh: Record<string, any> };
        raw.Hexmesh.registry.assertFee = "6";
        const changed = path.join(os.tmpdir(), `hexmesh-changed-${process.pid}.json`);
        writeFileSync(changed, JSON.stringify(raw));
        const block = await provider.getBlockNumber();
        try {
          await runDeployCommand(url, deploymentId, changed);
          expect.fail("the deploy command should have failed");
        } catch (e) {
          const err = e as { code?: number; stderr?: string; stdout?: string };
          expect(err.code).to.not.equal(0);
          expect(`${err.stdout}${err.stderr}`).to.match(
            /reconciliation failed[\s\S]*Hexmesh#DeviceRegistry.setAssertFee:\s*- Argument at index 0 has been changed/,
          );
        } finally {
          rmSync(changed, { force: true });
        }
        expect(await provider.getBlockNumber()).to.equal(block);
      });

      it("refuses a timelock delay not above the cooldown before sending anything", async function () {
        const raw = JSON.parse(readFileSync(LOCAL_PARAMETERS, "utf8")) as { Hexmesh: Record<string, any> };
        raw.Hexmesh.timelock.minDelay = raw.Hexmesh.vault.cooldown;
        const bad = path.join(os.tmpdir(), `hexmesh-bad-${process.pid}.json`);
        writeFileSync(bad, JSON.stringify(raw));
        const block = await provider.getBlockNumber();
        try {
          await runDeployCommand(url, `${deploymentId}-bad`, bad);
          expect.fail("the deploy command should have failed");
        } catch (e) {
          const err = e as { code?: number; stderr?: string; stdout?: string };
          expect(err.code).to.not.equal(0);
          expect(`${err.stdout}${err.stderr}`).to.match(
            /timelock.minDelay \(86400 s\) must exceed vault.cooldown/,
          );
        } finally {
          rmSync(bad, { force: true });
          rmSync(path.join("deploy", "deployments", `${deploymentId}-bad`), { recursive: true, force: true });
        }
        expect(await provider.getBlockNumber()).to.equal(block);
      });
    }
  });
}

/** What the deploy command printed when it failed. */
async function failedDeploy(run: Promise<string>): Promise<string> {
  try {
    await run;
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    expect(err.code).to.not.equal(0);
    return `${err.stdout}${err.stderr}`;
  }
  return expect.fail("the deploy command should have failed");
}

describe("deploy: a deployment record left stale by a restarted node (Anvil, chain id 1337)", function () {
  this.timeout(240_000);
  const deploymentId = `test-stale-${process.pid}`;
  const dir = path.join("deploy", "deployments", deploymentId);
  let node: ReturnType<typeof startProcessGroup> | undefined;
  let port: number;
  let url: string;
  const startAnvil = async (chainId: string) => {
    node = startProcessGroup("npx", [
      "-y",
      "@foundry-rs/anvil@1.7.1",
      "--port",
      String(port),
      "--chain-id",
      chainId,
    ]);
    await waitForRpc(url, node.child, node.output);
  };

  before(async function () {
    if (coverageRun) this.skip();
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await startAnvil("1337");
  });

  after(async function () {
    await stopProcessGroup(node?.child, "SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("checks the deployed code, then refuses 'Nothing new to deploy' when the restarted node has none, and a scripted --reset deploys again", async function () {
    const first = await runDeployCommand(url, deploymentId);
    expect(first).to.contain(
      "Checked on chain 1337: 15 recorded addresses hold their artifacts' runtime code",
    );
    const addresses = JSON.parse(readFileSync(path.join(dir, "deployed_addresses.json"), "utf8")) as Record<
      string,
      string
    >;

    // The node restarts with an empty chain; the journal still says everything is deployed.
    await stopProcessGroup(node?.child, "SIGTERM");
    await startAnvil("1337");
    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
    try {
      expect(await provider.getCode(addresses["Hexmesh#MeshToken"]!)).to.equal("0x");
      const out = await failedDeploy(runDeployCommand(url, deploymentId));
      expect(out).to.match(/Nothing new to deploy/);
      expect(out).to.match(
        new RegExp(`the deployment record deploy/deployments/${deploymentId} does not match chain 1337`),
      );
      expect(out).to.match(/15 of 15 recorded addresses hold no contract/);
      expect(out).to.match(/Hexmesh#MeshToken at 0x[0-9a-fA-F]{40}: no contract at this address/);
      expect(out).to.match(/the node was restarted or reset after this deployment was recorded/);
      expect(out).to.match(/deploy again from scratch with --reset/);

      // The same check on demand.
      const check = await failedDeploy(
        runHexmesh(url, ["check-deployment", "--network", "localhost", "--deployment-id", deploymentId]),
      );
      expect(check).to.match(/15 of 15 recorded addresses hold no contract/);

      // A scripted reset, without a terminal: HARDHAT_IGNITION_CONFIRM_DEPLOYMENT confirms it.
      const reset = await runDeployCommand(url, deploymentId, LOCAL_PARAMETERS, ["--reset"]);
      expect(reset).to.contain("successfully deployed");
      expect(reset).to.contain(
        "Checked on chain 1337: 15 recorded addresses hold their artifacts' runtime code",
      );
      expect(await provider.getCode(addresses["Hexmesh#MeshToken"]!)).to.not.equal("0x");
      const ok = await runHexmesh(url, [
        "check-deployment",
        "--network",
        "localhost",
        "--deployment-id",
        deploymentId,
      ]);
      expect(ok).to.contain("chain 1337: 15 recorded addresses hold their artifacts' runtime code");
    } finally {
      provider.destroy();
    }
  });

  it("refuses a node on localhost with a testnet's chain id without a deployment id (its record would be the testnet's)", async function () {
    await stopProcessGroup(node?.child, "SIGTERM");
    await startAnvil("84532");
    const out = await failedDeploy(runDeployCommand(url, ""));
    expect(out).to.match(
      /answers with chain id 84532, baseSepolia's: its record would land in deploy\/deployments\/chain-84532/,
    );
    expect(existsSync(path.join("deploy", "deployments", "chain-84532"))).to.equal(false);
  });
});
