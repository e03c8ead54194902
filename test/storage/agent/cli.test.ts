import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { encryptKeystoreJson, JsonRpcProvider, Wallet } from "ethers";

import { loadSigner, parseProviderConfig, UsageError } from "@hexmesh/storage";

import { runStorageCli } from "../../helpers/storageCli.js";

const KEY = "0x" + "11".repeat(32);

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env };
  for (const k of ["HEXMESH_CLIENT_KEY", "HEXMESH_RPC_URL", "HEXMESH_STORAGE_DEALS", "HEXMESH_KEYSTORE"])
    delete clean[k];
  return runStorageCli(args, { ...clean, ...env });
}

const base = {
  rpcUrl: "http://127.0.0.1:8545",
  deals: "0x" + "aa".repeat(20),
  mesh: "0x" + "bb".repeat(20),
  deviceId: "7",
  dataDir: "/var/lib/hexmesh-storage",
  publicUrl: "https://storage.example:8710",
};

describe("@hexmesh/storage configuration, keys and CLI exit codes", function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-storage-cli-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("fills the provider configuration's defaults", function () {
    expect(parseProviderConfig({ ...base, deviceId: 7 })).to.deep.equal({
      ...base,
      host: "127.0.0.1",
      port: 8710,
      autoAccept: true,
      autoCollateral: true,
      maxPieceBytes: 2 ** 30,
      pollMs: 2000,
      logBlockRange: 5000,
      fromBlock: 0,
    });
  });

  it("refuses a configuration with missing, malformed or unknown keys, naming them", function () {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...base, deals: undefined }, /must have required property 'deals'/],
      [{ ...base, deals: "0x1234" }, /\/deals must match pattern/],
      [{ ...base, rpcUrl: "127.0.0.1:8545" }, /\/rpcUrl must match pattern/],
      [{ ...base, deviceId: "-1" }, /\/deviceId/],
      [{ ...base, publicUrl: "http://" + "a".repeat(256) }, /\/publicUrl must NOT have more than 256/],
      [{ ...base, pollMs: 0 }, /\/pollMs must be >= 10/],
      [{ ...base, privateKey: KEY }, /must NOT have additional properties/],
    ];
    for (const [raw, message] of bad) {
      expect(() => parseProviderConfig(JSON.parse(JSON.stringify(raw)))).to.throw(UsageError, message);
    }
  });

  it("takes keys from the environment or an encrypted keystore, and refuses bad ones", async function () {
    const provider = new JsonRpcProvider("http://127.0.0.1:1", undefined, { staticNetwork: true });
    try {
      const fromEnv = await loadSigner("HEXMESH_CLIENT_KEY", provider, { HEXMESH_CLIENT_KEY: KEY });
      expect(fromEnv.address).to.equal(new Wallet(KEY).address);
      const keystore = path.join(dir, "key.json");
      const account = { address: new Wallet(KEY).address, privateKey: KEY };
      await writeFile(keystore, await encryptKeystoreJson(account, "pw", { scrypt: { N: 2 ** 10 } }));
      const fromStore = await loadSigner("HEXMESH_PROVIDER_KEY", provider, {
        HEXMESH_KEYSTORE: keystore,
        HEXMESH_KEYSTORE_PASSWORD: "pw",
      });
      expect(fromStore.address).to.equal(new Wallet(KEY).address);
      const refusals: [NodeJS.ProcessEnv, RegExp][] = [
        [{ HEXMESH_CLIENT_KEY: "0x1234" }, /HEXMESH_CLIENT_KEY must be a 0x-prefixed 32-byte private key/],
        [{}, /set HEXMESH_CLIENT_KEY/],
        [{ HEXMESH_KEYSTORE: keystore }, /set HEXMESH_KEYSTORE_PASSWORD/],
        [{ HEXMESH_KEYSTORE: keystore, HEXMESH_KEYSTORE_PASSWORD: "wrong" }, /cannot decrypt the keystore/],
        [{ HEXMESH_KEYSTORE: path.join(dir, "none.json"), HEXMESH_KEYSTORE_PASSWORD: "pw" }, /cannot read/],
      ];
      for (const [env, message] of refusals) {
        let error: unknown;
        await loadSigner("HEXMESH_CLIENT_KEY", provider, env).catch((e: unknown) => (error = e));
        expect(error).to.be.instanceOf(UsageError);
        expect((error as Error).message).to.match(message);
      }
    } finally {
      provider.destroy();
    }
  });

  it("exits 2 on bad arguments, configuration or missing chain settings, 1 on refusals", async function () {
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).to.equal(2);
    const noChain = await cli(["deal", "status", "1"], { HEXMESH_CLIENT_KEY: KEY });
    expect([noChain.code, noChain.stderr.trim()]).to.deep.equal([
      2,
      "hexmesh-storage: give --rpc or set HEXMESH_RPC_URL",
    ]);
    const badId = await cli(["deal", "status", "x", "--rpc", "http://127.0.0.1:1"]);
    expect(badId.code).to.equal(2);
    const missingConfig = await cli(["provider", "start", "--config", path.join(dir, "nope.json")]);
    expect(missingConfig.code).to.equal(2);
    expect(missingConfig.stderr).to.contain("cannot read the config");
    const badRoot = await cli([
      "download",
      "0x12",
      "--provider",
      "http://127.0.0.1:1",
      "--out",
      path.join(dir, "x"),
    ]);
    expect([badRoot.code, badRoot.stderr]).to.deep.equal([
      1,
      "hexmesh-storage: bad_root: not a 32-byte 0x-hex piece root: 0x12\n",
    ]);
    const empty = path.join(dir, "empty.bin");
    await writeFile(empty, "");
    const emptyUpload = await cli(["upload", empty, "--provider", "http://127.0.0.1:1"]);
    expect(emptyUpload.code).to.equal(1);
    expect(emptyUpload.stderr).to.contain("empty_file");
    const badManifest = path.join(dir, "bad-manifest.json");
    await writeFile(badManifest, JSON.stringify({ pieces: [{ root: "0x12", size: 3 }] }));
    const manifest = await cli([
      "deal",
      "add-pieces",
      "1",
      "--manifest",
      badManifest,
      "--rpc",
      "http://127.0.0.1:1",
      "--deals",
      base.deals,
    ]);
    expect(manifest.code).to.equal(1);
    expect(manifest.stderr).to.contain("bad_root");
  });
});
