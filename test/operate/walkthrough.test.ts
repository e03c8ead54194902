/**
 * docs/operate.md's walkthrough is a test: its fenced `sh walkthrough` blocks, in order, in one bash
 * shell, against Anvil on localhost (chain id 31337), with this test's own port and deployment id.
 * Then the chain is checked: both hotspots onboarded by the agent's files are active, placed, owned
 * by the walkthrough's owner and bonded. Skipped under coverage, as the local-node deploy test is.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Contract, JsonRpcProvider } from "ethers";

import { coverageRun } from "../helpers/gas.js";
import { BIN, freePort, startProcessGroup, stopProcessGroup, waitForRpc } from "../helpers/service.js";

const DOC = "docs/operate.md";

/** The doc's `sh walkthrough` blocks, in order. */
export function walkthroughBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh walkthrough\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe("docs/operate.md walkthrough, run as written against Anvil", function () {
  this.timeout(600_000);
  const id = `test-walkthrough-${process.pid}`;
  let node: ReturnType<typeof startProcessGroup> | undefined;
  let url: string;

  before(async function () {
    if (coverageRun) this.skip();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = startProcessGroup("npx", ["-y", "@foundry-rs/anvil@1.7.1", "--port", String(port)]);
    await waitForRpc(url, node.child, node.output);
  });

  after(async function () {
    await stopProcessGroup(node?.child, "SIGTERM");
    rmSync(path.join("deploy", "deployments", id), { recursive: true, force: true });
    rmSync("walkthrough", { recursive: true, force: true });
  });

  it("has its commands in marked blocks", function () {
    const blocks = walkthroughBlocks(readFileSync(DOC, "utf8"));
    expect(blocks).to.have.length.greaterThanOrEqual(2);
    expect(blocks.join("")).to.contain("npm run deploy -- --network localhost");
  });

  it("deploys, onboards two hotspots with the agent's files, places and bonds them", async function () {
    const blocks = walkthroughBlocks(readFileSync(DOC, "utf8"));
    // The one change: reuse the default build profile's artifacts (identical settings, built by
    // `npm test`), as the local-node deploy test does, instead of a full production compile.
    const script = blocks
      .join("\n")
      .replace("npm run deploy -- ", "npm run deploy -- --build-profile default ");
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        "bash",
        ["-euo", "pipefail", "-c", script],
        {
          env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, LOCALHOST_RPC_URL: url, ID: id },
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) =>
          err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stdout}\n${stderr}`)),
      );
    });
    expect(out).to.contain("Checked on chain 31337: 9 recorded addresses");
    const owner = /^OWNER=(0x[0-9a-fA-F]{40})$/m.exec(script)![1]!;
    const addresses = JSON.parse(
      readFileSync(path.join("deploy", "deployments", id, "deployed_addresses.json"), "utf8"),
    ) as Record<string, string>;
    const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
    try {
      const registry = new Contract(
        addresses["Hexmesh#DeviceRegistry"]!,
        [
          "function statusOf(uint256) view returns (uint8)",
          "function ownerOf(uint256) view returns (address)",
        ],
        provider,
      );
      const vault = new Contract(
        addresses["Hexmesh#StakingVault"]!,
        ["function bondedDeviceCount(address) view returns (uint256)"],
        provider,
      );
      for (const hotspot of ["a", "b"]) {
        const { keyId } = JSON.parse(readFileSync(`walkthrough/identity-${hotspot}.json`, "utf8")) as {
          keyId: string;
        };
        expect(out).to.contain(keyId);
        expect(await registry.getFunction("statusOf")(BigInt(keyId)), hotspot).to.equal(1n); // Active
        expect(await registry.getFunction("ownerOf")(BigInt(keyId))).to.equal(owner);
      }
      expect(await vault.getFunction("bondedDeviceCount")(owner)).to.equal(2n);
    } finally {
      provider.destroy();
    }
  });
});
