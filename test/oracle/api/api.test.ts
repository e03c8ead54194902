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
import { Ingestor, type IngestLimits } from "@hexmesh/oracle/service/ingest";
import { SCHEMA_VERSION } from "@hexmesh/oracle/store/migrations";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { InlineAuthenticator } from "@hexmesh/oracle/verify/prepare";
import { ENTROPY_INTERVAL_MS, entropyValue, OwnerMerkleTree, type Hex } from "@hexmesh/protocol";

import { DOMAIN, simulated } from "../../helpers/service.js";

const LIMITS: ApiLimits = {
  bodyBytes: 64 * 1024,
  batchMax: 50,
  batchesPerMinute: 1000,
};
const INGEST: IngestLimits = {
  perDevicePerMinute: 1000,
  clientReportsPerMinute: 100_000,
  perDevicePerWindow: 1000,
  beaconWindowMs: 6 * 3_600_000,
};
const { fleet, sim } = simulated(16, "api test", 0);
const raws = sim.reports.map((r) => r.raw);
const deviceOf = (raw: string) => /"(?:device|witness)":"(0x[0-9a-f]{40})"/.exec(raw)![1]!;
/** The report with one signature byte changed (or its `n`-th variant): canonical, but not signed. */
const forge = (raw: string, n = 0) =>
  raw.replace(
    /"signature":"0x([0-9a-f]{2})/,
    (_, b: string) => `"signature":"0x${((parseInt(b, 16) + 1 + n) % 256).toString(16).padStart(2, "0")}`,
  );
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
  ingest: IngestLimits = INGEST,
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
    ingestor: new Ingestor(store, {
      clock: () => now.t,
      authenticator: new InlineAuthenticator(
        DOMAIN,
        fleet.map((d) => d.signer.key),
      ),
      limits: ingest,
    }),
    limits,
    ...(withChain
      ? {
          chain: reader,
          claims: new ClaimProofs(store, new Map([["coverage", reader]])),
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

/** A 4xx with the error shape, a message matching `re` and a stable code (`code`, when given). */
function expectError(r: { status: number; body: any }, status: number, re: RegExp, code?: string) {
  expect(r.status, JSON.stringify(r.body)).to.equal(status);
  expect(r.body.statusCode).to.equal(status);
  expect(r.body.message).to.match(re);
  expect(r.body.code, JSON.stringify(r.body)).to.match(/^[a-z][a-z_]*$/);
  if (code !== undefined) expect(r.body.code).to.equal(code);
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
      expectError(await call(h.url, "POST", "/v1/reports", { report: 42 }), 400, /not_string/, "not_string");
      expectError(await call(h.url, "POST", "/v1/reports", { report: "" }), 400, /report refused/);
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: "x".repeat(1025) }),
        400,
        /too_large/,
        "too_large",
      );
      expectError(await call(h.url, "POST", "/v1/reports", "{not json"), 400, /not valid JSON/, "bad_json");
      expectError(
        await call(h.url, "POST", "/v1/reports", "[1,2]"),
        400,
        /must be object/,
        "invalid_request",
      );
    });

    it("refuses JSON bodies with __proto__ or constructor keys as such, not as bad JSON", async () => {
      for (const body of [
        `{"report":"x","__proto__":{"polluted":true}}`,
        `{"report":"x","constructor":{"prototype":{"polluted":true}}}`,
      ]) {
        expectError(
          await call(h.url, "POST", "/v1/reports", body),
          400,
          /has a (__proto__|constructor) key, which this API refuses/,
          "forbidden_key",
        );
        expectError(
          await call(h.url, "POST", "/v1/reports/batch", body),
          400,
          /has a (__proto__|constructor) key/,
          "forbidden_key",
        );
      }
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });

    it("refuses other content types and oversized bodies", async () => {
      for (const type of ["application/xml", "text/plain", "application/x-www-form-urlencoded"]) {
        const r = await call(h.url, "POST", "/v1/reports", JSON.stringify({ report: raws[3] }), {
          "content-type": type,
        });
        expectError(
          r,
          415,
          new RegExp(`content type ${type} is not accepted: send application/json`),
          "unsupported_media_type",
        );
        expectError(
          await call(h.url, "POST", "/v1/reports/batch", JSON.stringify({ reports: [raws[3]] }), {
            "content-type": type,
          }),
          415,
          /send application\/json/,
          "unsupported_media_type",
        );
      }
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: "x".repeat(70 * 1024) }),
        413,
        /too large/i,
        "body_too_large",
      );
    });

    it("answers unknown routes and methods with a JSON 404", async () => {
      expectError(await call(h.url, "GET", "/v1/nothing"), 404, /no route GET \/v1\/nothing/, "not_found");
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

    it("refuses only the bad items of a batch: over-long, empty, not a string, not a report", async () => {
      const batch = [raws[13]!, "x".repeat(5_000), 7, "", raws[14]!, { report: raws[15] }];
      const r = await call(h.url, "POST", "/v1/reports/batch", { reports: batch });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.results.map((x: any) => x.code ?? x.status)).to.deep.equal([
        "accepted",
        "too_large",
        "not_string",
        "not_json",
        "accepted",
        "not_string",
      ]);
      expect(r.body.results[1].reason).to.equal("malformed");
      expect([r.body.accepted, r.body.refused]).to.deep.equal([2, 4]);
    });

    it("refuses an empty batch and a batch over the limit", async () => {
      expectError(await call(h.url, "POST", "/v1/reports/batch", { reports: [] }), 400, /fewer than 1 items/);
      expectError(
        await call(h.url, "POST", "/v1/reports/batch", { reports: raws.slice(0, 51) }),
        400,
        /more than 50 items/,
      );
      expectError(
        await call(h.url, "POST", "/v1/reports/batch", { report: raws[0] }),
        400,
        /required property 'reports'/,
      );
    });
  });

  describe("signatures at ingest and limits keyed on proven identities", () => {
    let small: Harness;
    before(async () => {
      small = await harness(dir, "limited", { ...LIMITS, batchesPerMinute: 4 }, true, {
        ...INGEST,
        perDevicePerMinute: 3,
        perDevicePerWindow: 5,
        clientReportsPerMinute: 40,
      });
    });
    after(async () => {
      await small.app.close();
      await small.store.close();
    });
    const stranger = simulated(2, "api test stranger", 0).sim.reports[0]!.raw;

    it("refuses unsigned and mis-signed reports (403 bad_signature) and unknown keys, stores none, counts them", async () => {
      const before = await h.store.countReports();
      const r = await call(h.url, "POST", "/v1/reports", { report: forge(raws[40]!) });
      expectError(r, 403, /bad_signature: the signature does not verify for 0x[0-9a-f]{40}/, "bad_signature");
      expectError(
        await call(h.url, "POST", "/v1/reports", { report: stranger }),
        403,
        /not a registered device key/,
        "unknown_device",
      );
      const batch = await call(h.url, "POST", "/v1/reports/batch", {
        reports: [forge(raws[41]!), raws[41], stranger],
      });
      expect(batch.body.results.map((x: any) => x.code ?? x.status)).to.deep.equal([
        "bad_signature",
        "accepted",
        "unknown_device",
      ]);
      expect(batch.body.results[0].reason).to.equal("unauthenticated");
      expect(await h.store.countReports()).to.equal(before + 1);
      const ready = await call(h.url, "GET", "/ready");
      expect(ready.body.checks.ingest)
        .to.match(/bad_signature 2/)
        .and.match(/unknown_device 2/);
    });

    it("does not let forged reports naming a device use up its budget (no lock-out)", async () => {
      const victim = deviceOf(raws[50]!);
      const mine = raws.filter((r) => deviceOf(r) === victim);
      for (let i = 0; i < 5; i++)
        expect(
          (await call(small.url, "POST", "/v1/reports", { report: forge(mine[0]!, i) })).body.code,
        ).to.equal("bad_signature");
      expect((await call(small.url, "POST", "/v1/reports", { report: mine[0] })).body.status).to.equal(
        "accepted",
      );
    });

    it("shares one per-device budget between the single and batch endpoints (429 device_rate_limited)", async () => {
      const dev = deviceOf(raws[60]!);
      const mine = raws.filter((r) => deviceOf(r) === dev);
      expect(mine.length).to.be.greaterThanOrEqual(4);
      expect((await call(small.url, "POST", "/v1/reports", { report: mine[0] })).status).to.equal(200);
      const r = await call(small.url, "POST", "/v1/reports/batch", { reports: mine.slice(1, 4) });
      expect(r.body.results.map((x: any) => x.code ?? x.status)).to.deep.equal([
        "accepted",
        "accepted",
        "device_rate_limited",
      ]);
      expect(r.body.results[2].reason).to.equal("rate_limited");
      expect(r.body.results[2].detail).to.match(/more than 3 reports this minute from 0x/);
      expectError(
        await call(small.url, "POST", "/v1/reports", { report: mine[3] }),
        429,
        /more than 3 reports this minute/,
        "device_rate_limited",
      );
      // Another device is not affected; a new minute gives the budget back.
      const other = raws.find((x) => deviceOf(x) !== dev && deviceOf(x) !== deviceOf(raws[50]!))!;
      expect((await call(small.url, "POST", "/v1/reports", { report: other })).status).to.equal(200);
      small.now.t += 60_000;
      expect((await call(small.url, "POST", "/v1/reports", { report: mine[3] })).status).to.equal(200);
    });

    it("caps the reports stored per device per beacon window (window_cap); duplicates do not count", async () => {
      const dev = deviceOf(raws[70]!);
      const mine = raws.filter((r) => deviceOf(r) === dev);
      expect(mine.length).to.be.greaterThanOrEqual(7);
      const codes: string[] = [];
      for (const r of [mine[0]!, mine[0]!, ...mine.slice(1, 6)]) {
        small.now.t += 60_000; // a fresh minute each: only the window cap applies
        const a = await call(small.url, "POST", "/v1/reports", { report: r });
        codes.push(a.body.code ?? a.body.status);
        if (a.status !== 200)
          expectError(a, 429, /already has 5 reports stored in this 6-hour beacon window/);
      }
      expect(codes).to.deep.equal([
        "accepted",
        "duplicate",
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "window_cap",
      ]);
      // After a restart (a new Ingestor on the same store) the cap still holds: counts come from the store.
      const restarted = new Ingestor(small.store, {
        clock: () => small.now.t,
        authenticator: new InlineAuthenticator(
          DOMAIN,
          fleet.map((d) => d.signer.key),
        ),
        limits: { ...INGEST, perDevicePerWindow: 5 },
      });
      expect((await restarted.submit([mine[6]!]))[0]).to.deep.include({
        status: "refused",
        code: "window_cap",
      });
      small.now.t += 6 * 3_600_000; // the next beacon window
      expect((await call(small.url, "POST", "/v1/reports", { report: mine[5] })).status).to.equal(200);
    });

    it("limits reports per client address on every write endpoint, one budget (client_rate_limited)", async () => {
      small.now.t += 60_000;
      const junk = Array.from({ length: 30 }, (_, i) => `junk ${i}`);
      const first = await call(small.url, "POST", "/v1/reports/batch", { reports: junk });
      expect(first.body.refused).to.equal(30);
      const second = await call(small.url, "POST", "/v1/reports/batch", { reports: junk.slice(0, 20) });
      const codes = second.body.results.map((x: any) => x.code);
      expect(codes.slice(0, 10).every((c: string) => c === "not_json")).to.equal(true);
      expect(codes.slice(10).every((c: string) => c === "client_rate_limited")).to.equal(true);
      expectError(
        await call(small.url, "POST", "/v1/reports", { report: raws[80] }),
        429,
        /more than 40 reports this minute from 127\.0\.0\.1/,
        "client_rate_limited",
      );
      expectError(
        await call(small.url, "POST", "/v1/reports/batch", { reports: [raws[80]] }),
        429,
        /more than 40 reports/,
        "client_rate_limited",
      );
    });

    it("answers 409 epoch_closed, naming the epoch and its cutoff, for a report received in a closed or closing epoch", async () => {
      small.now.t += 60_000;
      await small.store.beginClose({ epoch: 7n, cutoff: small.now.t + 1, startedAt: small.now.t });
      const r = await call(small.url, "POST", "/v1/reports", { report: raws[95] });
      expectError(
        r,
        409,
        /epoch_closed: received at .* in epoch 7 or before, which is closed or closing: reports received before .* are no longer accepted \(close began .*\)/,
        "epoch_closed",
      );
      small.now.t += 1;
      expect((await call(small.url, "POST", "/v1/reports", { report: raws[95] })).status).to.equal(200);
    });

    it("limits batch requests per client address (429 rate_limited)", async () => {
      small.now.t += 60_000;
      // Three batch requests so far in this test file's real minute (one was refused before reading).
      expect((await call(small.url, "POST", "/v1/reports/batch", { reports: [raws[90]] })).status).to.equal(
        200,
      );
      const r = await call(small.url, "POST", "/v1/reports/batch", { reports: [raws[91]] });
      expectError(r, 429, /rate limit of 4 requests per minute exceeded/, "rate_limited");
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
        work: "coverage",
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

    it("serves ?work=coverage as the default; refuses a kind this oracle does not serve and an unknown kind", async () => {
      const o = owners[2]!;
      const r = await call(h.url, "GET", `/v1/owners/${o.owner}?work=coverage`);
      expect(r.body).to.deep.equal((await call(h.url, "GET", `/v1/owners/${o.owner}`)).body);
      const storage = await call(h.url, "GET", `/v1/owners/${o.owner}?work=storage`);
      expectError(storage, 404, /this oracle does not serve storage epochs \(config works\.storage\)/);
      expect(storage.body.code).to.equal("work_not_served");
      expectError(
        await call(h.url, "GET", `/v1/owners/${o.owner}?work=radio`),
        400,
        /querystring\/work must be equal to one of the allowed values/,
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

    it("takes ?work= on the result set and encoding: a kind this oracle does not serve is a 404, an unknown kind a 400", async () => {
      for (const route of ["results", "encoding"]) {
        const storage = await call(h.url, "GET", `/v1/epochs/7/${route}?work=storage`);
        expectError(storage, 404, /this oracle does not serve storage epochs \(config works\.storage\)/);
        expect(storage.body.code).to.equal("work_not_served");
        expectError(
          await call(h.url, "GET", `/v1/epochs/7/${route}?work=radio`),
          400,
          /querystring\/work must be equal to one of the allowed values/,
        );
        // ?work=coverage is the default route (epoch 7's set is unreproducible here: the same 500).
        const coverage = await call(h.url, "GET", `/v1/epochs/7/${route}?work=coverage`);
        expect(coverage.body.code).to.equal("result_set_unreproducible");
      }
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
    it("pages through a time range of stored reports by cursor and serves entropy", async function () {
      const all = await h.store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER);
      const from = all[0]!.receivedAt;
      const range = `from=${from}&to=${from + 10 ** 9}`;
      const p1 = await call(h.url, "GET", `/v1/inputs/reports?${range}&limit=2`);
      expect(p1.status).to.equal(200);
      expect(p1.body.total).to.equal(all.length);
      expect(p1.body.next).to.equal(`${all[1]!.receivedAt}:${all[1]!.hash}`);
      const p2 = await call(h.url, "GET", `/v1/inputs/reports?${range}&after=${p1.body.next}&limit=100`);
      // Later pages carry no total (a count is a scan of the range); the last page's next is null.
      expect(p2.body).to.not.have.property("total");
      expect(p2.body.next).to.equal(null);
      expect([...p1.body.reports, ...p2.body.reports].map((x: any) => x.raw)).to.deep.equal(
        all.map((x) => x.raw),
      );
      // A page exactly filled by the last rows says next; the page after it is empty.
      const exact = await call(
        h.url,
        "GET",
        `/v1/inputs/reports?${range}&after=${p1.body.next}&limit=${all.length - 2}`,
      );
      expect(exact.body.next).to.equal(`${all.at(-1)!.receivedAt}:${all.at(-1)!.hash}`);
      const empty = await call(h.url, "GET", `/v1/inputs/reports?${range}&after=${exact.body.next}`);
      expect(empty.body).to.deep.equal({ next: null, reports: [] });
      const e = await call(h.url, "GET", "/v1/inputs/entropy?from=0&to=99999999999");
      expect(e.body.entropy).to.have.length(1);
    });

    it("refuses a malformed cursor or one outside the range (bad_cursor), and offset", async function () {
      const all = await h.store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER);
      const from = all[0]!.receivedAt;
      const range = `from=${from}&to=${from + 10 ** 9}`;
      const hash = all[0]!.hash;
      for (const after of [
        "x",
        `${from}`,
        `${from}:${hash.slice(0, -1)}`,
        `${from}:${hash.toUpperCase().replace("0X", "0x")}`,
        `-1:${hash}`,
        `0${from}:${hash}`,
        `${"9".repeat(17)}:${hash}`,
        `${from}:${hash}:1`,
      ])
        expectError(
          await call(h.url, "GET", `/v1/inputs/reports?${range}&after=${encodeURIComponent(after)}`),
          400,
          /^bad cursor: after must be a page's next/,
          "bad_cursor",
        );
      expectError(
        await call(h.url, "GET", `/v1/inputs/reports?${range}&after=${from - 1}:${hash}`),
        400,
        /^bad cursor: \d+ is outside \[/,
        "bad_cursor",
      );
      expectError(
        await call(h.url, "GET", `/v1/inputs/reports?from=${from}&to=${from + 5}&after=${from + 5}:${hash}`),
        400,
        /is outside/,
        "bad_cursor",
      );
      // Offsets are gone: a copy by offset costs the square of the range's size.
      expectError(
        await call(h.url, "GET", `/v1/inputs/reports?${range}&offset=2`),
        400,
        /must NOT have additional properties/,
      );
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
        ingestor: new Ingestor(store, {
          clock: () => 0,
          authenticator: new InlineAuthenticator(DOMAIN, []),
          limits: INGEST,
        }),
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
      expect(r.body.checks.store).to.equal(`ok (sqlite, schema ${SCHEMA_VERSION})`);
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
