/**
 * `npm run oracle:dev`: the oracle service against Hardhat's in-process chain, with one command.
 *
 * Deploys the suite (2-of-3 oracle set) and onboards a small fleet like the demo, exposes the
 * in-process chain as a JSON-RPC endpoint on localhost, writes one config per oracle and starts
 * THREE oracle processes (`hexmesh-oracle serve`, each with its own key and SQLite store): oracle 0
 * ingests, oracles 1 and 2 pull its inputs. The fleet then reports live over HTTP for epoch 0; the
 * epoch is closed on chain; every oracle computes it on its own (`close-epoch`), signs (`sign`),
 * and oracle 0 collects the others' signatures over HTTP and posts once (`post`). After the
 * challenge window an owner claims with the proof served by the API. Then it keeps serving until
 * Ctrl-C (HEXMESH_DEV_ONCE=1: stop after the epoch). Env: HEXMESH_DEV_DIR (data and configs; default
 * a temp dir), HEXMESH_DEV_PORT (first oracle port, default 8080; 0 = any), HEXMESH_DEV_RPC_PORT
 * (default 8545; 0 = any).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { formatEther, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { network } from "hardhat";

import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import { pathTo, ROUTES } from "@hexmesh/oracle/api/routes";
import type { Hex } from "@hexmesh/protocol";
import { liveRound } from "@hexmesh/sim";

import { suiteAddresses } from "../deploy/lib/suite.js";
import { closeEpoch, passChallengeWindow } from "./demo/epoch.js";
import { onboardFleet } from "./demo/fleet.js";
import { freePort, serveJsonRpc } from "./demo/rpc.js";
import { deployDemoSuite } from "./demo/suite.js";

const run = promisify(execFile);
const ONCE = process.env.HEXMESH_DEV_ONCE === "1";
const dir = process.env.HEXMESH_DEV_DIR ?? mkdtempSync(path.join(os.tmpdir(), "hexmesh-oracle-dev-"));
mkdirSync(dir, { recursive: true });
const say = (s: string) => console.log(s);

const port = async (env: string | undefined, dflt: number, k = 0) =>
  env === "0" ? freePort() : Number(env ?? dflt) + k;

const connection = await network.create();
const { ethers } = connection;

// --- the chain -------------------------------------------------------------------------------
const suite = await deployDemoSuite(connection, { oracleCount: 3, threshold: 2, approveMakerAtDeploy: true });
const signers = await ethers.getSigners();
const owners = signers.slice(4, 8);
const fleet = await onboardFleet(suite, owners, {
  devices: 16,
  p256Share: 0.25,
  spacingM: 400,
  origin: [37.752, -122.47],
  seed: "hexmesh oracle dev",
});
const poster = new Wallet(keccak256(toUtf8Bytes("hexmesh oracle dev poster")));
await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
const { token: _token, ...addresses } = await suiteAddresses(suite);
say(
  `deployed the suite on the in-process chain (chain id ${suite.chainId}); ${fleet.length} hotspots onboarded`,
);

// The in-process chain as JSON-RPC over HTTP, so separate oracle processes (and you) can use it.
const rpc = await serveJsonRpc(connection.provider, await port(process.env.HEXMESH_DEV_RPC_PORT, 8545));
const rpcUrl = rpc.url;
say(`JSON-RPC of the in-process chain: ${rpcUrl}`);

// --- three oracle processes --------------------------------------------------------------------
// The services' receive clock is put at the start of epoch 0 (+1 min): the chain's epochs are
// days long and the dev run moves chain time instead of waiting.
const offsetMs = Number(suite.genesisTime) * 1000 + 60_000 - Date.now();
const ports = [
  await port(process.env.HEXMESH_DEV_PORT, 8080, 0),
  await port(process.env.HEXMESH_DEV_PORT, 8080, 1),
  await port(process.env.HEXMESH_DEV_PORT, 8080, 2),
];
const urls = ports.map((p) => `http://127.0.0.1:${p}`);
const configs = suite.oracleKeys.map((k, i) => {
  const file = path.join(dir, `oracle-${i}.json`);
  // Dev keys only (derived from public strings); real operators set HEXMESH_ORACLE_KEY.
  const cfg = {
    listen: { host: "127.0.0.1", port: ports[i] },
    store: { backend: "sqlite", path: path.join(dir, `oracle-${i}.sqlite`) },
    chain: { rpcUrl, addresses, fromBlock: suite.deployBlock, firstEpoch: 0 },
    oracleKey: k.privateKey,
    ...(i === 0 ? { posterKey: poster.privateKey } : { inputsFrom: urls[0] }),
    peers: urls.filter((_, j) => j !== i),
    clock: { mode: "system", offsetMs },
    log: { level: "info" },
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
});

// The oracle package's compiled CLI (hexmesh-oracle), run by this Node: no TypeScript loader.
const cli = [process.execPath, path.resolve("packages/oracle/bin/hexmesh-oracle.js")];
const children: ChildProcess[] = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
};
process.on("exit", stopAll);
for (const [i, file] of configs.entries()) {
  const log = openSync(path.join(dir, `oracle-${i}.log`), "a");
  children.push(spawn(cli[0]!, [...cli.slice(1), "-c", file, "serve"], { stdio: ["ignore", log, log] }));
}
async function ready(url: string, child: ChildProcess): Promise<void> {
  for (let t = 0; t < 240; t++) {
    if (child.exitCode !== null)
      throw new Error(`${url} exited with ${child.exitCode} (see ${dir}/oracle-*.log)`);
    try {
      await new OracleClient(url, { timeoutMs: 2_000 }).ready();
      return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after 60 s (see ${dir}/oracle-*.log)`);
}
await Promise.all(urls.map((u, i) => ready(u, children[i]!)));
say(`oracles serving: ${urls.map((u, i) => `#${i} ${u}`).join(", ")} (logs and configs in ${dir})`);

async function cliStep(i: number, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(cli[0]!, [...cli.slice(1), "-c", configs[i]!, ...args], {
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}
const oracle = urls.map((u) => new OracleClient(u));

// --- epoch 0: the fleet reports live ------------------------------------------------------------
const entropy = await oracle[0]!.entropy();
say(`entropy ${entropy.value} (published ${new Date(entropy.timestamp * 1000).toISOString()}, valid 180 s)`);
const domain = { chainId: suite.chainId, verifyingContract: addresses.registry.toLowerCase() as Hex };
const round = liveRound(
  fleet,
  domain,
  { value: entropy.value as Hex, blockHash: entropy.blockHash as Hex, timestamp: entropy.timestamp },
  Date.now() + offsetMs,
  "dev round 0",
);
const one = await oracle[0]!.submitReport(round.beacons[0]!);
const beacons = await oracle[0]!.submitReports(round.beacons);
const witnesses = await oracle[0]!.submitReports(round.witnesses);
const bad = await oracle[0]!.submitReport(round.beacons[1]!.slice(0, -9)).then(
  () => {
    throw new Error("a truncated report was accepted");
  },
  (e: unknown) => {
    if (!(e instanceof OracleApiError)) throw e;
    return e;
  },
);
say(
  `fleet sent ${round.beacons.length} beacons and ${round.witnesses.length} witness reports: ` +
    `first beacon alone ${one.status}, batches accepted ${beacons.accepted + witnesses.accepted}, duplicate ${beacons.duplicate + witnesses.duplicate}; ` +
    `a truncated report got HTTP ${bad.status}: ${bad.apiMessage}`,
);

// --- close, compute on every oracle, sign, aggregate, post once ----------------------------------
await closeEpoch(suite, 0n);
say("epoch 0 ended and was distributed on chain");
for (const i of [1, 2]) {
  const pulled = await cliStep(i, "pull", "0");
  say(`oracle #${i} pulled ${pulled.copied} reports from oracle #0`);
}
const roots: string[] = [];
for (const i of [0, 1, 2]) {
  const r = await cliStep(i, "close-epoch", "0");
  roots.push(String(r.root));
  say(`oracle #${i} computed epoch 0: ${r.valid}/${r.reports} reports valid, root ${r.root}`);
}
if (new Set(roots).size !== 1) throw new Error(`the oracles disagree: ${roots.join(" ")}`);
for (const i of [1, 2]) await cliStep(i, "sign", "0");
await cliStep(0, "sign", "0");
const posted = await cliStep(0, "post", "0");
say(
  `oracle #0 collected signatures over HTTP and posted: ${posted.status}${posted.txHash ? ` (tx ${posted.txHash}, gas ${posted.gasUsed})` : ""}`,
);
const again = await cliStep(0, "post", "0");
say(`posting again: ${again.status} (${again.state})`);
await passChallengeWindow(suite);
say("challenge window passed: the root is live");

// --- an owner claims with the API's proof --------------------------------------------------------
const owner = owners[0]!;
const before = await oracle[1]!.owner(owner.address);
const tx = await suite.distributor.claim(owner.address, BigInt(before.cumulative), before.proof);
await tx.wait();
const after = await oracle[2]!.owner(owner.address);
say(
  `owner ${owner.address}: cumulative ${formatEther(before.cumulative)} MESH, claimed with the proof from oracle #1; oracle #2 now reports claimed ${formatEther(after.claimed)}, claimable ${after.claimable}`,
);
const summary = await oracle[2]!.epoch(0);
say(`epoch 0 summary: ${JSON.stringify(summary.summary)}`);

if (ONCE) {
  stopAll();
  await rpc.close();
  say("done (HEXMESH_DEV_ONCE=1)");
  process.exit(0);
}
say(
  `\nserving until Ctrl-C. Try:\n${[
    pathTo(ROUTES.entropy.path, {}),
    pathTo(ROUTES.epoch.path, { epoch: 0 }),
    pathTo(ROUTES.owner.path, { address: owners[1]!.address }),
    pathTo(ROUTES.epochResults.path, { epoch: 0 }),
  ]
    .map((p) => `  curl ${oracle[0]!.url(p)}\n`)
    .join("")}  npm run oracle -- -c ${configs[0]} status 0\n` +
    `  npm run oracle -- watch --once --rpc ${rpcUrl} --distributor ${addresses.distributor} ` +
    `--from-block ${suite.deployBlock} --oracle ${oracle.map((c) => c.baseUrl).join(" ")}`,
);
process.on("SIGINT", () => {
  stopAll();
  process.exit(0);
});
await new Promise(() => {});
