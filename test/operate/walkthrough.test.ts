/**
 * docs/operate.md's walkthrough is a test: its fenced `sh walkthrough` blocks, in order, in one bash
 * shell, against Anvil on localhost (chain id 31337), with this test's own port and deployment id.
 * Then the chain is checked: both hotspots onboarded with the agent's files are active, owned by
 * their owners and bonded; oracle A verified the agents' four reports (driven by packet forwarders
 * simulated over UDP) valid; the claim moved exactly the claimed MESH to owner A. Skipped under
 * coverage, as the local-node deploy test is.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Contract, JsonRpcProvider, type EventLog } from "ethers";

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
  let script: string;
  let run: ReturnType<typeof startProcessGroup> | undefined;

  before(async function () {
    if (coverageRun) this.skip();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = startProcessGroup("npx", ["-y", "@foundry-rs/anvil@1.7.1", "--port", String(port)]);
    await waitForRpc(url, node.child, node.output);
  });

  after(async function () {
    // Skipped under coverage: leave walkthrough/ alone, the plain pass (`npm test` runs both at once) owns it.
    if (coverageRun) return;
    await stopProcessGroup(run?.child, "SIGTERM");
    await stopProcessGroup(node?.child, "SIGTERM");
    rmSync(path.join("deploy", "deployments", id), { recursive: true, force: true });
    // WALKTHROUGH_KEEP=1 keeps the files and the services' logs to look into a failure.
    if (process.env.WALKTHROUGH_KEEP === undefined) rmSync("walkthrough", { recursive: true, force: true });
  });

  it("has its commands in marked blocks", function () {
    const blocks = walkthroughBlocks(readFileSync(DOC, "utf8"));
    expect(blocks).to.have.length.greaterThanOrEqual(6);
    expect(blocks.join("")).to.contain("npm run deploy -- --network localhost");
  });

  it("deploys, onboards two hotspots with the agent, runs an epoch of their reports through two oracles, and the claim pays the owner", async function () {
    const blocks = walkthroughBlocks(readFileSync(DOC, "utf8"));
    // The one change: reuse the default build profile's artifacts (identical settings, built by
    // `npm test`), as the local-node deploy test does, instead of a full production compile.
    // Its own process group: the services it starts in the background are stopped with it, also when
    // a command fails.
    script = blocks.join("\n").replace("npm run deploy -- ", "npm run deploy -- --build-profile default ");
    run = startProcessGroup("bash", ["-euo", "pipefail", "-c", script], {
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, LOCALHOST_RPC_URL: url, ID: id },
    });
    const code = await new Promise<number | null>((resolve) => run!.child.once("exit", resolve));
    const out = run.output();
    expect(code, out).to.equal(0);
    expect(out).to.contain("Checked on chain 31337: 15 recorded addresses");
    const owners = ["A", "B"].map(
      (o) => new RegExp(`^OWNER_${o}=(0x[0-9a-fA-F]{40})$`, "m").exec(script)![1]!,
    );
    const owner = owners[0]!;
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
      for (const [i, hotspot] of ["a", "b"].entries()) {
        const { keyId } = JSON.parse(readFileSync(`walkthrough/identity-${hotspot}.json`, "utf8")) as {
          keyId: string;
        };
        expect(out).to.contain(keyId);
        expect(await registry.getFunction("statusOf")(BigInt(keyId)), hotspot).to.equal(1n); // Active
        expect(await registry.getFunction("ownerOf")(BigInt(keyId))).to.equal(owners[i]);
        expect(await vault.getFunction("bondedDeviceCount")(owners[i])).to.equal(1n);
      }
      // The claim: the distributor's Claimed event for the owner, and exactly that much MESH moved to
      // the owner in its block.
      const distributor = new Contract(
        addresses["Hexmesh#RewardsDistributor"]!,
        [
          "event Claimed(address indexed owner, uint256 cumulative)",
          "function claimed(address) view returns (uint256)",
        ],
        provider,
      );
      const claims = await distributor.queryFilter(distributor.filters.Claimed!(owner));
      expect(claims).to.have.length(1);
      const cumulative = (claims[0] as EventLog).args.cumulative as bigint;
      expect(cumulative > 0n).to.equal(true);
      expect(await distributor.getFunction("claimed")(owner)).to.equal(cumulative);
      const token = new Contract(
        addresses["Hexmesh#MeshToken"]!,
        ["function balanceOf(address) view returns (uint256)"],
        provider,
      );
      const at = claims[0]!.blockNumber;
      const before = (await token.getFunction("balanceOf")(owner, { blockTag: at - 1 })) as bigint;
      const after = (await token.getFunction("balanceOf")(owner, { blockTag: at })) as bigint;
      expect(after - before).to.equal(cumulative);
      // Oracle A verified the four reports of the reports' epoch valid (its close-epoch output).
      expect(out).to.match(/"reports": 4,\s*"valid": 4/);
    } finally {
      provider.destroy();
    }
  });
});
