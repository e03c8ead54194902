/**
 * The outsider test (issue 15): the oracle as an operator gets it, not as this repository runs it.
 *
 * `npm pack` the oracle and the three workspace packages it depends on (compute for re-executing jobs), install the tarballs into an
 * empty folder outside the repository (the registry for everything else, nothing linked back), and
 * from there run the installed `hexmesh-oracle`: `--help`, `check-config`, then `serve` for two
 * oracles of the 2-of-3 set against Hardhat's node on localhost, deployed to with the documented
 * `npm run deploy` command, devices put on chain with the documented `hexmesh` tasks. The devices
 * report over HTTP, signing with the installed @hexmesh/protocol and sending with the installed
 * oracle's API client; the chain's epoch ends and is distributed; the installed CLI closes, pulls,
 * signs and posts; after the challenge window each owner's proof comes back from a running service,
 * verifies against the live root, and claims.
 *
 * Processes run in their own process groups and are stopped in after hooks; the temporary folder
 * and the throwaway Ignition deployment are removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import {
  formatEther,
  getBytes,
  HDNodeWallet,
  hexlify,
  JsonRpcProvider,
  TypedDataEncoder,
  Wallet,
} from "ethers";

import type { DeviceSigner, Hex, ReportDomain } from "@hexmesh/protocol";

import { loadHexmeshParameters } from "../../deploy/lib/hexmesh.js";
import { CLOSE_AFTER_END_S } from "../../scripts/demo/epoch.js";
import {
  DeviceRegistry__factory,
  EmissionsController__factory,
  MeshToken__factory,
  RewardsDistributor__factory,
  StakingVault__factory,
} from "../../typechain-types/index.js";
import { LOCAL_PARAMETERS, runDeployCommand } from "../helpers/deploy.js";
import { coverageRun } from "../helpers/gas.js";
import {
  BIN,
  freePort,
  startProcessGroup,
  stopProcessGroup,
  waitForRpc,
  waitReady,
} from "../helpers/service.js";

const REPO = path.resolve(".");
const PACKAGES = ["@hexmesh/contracts", "@hexmesh/protocol", "@hexmesh/compute", "@hexmesh/oracle"] as const;
const DEPLOYMENT_ID = `test-outsider-${process.pid}`;
/** Hardhat's (and Anvil's) public development mnemonic: deploy/parameters/localhost.json's accounts. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
/**
 * Where the two devices stand (San Francisco, about 560 m apart: US915, above the minimum distance),
 * as `assert-location --lat --lng` takes them on the command line (west as "W": a value starting
 * with "-" would be taken for an option).
 */
const SITES = [
  { lat: "37.752", lng: "122.47W" },
  { lat: "37.757", lng: "122.47W" },
] as const;
/** A beacon on US915 channel 8 (903.9 MHz, DR2), 27 dBm, as the simulator's devices send. */
const RADIO = { frequency: 903_900_000, channel: 8, dataRate: 2, txPower: 270 } as const;

/** The development key of `address` (one of the mnemonic's first 20 accounts). */
function devKey(address: string): string {
  for (let i = 0; i < 20; i++) {
    const w = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
    if (w.address.toLowerCase() === address.toLowerCase()) return w.privateKey;
  }
  throw new Error(`${address} is not one of the development accounts`);
}

/**
 * The environment an operator's shell would have: none of the npm variables of the `npm test` or
 * `npx` this test may run under (npm_config_local_prefix would point npm at the repository), no
 * NODE_PATH or NODE_OPTIONS (a module path or loader), no HEXMESH_* (they configure the oracle), and
 * no PATH entry inside the repository except the folder of this Node (22), so `npm` runs on it.
 * npm's own machine settings (config files, cache, registry, CA) stay.
 */
function outsiderEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set([
    "npm_config_userconfig",
    "npm_config_globalconfig",
    "npm_config_cache",
    "npm_config_cafile",
    "npm_config_registry",
  ]);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.has(k)) continue;
    if (["NODE_PATH", "NODE_OPTIONS", "INIT_CWD"].includes(k) || k.startsWith("HEXMESH_")) continue;
    env[k] = v;
  }
  const inRepo = (d: string) => path.resolve(d) === REPO || path.resolve(d).startsWith(REPO + path.sep);
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "" && !inRepo(d));
  env.PATH = [path.dirname(process.execPath), ...dirs].join(path.delimiter);
  return { ...env, ...extra };
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Child processes still running (each leads its own process group), killed in the after hook. */
const running = new Set<ChildProcess>();

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO,
      env: options.env ?? process.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.once("error", (e) => {
      running.delete(child);
      reject(e);
    });
    child.once("close", (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** `r`, or an error with the command's output if it did not exit 0. */
function ok(r: Ran, what: string): Ran {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe("oracle package: installed from its tarball, run against a node on localhost", function () {
  // Generous, for a loaded 2-core CI machine: the file takes ~40 s here when idle, 1.5-2 min under load.
  this.timeout(300_000);
  const params = loadHexmeshParameters(LOCAL_PARAMETERS);
  const deploymentDir = path.join(REPO, "deploy", "deployments", DEPLOYMENT_ID);
  let tmp = "";
  let tarballs = "";
  let app = "";
  let packing: Promise<Array<{ name: string; filename: string; files: Array<{ path: string }> }>>;
  let installing: Promise<Ran>;
  let node: ReturnType<typeof startProcessGroup> | undefined;
  const services: Array<ReturnType<typeof startProcessGroup>> = [];
  let rpcUrl = "";
  let provider: JsonRpcProvider;
  let addresses: Record<string, string> = {};
  /** The installed @hexmesh/protocol, loaded through its package exports from the outsider folder. */
  let protocol: typeof import("@hexmesh/protocol");
  let protocolNode: typeof import("@hexmesh/protocol/node");
  /** The installed oracle's typed API client, as a device program or a wallet would use it. */
  let oracleApi: typeof import("@hexmesh/oracle/api/client");

  /** The installed CLI, run by this Node from the outsider folder: `node node_modules/.bin/hexmesh-oracle`. */
  const oracleCli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [path.join(app, "node_modules", ".bin", "hexmesh-oracle"), ...args], {
      cwd: app,
      env: outsiderEnv(env),
    });

  /** `npx hardhat hexmesh <task> --network localhost --deployment-id <id> ...` from the repository. */
  const hexmeshTask = (task: string, args: string[]) =>
    run(
      path.join(BIN, "hardhat"),
      ["hexmesh", task, "--network", "localhost", "--deployment-id", DEPLOYMENT_ID, ...args],
      { env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, LOCALHOST_RPC_URL: rpcUrl } },
    );

  before(async function () {
    // Under --coverage (HEXMESH_COVERAGE=1) Hardhat hands HARDHAT_COVERAGE to the `npm run deploy`
    // subprocess, which would deploy instrumented bytecode (DeviceRegistry over the 24,576-byte limit
    // Hardhat's node enforces). This test is about packaging and the documented commands, not about
    // contract code: the normal `hardhat test` runs it.
    if (coverageRun) this.skip();
    tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), "hexmesh-outsider-")));
    tarballs = path.join(tmp, "tarballs");
    app = path.join(tmp, "operator");
    mkdirSync(tarballs);
    mkdirSync(app);

    // Pack and install in the background while the node starts and the suite deploys.
    const npm = (args: string[], cwd: string) => run("npm", args, { cwd, env: outsiderEnv() });
    packing = npm(
      ["pack", ...PACKAGES.flatMap((p) => ["--workspace", p]), "--pack-destination", tarballs, "--json"],
      REPO,
    ).then((r) => JSON.parse(ok(r, "npm pack").stdout));
    installing = packing.then(async (packed) => {
      writeFileSync(
        path.join(app, "package.json"),
        JSON.stringify({ name: "hexmesh-operator", version: "0.0.0", private: true }),
      );
      return ok(
        await npm(
          [
            "install",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            ...packed.map((p) => path.join(tarballs, p.filename)),
          ],
          app,
        ),
        "npm install",
      );
    });
    installing.catch(() => {}); // awaited (and reported) by its test; never an unhandled rejection

    const port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    node = startProcessGroup(path.join(BIN, "hardhat"), ["node", "--port", String(port)]);
    await waitForRpc(rpcUrl, node.child, node.output, 120_000);
    provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 250 });
  });

  after(async function () {
    for (const s of services) await stopProcessGroup(s.child, "SIGTERM");
    for (const c of [...running]) await stopProcessGroup(c, "SIGKILL");
    provider?.destroy();
    await stopProcessGroup(node?.child, "SIGTERM");
    rmSync(deploymentDir, { recursive: true, force: true });
    if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
  });

  it("packs the oracle, protocol, compute and contracts packages: dist, bin and README, no sources or tests", async function () {
    const packed = await packing;
    expect(packed.map((p) => p.name).sort()).to.deep.equal([...PACKAGES].sort());
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      const dir = path.join(REPO, "packages", p.name.split("/")[1]!);
      expect(files, p.name).to.include.members([
        "package.json",
        "README.md",
        "dist/index.js",
        "dist/index.d.ts",
      ]);
      for (const f of files) {
        expect(f, `${p.name} ships ${f}`).to.match(/^(package\.json|README\.md|bin\/[^/]+\.js|dist\/.+)$/);
        expect(f, `${p.name} ships ${f}`).to.not.match(/(^|\/)(src|test|tests)\/|\.test\.|\.tsbuildinfo$/);
        // Compiled output only of sources that exist: a stale dist/ file (a deleted module) is not shipped.
        const js = /^dist\/(.+)\.js$/.exec(f);
        if (js !== null) {
          const stale = `${p.name}: ${f} has no source (stale build output: rm -rf packages/*/dist && npm run build)`;
          expect(existsSync(path.join(dir, "src", `${js[1]}.ts`)), stale).to.equal(true);
        }
      }
    }
    const oracle = packed.find((p) => p.name === "@hexmesh/oracle")!.files.map((f) => f.path);
    expect(oracle).to.include.members(["bin/hexmesh-oracle.js", "dist/cli/run.js", "dist/verify/worker.js"]);
  });

  it("deploys the suite to Hardhat's node on localhost with the documented command", async function () {
    const out = await runDeployCommand(rpcUrl, DEPLOYMENT_ID);
    expect(out).to.contain("successfully deployed");
    const recorded = JSON.parse(
      readFileSync(path.join(deploymentDir, "deployed_addresses.json"), "utf8"),
    ) as Record<string, string>;
    addresses = {
      token: recorded["Hexmesh#MeshToken"]!,
      registry: recorded["Hexmesh#DeviceRegistry"]!,
      vault: recorded["Hexmesh#StakingVault"]!,
      controller: recorded["Hexmesh#EmissionsController"]!,
      distributor: recorded["Hexmesh#RewardsDistributor"]!,
    };
    for (const [name, a] of Object.entries(addresses))
      expect(await provider.getCode(a), name).to.not.equal("0x");
  });

  it("installs the tarballs into an empty folder, dependencies from the registry, nothing from the repository", async function () {
    const r = await installing;
    console.log(
      `      npm install of the four tarballs into an empty folder: ${(r.ms / 1000).toFixed(1)} s (${/added \d+ packages/.exec(r.stdout)?.[0] ?? r.stdout.trim()})`,
    );
    const modules = path.join(app, "node_modules");
    for (const p of PACKAGES) {
      const dir = path.join(modules, p);
      expect(lstatSync(dir).isSymbolicLink(), `${p} is a link`).to.equal(false);
      expect(existsSync(path.join(dir, "src")), `${p} ships src/`).to.equal(false);
    }
    // Every link npm made (the .bin entries) stays inside the folder.
    const links: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isSymbolicLink()) links.push(p);
        else if (e.isDirectory()) walk(p);
      }
    };
    walk(modules);
    expect(links.length).to.be.greaterThan(0);
    for (const l of links)
      expect(realpathSync(l).startsWith(app + path.sep), `${l} -> ${realpathSync(l)}`).to.equal(true);
    const lock = JSON.parse(readFileSync(path.join(app, "package-lock.json"), "utf8")) as {
      packages: Record<string, { link?: boolean; resolved?: string }>;
    };
    for (const [where, entry] of Object.entries(lock.packages)) {
      expect(entry.link, `${where} is linked`).to.not.equal(true);
      expect(entry.resolved ?? "", where).to.not.contain(REPO);
    }
    // The oracle's verifier needs native secp256k1; npm 11 skips its install script (not in
    // allowScripts), which only builds when no prebuilt binding fits: the linux-x64 one must load.
    ok(
      await run(process.execPath, ["-e", "require('secp256k1/bindings')"], { cwd: app, env: outsiderEnv() }),
      "loading the native secp256k1 binding",
    );
    // Devices and owners in this test sign with the installed protocol and talk to the services with
    // the installed client, both resolved through their packages' exports from the outsider folder.
    const resolve = createRequire(path.join(app, "package.json")).resolve;
    protocol = (await import(pathToFileURL(resolve("@hexmesh/protocol")).href)) as typeof protocol;
    protocolNode = (await import(
      pathToFileURL(resolve("@hexmesh/protocol/node")).href
    )) as typeof protocolNode;
    oracleApi = (await import(pathToFileURL(resolve("@hexmesh/oracle/api/client")).href)) as typeof oracleApi;
    expect(resolve("@hexmesh/protocol").startsWith(app)).to.equal(true);
  });

  it("hexmesh-oracle --help lists the operator's commands", async function () {
    const r = ok(await oracleCli(["--help"]), "hexmesh-oracle --help");
    for (const c of [
      "serve",
      "close-epoch",
      "pull",
      "sign",
      "aggregate",
      "post",
      "status",
      "watch",
      "prune",
      "migrate",
      "check-config",
    ]) {
      expect(r.stdout).to.match(new RegExp(`^  ${c}\\b`, "m"));
    }
    expect(r.stdout).to.contain("HEXMESH_ORACLE_KEY");
  });

  /** Oracle A ingests and posts; oracle B pulls A's inputs: two of the 2-of-3 set, as the docs run them. */
  const oracles = [
    { name: "a", address: params.coverage.oracles[0]!, port: 0, url: "", config: "" },
    { name: "b", address: params.coverage.oracles[1]!, port: 0, url: "", config: "" },
  ];
  /** Hardhat's dev account #13 sends postRoot (any funded account may). */
  const poster = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0/13");
  let genesis = 0n;
  let epochLength = 0n;
  let firstEpoch = 0n;
  const epochOf = (ms: number) => (BigInt(Math.floor(ms / 1000)) - genesis) / epochLength;

  it("check-config prints a good configuration with the keys redacted, and refuses a bad one with exit 2", async function () {
    const controller = EmissionsController__factory.connect(addresses.controller!, provider);
    [genesis, epochLength] = await Promise.all([controller.genesisTime(), controller.epochLength()]);
    // The first epoch these oracles compute: the current one (a later close builds on it).
    firstEpoch = epochOf(Date.now());
    for (const o of oracles) {
      o.port = await freePort();
      o.url = `http://127.0.0.1:${o.port}`;
    }
    for (const [i, o] of oracles.entries()) {
      const peer = oracles[1 - i]!;
      o.config = path.join(app, `oracle-${o.name}.json`);
      // docs/oracle-service.md's file; keys come from the environment, never from the file.
      const config = {
        listen: { host: "127.0.0.1", port: o.port },
        store: { backend: "sqlite", path: `oracle-${o.name}.sqlite` },
        chain: {
          rpcUrl,
          addresses: {
            registry: addresses.registry,
            vault: addresses.vault,
            controller: addresses.controller,
            distributor: addresses.distributor,
          },
          fromBlock: 0,
          firstEpoch: Number(firstEpoch),
        },
        peers: [peer.url],
        ...(i === 1 ? { inputsFrom: peer.url } : {}),
        log: { level: "info" },
      };
      writeFileSync(o.config, JSON.stringify(config, null, 2));
    }
    const keys = { HEXMESH_ORACLE_KEY: devKey(oracles[0]!.address), HEXMESH_POSTER_KEY: poster.privateKey };
    const good = ok(await oracleCli(["-c", oracles[0]!.config, "check-config"], keys), "check-config");
    const shown = JSON.parse(good.stdout) as Record<string, any>;
    expect(shown.oracleKey).to.equal("(set)");
    expect(shown.posterKey).to.equal("(set)");
    expect(shown.store).to.deep.equal({ backend: "sqlite", path: path.join(app, "oracle-a.sqlite") });
    expect(shown.chain.addresses.distributor).to.equal(addresses.distributor);
    expect(shown.limits.batchMax).to.equal(2_000); // defaults filled in
    for (const k of Object.values(keys)) expect(good.stdout + good.stderr).to.not.contain(k.slice(2));

    const bad = path.join(app, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({
        listen: { port: 70_000 },
        store: { backend: "sqlite", path: "x.sqlite" },
        chain: { rpcUrl: "ftp://127.0.0.1", addresses: { registry: "0x1234" } },
        colour: "blue",
      }),
    );
    const refused = await oracleCli(["-c", bad, "check-config"], { HEXMESH_ORACLE_KEY: "0xabc" });
    expect(refused.code).to.equal(2);
    expect(refused.stdout).to.equal("");
    for (const problem of [
      `invalid config ${bad}`,
      "listen.port: must be <= 65535",
      'unknown key "colour"',
      "chain.rpcUrl: must match pattern",
      "chain.addresses: must have required property 'vault'",
      "chain.addresses.registry: must match pattern",
      "oracleKey: must be 0x followed by 64 hex digits",
    ]) {
      expect(refused.stderr).to.contain(problem);
    }
    const missing = await oracleCli(["-c", path.join(app, "nowhere.json"), "check-config"]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/cannot read config file .*nowhere\.json/);
  });

  /** Two devices of two owners (a witness of a device with the same owner would be refused). */
  interface Device {
    readonly signer: DeviceSigner;
    readonly owner: string;
    readonly site: (typeof SITES)[number];
  }
  let devices: Device[] = [];

  it("puts two devices on chain with the documented tasks: onboard --file, assert-location, stake", async function () {
    const {
      DEVICE_ATTESTATION_TYPES,
      DEVICE_OWNERSHIP_TYPES,
      registryDomain,
      registryKeyHash,
      registryKeyOf,
    } = protocol;
    const registry = DeviceRegistry__factory.connect(addresses.registry!, provider);
    const vault = StakingVault__factory.connect(addresses.vault!, provider);
    const token = MeshToken__factory.connect(addresses.token!, await provider.getSigner(params.treasury));
    const [maker] = params.registry.makers;
    const [hotspot] = params.registry.deviceClasses;
    const makerWallet = new Wallet(devKey(maker!.signer));
    const domain = registryDomain(31337n, addresses.registry!);
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    // Hardhat's dev accounts #6 and #7 own one device each; the treasury hands them the class fee and
    // one device's bond (an ERC-20 transfer: there is no task for it).
    const owners = [6, 7].map(
      (i) => HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).address,
    );
    for (const owner of owners) {
      await (await token.transfer(owner, hotspot!.onboardingFee + params.vault.minStakePerDevice)).wait();
    }
    devices = owners.map((owner, i) => ({
      signer: protocolNode.secp256k1Signer(new Uint8Array(randomBytes(32))),
      owner,
      site: SITES[i]!,
    }));
    await Promise.all(
      devices.map(async (d, i) => {
        // The maker's attestation of the key and the device's proof of possession naming its owner:
        // the file a maker ships with the device (tasks/onboard.ts reads it).
        const keyId = registryKeyHash(d.signer.key);
        const makerDeadline = now + 86_400n;
        const deviceDeadline = now + 86_400n;
        const makerSignature = await makerWallet.signTypedData(domain, DEVICE_ATTESTATION_TYPES, {
          keyId,
          deviceClass: hotspot!.id,
          makerId: maker!.id,
          deadline: makerDeadline,
        });
        const digest = TypedDataEncoder.hash(domain, DEVICE_OWNERSHIP_TYPES, {
          keyId,
          owner: d.owner,
          deadline: deviceDeadline,
        });
        const file = path.join(tmp, `onboard-${i}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            req: {
              key: registryKeyOf(d.signer.key),
              deviceClass: hotspot!.id,
              makerId: maker!.id,
              owner: d.owner,
              makerDeadline: makerDeadline.toString(),
              deviceDeadline: deviceDeadline.toString(),
            },
            makerSignature,
            deviceSignature: hexlify(d.signer.sign(getBytes(digest))),
          }),
        );
        const as = ["--account", d.owner];
        const onboarded = ok(await hexmeshTask("onboard", ["--file", file, ...as]), "hexmesh onboard");
        expect(onboarded.stdout).to.contain(`device ${keyId} onboarded`);
        ok(
          await hexmeshTask("assert-location", [
            "--device",
            keyId,
            "--lat",
            d.site.lat,
            "--lng",
            d.site.lng,
            ...as,
          ]),
          "hexmesh assert-location",
        );
        ok(
          await hexmeshTask("stake", ["--amount", formatEther(params.vault.minStakePerDevice), ...as]),
          "hexmesh stake",
        );
        expect(await registry.statusOf(BigInt(keyId))).to.equal(1n); // Active
        expect((await registry.deviceInfo(BigInt(keyId))).owner).to.equal(d.owner);
        expect(await vault.bondedDeviceCount(d.owner)).to.equal(1n);
      }),
    );
  });

  it("serves: devices report over HTTP, the epoch closes, the installed CLI signs and posts, an owner's proof comes back", async function () {
    const { encodeReport, signBeacon, signWitness } = protocol;
    // --- two oracle services from the installed package --------------------------------------------
    for (const o of oracles) {
      const s = startProcessGroup(
        process.execPath,
        [path.join(app, "node_modules", ".bin", "hexmesh-oracle"), "-c", o.config, "serve"],
        { cwd: app, env: outsiderEnv({ HEXMESH_ORACLE_KEY: devKey(o.address) }) },
      );
      services.push(s);
    }
    await Promise.all(
      oracles.map((o, i) => waitReady(o.url, services[i]!.child, services[i]!.output, 120_000)),
    );
    const [a, b] = oracles as [(typeof oracles)[0], (typeof oracles)[0]];
    const keyOf = (o: typeof a) => ({ HEXMESH_ORACLE_KEY: devKey(o.address) });
    const step = async (o: typeof a, args: string[], env: Record<string, string> = {}) =>
      JSON.parse(
        ok(
          await oracleCli(["-c", o.config, ...args], { ...keyOf(o), ...env }),
          `hexmesh-oracle ${args.join(" ")}`,
        ).stdout,
      ) as Record<string, any>;

    // --- the devices report to oracle A -------------------------------------------------------------
    // All four reports in one epoch, clear of its edges (reports within 4 s of an edge count in both
    // neighbouring epochs' windows), and the devices on chain before it ends: Hardhat's node gives
    // each block a later second than the one before, so after the deployment's many blocks its clock
    // runs ahead of this one (10-15 s here). Otherwise wait for the next epoch.
    const len = Number(epochLength) * 1000;
    const start = Number(genesis) * 1000;
    const lastBlockMs = (await provider.getBlock("latest"))!.timestamp * 1000;
    const fits = () => {
      const now = Date.now();
      const end = start + Math.floor((now - start) / len + 1) * len;
      return now - (end - len) >= 6_000 && end - now >= 40_000 && end - lastBlockMs >= 40_000;
    };
    while (!fits()) await new Promise((r) => setTimeout(r, 1_000));
    const domain: ReportDomain = {
      chainId: 31337n,
      verifyingContract: addresses.registry!.toLowerCase() as Hex,
    };
    const [apiA, apiB] = oracles.map((o) => new oracleApi.OracleClient(o.url)) as [
      InstanceType<typeof oracleApi.OracleClient>,
      InstanceType<typeof oracleApi.OracleClient>,
    ];
    // B pulls its inputs from A (inputsFrom), entropy included: it publishes none of its own, which
    // would conflict with A's for the same slot, and says where to ask.
    const noEntropy = await apiB.entropy().then(
      () => null,
      (e: unknown) => e as InstanceType<typeof oracleApi.OracleApiError>,
    );
    expect(noEntropy?.status).to.equal(503);
    expect(noEntropy?.code).to.equal("not_ingest");
    expect(noEntropy?.apiMessage).to.contain(oracles[0]!.url);
    const accepted: number[] = [];
    const submit = async (report: Parameters<typeof encodeReport>[0]) => {
      const r = await apiA.submitReport(encodeReport(report));
      expect(r.status).to.equal("accepted");
      expect(r.receivedAt).to.be.a("number");
      accepted.push(r.receivedAt!);
    };
    for (const [i, beaconer] of devices.entries()) {
      const witness = devices[1 - i]!;
      const entropy = await apiA.entropy();
      const beacon = signBeacon(beaconer.signer, domain, {
        remoteEntropy: entropy.value as Hex,
        localEntropy: hexlify(randomBytes(32)) as Hex,
        ...RADIO,
        timestamp: BigInt(Date.now()),
      });
      await submit(beacon);
      // The other device heard it ~560 m away: -90 dBm, SNR 5 dB (well inside free-space bounds).
      await submit(
        signWitness(witness.signer, domain, {
          heardPayload: beacon.payload,
          signal: -900,
          snr: 50,
          frequency: RADIO.frequency,
          dataRate: RADIO.dataRate,
          timestamp: BigInt(Date.now()),
        }),
      );
    }
    const epoch = epochOf(Math.min(...accepted));
    expect(epochOf(Math.max(...accepted))).to.equal(epoch);

    // --- the chain's epoch ends and is distributed (controller.distribute; anyone may call it) --------
    const end = Number(genesis + (epoch + 1n) * epochLength);
    const latest = (await provider.getBlock("latest"))!.timestamp;
    // Past the end by the oracles' close delay (2 witness windows + the grace): close-epoch refuses before.
    const closable = end + Number(CLOSE_AFTER_END_S);
    if (latest <= closable) await provider.send("evm_increaseTime", [closable - latest + 1]);
    await provider.send("evm_mine", []);
    const keeper = await provider.getSigner(0);
    const controller = EmissionsController__factory.connect(addresses.controller!, keeper);
    while ((await controller.nextEpoch()) <= epoch) await (await controller.distribute(32)).wait();

    // --- each oracle computes every epoch from its first on; B pulls A's inputs ------------------------
    const results = await Promise.all(
      [a, b].map(async (o) => {
        const out: Array<Record<string, any>> = [];
        for (let e = firstEpoch; e <= epoch; e++) {
          if (o === b) await step(o, ["pull", String(e)]);
          out.push(await step(o, ["close-epoch", String(e)]));
        }
        return out.at(-1)!;
      }),
    );
    const [closedA, closedB] = results as [Record<string, any>, Record<string, any>];
    expect(closedA).to.deep.include({
      epoch: epoch.toString(),
      reports: 4,
      valid: 4,
      beacons: 2,
      witnesses: 2,
    });
    expect(closedA.owners).to.equal(2);
    expect(closedB.root).to.equal(closedA.root);
    expect(closedB.dataHash).to.equal(closedA.dataHash);

    // --- sign on both, post from A with B's signature collected over HTTP ----------------------------
    await step(b, ["sign", String(epoch)]);
    await step(a, ["sign", String(epoch)]);
    const posted = await step(a, ["post", String(epoch)], { HEXMESH_POSTER_KEY: poster.privateKey });
    expect(posted.status).to.equal("posted");
    const distributor = RewardsDistributor__factory.connect(addresses.distributor!, keeper);
    const pending = await distributor.pendingRoot();
    expect([pending[0], pending[1]]).to.deep.equal([epoch, closedA.root]);

    // --- a second post is skipped; status shows the landed post and both attempts ---------------------
    const again = await step(a, ["post", String(epoch)], { HEXMESH_POSTER_KEY: poster.privateKey });
    expect(again.status).to.equal("skipped");
    const status = await step(a, ["status", String(epoch)]);
    const row = (status.epochs as Array<Record<string, any>>).find((e) => e.epoch === epoch.toString())!;
    expect(row.post.status).to.equal("posted");
    expect(row.post.txHash).to.equal(posted.txHash);
    expect(row.postAttempts.map((x: { outcome: string }) => x.outcome)).to.deep.equal(["posted", "skipped"]);

    // --- the installed watcher checks the pending root against both oracles' result sets ------------
    const watched = await oracleCli([
      "watch",
      "--once",
      "--rpc",
      rpcUrl,
      "--distributor",
      addresses.distributor!,
      "--oracle",
      a.url,
      b.url,
      "--evidence-dir",
      path.join(tmp, "evidence"),
    ]);
    expect(watched.code, `${watched.stdout}${watched.stderr}`).to.equal(0);
    expect(watched.stdout).to.contain("root confirmed by every oracle's result set");

    // --- the challenge window passes; the root goes live --------------------------------------------
    await provider.send("evm_increaseTime", [params.coverage.challengeWindow + 1]);
    await provider.send("evm_mine", []);
    await (await distributor.finalize()).wait();
    const [liveEpoch, liveRoot] = await distributor.liveRoot();
    expect(liveEpoch).to.equal(epoch);

    // --- each owner's proof from the running services: it verifies, and it claims --------------------
    expect((await apiB.epoch(epoch)).summary).to.deep.include({ reports: 4, valid: 4, owners: 2 });
    for (const [i, d] of devices.entries()) {
      const claim = await [apiA, apiB][i]!.owner(d.owner); // one proof from each service
      const cumulative = BigInt(claim.cumulative);
      expect(cumulative).to.be.greaterThan(0n);
      expect(claim.root).to.equal(liveRoot);
      expect(
        StandardMerkleTree.verify(liveRoot, ["address", "uint256"], [d.owner, cumulative], claim.proof),
      ).to.equal(true);
      const token = MeshToken__factory.connect(addresses.token!, provider);
      const before = await token.balanceOf(d.owner);
      const owner = await provider.getSigner(d.owner);
      await (await distributor.connect(owner).claim(d.owner, cumulative, claim.proof)).wait();
      expect(await token.balanceOf(d.owner)).to.equal(before + cumulative);
      expect(await apiA.owner(d.owner)).to.deep.include({ claimed: cumulative.toString(), claimable: "0" });
    }

    // --- retention: the installed CLI prunes A's raw reports of the live epoch (keepEpochs 0) --------
    const noRetention = await oracleCli(["-c", a.config, "prune"], keyOf(a));
    expect(noRetention.code).to.equal(2);
    expect(noRetention.stderr).to.contain("prune needs retention.keepEpochs in the configuration");
    const retained = path.join(app, "oracle-a-retention.json");
    writeFileSync(
      retained,
      JSON.stringify({ ...JSON.parse(readFileSync(a.config, "utf8")), retention: { keepEpochs: 0 } }),
    );
    const prune = async (args: string[]) =>
      JSON.parse(
        ok(await oracleCli(["-c", retained, "prune", ...args]), `prune ${args.join(" ")}`).stdout,
      ) as {
        liveEpoch: string;
        dryRun: boolean;
        pruned: { epoch: string; fromMs: number; toMs: number; reports: number }[];
      };
    const dry = await prune(["--dry-run"]);
    const epochs = Array.from({ length: Number(epoch - firstEpoch) + 1 }, (_, i) =>
      String(firstEpoch + BigInt(i)),
    );
    expect(dry).to.deep.include({ liveEpoch: epoch.toString(), dryRun: true });
    expect(dry.pruned.map((p) => p.epoch)).to.deep.equal(epochs);
    expect(await apiA.inputReports({ from: 0, to: Number.MAX_SAFE_INTEGER })).to.include({ total: 4 });
    const pruned = await prune([]);
    expect(pruned.pruned.map((p) => [p.epoch, p.fromMs, p.toMs, p.reports])).to.deep.equal(
      dry.pruned.map((p) => [p.epoch, p.fromMs, p.toMs, p.reports]),
    );
    // Exactly the reports received in the deleted ranges are gone; the ranges meet end to end.
    const inRanges = (t: number) => pruned.pruned.some((p) => t >= p.fromMs && t < p.toMs);
    expect(pruned.pruned.reduce((n, p) => n + p.reports, 0)).to.equal(accepted.filter(inRanges).length);
    expect(
      await apiA.inputReports({ from: 0, to: Number.MAX_SAFE_INTEGER }).catch((e: Error) => e),
    ).to.include({
      status: 410,
      code: "pruned",
    });
    expect(pruned.pruned.slice(1).every((p, i) => p.fromMs === pruned.pruned[i]!.toMs)).to.equal(true);
    // What the epoch's result says is still served: its summary and every owner's proof.
    expect((await apiA.epoch(epoch)).summary).to.deep.include({ reports: 4, valid: 4, owners: 2 });
    expect((await apiA.owner(devices[0]!.owner)).root).to.equal(liveRoot);
    expect((await prune([])).pruned).to.deep.equal([]);
    const notLive = await oracleCli(["-c", retained, "prune", String(epoch + 1n)]);
    expect(notLive.code).to.equal(1);
    expect(notLive.stderr).to.contain(`epoch ${epoch + 1n} has not been closed by this oracle`);
  });
});
