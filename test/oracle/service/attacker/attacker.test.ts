/**
 * The oracle service attacked from outside: `hexmesh-oracle serve` runs as its own process on
 * localhost, and every request comes from ./client.ts, which imports nothing from the oracle or the
 * protocol (own EIP-712 encoding, own wire encoder, own secp256k1 and P-256 signing) and sends from
 * several local addresses (127.0.0.x), i.e. several clients. Cases: lock-out (junk naming a
 * victim), flooding, the per-device budget across endpoints, replay, cross-chain and cross-contract
 * signatures, malformed and oversized bodies, and a report after the epoch's close; each answer is
 * asserted, and after the close, the verdicts of the epoch over what the service stored.
 *
 * Only the harness (this file) uses the oracle package: to write the key file, to close the epoch
 * over the service's store the way close-epoch does (the close needs a chain index; here it is built
 * from the same devices), and to read the verdicts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { runCoverageEpoch } from "@hexmesh/oracle";
import { beginEpochClose, ownedReports } from "@hexmesh/oracle/service/close";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { deviceIdOf, makeEntropy, type ChainIndex, type DeviceKey, type Hex } from "@hexmesh/protocol";
import { makeFleet } from "@hexmesh/sim/fleet";

import { EPOCH_END, EPOCH_START, freePort, spawnCli, waitReady } from "../../../helpers/service.js";
import { beacon, Device, request, submit, submitBatch, witness, type Answer, type Domain } from "./client.js";

const DOMAIN: Domain = { chainId: 31337n, registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" };
const RADIO = { frequency: 903_900_000, channel: 8, dataRate: 2, txPower: 270 } as const;
const HEARD = { signal: -900, snr: 50, frequency: RADIO.frequency, dataRate: RADIO.dataRate } as const;
const W = 4_000;
/** The service's receive clock starts this long before the epoch's end. */
const LEAD_MS = 120_000;
const LIMITS = {
  bodyBytes: 64 * 1024,
  batchMax: 100,
  perDevicePerMinute: 5,
  clientReportsPerMinute: 200,
  perDevicePerWindow: 50,
  batchesPerMinute: 1_000,
};

const codes = (a: Answer): string[] => a.body.results.map((r: any) => r.code ?? r.status);
const now = () => BigInt(Date.now());

