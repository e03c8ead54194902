/** Service configuration: file + environment, validated with clear errors; the CLI exits 2 on a bad one. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { ConfigError, loadConfig, validateConfig } from "@hexmesh/oracle";

import { spawnCli } from "../../helpers/service.js";

const ADDR = `0x${"11".repeat(20)}`;
const KEY = `0x${"22".repeat(32)}`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("service: configuration", function () {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("fills defaults and resolves the SQLite path", () => {
    const cfg = validateConfig({ store: { backend: "sqlite", path: "data/o.sqlite" } });
    expect(cfg.listen).to.deep.equal({ host: "127.0.0.1", port: 8080 });
    expect(cfg.limits).to.deep.equal({
      bodyBytes: 4 * 1024 * 1024,
      batchMax: 2_000,
      perDevicePerMinute: 120,
      clientReportsPerMinute: 120_000,
      perDevicePerWindow: 1_000,
      batchesPerMinute: 6_000,
    });
    expect(cfg.ingest).to.deep.equal({});
    expect(cfg.epochs).to.deep.equal({ closeGraceMs: 60_000 });
    expect(cfg.clock).to.deep.equal({ mode: "system", offsetMs: 0 });
    expect(cfg.peers).to.deep.equal([]);
    expect(cfg.store).to.deep.equal({ backend: "sqlite", path: path.resolve("data/o.sqlite") });
  });

  it("lets the environment override the file", () => {
    const file = path.join(dir, "ok.json");
    writeFileSync(
      file,
      JSON.stringify({ store: { backend: "sqlite", path: "/tmp/x.sqlite" }, listen: { port: 1 } }),
    );
    const cfg = loadConfig(file, {
      HEXMESH_LISTEN_PORT: "9090",
      HEXMESH_STORE_URL: "postgres://u:p@localhost/db",
      HEXMESH_ORACLE_KEY: KEY,
      HEXMESH_PEERS: "http://a:1, http://b:2",
      HEXMESH_LOG_LEVEL: "debug",
    });
    expect(cfg.listen.port).to.equal(9090);
    expect(cfg.store).to.deep.equal({ backend: "postgres", url: "postgres://u:p@localhost/db" });
    expect(cfg.oracleKey).to.equal(KEY);
    expect(cfg.peers).to.deep.equal(["http://a:1", "http://b:2"]);
    expect(cfg.log.level).to.equal("debug");
  });

  it("takes an optional staticDir (file or HEXMESH_STATIC_DIR) that must hold an index.html", () => {
    const site = path.join(dir, "site");
    mkdirSync(site, { recursive: true });
    expect(validateConfig({ store: { backend: "sqlite", path: "o.sqlite" } }).staticDir).to.equal(undefined);
    expect(
      errorOf(() => validateConfig({ store: { backend: "sqlite", path: "o.sqlite" }, staticDir: site })),
    ).to.match(/staticDir: no index.html in/);
    expect(
      errorOf(() => validateConfig({ store: { backend: "sqlite", path: "o.sqlite" }, staticDir: "" })),
    ).to.match(/staticDir: must NOT have fewer than 1 characters/);
    writeFileSync(path.join(site, "index.html"), "<!doctype html>");
    const file = path.join(dir, "static.json");
    writeFileSync(file, JSON.stringify({ store: { backend: "sqlite", path: "o.sqlite" } }));
    expect(loadConfig(file, { HEXMESH_STATIC_DIR: site }).staticDir).to.equal(path.resolve(site));
  });

  it("takes the UsageCredits address and a bytes32 subnetwork id for usage, refusing malformed ones", () => {
    const chain = (extra: Record<string, string>) => ({
      store: { backend: "sqlite", path: "x" },
      chain: {
        rpcUrl: "http://127.0.0.1:8545",
        addresses: { registry: ADDR, vault: ADDR, controller: ADDR, distributor: ADDR, ...extra },
      },
    });
    const sub = `0x${"ab".repeat(32)}`;
    expect(validateConfig(chain({ credits: ADDR, subnetwork: sub })).chain!.addresses).to.deep.include({
      credits: ADDR,
      subnetwork: sub,
    });
    const msg = errorOf(() => validateConfig(chain({ credits: "0x12", subnetwork: ADDR })));
    expect(msg).to.contain("chain.addresses.credits: must match pattern");
    expect(msg).to.contain("chain.addresses.subnetwork: must match pattern");
  });

  it("takes retention.keepEpochs (absent: no retention), refusing a negative, fractional or missing count", () => {
    const store = { backend: "sqlite", path: "x" };
    expect(validateConfig({ store }).retention).to.equal(undefined);
    expect(validateConfig({ store, retention: { keepEpochs: 0 } }).retention).to.deep.equal({
      keepEpochs: 0,
    });
    expect(validateConfig({ store, retention: { keepEpochs: 30 } }).retention).to.deep.equal({
      keepEpochs: 30,
    });
    expect(errorOf(() => validateConfig({ store, retention: { keepEpochs: -1 } }))).to.contain(
      "retention.keepEpochs: must be >= 0",
    );
    expect(errorOf(() => validateConfig({ store, retention: { keepEpochs: 1.5 } }))).to.contain(
      "retention.keepEpochs: must be integer",
    );
    expect(errorOf(() => validateConfig({ store, retention: {} }))).to.contain(
      "retention: must have required property 'keepEpochs'",
    );
    expect(errorOf(() => validateConfig({ store, retention: { keepEpochs: 1, days: 2 } }))).to.contain(
      'retention: unknown key "days"',
    );
  });

  it("names every problem, one per line", () => {
    const msg = errorOf(() =>
      validateConfig({
        store: { backend: "sqlite", path: "x" },
        listen: { port: 70000 },
        chain: {
          rpcUrl: "ftp://x",
          addresses: { registry: ADDR, vault: "0x12", controller: ADDR, distributor: ADDR },
        },
        oracleKey: "0xabc",
        log: { level: "loud" },
        extra: true,
      }),
    );
    expect(msg).to.contain('(top level): unknown key "extra"');
    expect(msg).to.contain("listen.port: must be <= 65535");
    expect(msg).to.contain("chain.rpcUrl: must match pattern");
    expect(msg).to.contain("chain.addresses.vault: must match pattern");
    expect(msg).to.contain("oracleKey: must be 0x followed by 64 hex digits");
    expect(msg).to.contain("log.level: must be one of fatal, error, warn, info, debug, trace, silent");
    expect(errorOf(() => validateConfig({}))).to.contain("must have required property 'store'");
    expect(errorOf(() => loadConfig(path.join(dir, "missing.json")))).to.match(/cannot read config file/);
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, "{ nope");
    expect(errorOf(() => loadConfig(bad))).to.match(/is not valid JSON/);
    writeFileSync(bad, "[1]");
    expect(errorOf(() => loadConfig(bad))).to.match(/must hold a JSON object/);
    expect(errorOf(() => loadConfig(undefined, { HEXMESH_LISTEN_PORT: "abc" }))).to.match(
      /listen.port: must be integer/,
    );
  });

  it("stops the CLI with exit code 2 and the message on a bad configuration", async function () {
    this.timeout(60_000);
    const file = path.join(dir, "cli.json");
    writeFileSync(file, JSON.stringify({ store: { backend: "mysql" } }));
    const cli = spawnCli(["-c", file, "serve"]);
    const code = await new Promise((r) => cli.child.once("exit", r));
    expect(code).to.equal(2);
    expect(cli.output()).to.match(/hexmesh-oracle: invalid config .*cli\.json:\n {2}- store/);
  });

  it("takes works.storage and works.compute (distributor, class subnetwork), each needing its oracle section", () => {
    const store = { backend: "sqlite", path: "x" };
    const chain = {
      rpcUrl: "http://127.0.0.1:8545",
      addresses: { registry: ADDR, vault: ADDR, controller: ADDR, distributor: ADDR },
    };
    const storage = { deals: ADDR, suspensions: ADDR, distributor: ADDR };
    const works = { storage: { distributor: ADDR, classSubnetwork: 2 } };
    expect(validateConfig({ store, chain, storage, works }).works).to.deep.equal(works);
    expect(validateConfig({ store }).works).to.equal(undefined);
    expect(errorOf(() => validateConfig({ store, chain, works }))).to.contain(
      "works.storage: needs storage (the StorageDeals index",
    );
    expect(
      errorOf(() =>
        validateConfig({ store, chain, works: { compute: { distributor: ADDR, classSubnetwork: 1 } } }),
      ),
    ).to.contain("works.compute: needs compute (the ComputeJobs index");
    expect(errorOf(() => validateConfig({ store, storage, works }))).to.contain("works: needs chain");
    const bad = errorOf(() =>
      validateConfig({
        store,
        chain,
        storage,
        works: { storage: { distributor: "0x12", classSubnetwork: 300 }, radio: {} },
      }),
    );
    expect(bad).to.contain("works.storage.distributor: must match pattern");
    expect(bad).to.contain("works.storage.classSubnetwork: must be <= 255");
    expect(bad).to.contain('works: unknown key "radio"');
  });

  it("the epoch commands refuse an unknown --work, and a kind the oracle does not serve, exit 2", async function () {
    this.timeout(60_000);
    const unknown = spawnCli(["close-epoch", "1", "--work", "radio"], {
      HEXMESH_STORE_PATH: path.join(dir, "w.sqlite"),
    });
    expect(await new Promise((r) => unknown.child.once("exit", r))).to.not.equal(0);
    expect(unknown.output()).to.contain("expected coverage, storage or compute");
    const file = path.join(dir, "status.json");
    writeFileSync(file, JSON.stringify({ store: { backend: "sqlite", path: path.join(dir, "s.sqlite") } }));
    const status = spawnCli(["-c", file, "status", "--work", "storage"]);
    expect(await new Promise((r) => status.child.once("exit", r))).to.equal(2);
    expect(status.output()).to.contain("this oracle does not serve storage epochs: add works.storage");
  });
});
