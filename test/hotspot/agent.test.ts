/**
 * The hotspot agent end to end: two hotspots get their keys, maker attestations and onboarding files
 * from the `hexmesh-hotspot` CLI and are onboarded on the in-process chain; each agent drives a
 * packet forwarder simulated over UDP on localhost (scripts/operate/forwarder.ts, Semtech protocol
 * v2: PULL_DATA/PULL_ACK, PULL_RESP/TX_ACK, PUSH_DATA/PUSH_ACK), beacons with entropy from the real oracle service, files a
 * witness report for the other's beacon, and the oracle verifies all four reports valid at close.
 * Then: a queue that survives an oracle outage and a restart; the forwarder protocol's failure paths.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import * as h3 from "h3-js";
import { network } from "hardhat";

import {
  beaconFrame,
  loadDeviceKey,
  LoopbackMedium,
  PROTOCOL_VERSION,
  PULL_ACK,
  PULL_DATA,
  PUSH_ACK,
  PUSH_DATA,
  SemtechUdpAdapter,
  startAgent,
  validateAgentConfig,
  type AgentConfig,
  type OnboardingFile,
  type RunningAgent,
  type Uplink,
} from "@hexmesh/hotspot";
import { startService, validateConfig, type RunningService } from "@hexmesh/oracle";
import { OracleClient } from "@hexmesh/oracle/api/client";
import type { Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../deploy/lib/suite.js";
import { closeEpoch } from "../../scripts/demo/epoch.js";
import { OracleSet } from "../../scripts/demo/oracles.js";
import { freePort, serveJsonRpc, type JsonRpcEndpoint } from "../../scripts/demo/rpc.js";
import { deployDemoSuite, HOTSPOT_CLASS, MAKER_ID, type Suite } from "../../scripts/demo/suite.js";
import { linkByAir, SimulatedForwarder } from "../../scripts/operate/forwarder.js";

const CLI = path.resolve("packages/hotspot/bin/hexmesh-hotspot.js");
/** Boulder, Colorado (US915); the second hotspot 1.2 km east. */
const SITES: [number, number][] = [
  [40.015, -105.2705],
  [40.015, -105.2564],
];
const GAIN = 30; // 3.0 dBi

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cliJson<T>(args: string[], env: NodeJS.ProcessEnv = {}): T {
  const r = cli(args, env);
  if (r.status !== 0) throw new Error(`hexmesh-hotspot ${args[0]} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("hotspot agent: CLI onboarding, Semtech UDP packet forwarder, real oracle service", function () {
  this.timeout(240_000);

  let suite: Suite;
  let owners: HardhatEthersSigner[];
  let rpc: JsonRpcEndpoint;
  let oracles: OracleSet;
  let dir: string;
  let registry: Hex;
  let clockOffsetMs: number;
  const agents: RunningAgent[] = [];
  const forwarders: SimulatedForwarder[] = [];
  const keyFiles: string[] = [];

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-hotspot-"));
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 1, threshold: 1, approveMakerAtDeploy: true });
    owners = (await suite.ethers.getSigners()).slice(4, 6);
    registry = (await suite.registry.getAddress()).toLowerCase() as Hex;
    rpc = await serveJsonRpc(connection.provider);
    // The oracle's receive clock an hour into epoch 0 (the in-process chain's genesis is ahead).
    clockOffsetMs = Number(suite.genesisTime + 3600n) * 1000 - Date.now();
    const poster = new Wallet(keccak256(toUtf8Bytes("hotspot test poster")));
    oracles = await OracleSet.start({
      rpcUrl: rpc.url,
      addresses: await suiteAddresses(suite),
      fromBlock: suite.deployBlock,
      oracleKeys: suite.oracleKeys.map((k) => k.privateKey),
      posterKey: poster.privateKey,
      clockOffsetMs,
    });
  });

  after(async function () {
    for (const a of agents) await a.stop().catch(() => {});
    for (const f of forwarders) f.close();
    await oracles?.stop();
    await rpc?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("makes a secp256k1 key file and a P-256 PEM key, and prints what the maker attests", function () {
    const k1 = path.join(dir, "hotspot-a.key");
    const pem = path.join(dir, "hotspot-b.pem");
    const a = cliJson<{ curve: string; key: { keyType: number }; keyId: Hex; reportKeyId: Hex }>([
      "keygen",
      "--out",
      k1,
    ]);
    const b = cliJson<{ curve: string; key: { keyType: number } }>([
      "keygen",
      "--curve",
      "p256",
      "--pem",
      "--out",
      pem,
    ]);
    expect(a.curve).to.equal("secp256k1");
    expect(a.key.keyType).to.equal(0);
    expect(b.curve).to.equal("p256");
    expect(b.key.keyType).to.equal(1);
    expect(cliJson(["identity", "--key", k1])).to.deep.equal(a);
    expect(cliJson(["identity", "--key", pem])).to.deep.equal(b);
    // Never overwrites a key; unreadable and wrong keys are refused with a clear message.
    const again = cli(["keygen", "--out", k1]);
    expect(again.status).to.not.equal(0);
    expect(again.stderr).to.match(/EEXIST/);
    writeFileSync(path.join(dir, "bad.key"), '{"curve":"ed25519","secret":"0x00"}');
    const bad = cli(["identity", "--key", path.join(dir, "bad.key")]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/"curve" must be "secp256k1" or "p256"/);
    keyFiles.push(k1, pem);
  });

  it("the maker attests, the device signs for its owner, and the registry onboards both", async function () {
    const now = Number((await suite.ethers.provider.getBlock("latest"))!.timestamp);
    const fee = (await suite.registry.deviceClassInfo(HOTSPOT_CLASS)).onboardingFee;
    for (const [i, keyFile] of keyFiles.entries()) {
      const owner = owners[i]!;
      const idFile = path.join(dir, `identity-${i}.json`);
      writeFileSync(idFile, cli(["identity", "--key", keyFile]).stdout);
      const attestArgs = [
        "attest",
        "--identity",
        idFile,
        "--chain-id",
        String(suite.chainId),
        "--registry",
        registry,
        "--maker-id",
        String(MAKER_ID),
        "--device-class",
        String(HOTSPOT_CLASS),
        "--deadline",
        String(now + 365 * 86_400),
      ];
      // Without the maker's key the command says what is missing.
      const noKey = cli(attestArgs, { HEXMESH_MAKER_KEY: "" });
      expect(noKey.status).to.equal(2);
      expect(noKey.stderr).to.match(/HEXMESH_MAKER_KEY/);
      const attFile = path.join(dir, `attestation-${i}.json`);
      writeFileSync(attFile, cli(attestArgs, { HEXMESH_MAKER_KEY: suite.makerKey.privateKey }).stdout);
      // An attestation is for one key: another device's key cannot use it.
      const other = cli([
        "onboarding",
        "--key",
        keyFiles[1 - i]!,
        "--attestation",
        attFile,
        "--owner",
        owner.address,
      ]);
      expect(other.status).to.equal(2);
      expect(other.stderr).to.match(/the attestation is for key/);
      const file = cliJson<OnboardingFile>([
        "onboarding",
        "--key",
        keyFile,
        "--attestation",
        attFile,
        "--owner",
        owner.address,
        "--deadline",
        String(now + 30 * 86_400),
      ]);
      await (await suite.token.connect(suite.treasury).transfer(owner.address, fee)).wait();
      await (await suite.token.connect(owner).approve(registry, fee)).wait();
      const tx = await suite.registry
        .connect(owner)
        .onboard(file.req, file.makerSignature, file.deviceSignature);
      const receipt = (await tx.wait())!;
      const id = receipt.logs
        .filter((l) => l.address.toLowerCase() === registry)
        .map((l) => suite.registry.interface.parseLog(l))
        .find((e) => e?.name === "DeviceOnboarded")!.args.deviceId as bigint;
      expect(id).to.equal(BigInt(cliJson<{ keyId: Hex }>(["identity", "--key", keyFile]).keyId));
      const [lat, lng] = SITES[i]!;
      const cell = BigInt(`0x${h3.latLngToCell(lat, lng, 12)}`);
      await (await suite.registry.connect(owner).assertLocation(id, cell, GAIN, 10)).wait();
      expect((await suite.registry.deviceInfo(id)).owner).to.equal(owner.address);
    }
  });

  it("two agents beacon through simulated packet forwarders, witness each other, and the oracle verifies all four reports valid", async function () {
    const distance = h3.greatCircleDistance(SITES[0]!, SITES[1]!, "m");
    const ports = [await freePort(), await freePort()];
    for (const [i, keyFile] of keyFiles.entries()) {
      const cfg: AgentConfig = validateAgentConfig(
        {
          key: keyFile,
          queue: path.join(dir, `queue-${i}.sqlite`),
          chainId: Number(suite.chainId),
          registry,
          oracles: [oracles.urls[0]],
          maxBeaconDelayMs: 0,
          radio: { type: "semtech-udp", host: "127.0.0.1", port: ports[i] },
        },
        `agent ${i}`,
        dir,
      );
      agents.push(await startAgent(cfg));
    }
    // The air between the two forwarders: what one transmits, the other receives at a plausible
    // signal (15 dB under the free-space bound) and pushes to its agent.
    forwarders.push(...linkByAir(ports, distance, GAIN / 10));
    // The forwarders connect (PULL_DATA) after the agents started: the first beacon attempts fail
    // ("no packet forwarder has sent PULL_DATA") and leave the window open, so the agents beacon once
    // a forwarder is there.
    for (const f of forwarders) f.pull();
    await until("both agents' beacons and witnesses accepted", () =>
      agents.every((a) => a.queue.counts().accepted === 2 && a.queue.counts().pending === 0),
    );
    for (const f of forwarders) {
      expect(f.acks).to.include(PULL_ACK);
      expect(f.acks).to.include(PUSH_ACK);
      expect(f.txpks).to.have.length(1); // one beacon per window
      expect(f.txpks[0]).to.deep.include({
        imme: true,
        modu: "LORA",
        datr: "SF8BW125",
        freq: 903.9,
        powe: 27,
      });
    }
    // A second tick in the same window does not beacon again.
    expect(await agents[0]!.agent.maybeBeacon()).to.equal(false);

    await closeEpoch(suite, 0n);
    const [result] = await oracles.close(0n);
    expect(result!.summary).to.deep.include({ reports: 4, valid: 4, beacons: 2, witnesses: 2, rejected: {} });
    for (const a of agents) {
      const verdicts = await new OracleClient(oracles.urls[0]!).deviceResults(a.agent.keyId, { epoch: "0" });
      expect(verdicts.results.map((v) => [v.kind, v.valid]).sort()).to.deep.equal([
        ["beacon", true],
        ["witness", true],
      ]);
    }
  });

  it("keeps reports queued while the oracle is down and delivers them after a restart", async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const medium = new LoopbackMedium(() => ({ rssi: -90, snr: 5 }));
    const transmitter = medium.adapter("beaconer");
    await transmitter.start(() => {});
    const cfg = validateAgentConfig(
      {
        key: keyFiles[0],
        queue: path.join(dir, "queue-restart.sqlite"),
        chainId: Number(suite.chainId),
        registry,
        oracles: [url],
        maxBeaconDelayMs: 0,
        radio: { type: "none" },
      },
      "restart agent",
      dir,
    );
    const first = await startAgent(cfg, {
      radio: medium.adapter("agent-1"),
      retryBaseMs: 50,
      maxRetryMs: 200,
    });
    const payload = new Uint8Array(32).fill(7);
    await transmitter.transmit({
      data: beaconFrame(payload),
      frequency: 903_900_000,
      modulation: { spreadingFactor: 8, bandwidthHz: 125_000 },
      powerDbm: 27,
    });
    // Other LoRa traffic is not a beacon: no report.
    await transmitter.transmit({
      data: new Uint8Array([1, 2, 3]),
      frequency: 903_900_000,
      modulation: { spreadingFactor: 8, bandwidthHz: 125_000 },
      powerDbm: 27,
    });
    await until("the witness queued", () => first.queue.counts().pending === 1);
    await new Promise((r) => setTimeout(r, 500)); // several failed attempts
    expect(first.queue.counts()).to.deep.equal({ pending: 1, accepted: 0, duplicate: 0, refused: 0 });
    await first.stop();

    // The oracle comes up on that port; a new agent process on the same queue file delivers.
    let service: RunningService | undefined;
    const devicesFile = path.join(dir, "restart-devices.json");
    writeFileSync(
      devicesFile,
      JSON.stringify({
        chainId: String(suite.chainId),
        registry,
        keys: [{ type: "secp256k1", address: loadDeviceKey(keyFiles[0]!).signer.keyId }],
      }),
    );
    try {
      service = await startService(
        validateConfig({
          listen: { host: "127.0.0.1", port },
          store: { backend: "sqlite", path: path.join(dir, "restart-oracle.sqlite") },
          // It has no chain, so it answers the agent's entropy requests 503 (logged as errors); it
          // checks signatures at ingest against the registry's keys exported to a file.
          ingest: { devicesFile },
          log: { level: "fatal" },
        }),
      );
      const second = await startAgent(cfg, {
        radio: medium.adapter("agent-2"),
        retryBaseMs: 50,
        maxRetryMs: 200,
      });
      agents.push(second);
      await until("the queued witness delivered", () => second.queue.counts().accepted === 1);
      expect(second.queue.counts()).to.deep.equal({ pending: 0, accepted: 1, duplicate: 0, refused: 0 });
      const [delivered] = second.queue.delivered(url);
      expect(delivered).to.match(/^\{"type":"witness"/);
      expect(JSON.parse(delivered!).witness).to.equal(loadDeviceKey(keyFiles[0]!).signer.keyId);
      expect((await service.store.counts()).reports).to.equal(1);
    } finally {
      await service?.close();
    }
  });

  it("records a report the oracle refuses (with its code) and does not resend it", async function () {
    const medium = new LoopbackMedium(() => null);
    const cfg = validateAgentConfig(
      {
        key: keyFiles[1],
        queue: path.join(dir, "queue-refused.sqlite"),
        chainId: Number(suite.chainId),
        registry,
        oracles: [oracles.urls[0]],
        maxBeaconDelayMs: 3_600_000,
        radio: { type: "none" },
      },
      "refused agent",
      dir,
    );
    const running = await startAgent(cfg, { radio: medium.adapter("refused") });
    agents.push(running);
    running.queue.enqueue('{"type":"witness","bad":1}', [oracles.urls[0]!], Date.now());
    running.agent.kick();
    await until("the refusal recorded", () => running.queue.counts().refused === 1);
    expect(running.queue.counts().pending).to.equal(0);
    expect(running.queue.refused()[0]).to.deep.include({ code: "unknown_field" });
  });

  it("Semtech UDP: drops malformed datagrams, bad CRCs and other versions; says when no forwarder pulled; reports TX_ACK errors", async function () {
    const uplinks: Uplink[] = [];
    const adapter = new SemtechUdpAdapter({ host: "127.0.0.1", port: 0, txAckTimeoutMs: 500 });
    await adapter.start((u) => uplinks.push(u));
    const { port } = adapter.address();
    const downlink = {
      data: new Uint8Array(4),
      frequency: 903_900_000,
      modulation: { spreadingFactor: 8, bandwidthHz: 125_000 },
      powerDbm: 27,
    };
    try {
      await adapter.transmit(downlink).then(
        () => expect.fail("transmitted without a forwarder"),
        (e: Error) => expect(e.message).to.match(/no packet forwarder has sent PULL_DATA/),
      );
      const fwd = new SimulatedForwarder(port, () => {});
      forwarders.push(fwd);
      fwd.send(Buffer.from([1, 0, 1, PULL_DATA])); // protocol version 1
      fwd.send(Buffer.from([PROTOCOL_VERSION, 0, 2])); // too short
      fwd.send(Buffer.concat([fwd.header(PUSH_DATA), fwd.eui, Buffer.from("{not json")]));
      fwd.push([
        { stat: -1, modu: "LORA", freq: 903.9, datr: "SF8BW125", rssi: -90, lsnr: 5, data: "AAAA" },
        { stat: 1, modu: "FSK", freq: 903.9, datr: 50000, rssi: -90, lsnr: 5, data: "AAAA" },
        {
          stat: 1,
          modu: "LORA",
          freq: 903.9,
          datr: "SF8BW125",
          rsig: [{ rssic: -101, lsnr: 2.5 }],
          data: "AQID",
        },
      ]);
      await until(
        "the datagrams handled",
        () => adapter.stats.pushData === 1 && adapter.stats.malformed === 4,
      );
      expect(uplinks).to.have.length(1);
      expect(uplinks[0]).to.deep.include({ frequency: 903_900_000, rssi: -101, snr: 2.5 });
      expect(adapter.stats.rxpkBadCrc).to.equal(1);
      fwd.pull();
      await until("PULL_ACK", () => fwd.acks.includes(PULL_ACK));
      fwd.txAckError = "COLLISION_BEACON";
      await adapter.transmit(downlink).then(
        () => expect.fail("a refused transmission resolved"),
        (e: Error) => expect(e.message).to.match(/refused the transmission: COLLISION_BEACON/),
      );
      fwd.txAckError = "NONE";
      await adapter.transmit(downlink);
      expect(fwd.txpks.at(-1)).to.deep.include({ size: 4, data: "AAAAAA==", rfch: 0, ipol: false });
    } finally {
      await adapter.stop();
    }
  });
});
