/**
 * The demo's chain and oracles with the web app served, for `npm run web` and the browser tests:
 * deploy the suite on the in-process chain (its JSON-RPC on localhost), onboard a small fleet,
 * start a 2-of-3 oracle set whose oracle 0 serves the built app (packages/web/dist, copied with a
 * hexmesh.json naming the chain and contracts), and take epoch 0 through reports, close, post and
 * the challenge window, so the app has a live root to show and claim against. No top-level effects.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { chromium, type Browser } from "playwright-core";

import type { Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../deploy/lib/suite.js";
import { closeEpoch, passChallengeWindow } from "./epoch.js";
import { onboardFleet, type ChainDevice } from "./fleet.js";
import { OracleSet, type OracleSetOptions } from "./oracles.js";
import { epochReports } from "./reports.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "./rpc.js";
import { deployDemoSuite, MESH, type Suite } from "./suite.js";
import { workOracleOptions } from "./work-epochs.js";

export const WEB_DIST = path.resolve("packages/web/dist");

/**
 * Debian's Chromium (no browser download), headless, with the flags this machine's closed network
 * needs (no background, sync or component-update connections) and no sandbox (CI runs as root).
 * HEXMESH_CHROMIUM overrides the path.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.HEXMESH_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: apt-get install chromium`);
  return chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface WebStack {
  readonly suite: Suite;
  readonly fleet: readonly ChainDevice[];
  readonly rpc: JsonRpcEndpoint;
  readonly oracles: OracleSet;
  /** The app's URL (oracle 0 serves it and its API on one origin). */
  readonly appUrl: string;
  readonly addresses: Awaited<ReturnType<typeof suiteAddresses>>;
  stop(): Promise<void>;
}

export interface WebStackOptions {
  readonly devices?: number;
  /** Port of the chain's JSON-RPC endpoint (default: any free port). */
  readonly rpcPort?: number;
  /**
   * The storage and compute kinds the oracles serve (config `works`; default both). hexmesh.json
   * names both kinds' distributors either way: the owner page says when the oracle serves a kind not.
   */
  readonly works?: readonly ("storage" | "compute")[];
}

export async function startWebStack(
  connection: NetworkConnection,
  o: WebStackOptions = {},
): Promise<WebStack> {
  if (!existsSync(path.join(WEB_DIST, "index.html")))
    throw new Error(`${WEB_DIST}/index.html is missing: run \`npm run build\` (it builds packages/web)`);
  const { ethers } = connection;
  const suite = await deployDemoSuite(connection, {
    oracleCount: 3,
    threshold: 2,
    approveMakerAtDeploy: true,
  });
  const signers = await ethers.getSigners();
  const owners = signers.slice(4, 8);
  const fleet = await onboardFleet(suite, owners, {
    devices: o.devices ?? 16,
    p256Share: 0.25,
    spacingM: 400,
    origin: [37.752, -122.47],
    seed: "hexmesh web",
  });
  // Owners get some MESH of their own to stake from the app.
  for (const owner of owners)
    await (await suite.token.connect(suite.treasury).transfer(owner.address, MESH(1_000))).wait();
  const poster = new Wallet(keccak256(toUtf8Bytes("hexmesh web poster")));
  await (await suite.deployer.sendTransaction({ to: poster.address, value: 10n ** 19n })).wait();
  const rpc = await serveJsonRpc(connection.provider, o.rpcPort ?? 0);
  const addresses = await suiteAddresses(suite);

  // The built app plus its hexmesh.json in a folder of its own (the build output stays untouched).
  const staticDir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-web-"));
  cpSync(WEB_DIST, staticDir, { recursive: true });
  writeFileSync(
    path.join(staticDir, "hexmesh.json"),
    JSON.stringify(
      {
        chainId: Number(suite.chainId),
        chainName: "Hexmesh local chain",
        rpcUrl: rpc.url,
        oracleUrl: "",
        // The credits ledger too: the app finds the storage and compute markets through it; and the
        // storage and compute distributors, whose rewards the owner page shows beside coverage's.
        addresses: {
          ...addresses,
          credits: await suite.credits.getAddress(),
          storageDistributor: await suite.storageDistributor.getAddress(),
          computeDistributor: await suite.computeDistributor.getAddress(),
        },
        fromBlock: suite.deployBlock,
      },
      null,
      2,
    ),
  );
  // Storage and compute epochs as the demo's work oracles close them (no benchmark sender of its
  // own: the compute pool pays paid usage only).
  const works = o.works ?? ["storage", "compute"];
  const work = await workOracleOptions(suite, { prover: poster.address, benchmarkSender: poster.address });
  const oracles = await OracleSet.start({
    rpcUrl: rpc.url,
    addresses: { ...addresses, credits: await suite.credits.getAddress() },
    fromBlock: suite.deployBlock,
    oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
    posterKey: poster.privateKey,
    staticDir,
    ...(works.length > 0
      ? { works: Object.fromEntries(works.map((k) => [k, work.works![k]!])) as OracleSetOptions["works"] }
      : {}),
    ...(works.includes("storage") ? { storage: work.storage! } : {}),
    ...(works.includes("compute") ? { compute: work.compute! } : {}),
  });
  try {
    await closeEpoch(suite, 0n);
    const start = Number(suite.genesisTime) * 1000;
    const sim = epochReports(fleet, {
      domain: { chainId: suite.chainId, verifyingContract: addresses.registry.toLowerCase() as Hex },
      epochStart: start,
      epochEnd: start + Number(suite.epochLength) * 1000,
      seed: "web epoch 0",
    });
    const posted = await oracles.runEpoch(0n, { reports: sim.reports, entropy: sim.entropy });
    if (posted.outcome.status !== "posted")
      throw new Error(`epoch 0 was not posted: ${posted.outcome.status}`);
    await passChallengeWindow(suite);
  } catch (e) {
    await oracles.stop();
    await rpc.close();
    throw e;
  }
  return {
    suite,
    fleet,
    rpc,
    oracles,
    appUrl: `${oracles.urls[0]}/`,
    addresses,
    async stop() {
      await oracles.stop();
      await rpc.close();
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
}
