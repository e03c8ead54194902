/**
 * The oracle HTTP API over real HTTP on localhost (port 0): every route, every bad-input path, the
 * limits (body size, batch length, rate per device key) and readiness.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";

import { buildApi, ClaimProofs, ResultSets, type ApiLimits, type StoredEpochResult } from "@hexmesh/oracle";
import { EntropyService } from "@hexmesh/oracle/service/entropy";
import { Ingestor } from "@hexmesh/oracle/service/ingest";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { ENTROPY_INTERVAL_MS, entropyValue, OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import { simulated } from "../../helpers/service.js";

const LIMITS: ApiLimits = {
  bodyBytes: 64 * 1024,
  batchMax: 50,
  perDevicePerMinute: 1000,
  batchesPerMinute: 1000,
};
const { sim } = simulated(16, "api test", 0);
const raws = sim.reports.map((r) => r.raw);
const deviceOf = (raw: string) => /"(?:device|witness)":"(0x[0-9a-f]{40})"/.exec(raw)![1]!;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Hex;
const BLOCK = `0x${"ab".repeat(32)}` as Hex;

interface Harness {
  app: FastifyInstance;
  url: string;
  store: SqliteStore;
  chain: {
    live: { epoch: bigint; root: Hex } | null;
    pending: { epoch: bigint; root: Hex; readyAt: bigint } | null;
    claimed: Map<string, bigint>;
    down: boolean;
  };
  now: { t: number };
}

async function harness(
  dir: string,
  name: string,
  limits: ApiLimits = LIMITS,
  withChain = true,
): Promise<Harness> {
  const store = new SqliteStore({ path: path.join(dir, `${name}.sqlite`) });
  await store.migrate();
  const now = { t: Date.UTC(2026, 0, 1, 0, 5) };
  const chain = {
    live: null as { epoch: bigint; root: Hex } | null,
    pending: null as { epoch: bigint; root: Hex; readyAt: bigint } | null,
    claimed: new Map<string, bigint>(),
    down: false,
  };
  const reader = {
    latestBlockHash: async () => {
      if (chain.down) throw new Error("connection refused");
      return BLOCK;
    },
    liveRoot: async () => chain.live,
    pendingRoot: async () => chain.pending,
    claimed: async (o: string) => chain.claimed.get(o) ?? 0n,
  };
  const app = await buildApi({
    store,
    ingestor: new Ingestor(store, { clock: () => now.t }),
    limits,
    ...(withChain
      ? {
          chain: reader,
          claims: new ClaimProofs(store, reader),
          entropy: new EntropyService(store, reader.latestBlockHash, () => now.t),
        }
      : {}),
    ownSignature: async (e) => (await store.signatures(e))[0] ?? null,
    results: new ResultSets(store),
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url, store, chain, now };
}

async function call(
  url: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** A 4xx with the error shape and a message matching `re`. */
function expectError(r: { status: number; body: any }, status: number, re: RegExp) {
  expect(r.status, JSON.stringify(r.body)).to.equal(status);
  expect(r.body.statusCode).to.equal(status);
  expect(r.body.message).to.match(re);
}