describe("service: attacked from outside (own client, real service on localhost)", function () {
  this.timeout(300_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-attack-"));
  const devices = [
    ...Array.from({ length: 4 }, () => Device.random("secp256k1")),
    ...Array.from({ length: 2 }, () => Device.random("p256")),
  ];
  const [victim, w1, w2, w3, p1, p2] = devices as [Device, Device, Device, Device, Device, Device];
  // Where they stand: a 600 m grid in Boulder (US915), each with its own owner.
  const sites = makeFleet({ devices: devices.length, p256Share: 0, spacingM: 600, seed: "attacker sites" });
  const records = devices.map((d, i) => ({
    ...sites[i]!.record,
    key: d.publicKey as DeviceKey,
    id: deviceIdOf(d.publicKey as DeviceKey),
    owner: `0x${(i + 1).toString(16).padStart(40, "0")}` as Hex,
  }));
  const entropy = makeEntropy(`0x${"ee".repeat(32)}`, Math.floor((EPOCH_END - LEAD_MS - 30_000) / 1000));
  const file = path.join(dir, "oracle.sqlite");
  let url = "";
  let svc: ReturnType<typeof spawnCli>;
  /** Every answer that acknowledged a report (its text), and every text refused. */
  const acknowledged = new Set<string>();
  const refused = new Set<string>();
  const track = (raws: readonly unknown[], a: Answer) => {
    if (a.body?.results === undefined) return;
    a.body.results.forEach((r: any, i: number) =>
      (r.status === "refused" ? refused : acknowledged).add(raws[i] as string),
    );
  };

  before(async () => {
    const keys = path.join(dir, "devices.json");
    writeFileSync(
      keys,
      JSON.stringify({ chainId: "31337", registry: DOMAIN.registry, keys: devices.map((d) => d.publicKey) }),
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const config = path.join(dir, "oracle.json");
    writeFileSync(
      config,
      JSON.stringify({
        listen: { host: "127.0.0.1", port },
        store: { backend: "sqlite", path: file },
        ingest: { devicesFile: keys },
        limits: LIMITS,
        clock: { mode: "system", offsetMs: EPOCH_END - LEAD_MS - Date.now() },
        log: { level: "warn" },
      }),
    );
    svc = spawnCli(["-c", config, "serve"]);
    await waitReady(url, svc.child, svc.output);
  });
  after(async () => {
    svc?.child.kill("SIGTERM");
    await new Promise((r) => (svc?.child.exitCode !== null ? r(null) : svc.child.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  });

  const honest = beacon(victim, DOMAIN, { remoteEntropy: entropy.value, ...RADIO, timestamp: now() });

  it("lock-out: a flood of junk naming a victim's key does not use up the victim's budget", async () => {
    const junk: string[] = [];
    for (let i = 0; i < 40; i++) {
      // The victim's key id, signed by the attacker's own key: a well-formed, canonical report.
      junk.push(beacon(victim, DOMAIN, { remoteEntropy: entropy.value, ...RADIO, timestamp: now() }, w3).raw);
    }
    const a = await submitBatch(url, junk, "127.0.0.2");
    track(junk, a);
    expect(a.status).to.equal(200);
    expect(new Set(codes(a))).to.deep.equal(new Set(["bad_signature"]));
    for (const j of junk.slice(0, 3)) {
      const one = await submit(url, j, "127.0.0.2");
      expect([one.status, one.body.code]).to.deep.equal([403, "bad_signature"]);
    }
    const real = await submit(url, honest.raw);
    expect(real.status, JSON.stringify(real.body)).to.equal(200);
    expect(real.body.status).to.equal("accepted");
    acknowledged.add(honest.raw);
  });

  it("cross-endpoint budget: single and batch submissions share one per-device budget", async () => {
    const heard = [w1, w2, p1, p2].map((d) =>
      witness(d, DOMAIN, { payload: honest.payload, ...HEARD, timestamp: now() }),
    );
    for (const r of heard) {
      const a = await submit(url, r);
      expect(a.body.status, JSON.stringify(a.body)).to.equal("accepted");
      acknowledged.add(r);
    }
    // w1 has used 1 of its 5; four more pass (single, then a batch), the sixth does not, on either endpoint.
    const more = Array.from({ length: 6 }, (_, i) =>
      witness(w1, DOMAIN, { payload: honest.payload, ...HEARD, snr: 40 + i, timestamp: now() }),
    );
    const single = await submit(url, more[0]);
    expect(single.body.status).to.equal("accepted");
    acknowledged.add(more[0]!);
    const batch = await submitBatch(url, more.slice(1, 5));
    track(more.slice(1, 5), batch);
    expect(codes(batch)).to.deep.equal(["accepted", "accepted", "accepted", "device_rate_limited"]);
    const over = await submit(url, more[5]);
    expect([over.status, over.body.code]).to.deep.equal([429, "device_rate_limited"]);
    refused.add(more[5]!);
  });

  it("flooding: one client's junk is cut at its budget; other clients are served", async () => {
    const flood = Array.from({ length: 80 }, (_, i) => `{"type":"beacon","junk":${i}}`);
    const answers: Answer[] = [];
    for (let k = 0; k < 4; k++) answers.push(await submitBatch(url, flood, "127.0.0.3"));
    // 200 a minute: 80 + 80 + 40 items are judged (all junk), the other 40 refused for the budget.
    for (const a of answers.slice(0, 2)) expect(new Set(codes(a))).to.deep.equal(new Set(["unknown_field"]));
    expect(
      codes(answers[2]!)
        .slice(0, 40)
        .every((c) => c === "unknown_field"),
    ).to.equal(true);
    expect(new Set(codes(answers[2]!).slice(40))).to.deep.equal(new Set(["client_rate_limited"]));
    expect([answers[3]!.status, answers[3]!.body.code]).to.deep.equal([429, "client_rate_limited"]);
    const single = await submit(url, flood[0], "127.0.0.3");
    expect([single.status, single.body.code]).to.deep.equal([429, "client_rate_limited"]);
    // Another address, and the honest devices' own address, are not affected.
    const other = await submitBatch(url, flood.slice(0, 5), "127.0.0.4");
    expect(codes(other)).to.not.include("client_rate_limited");
    const w3Heard = witness(w3, DOMAIN, { payload: honest.payload, ...HEARD, timestamp: now() });
    const ok = await submit(url, w3Heard);
    expect(ok.body.status).to.equal("accepted");
    acknowledged.add(w3Heard);
  });

  it("replay: a resent report is a duplicate with its first receive time", async () => {
    const first = await submit(url, honest.raw, "127.0.0.5");
    expect(first.body.status).to.equal("duplicate");
    const again = await submitBatch(url, [honest.raw, honest.raw], "127.0.0.5");
    expect(codes(again)).to.deep.equal(["duplicate", "duplicate"]);
    expect(again.body.results[0].receivedAt).to.equal(first.body.receivedAt);
  });

  it("cross-chain and cross-contract: a report signed for another domain is refused at ingest", async () => {
    for (const domain of [
      { ...DOMAIN, chainId: 1n },
      { ...DOMAIN, registry: "0x000000000000000000000000000000000000dead" },
    ]) {
      const other = beacon(p1, domain, { remoteEntropy: entropy.value, ...RADIO, timestamp: now() });
      const a = await submit(url, other.raw, "127.0.0.6");
      expect([a.status, a.body.code], JSON.stringify(a.body)).to.deep.equal([403, "bad_signature"]);
      refused.add(other.raw);
    }
  });

  it("malformed: wrong content type, prototype keys, bad JSON, bad items refused one by one", async () => {
    const body = JSON.stringify({ report: honest.raw });
    for (const type of ["text/plain", "application/xml"]) {
      const a = await request(url, "POST", "/v1/reports", body, { contentType: type, from: "127.0.0.7" });
      expect([a.status, a.body.code]).to.deep.equal([415, "unsupported_media_type"]);
    }
    const proto = await request(url, "POST", "/v1/reports/batch", `{"reports":[],"__proto__":{"x":1}}`, {
      from: "127.0.0.7",
    });
    expect([proto.status, proto.body.code]).to.deep.equal([400, "forbidden_key"]);
    const bad = await request(url, "POST", "/v1/reports", "{", { from: "127.0.0.7" });
    expect([bad.status, bad.body.code]).to.deep.equal([400, "bad_json"]);
    const p2Beacon = beacon(p2, DOMAIN, { remoteEntropy: entropy.value, ...RADIO, timestamp: now() });
    const mixed = [p2Beacon.raw, 42, null, p2Beacon.raw.replace('"type":"beacon"', '"type":"beacon" '), {}];
    const a = await submitBatch(url, mixed, "127.0.0.7");
    expect(codes(a)).to.deep.equal(["accepted", "not_string", "not_string", "non_canonical", "not_string"]);
    acknowledged.add(p2Beacon.raw);
    for (const r of await Promise.all([submit(url, 42, "127.0.0.7"), request(url, "GET", "/v1/nope")]))
      expect(r.body.code).to.match(/^[a-z_]+$/);
  });

  it("oversized: an over-long item refuses only itself; a body over the limit is a 413", async () => {
    const heard = witness(p1, DOMAIN, { payload: honest.payload, ...HEARD, timestamp: now() });
    const a = await submitBatch(url, ["x".repeat(5_000), heard], "127.0.0.8");
    expect(codes(a)).to.deep.equal(["too_large", "accepted"]);
    acknowledged.add(heard);
    const big = await submitBatch(url, ["y".repeat(70 * 1024)], "127.0.0.8");
    expect([big.status, big.body.code]).to.deep.equal([413, "body_too_large"]);
  });

  it("late report: after the close began, a report received in the epoch is refused (409), never stored unverified", async () => {
    const store = new SqliteStore({ path: file });
    try {
      const times = { epoch: 0n, start: EPOCH_START, end: EPOCH_END };
      await beginEpochClose(store, times, {
        now: EPOCH_END + 2 * W,
        graceMs: 0,
        witnessWindowMs: W,
      });
      const reports = await ownedReports(store, times, W);
      const late = witness(w2, DOMAIN, { payload: honest.payload, ...HEARD, snr: 33, timestamp: now() });
      const a = await submit(url, late);
      expect(a.status, JSON.stringify(a.body)).to.equal(409);
      expect(a.body.code).to.equal("epoch_closed");
      expect(a.body.message).to.match(
        /in epoch 0 or before, which is closed or closing: reports received before 2026-01-02T00:00:08\.000Z/,
      );
      refused.add(late);

      // The close's verdicts: every acknowledged report exactly once, nothing refused.
      const index: ChainIndex = {
        chainId: DOMAIN.chainId,
        registry: DOMAIN.registry as Hex,
        epoch: 0n,
        epochStart: EPOCH_START,
        epochEnd: EPOCH_END,
        pool: 10n ** 24n,
        devices: records,
        bonds: records.map((r) => ({ owner: r.owner, bondedDevices: 1 })),
        previousCumulative: [],
      };
      const result = await runCoverageEpoch(index, { reports, entropy: [entropy] }, { preparer: "inline" });
      const stored = new Set(reports.map((r) => r.raw));
      expect(stored).to.deep.equal(acknowledged);
      for (const r of refused)
        expect(stored.has(r), `refused report stored: ${r.slice(0, 60)}`).to.equal(false);
      expect(result.work.verdicts).to.have.length(acknowledged.size);
      const byDevice = (d: Device) => result.work.verdicts.filter((v) => v.device === d.keyId);
      const [b] = byDevice(victim);
      expect(b).to.deep.include({ kind: "beacon", reason: null, selected: true });
      // The witnesses of the victim's beacon: the first of each device is valid, w1's extra ones duplicates.
      for (const d of [w1, w2, w3, p1]) expect(byDevice(d)[0]!.reason, d.keyId).to.equal(null);
      expect(
        byDevice(w1)
          .slice(1)
          .map((v) => v.reason),
      ).to.deep.equal(["duplicate", "duplicate", "duplicate", "duplicate"]);
      expect(byDevice(p2).map((v) => [v.kind, v.reason])).to.deep.equal([
        ["witness", null],
        ["beacon", null],
      ]);
      expect(byDevice(w1)[0]!.detail).to.match(/^distance [0-9.]+ m .*margin [0-9.]+ dB$/);
    } finally {
      await store.close();
    }
  });
});
