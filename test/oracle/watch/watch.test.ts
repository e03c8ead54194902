/**
 * Roots anyone can check while they can still be vetoed, against a real JSON-RPC node (Hardhat's
 * node on localhost): the suite deployed with the project's module (deploy/lib/suite.ts), a fleet
 * onboarded, three oracle services (2-of-3, scripts/demo/oracles.ts) posting epoch 0.
 *
 * - an outsider with nothing but HTTP and @hexmesh/protocol rebuilds the pending root and dataHash
 *   from the published result set, and gets an owner's proof for the pending root;
 * - `hexmesh-oracle watch` (the installed CLI, a subprocess) passes the honest root, reports an
 *   oracle withholding its result set (evidence file, hook, exit 1) without vetoing, and vetoes with
 *   the guardian's key a root a colluding quorum posted with one owner inflated, before it goes live;
 * - a second `post` of a posted epoch is recorded as skipped and leaves the landed post's record.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { keccak256 as ethersKeccak, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import {
  EpochRootAggregator,
  OracleKey,
  startService,
  validateConfig,
  type CoverageInputs,
  type RunningService,
} from "@hexmesh/oracle";
import { auditEpochEncoding, keccak256, OwnerMerkleTree, toHex, type Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { closeEpoch, epochBoundsMs, passChallengeWindow } from "../../../scripts/demo/epoch.js";
import { onboardFleet, type ChainDevice } from "../../../scripts/demo/fleet.js";
import { OracleSet } from "../../../scripts/demo/oracles.js";
import { epochReports } from "../../../scripts/demo/reports.js";
import { freePort } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../../scripts/demo/suite.js";
import { coverageRun } from "../../helpers/gas.js";
import { BIN, CLI, startProcessGroup, stopProcessGroup, waitForRpc } from "../../helpers/service.js";

const BOULDER: [number, number] = [40.015, -105.2705];
/** Hardhat's well-known development account #2: the demo suite's guardian. */
const GUARDIAN_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

interface CliRun {
  readonly code: number;
  readonly out: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err === null ? 0 : typeof err.code === "number" ? err.code : 1,
          out: stdout + stderr,
        }),
    );
  });
}