describe("service: HTTP API over localhost", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-api-"));
  let h: Harness;

  before(async () => {
    h = await harness(dir, "main");
  });
  after(async () => {
    await h.app.close();
    await h.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("POST /v1/reports", () => {
    it("acknowledges a report after storing it, with the oracle's receive time", async () => {
      const r = await call(h.url, "POST", "/v1/reports", { report: raws[0] });
      expect(r.status).to.equal(200);
      expect(r.body.status).to.equal("accepted");
      expect(r.body.receivedAt).to.equal(h.now.t);
      const stored = await h.store.getReport(r.body.hash);
      expect(stored?.raw).to.equal(raws[0]);
      expect(stored?.device).to.equal(deviceOf(raws[0]!));
    });

    it("acknowledges a resent report as a duplicate with the first receive time, stored once", async () => {
      const first = await call(h.url, "POST", "/v1/reports", { report: raws[1] });
      h.now.t += 5_000;
      const again = await call(h.url, "POST", "/v1/reports", { report: raws[1] });
      expect(again.body).to.deep.equal({ ...first.body, status: "duplicate" });
      expect(await h.store.countReports()).to.equal(2);
    });

    it("refuses malformed and non-canonical report texts with the parser's code", async () => {
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: raws[2]!.slice(0, -5) }),
        400,
        /not_json/,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: raws[2]!.replace(":", ": ") }),
        400,
        /non_canonical/,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports", {
          report: raws[2]!.replace('"beacon"', '"gossip"').replace('"witness"', '"gossip"'),
        }),
        400,
        /unknown_type/,
      );
      expectError(await call(h.url, "POST", "/v1/reports", { report: "[]" }), 400, /not_object/);
      const r = await call(h.url, "POST", "/v1/reports", { report: "{}" });
      expect(r.body.code).to.be.a("string");
      expect(await h.store.countReports()).to.equal(2);
    });

    it("refuses bodies that do not match the schema", async () => {
      expectError(await call(h.url, "POST", "/v1/reports", {}), 400, /must have required property 'report'/);
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: raws[3], extra: 1 }),
        400,
        /must NOT have additional properties/,
      );
      expectError(await call(h.url, "POST", "/v1/reports", { report: 42 }), 400, /must be string/);
      expectError(await call(h.url, "POST", "/v1/reports", { report: "" }), 400, /fewer than 1 characters/);
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: "x".repeat(1025) }),
        400,
        /more than 1024 characters/,
      );
      expectError(await call(h.url, "POST", "/v1/reports", "{not json"), 400, /JSON/i);
      expectError(await call(h.url, "POST", "/v1/reports", "[1,2]"), 400, /must be object/);
    });

    it("refuses other content types and oversized bodies", async () => {
      expectError(
        await call(h.url, "POST", "/v1/reports", raws[3], { "content-type": "application/xml" }),
        415,
        /Unsupported Media Type/i,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports", raws[3], { "content-type": "text/plain" }),
        400,
        /body must be object/,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: "x".repeat(70 * 1024) }),
        413,
        /too large/i,
      );
    });

    it("answers unknown routes and methods with a JSON 404", async () => {
      expectError(await call(h.url, "GET", "/v1/nothing"), 404, /no route GET \/v1\/nothing/);
      expectError(await call(h.url, "DELETE", "/v1/reports"), 404, /no route DELETE/);
    });
  });

  describe("POST /v1/reports/batch", () => {
    it("stores a batch and answers per report, in order", async () => {
      const batch = [raws[10]!, raws[11]!, raws[10]!, raws[12]!.slice(0, 30), raws[0]!];
      const r = await call(h.url, "POST", "/v1/reports/batch", { reports: batch });
      expect(r.status).to.equal(200);
      expect(r.body.results.map((x: any) => x.status)).to.deep.equal([
        "accepted",
        "accepted",
        "duplicate",
        "refused",
        "duplicate",
      ]);
      expect(r.body.results[3].code).to.equal("not_json");
      expect([r.body.accepted, r.body.duplicate, r.body.refused]).to.deep.equal([2, 2, 1]);
    });

    it("refuses an empty batch, a batch over the limit and non-string items", async () => {
      expectError(await call(h.url, "POST", "/v1/reports/batch", { reports: [] }), 400, /fewer than 1 items/);
      expectError(
        await call(h.url, "POST", "/v1/reports/batch", { reports: raws.slice(0, 51) }),
        400,
        /more than 50 items/,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports/batch", { reports: [raws[0], 7] }),
        400,
        /reports\/1 must be string/,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports/batch", { report: raws[0] }),
        400,
        /required property 'reports'/,
      );
    });
  });

  describe("rate limits per device key", () => {
    let small: Harness;
    before(async () => {
      small = await harness(dir, "limited", { ...LIMITS, perDevicePerMinute: 3, batchesPerMinute: 2 });
    });
    after(async () => {
      await small.app.close();
      await small.store.close();
    });

    it("refuses the fourth single submission of one device in a minute with 429, not another device's", async () => {
      const dev = deviceOf(raws[0]!);
      const mine = raws.filter((r) => deviceOf(r) === dev).slice(0, 4);
      expect(mine).to.have.length(4);
      for (const r of mine.slice(0, 3))
        expect((await call(small.url, "POST", "/v1/reports", { report: r })).status).to.equal(200);
      const over = await call(small.url, "POST", "/v1/reports", { report: mine[3] });
      expectError(over, 429, /rate limit of 3 requests per minute exceeded/);
      expect(over.body.code).to.equal("rate_limited");
      const other = raws.find((r) => deviceOf(r) !== dev)!;
      expect((await call(small.url, "POST", "/v1/reports", { report: other })).status).to.equal(200);
    });

    it("refuses a device's reports over its limit inside batches, and batches over the per-client limit", async () => {
      const dev = deviceOf(raws[20]!);
      const mine = raws.filter((r) => deviceOf(r) === dev).slice(0, 4);
      const r = await call(small.url, "POST", "/v1/reports/batch", { reports: mine });
      expect(r.body.results.map((x: any) => x.code ?? x.status)).to.deep.equal([
        "accepted",
        "accepted",
        "accepted",
        "rate_limited",
      ]);
      expect((await call(small.url, "POST", "/v1/reports/batch", { reports: [raws[30]] })).status).to.equal(
        200,
      );
      expectError(
        await call(small.url, "POST", "/v1/reports/batch", { reports: [raws[31]] }),
        429,
        /rate limit of 2/,
      );
    });
  });

  describe("GET /v1/entropy", () => {
    it("publishes the current slot's entropy from the latest block, stores it, and keeps it for the slot", async () => {
      const r = await call(h.url, "GET", "/v1/entropy");
      const slot = Math.floor(h.now.t / ENTROPY_INTERVAL_MS) * 60;
      expect(r.body).to.deep.equal({
        value: entropyValue(BLOCK, slot),
        blockHash: BLOCK,
        timestamp: slot,
        validUntil: slot + 180,
      });
      expect(await h.store.latestEntropy()).to.deep.equal({
        value: r.body.value,
        blockHash: BLOCK,
        timestamp: slot,
      });
      expect((await call(h.url, "GET", "/v1/entropy")).body).to.deep.equal(r.body);
    });

    it("answers 503 on a node without a chain", async () => {
      const bare = await harness(dir, "bare", LIMITS, false);
      try {
        expectError(await call(bare.url, "GET", "/v1/entropy"), 503, /no chain configured/);
        expectError(await call(bare.url, "GET", `/v1/owners/${addr(1)}`), 503, /no chain configured/);
      } finally {
        await bare.app.close();
        await bare.store.close();
      }
    });
  });

  describe("GET /v1/owners/:address", () => {
    const owners = [1, 2, 3, 4, 5].map((i) => ({
      owner: addr(i * 4099),
      amount: BigInt(i),
      cumulative: BigInt(i) * 10n ** 18n,
    }));
    const tree = OwnerMerkleTree.build(owners.map((o) => ({ owner: o.owner, amount: o.cumulative })));
    const result: StoredEpochResult = {
      epoch: 7n,
      root: tree.root,
      totalCumulative: 15n * 10n ** 18n,
      dataHash: `0x${"11".repeat(32)}` as Hex,
      snapshotBlock: 100,
      summary: {
        reports: 0,
        valid: 0,
        beacons: 0,
        witnesses: 0,
        rejected: {},
        devices: 0,
        owners: 5,
        pool: "1",
        distributed: "1",
        dust: "0",
      },
      owners,
      computedAt: 1,
    };

    it("refuses a malformed address", async () => {
      expectError(await call(h.url, "GET", "/v1/owners/0x1234"), 400, /params\/address must match pattern/);
    });

    it("answers 404 before any root is live, 503 without a result for the live epoch, 409 on a different root", async () => {
      h.chain.live = null;
      expectError(await call(h.url, "GET", `/v1/owners/${owners[0]!.owner}`), 404, /no root is live yet/);
      h.chain.live = { epoch: 7n, root: tree.root };
      expectError(
        await call(h.url, "GET", `/v1/owners/${owners[0]!.owner}`),
        503,
        /no result for the live epoch 7/,
      );
      await h.store.putEpochResult(result, []);
      h.chain.live = { epoch: 7n, root: `0x${"99".repeat(32)}` as Hex };
      expectError(await call(h.url, "GET", `/v1/owners/${owners[0]!.owner}`), 409, /this oracle computed/);
      h.chain.live = { epoch: 7n, root: tree.root };
    });

    it("serves the cumulative amount, what was claimed and a proof that verifies against the live root", async () => {
      const o = owners[2]!;
      h.chain.claimed.set(o.owner, 10n ** 18n);
      const r = await call(h.url, "GET", `/v1/owners/${o.owner.toUpperCase().replace("0X", "0x")}`);
      expect(r.status).to.equal(200);
      expect(r.body).to.include({
        owner: o.owner,
        epoch: "7",
        root: tree.root,
        status: "live",
        cumulative: o.cumulative.toString(),
        claimed: (10n ** 18n).toString(),
        claimable: (2n * 10n ** 18n).toString(),
      });
      expect(
        StandardMerkleTree.verify(tree.root, ["address", "uint256"], [o.owner, o.cumulative], r.body.proof),
      ).to.equal(true);
      expectError(
        await call(h.url, "GET", `/v1/owners/${addr(3)}`),
        404,
        /has no amount in the live root \(epoch 7\)/,
      );
    });
  });

  describe("GET /v1/owners/:address?epoch= (a pending root)", () => {
    it("serves the proof of a pending root marked pending, refuses another root pending for the epoch", async () => {
      const result = (await h.store.getEpochResult(7n))!;
      const o = result.owners[1]!;
      h.chain.live = null;
      h.chain.pending = { epoch: 7n, root: result.root, readyAt: 99n };
      expectError(
        await call(h.url, "GET", `/v1/owners/${o.owner}`),
        404,
        /epoch 7 is pending \(ask with \?epoch=7\)/,
      );
      const r = await call(h.url, "GET", `/v1/owners/${o.owner}?epoch=7`);
      expect(r.status).to.equal(200);
      expect(r.body).to.include({ epoch: "7", root: result.root, status: "pending", claimable: "0" });
      expect(
        StandardMerkleTree.verify(result.root, ["address", "uint256"], [o.owner, o.cumulative], r.body.proof),
      ).to.equal(true);
      h.chain.pending = { epoch: 7n, root: `0x${"99".repeat(32)}` as Hex, readyAt: 99n };
      expectError(
        await call(h.url, "GET", `/v1/owners/${o.owner}?epoch=7`),
        409,
        /the pending root of epoch 7 is 0x9999/,
      );
      h.chain.pending = null;
      expect((await call(h.url, "GET", `/v1/owners/${o.owner}?epoch=7`)).body.status).to.equal("unposted");
      expectError(await call(h.url, "GET", `/v1/owners/${o.owner}?epoch=9`), 404, /no result for epoch 9/);
      expectError(
        await call(h.url, "GET", `/v1/owners/${o.owner}?epoch=x`),
        400,
        /querystring\/epoch must match pattern/,
      );
      h.chain.live = { epoch: 8n, root: result.root };
      expect((await call(h.url, "GET", `/v1/owners/${o.owner}?epoch=7`)).body.status).to.equal("superseded");
      h.chain.live = { epoch: 7n, root: result.root };
    });
  });

  describe("GET /v1/epochs/:epoch and /signature", () => {
    it("refuses a non-numeric epoch and answers 404 for an epoch not closed", async () => {
      expectError(await call(h.url, "GET", "/v1/epochs/abc"), 400, /params\/epoch must match pattern/);
      expectError(await call(h.url, "GET", "/v1/epochs/-1"), 400, /must match pattern/);
      expectError(await call(h.url, "GET", "/v1/epochs/8"), 404, /epoch 8 has not been closed/);
      expectError(await call(h.url, "GET", "/v1/epochs/8/signature"), 404, /has not signed epoch 8/);
      expectError(
        await call(h.url, "GET", "/v1/epochs/abc/results"),
        400,
        /params\/epoch must match pattern/,
      );
      expectError(await call(h.url, "GET", "/v1/epochs/8/results"), 404, /epoch 8 has not been closed/);
      expectError(await call(h.url, "GET", "/v1/epochs/8/encoding"), 404, /epoch 8 has not been closed/);
    });

    it("never serves a result set its stored inputs do not reproduce", async () => {
      // Epoch 7's result was stored without the chain index it was computed from.
      for (const route of ["results", "encoding"]) {
        const r = await call(h.url, "GET", `/v1/epochs/7/${route}`);
        expectError(r, 500, /epoch 7 has a result but no stored chain index/);
        expect(r.body.code).to.equal("result_set_unreproducible");
      }
    });

    it("serves the summary with the post status, and this oracle's signature", async () => {
      await h.store.setPostStatus({
        epoch: 7n,
        status: "posted",
        txHash: "0xfeed",
        detail: "gas 1",
        updatedAt: 5,
      });
      const r = await call(h.url, "GET", "/v1/epochs/7");
      expect(r.body.root).to.equal((await h.store.getEpochResult(7n))!.root);
      expect(r.body.summary.owners).to.equal(5);
      expect(r.body.post).to.deep.equal({
        status: "posted",
        txHash: "0xfeed",
        detail: "gas 1",
        updatedAt: 5,
      });
      expect(r.body.postAttempts).to.deep.equal([]);
      const sig = {
        epoch: 7n,
        oracleSetVersion: 1n,
        signer: addr(9),
        signature: `0x${"cd".repeat(65)}` as Hex,
        root: r.body.root,
        receivedAt: 1,
      };
      await h.store.putSignature(sig);
      expect((await call(h.url, "GET", "/v1/epochs/7/signature")).body).to.deep.equal({
        epoch: "7",
        signer: sig.signer,
        signature: sig.signature,
        root: sig.root,
        oracleSetVersion: "1",
      });
    });
  });

  describe("GET /v1/devices/:keyId/results", () => {
    it("serves a device's verdicts with reasons, and refuses bad parameters", async () => {
      const device = addr(0xdead);
      await h.store.putEpochResult({ ...(await h.store.getEpochResult(7n))!, epoch: 9n }, [
        {
          epoch: 9n,
          seq: 0,
          id: `0x${"01".repeat(32)}` as Hex,
          device,
          kind: "witness",
          receivedAt: 3,
          reason: "too_late",
          detail: null,
          selected: false,
          units: 0n,
        },
        {
          epoch: 9n,
          seq: 1,
          id: `0x${"02".repeat(32)}` as Hex,
          device,
          kind: "beacon",
          receivedAt: 4,
          reason: null,
          detail: null,
          selected: true,
          units: 5n,
        },
      ]);
      const r = await call(h.url, "GET", `/v1/devices/${device}/results?epoch=9`);
      expect(r.body.results.map((x: any) => [x.kind, x.valid, x.reason, x.units])).to.deep.equal([
        ["witness", false, "too_late", "0"],
        ["beacon", true, null, "5"],
      ]);
      expect((await call(h.url, "GET", `/v1/devices/${device}/results?limit=1`)).body.results).to.have.length(
        1,
      );
      expect((await call(h.url, "GET", `/v1/devices/${addr(1)}/results`)).body.results).to.deep.equal([]);
      expectError(
        await call(h.url, "GET", "/v1/devices/xyz/results"),
        400,
        /params\/keyId must match pattern/,
      );
      expectError(
        await call(h.url, "GET", `/v1/devices/${device}/results?limit=0`),
        400,
        /querystring\/limit must be >= 1/,
      );
      expectError(
        await call(h.url, "GET", `/v1/devices/${device}/results?limit=5000`),
        400,
        /must be <= 1000/,
      );
      expectError(
        await call(h.url, "GET", `/v1/devices/${device}/results?epoch=x`),
        400,
        /querystring\/epoch must match pattern/,
      );
      expectError(
        await call(h.url, "GET", `/v1/devices/${device}/results?foo=1`),
        400,
        /must NOT have additional properties/,
      );
    });
  });

  describe("GET /v1/inputs/*", () => {
    it("pages through a time range of stored reports and serves entropy", async () => {
      const all = await h.store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER);
      const from = all[0]!.receivedAt;
      const p1 = await call(h.url, "GET", `/v1/inputs/reports?from=${from}&to=${from + 10 ** 9}&limit=2`);
      const p2 = await call(
        h.url,
        "GET",
        `/v1/inputs/reports?from=${from}&to=${from + 10 ** 9}&offset=2&limit=100`,
      );
      expect(p1.body.total).to.equal(all.length);
      expect([...p1.body.reports, ...p2.body.reports].map((x: any) => x.raw)).to.deep.equal(
        all.map((x) => x.raw),
      );
      const e = await call(h.url, "GET", "/v1/inputs/entropy?from=0&to=99999999999");
      expect(e.body.entropy).to.have.length(1);
    });

    it("refuses a missing bound, a reversed range and a bad limit", async () => {
      expectError(await call(h.url, "GET", "/v1/inputs/reports?to=5"), 400, /required property 'from'/);
      expectError(
        await call(h.url, "GET", "/v1/inputs/reports?from=9&to=5"),
        400,
        /to \(5\) is before from \(9\)/,
      );
      expectError(
        await call(h.url, "GET", "/v1/inputs/reports?from=0&to=5&limit=20000"),
        400,
        /limit must be <= 10000/,
      );
      expectError(await call(h.url, "GET", "/v1/inputs/entropy?from=a&to=5"), 400, /from must be integer/);
      expectError(await call(h.url, "GET", "/v1/inputs/entropy?from=9&to=5"), 400, /before from/);
    });
  });

  describe("staticDir: the web app beside the API", () => {
    it("serves the folder's files at / while every API route and the API's 404 stay as they are", async () => {
      const site = mkdtempSync(path.join(os.tmpdir(), "hexmesh-site-"));
      writeFileSync(path.join(site, "index.html"), "<!doctype html><title>app</title>");
      writeFileSync(path.join(site, "hexmesh.json"), JSON.stringify({ chainId: 31337 }));
      const store = new SqliteStore({ path: path.join(dir, "static.sqlite") });
      await store.migrate();
      const app = await buildApi({
        store,
        ingestor: new Ingestor(store, { clock: () => 0 }),
        limits: LIMITS,
        staticDir: site,
      });
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      try {
        const index = await fetch(`${url}/`);
        expect(index.status).to.equal(200);
        expect(index.headers.get("content-type")).to.match(/^text\/html/);
        expect(await index.text()).to.contain("<title>app</title>");
        expect((await call(url, "GET", "/hexmesh.json")).body).to.deep.equal({ chainId: 31337 });
        expect((await call(url, "GET", "/health")).body).to.deep.equal({ status: "ok" });
        expectError(await call(url, "GET", "/v1/epochs/3"), 404, /epoch 3 has not been closed/);
        expectError(await call(url, "GET", "/nothing.js"), 404, /no route GET \/nothing.js/);
        expectError(await call(url, "GET", "/../package.json"), 404, /no route GET/);
      } finally {
        await app.close();
        await store.close();
        rmSync(site, { recursive: true, force: true });
      }
    });
  });

  describe("/health and /ready", () => {
    it("is healthy and ready with the store and chain reachable", async () => {
      expect((await call(h.url, "GET", "/health")).body).to.deep.equal({ status: "ok" });
      const r = await call(h.url, "GET", "/ready");
      expect(r.status).to.equal(200);
      expect(r.body.checks.store).to.match(/^ok \(sqlite, schema 2\)/);
      expect(r.body.checks.chain).to.equal("ok");
    });

    it("is not ready when the chain is unreachable or the store is closed", async () => {
      h.chain.down = true;
      const r = await call(h.url, "GET", "/ready");
      expect(r.status).to.equal(503);
      expect(r.body.checks.chain).to.match(/unreachable: connection refused/);
      h.chain.down = false;
      const gone = await harness(dir, "gone");
      await gone.store.close();
      const g = await call(gone.url, "GET", "/ready");
      expect(g.status).to.equal(503);
      expect(g.body.checks.store).to.match(/unreachable/);
      await gone.app.close();
    });
  });
});
