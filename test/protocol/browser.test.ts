/**
 * @hexmesh/protocol runs in a browser bundle unchanged: bundled by esbuild for the browser platform
 * (a Node built-in anywhere in its import graph fails the build), then run in a bare V8 context
 * that has the web platform's TextEncoder and nothing of Node's (no Buffer, process or require).
 * There it rebuilds an owner tree and a report digest that must equal the Node-side results.
 */
import vm from "node:vm";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { build } from "esbuild";
import { ethers } from "ethers";

import { makeFleet, simulateEpoch } from "@hexmesh/sim";

const DOMAIN = { chainId: 31337n, verifyingContract: "0x5fbdb2315678afecb367f032d93f642f64180aa3" } as const;

describe("protocol / browser bundle", function () {
  this.timeout(60_000);

  it("bundles for the browser with no Node built-in and runs without Node's globals", async function () {
    const bundle = await build({
      stdin: {
        contents: 'export * from "@hexmesh/protocol";',
        resolveDir: process.cwd(),
        loader: "js",
      },
      bundle: true,
      platform: "browser",
      format: "iife",
      globalName: "HexmeshProtocol",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const code = bundle.outputFiles[0]!.text;
    expect(code).to.not.match(/require\(["']node:/);

    const context = vm.createContext({ TextEncoder, TextDecoder });
    expect(vm.runInContext("typeof Buffer + typeof process + typeof require", context)).to.equal(
      "undefinedundefinedundefined",
    );
    vm.runInContext(code, context);
    const P = vm.runInContext("HexmeshProtocol", context) as typeof import("@hexmesh/protocol");

    // The owner tree of the browser bundle is OpenZeppelin's StandardMerkleTree.
    const owners = Array.from({ length: 33 }, (_, i) => ({
      owner: ethers.zeroPadValue(ethers.toBeHex(i + 1), 20) as `0x${string}`,
      amount: BigInt(i) * 10n ** 18n + 7n,
    }));
    const tree = P.OwnerMerkleTree.build(owners);
    const oz = StandardMerkleTree.of(
      owners.map((o) => [o.owner, o.amount.toString()]),
      ["address", "uint256"],
    );
    expect(tree.root).to.equal(oz.root);

    // A report parses and hashes to the digest ethers computes from the same field list.
    const fleet = makeFleet({ devices: 4, p256Share: 0.5, spacingM: 400, seed: "browser" });
    const sim = simulateEpoch(fleet, {
      domain: DOMAIN,
      epochStart: Date.UTC(2026, 0, 1),
      epochEnd: Date.UTC(2026, 0, 2),
      beaconsPerDevice: 1,
      witnessesPerBeacon: 2,
      seed: "browser",
    });
    const parsed = P.parseReport(sim.reports[0]!.raw);
    expect(parsed.ok).to.equal(true);
    if (!parsed.ok || parsed.report.type !== "beacon") throw new Error("expected a beacon");
    const { type: _type, signature: _signature, ...fields } = parsed.report;
    const digest = P.toHex(P.beaconDigest(P.domainSeparator(DOMAIN), fields));
    expect(digest).to.equal(
      ethers.TypedDataEncoder.hash(P.ethersDomain(DOMAIN), { Beacon: [...P.REPORT_TYPES.Beacon] }, fields),
    );
  });
});
