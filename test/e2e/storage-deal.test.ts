/**
 * Issue 19 end to end: a client stores a file (three pieces, a non-power-of-two size) with two
 * provider agents, each a real `hexmesh-storage provider start` process with its HTTP server on
 * localhost, against Hardhat's chain served as JSON-RPC on localhost. The client uses the CLI
 * (upload, deal create, add-pieces, fund, status, download). The test only moves the chain's clock
 * and mines blocks. The honest agent proves every period and is paid (UsageRecorded); the other
 * agent's copy is damaged on disk, so it cannot prove: its first miss is free, the second costs the
 * fault fee. The honest agent is killed between periods and restarted: it proves the next window.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { HDNodeWallet, Wallet } from "ethers";
import { network } from "hardhat";

import { StorageDeals__factory } from "@hexmesh/contracts";
import { buildApi } from "@hexmesh/oracle";
import { Ingestor } from "@hexmesh/oracle/service/ingest";
import { StorageIndexer } from "@hexmesh/oracle/storage/indexer";
import { RetrievalProber } from "@hexmesh/oracle/storage/probe";
import { StorageStore } from "@hexmesh/oracle/storage/store";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { InlineAuthenticator } from "@hexmesh/oracle/verify/prepare";
import { retrievalDomain } from "@hexmesh/protocol";

import { freePort, serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import { DOMAIN } from "../helpers/service.js";
import {
  BOND,
  CLASS_STORAGE,
  DAY,
  deployStorage,
  SUBNET_STORAGE,
  WINDOW,
  type StorageSystem,
} from "../helpers/storage.js";
import { runStorageCli, STORAGE_CLI } from "../helpers/storageCli.js";

const MNEMONIC = "test test test test test test test test test test test junk";
const PIECE_SIZE = 64 * 1024;
const FILE_SIZE = 2 * PIECE_SIZE + 12_345;
const PRICE = 10n ** 12n; // micro-USD per TiB-month: a small file pays whole credits per period
const Outcome = { Proven: 0n, Rescheduled: 1n, DeclaredFault: 2n, FreeMiss: 3n, Faulted: 4n };

function keyOf(address: string): string {
  for (let i = 0; i < 20; i++) {
    const w = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
    if (w.address === address) return w.privateKey;
  }
  throw new Error(`no default key for ${address}`);
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runStorageCli(args, { ...process.env, ...env });

async function cliJson<T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const r = await cli(args, env);
  if (r.code !== 0) throw new Error(`hexmesh-storage ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

class Agent {
  child: ChildProcess | undefined;
  out = "";
  constructor(
    readonly name: string,
    readonly configFile: string,
    readonly key: string,
  ) {}

  start(): void {
    this.child = spawn(process.execPath, [STORAGE_CLI, "provider", "start", "--config", this.configFile], {
      env: { ...process.env, HEXMESH_PROVIDER_KEY: this.key },
    });
    this.child.stdout!.on("data", (b: Buffer) => (this.out += b.toString()));
    this.child.stderr!.on("data", (b: Buffer) => (this.out += b.toString()));
  }

  /** Kills the process outright (no clean shutdown), as a crash or power loss would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  events(name: string): Record<string, unknown>[] {
    return this.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event === name);
  }
}

describe("storage end to end: upload, deal, daily proofs, payment, faults, restart, download", function () {
  this.timeout(1_200_000);
  let dir: string;
  let rpc: JsonRpcEndpoint;
  let fx: StorageSystem;
  const agents: Agent[] = [];
  let mining: NodeJS.Timeout | undefined;

  after(async function () {
    if (mining) clearInterval(mining);
    for (const a of agents) await a.kill();
    await rpc?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Polls `check` (mining a block each round, so armed challenges become readable) until it holds. */
  async function until(what: string, check: () => Promise<boolean>, ms = 180_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}\n${agents.map((a) => `--- ${a.name}\n${a.out}`).join("\n")}`,
        );
      }
      await fx.helpers.mine(1);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  it("stores a file with two providers, pays the honest one, fines the damaged one, survives a restart", async function () {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-storage-e2e-"));
    const connection = await network.create();
    fx = await deployStorage(connection.ethers, connection.networkHelpers);
    await fx.deals.connect(fx.admin).setPrice(PRICE);
    rpc = await serveJsonRpc(connection.provider);
    const dealsAddr = await fx.deals.getAddress();
    const meshAddr = await fx.token.getAddress();

    // A second storage provider (the outsider) with its own bonded device.
    const badDevice = await fx.onboard(fx.outsider.address, CLASS_STORAGE);
    await fx.token.connect(fx.outsider).approve(await fx.vault.getAddress(), 2n * BOND);
    await fx.vault.connect(fx.outsider).stake(2n * BOND); // it also owns a coverage device

    const providers = [
      { name: "honest", signer: fx.provider, device: fx.storageDevice },
      { name: "damaged", signer: fx.outsider, device: badDevice },
    ];
    for (const p of providers) {
      const port = await freePort();
      const config = {
        rpcUrl: rpc.url,
        deals: dealsAddr,
        mesh: meshAddr,
        deviceId: p.device.toString(),
        dataDir: path.join(dir, p.name),
        host: "127.0.0.1",
        port,
        publicUrl: `http://127.0.0.1:${port}`,
        pollMs: 100,
      };
      const file = path.join(dir, `${p.name}.json`);
      await writeFile(file, JSON.stringify(config));
      const agent = new Agent(p.name, file, keyOf(p.signer.address));
      agents.push(agent);
      agent.start();
    }
    const [honest, damaged] = agents as [Agent, Agent];
    const urls = await Promise.all(
      providers.map(async (p) => {
        let url = "";
        await until(
          `${p.name}'s endpoint on chain`,
          async () => (url = await fx.deals.endpointOf(p.device)) !== "",
        );
        return url;
      }),
    );

    const health = (await (await fetch(`${urls[0]}/v1/health`)).json()) as Record<string, unknown>;
    expect(health).to.deep.include({
      ok: true,
      provider: fx.provider.address,
      deviceId: fx.storageDevice.toString(),
    });
    expect((health.lastTick as { block: number }).block).to.be.greaterThan(0);

    // The client uploads the file to both and keeps the manifest.
    const data = randomBytes(FILE_SIZE);
    const file = path.join(dir, "file.bin");
    await writeFile(file, data);
    const clientEnv = {
      HEXMESH_CLIENT_KEY: keyOf(fx.client.address),
      HEXMESH_RPC_URL: rpc.url,
      HEXMESH_STORAGE_DEALS: dealsAddr,
    };
    const manifestFile = path.join(dir, "manifest.json");
    const manifest = await cliJson<{ pieces: { root: string; size: number }[] }>(
      [
        "upload",
        file,
        "--provider",
        urls[0]!,
        "--piece-size",
        String(PIECE_SIZE),
        "--manifest",
        manifestFile,
      ],
      clientEnv,
    );
    expect(manifest.pieces.map((p) => p.size)).to.deep.equal([PIECE_SIZE, PIECE_SIZE, 12_345]);
    await cliJson(["upload", file, "--provider", urls[1]!, "--piece-size", String(PIECE_SIZE)], clientEnv);

    // Data sets with both, accepted by the agents, pieces added, credits locked, collateral posted.
    const ids: bigint[] = [];
    for (const p of providers) {
      const created = await cliJson<{ id: string }>(
        ["deal", "create", "--device", p.device.toString()],
        clientEnv,
      );
      ids.push(BigInt(created.id));
    }
    for (const id of ids) {
      await until(`data set ${id} accepted`, async () => (await fx.deals.dataSet(id)).status === 2n);
      const added = await cliJson<{ rate: string; locked: string }>(
        ["deal", "add-pieces", id.toString(), "--manifest", manifestFile],
        clientEnv,
      );
      expect(BigInt(added.locked)).to.equal(BigInt(added.rate) * 30n);
      await cliJson(["deal", "fund", id.toString(), "--credits", "5"], clientEnv);
      await until(`collateral of ${id}`, async () => {
        const ds = await fx.deals.dataSet(id);
        return ds.collateral > 0n && ds.collateral >= (await fx.deals.requiredCollateral(id));
      });
    }
    const [goodId, badId] = ids as [bigint, bigint];
    const rate = (await fx.deals.dataSet(goodId)).rate;
    expect(rate > 0n).to.equal(true);

    // The second provider's copy rots: every piece file overwritten on disk.
    const piecesDir = path.join(dir, "damaged", "pieces");
    for (const root of await readdir(piecesDir)) {
      const f = path.join(piecesDir, root, "data");
      await writeFile(f, randomBytes((await readFile(f)).length));
    }

    /** Opens the next proof window of both data sets (their clocks started seconds apart). */
    const toWindows = async () => {
      const ends = await Promise.all(ids.map(async (id) => (await fx.deals.dataSet(id)).periodEnd));
      const now = BigInt(await fx.helpers.time.latest());
      let target = ends.reduce((a, b) => (a > b ? a : b)) - WINDOW;
      while (target <= now) target += DAY;
      await fx.helpers.time.increaseTo(target);
    };
    const provenPeriods = async (id: bigint) =>
      (await fx.deals.queryFilter(fx.deals.filters.PossessionProven(id), 0)).map((e) => e.args.period);

    // Three periods; the honest agent is killed after the second and restarted in the third window.
    for (let period = 0n; period < 3n; period++) {
      if (period === 2n) await honest.kill();
      await toWindows();
      if (period === 2n) honest.start();
      await until(`period ${period} proven by the honest agent`, async () =>
        (await provenPeriods(goodId)).includes(period),
      );
      await until(`period ${period} armed for the damaged agent`, async () => {
        const ds = await fx.deals.dataSet(badId);
        return ds.period === period && ds.challengeBlock > 0n;
      });
    }
    expect(await provenPeriods(goodId)).to.deep.equal([0n, 1n, 2n]);
    expect(await provenPeriods(badId)).to.deep.equal([]);
    expect(damaged.events("proof_unavailable").length).to.be.greaterThan(0);
    expect(honest.events("listening").length).to.equal(2); // it was restarted

    // Settle the last period of both, and check payments and fees.
    await fx.helpers.time.increase(WINDOW);
    for (const id of ids) await fx.deals.settle(id);
    // Paid: one UsageRecorded per proven period, to the honest provider only.
    const usage = await fx.credits.queryFilter(fx.credits.filters.UsageRecorded(), 0);
    expect(usage.map((e) => [e.args.subnetwork, e.args.provider, e.args.credits])).to.deep.equal(
      Array.from({ length: 3 }, () => [SUBNET_STORAGE, fx.provider.address, rate]),
    );
    const settled = await fx.deals.queryFilter(fx.deals.filters.PeriodSettled(badId), 0);
    expect(settled.map((e) => e.args.outcome)).to.deep.equal([
      Outcome.FreeMiss,
      Outcome.Faulted,
      Outcome.Faulted,
    ]);
    const feePer = (await fx.deals.dataSet(badId)).collateralPerPeriod * 2n;
    expect(settled.map((e) => e.args.fee)).to.deep.equal([0n, feePer, feePer]);
    expect(await fx.deals.meshOwed(fx.client.address)).to.equal(feePer); // half of two fees

    // The client's view.
    const status = await cliJson<{ provenPeriods: string[]; paidCredits: string; faults: number }>(
      ["deal", "status", goodId.toString()],
      clientEnv,
    );
    expect(status.provenPeriods).to.deep.equal(["0", "1", "2"]);
    expect(BigInt(status.paidCredits)).to.equal(3n * rate);
    const badStatus = await cliJson<{ faults: number; feesCharged: string }>(
      ["deal", "status", badId.toString()],
      clientEnv,
    );
    expect(badStatus.faults).to.equal(3);
    expect(BigInt(badStatus.feesCharged)).to.equal(2n * feePer);

    // The storage oracle (issue 19, the oracle part): indexes the deals, probes today's range of each
    // data set at the agents' registered endpoints, and serves the signed results to the client's CLI.
    const sqlite = new SqliteStore({ path: path.join(dir, "oracle.sqlite") });
    await sqlite.migrate();
    const storageStore = new StorageStore(sqlite.storageSql());
    const dealsReader = StorageDeals__factory.connect(dealsAddr, connection.ethers.provider);
    await new StorageIndexer(dealsReader, storageStore, { fromBlock: 0 }).run();
    expect((await storageStore.liveDataSets()).map((d) => d.id)).to.deep.equal(ids);
    const oracleKey = new Wallet(Wallet.createRandom().privateKey);
    const prober = new RetrievalProber(
      dealsReader,
      storageStore,
      oracleKey,
      retrievalDomain((await connection.ethers.provider.getNetwork()).chainId, dealsAddr),
      { timeoutMs: 5_000 },
    );
    const probed = await prober.tick();
    expect(probed.map((r) => r.dataSetId)).to.deep.equal(ids);
    expect(probed[0]!.outcome).to.equal("ok"); // the honest agent's range verifies against the root
    // The rotted copy: its range cannot verify against the client's root (wrong bytes or refused).
    expect(["bad_proof", "refused"]).to.include(probed[1]!.outcome);
    const oracleApi = await buildApi({
      store: sqlite,
      ingestor: new Ingestor(sqlite, {
        clock: () => 0,
        authenticator: new InlineAuthenticator(DOMAIN, []),
        limits: {
          perDevicePerMinute: 1,
          clientReportsPerMinute: 1,
          perDevicePerWindow: 1,
          beaconWindowMs: 1,
        },
      }),
      limits: { bodyBytes: 1 << 20, batchMax: 10, batchesPerMinute: 100 },
    });
    const oracleUrl = await oracleApi.listen({ host: "127.0.0.1", port: 0 });
    try {
      const withRetrievals = await cliJson<{
        retrievals: { outcome: string; signer: string }[];
      }>(["deal", "status", badId.toString(), "--oracle", oracleUrl], clientEnv);
      expect(withRetrievals.retrievals.map((r) => [r.outcome, r.signer])).to.deep.equal([
        [probed[1]!.outcome, oracleKey.address.toLowerCase()],
      ]);
    } finally {
      await oracleApi.close();
      await sqlite.close();
    }

    // Download: byte-exact from the honest agent; refused and deleted from the damaged one.
    const out = path.join(dir, "out.bin");
    await cliJson(["download", "--manifest", manifestFile, "--provider", urls[0]!, "--out", out], clientEnv);
    expect((await readFile(out)).equals(data)).to.equal(true);
    const bad = await cli(
      ["download", manifest.pieces[0]!.root, "--provider", urls[1]!, "--out", path.join(dir, "bad.bin")],
      clientEnv,
    );
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain("root_mismatch");
    expect(existsSync(path.join(dir, "bad.bin"))).to.equal(false);
  });
});