describe("watch: pending roots checked from the published result sets, on a Hardhat node", function () {
  this.timeout(300_000);
  const deploymentId = `test-watch-${process.pid}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), "hexmesh-watch-"));
  let node: ReturnType<typeof startProcessGroup> | undefined;
  let url: string;
  let suite: Suite;
  let owners: HardhatEthersSigner[];
  let fleet: ChainDevice[];
  let oracles: OracleSet;
  let withholder: RunningService;
  let distributor: string;
  let reverify: string[];
  let domain: { chainId: bigint; verifyingContract: Hex };

  const inputsFor = (e: bigint): CoverageInputs => {
    const sim = epochReports(fleet, {
      domain,
      ...epochBoundsMs(suite, e),
      seed: `watch ${e}`,
      witnessesPerBeacon: 6,
    });
    return { reports: sim.reports, entropy: sim.entropy };
  };
  const watch = (oracleUrls: string[], extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    runCli(
      [
        "watch",
        "--once",
        "--rpc",
        url,
        "--distributor",
        distributor,
        "--from-block",
        String(suite.deployBlock),
        "--evidence-dir",
        path.join(tmp, "evidence"),
        "--oracle",
        ...oracleUrls,
        ...extra,
      ],
      env,
    );

  before(async function () {
    // Under --coverage the node would get instrumented bytecode (over its size limit); the watcher
    // is checked by the normal run.
    if (coverageRun) this.skip();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = startProcessGroup(path.join(BIN, "hardhat"), ["node", "--port", String(port)]);
    await waitForRpc(url, node.child, node.output);
    const connection = await network.create({ network: "localhost", override: { url } });
    suite = await deployDemoSuite(connection, {
      oracleCount: 3,
      threshold: 2,
      approveMakerAtDeploy: true,
      deploymentId,
    });
    distributor = await suite.distributor.getAddress();
    const signers = await suite.ethers.getSigners();
    owners = signers.slice(4, 7);
    fleet = await onboardFleet(
      suite,
      owners,
      { devices: 12, p256Share: 0.5, spacingM: 500, origin: BOULDER, seed: "watch fleet" },
      new Set([0, 1, 2]),
    );
    domain = {
      chainId: suite.chainId,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
    const poster = new Wallet(ethersKeccak(toUtf8Bytes("watch poster")));
    await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
    const addresses = await suiteAddresses(suite);
    reverify = [
      "--reverify",
      "--registry",
      addresses.registry,
      "--vault",
      addresses.vault,
      "--controller",
      addresses.controller,
    ];
    oracles = await OracleSet.start({
      rpcUrl: url,
      addresses,
      fromBlock: suite.deployBlock,
      oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
      posterKey: poster.privateKey,
    });
    // An oracle that serves the API but publishes no result set (it never closes an epoch).
    withholder = await startService(
      validateConfig(
        {
          listen: { host: "127.0.0.1", port: await freePort() },
          store: { backend: "sqlite", path: path.join(tmp, "withholder.sqlite") },
          chain: {
            rpcUrl: url,
            addresses: {
              registry: addresses.registry,
              vault: addresses.vault,
              controller: addresses.controller,
              distributor: addresses.distributor,
            },
            fromBlock: suite.deployBlock,
            firstEpoch: 0,
          },
          log: { level: "warn" },
        },
        "withholder",
      ),
    );
    await closeEpoch(suite, 0n);
    await oracles.runEpoch(0n, inputsFor(0n));
  });

  after(async function () {
    await withholder?.close();
    await oracles?.stop();
    await stopProcessGroup(node?.child, "SIGTERM");
    rmSync(path.join("deploy", "deployments", deploymentId), { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  it("an outsider with HTTP and @hexmesh/protocol rebuilds the pending root and dataHash", async function () {
    const [epoch, root, totalCumulative, readyAt] = await suite.distributor.pendingRoot();
    expect(epoch).to.equal(0n);
    expect(readyAt).to.be.greaterThan(0n);
    const posted = (await suite.distributor.queryFilter(suite.distributor.filters.RootPosted(0n)))[0]!;
    const base = oracles.urls[1]!;

    const enc = await fetch(`${base}/v1/epochs/0/encoding`);
    expect(enc.status).to.equal(200);
    expect(enc.headers.get("content-type")).to.equal("application/octet-stream");
    expect(enc.headers.get("cache-control")).to.match(/immutable/);
    const bytes = new Uint8Array(await enc.arrayBuffer());
    expect(toHex(keccak256(bytes))).to.equal(posted.args.dataHash.toLowerCase());

    const res = await fetch(`${base}/v1/epochs/0/results`);
    expect(res.status).to.equal(200);
    expect(res.headers.get("x-hexmesh-root")).to.equal(root.toLowerCase());
    const etag = res.headers.get("etag")!;
    const doc = (await res.json()) as {
      root: string;
      dataHash: string;
      owners: { owner: Hex; leafIndex: number; cumulative: string }[];
      devices: { id: string; metrics: string[]; reward: string }[];
      metricNames: string[];
      verdicts: { reports: number };
    };
    expect(doc.root).to.equal(root.toLowerCase());
    expect(doc.dataHash).to.equal(posted.args.dataHash.toLowerCase());
    expect(doc.metricNames).to.deep.equal(["beaconUnits", "witnessUnits", "scale"]);
    expect(doc.verdicts.reports).to.be.greaterThan(0);
    expect(doc.devices.length).to.be.greaterThan(0);
    const leaves = doc.owners.map((o) => ({ owner: o.owner, amount: BigInt(o.cumulative) }));
    const tree = OwnerMerkleTree.build(leaves);
    expect(tree.root).to.equal(root.toLowerCase());
    expect(leaves.reduce((s, l) => s + l.amount, 0n)).to.equal(totalCumulative);
    // The leaf indices are the OpenZeppelin tree's: the dump loads with them.
    const oz = StandardMerkleTree.of(
      doc.owners.map((o) => [o.owner, o.cumulative]),
      ["address", "uint256"],
    );
    expect(oz.root).to.equal(root.toLowerCase());
    for (const [i, o] of doc.owners.entries()) expect(oz.dump().values[i]!.treeIndex).to.equal(o.leafIndex);
    // Everything the bytes commit to checks out against the posted root.
    const audit = auditEpochEncoding(bytes, {
      posted: {
        epoch: 0n,
        root: root.toLowerCase() as Hex,
        totalCumulative,
        dataHash: posted.args.dataHash.toLowerCase() as Hex,
      },
      chainId: suite.chainId,
      totalFunded: (await suite.distributor.funding())[0],
    });
    expect(audit.findings).to.deep.equal([]);

    // Cacheable: the same ETag gets a 304.
    const again = await fetch(`${base}/v1/epochs/0/results`, { headers: { "if-none-match": etag } });
    expect(again.status).to.equal(304);

    // An owner's proof for the pending root, marked pending, verifies against it.
    const o = doc.owners[0]!;
    const proofRes = await fetch(`${base}/v1/owners/${o.owner}?epoch=0`);
    const proof = (await proofRes.json()) as {
      status: string;
      cumulative: string;
      proof: string[];
      claimable: string;
    };
    expect(proof.status).to.equal("pending");
    expect(proof.claimable).to.equal("0");
    expect(
      StandardMerkleTree.verify(root, ["address", "uint256"], [o.owner, proof.cumulative], proof.proof),
    ).to.equal(true);
    // Without ?epoch the live root is asked for: none yet, and the answer points at the pending one.
    const live = await fetch(`${base}/v1/owners/${o.owner}`);
    expect(live.status).to.equal(404);
    expect(((await live.json()) as { message: string }).message).to.equal(
      "no root is live yet; epoch 0 is pending (ask with ?epoch=0)",
    );
    // Not computed here: a 404 that says so.
    const missing = await fetch(`${withholder.url}/v1/epochs/0/results`);
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { message: string }).message).to.match(/epoch 0 has not been closed/);
  });

  it("watch passes the honest root: every oracle's result set confirms it, and so do its inputs", async function () {
    const r = await watch(oracles.urls);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain("root confirmed by every oracle's result set");
    // Recomputed from scratch: inputs pulled from oracle 2, the chain indexed by the watcher.
    const again = await watch(oracles.urls, [...reverify, "--inputs-from", oracles.urls[2]!]);
    expect(again.code, again.out).to.equal(0);
    expect(again.out).to.contain('"reverified":"confirms"');
  });

  it("watch reports an oracle withholding its result set: evidence, hook, exit 1, no veto", async function () {
    const copied = path.join(tmp, "hook-copy.json");
    const r = await watch(
      [oracles.urls[0]!, withholder.url],
      ["--hook", `cp "$HEXMESH_WATCH_EVIDENCE" "${copied}"`],
      {
        HEXMESH_GUARDIAN_KEY: GUARDIAN_KEY,
      },
    );
    expect(r.code, r.out).to.equal(1);
    expect(existsSync(copied), r.out).to.equal(true);
    const evidence = JSON.parse(readFileSync(copied, "utf8")) as {
      outcome: string;
      action: string;
      oracles: { oracle: string; verdict: string; findings: { code: string; message: string }[] }[];
    };
    expect(evidence.outcome).to.equal("incomplete");
    expect(evidence.action).to.equal("none");
    const withheld = evidence.oracles.find((o) => o.oracle === withholder.url)!;
    expect(withheld.verdict).to.equal("missing");
    expect(withheld.findings[0]!.code).to.equal("result_set_missing");
    expect(withheld.findings[0]!.message).to.match(/HTTP 404: epoch 0 has not been closed/);
    expect(evidence.oracles.find((o) => o.oracle === oracles.urls[0])!.verdict).to.equal("confirms");
    // Only the withholding oracle asked: nothing confirms or contradicts the root. Reported as
    // unverified, not vetoed (an oracle that has not closed the epoch yet also serves nothing).
    const alone = await watch([withholder.url], [], { HEXMESH_GUARDIAN_KEY: GUARDIAN_KEY });
    expect(alone.code, alone.out).to.equal(1);
    expect(alone.out).to.contain('"outcome":"unverified","action":"none"');
    const [, , , readyAt] = await suite.distributor.pendingRoot();
    expect(readyAt).to.be.greaterThan(0n); // still pending
  });

  it("a second post of the posted epoch is recorded as skipped and keeps the landed post", async function () {
    const outcome = await oracles.post(0n);
    expect(outcome.status).to.equal("skipped");
    const epoch = (await (await fetch(`${oracles.urls[0]}/v1/epochs/0`)).json()) as {
      post: { status: string; txHash: string | null };
      postAttempts: {
        seq: number;
        outcome: string;
        txHash: string | null;
        block: number | null;
        gasUsed: string | null;
      }[];
    };
    const landed = (await suite.distributor.queryFilter(suite.distributor.filters.RootPosted(0n)))[0]!;
    expect(epoch.post.status).to.equal("posted");
    expect(epoch.post.txHash).to.equal(landed.transactionHash);
    expect(epoch.postAttempts.map((a) => [a.seq, a.outcome, a.txHash, a.block])).to.deep.equal([
      [1, "posted", landed.transactionHash, landed.blockNumber],
      [2, "skipped", null, null],
    ]);
    const receipt = await suite.ethers.provider.getTransactionReceipt(landed.transactionHash);
    expect(epoch.postAttempts[0]!.gasUsed).to.equal(receipt!.gasUsed.toString());
  });

  it("watch vetoes, with the guardian's key, a root a colluding quorum posted with one owner inflated", async function () {
    await passChallengeWindow(suite);
    await closeEpoch(suite, 1n);
    await oracles.ingest(1n, inputsFor(1n));
    const [honest] = await oracles.close(1n);
    // Two of the three oracles sign a root where one owner gets another's amount on top of its own
    // (the total stays the same, so the distributor's funding check passes).
    const [rich, poor] = honest!.owners.filter((o) => o.amount > 0n);
    const leaves = honest!.owners.map((o) => ({
      owner: o.owner,
      amount:
        o.owner === rich!.owner
          ? o.cumulative + poor!.amount
          : o.owner === poor!.owner
            ? o.cumulative - poor!.amount
            : o.cumulative,
    }));
    const inflated = OwnerMerkleTree.build(leaves).root;
    const aggregator = new EpochRootAggregator(suite.distributor, { baseDelayMs: 1 });
    const request = await aggregator.request({
      epoch: 1n,
      root: inflated,
      totalCumulative: honest!.totalCumulative,
      dataHash: honest!.dataHash,
    });
    const sigs = suite.oracleKeys
      .slice(0, 2)
      .map((k) => new OracleKey(k).sign(request.domain, request.value));
    expect((await aggregator.post(request, sigs)).status).to.equal("posted");
    const [, pendingRoot, , readyAt] = await suite.distributor.pendingRoot();
    expect(pendingRoot.toLowerCase()).to.equal(inflated);

    const r = await watch(oracles.urls, reverify, { HEXMESH_GUARDIAN_KEY: GUARDIAN_KEY });
    expect(r.code, r.out).to.equal(1);
    expect(r.out).to.contain("SUSPECT ROOT");
    const evidence = JSON.parse(
      readFileSync(path.join(tmp, "evidence", `epoch-1-${inflated}.json`), "utf8"),
    ) as {
      outcome: string;
      action: string;
      vetoTx: string;
      oracles: { verdict: string; findings: { code: string }[] }[];
      reverified: { verdict: string; root: string; findings: { code: string }[] };
    };
    // The epoch recomputed from its inputs gives the honest root, not the posted one.
    expect(evidence.reverified.verdict).to.equal("contradicts");
    expect(evidence.reverified.root).to.equal(honest!.root);
    expect(evidence.reverified.findings.map((f) => f.code)).to.deep.equal(["reverify_mismatch"]);
    expect(evidence.outcome).to.equal("suspect");
    expect(evidence.action).to.equal("vetoed");
    for (const o of evidence.oracles) {
      expect(o.verdict).to.equal("contradicts");
      expect(o.findings.map((f) => f.code)).to.include("root_mismatch");
    }
    // Vetoed inside the window: the root never goes live, and nothing is pending.
    const veto = await suite.ethers.provider.getTransactionReceipt(evidence.vetoTx);
    const block = await suite.ethers.provider.getBlock(veto!.blockNumber);
    expect(BigInt(block!.timestamp)).to.be.lessThan(readyAt);
    expect(await suite.distributor.isVetoed(1n, inflated)).to.equal(true);
    expect((await suite.distributor.pendingRoot())[3]).to.equal(0n);
    expect((await suite.distributor.liveRoot())[0]).to.equal(0n);

    // The honest root goes up next, and the watcher passes it.
    expect((await oracles.post(1n)).status).to.equal("posted");
    const next = await watch(oracles.urls, [], { HEXMESH_GUARDIAN_KEY: GUARDIAN_KEY });
    expect(next.code, next.out).to.equal(0);
    expect((await suite.distributor.pendingRoot())[1].toLowerCase()).to.equal(honest!.root);
  });

  it("watch refuses a bad address or key with a clear message (exit 2)", async function () {
    const bad = await runCli([
      "watch",
      "--rpc",
      url,
      "--distributor",
      "0x1234",
      "--oracle",
      oracles.urls[0]!,
    ]);
    expect(bad.code).to.equal(2);
    expect(bad.out).to.match(/--distributor 0x1234 is not an address/);
    const partial = await watch(oracles.urls, ["--reverify", "--registry", distributor]);
    expect(partial.code).to.equal(2);
    expect(partial.out).to.match(/--reverify needs --vault/);
    const all = [
      "--reverify",
      "--registry",
      distributor,
      "--vault",
      distributor,
      "--controller",
      distributor,
    ];
    const credits = await watch(oracles.urls, [...all, "--credits", "0x12"]);
    expect(credits.code).to.equal(2);
    expect(credits.out).to.match(/--credits 0x12 is not an address/);
    const subnetwork = await watch(oracles.urls, [...all, "--credits", distributor, "--subnetwork", "0x12"]);
    expect(subnetwork.code).to.equal(2);
    expect(subnetwork.out).to.match(/--subnetwork 0x12 is not a bytes32 id/);
    const key = await watch(oracles.urls, [], { HEXMESH_GUARDIAN_KEY: "0xabc" });
    expect(key.code).to.equal(2);
    expect(key.out).to.match(/HEXMESH_GUARDIAN_KEY must be a 0x-prefixed 32-byte private key/);
  });
});
