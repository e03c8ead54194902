/**
 * The route table (routes.ts) and the typed client (client.ts) against a real oracle service on
 * localhost (startService, an ingest-only node without a chain): every route of the table is one
 * the server serves, the client's answers and errors (HTTP status and the API's message,
 * unreachable, not JSON), path building, and that both modules load in a browser (no Node import).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { startService, validateConfig, type RunningService } from "@hexmesh/oracle";
import { OracleApiError, OracleClient } from "@hexmesh/oracle/api/client";
import { pathTo, ROUTES } from "@hexmesh/oracle/api/routes";

import { freePort, simulated, writeDevicesFile } from "../../helpers/service.js";

const { fleet, sim } = simulated(8, "client test", 0);
const raws = sim.reports.map((r) => r.raw);
const KEY_ID = /"(?:device|witness)":"(0x[0-9a-f]{40})"/.exec(raws[0]!)![1]!;

async function caught(p: Promise<unknown>): Promise<OracleApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).to.be.instanceOf(OracleApiError);
  return e as OracleApiError;
}

describe("service: route table and typed client", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-client-"));
  let svc: RunningService;
  let oracle: OracleClient;

  before(async () => {
    svc = await startService(
      validateConfig({
        listen: { host: "127.0.0.1", port: await freePort() },
        store: { backend: "sqlite", path: path.join(dir, "oracle.sqlite") },
        ingest: { devicesFile: writeDevicesFile(path.join(dir, "devices.json"), fleet), signatureThreads: 0 },
        log: { level: "silent" },
      }),
    );
    oracle = new OracleClient(`${svc.url}/`);
  });
  after(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves every route of the table, and nothing the table does not name", async () => {
    for (const [name, r] of Object.entries(ROUTES))
      expect(svc.app.hasRoute({ method: r.method, url: r.path }), name).to.equal(true);
    // printRoutes: one line per path with its methods (fastify adds HEAD to every GET).
    const served = svc.app
      .printRoutes({ commonPrefix: false })
      .split("\n")
      .flatMap((l) => /\(([A-Z, ]+)\)$/.exec(l)?.[1]!.split(", ") ?? [])
      .filter((m) => m !== "HEAD");
    expect(served.length).to.equal(Object.keys(ROUTES).length);
  });

  it("builds paths from templates: parameters encoded, query values defined only", () => {
    expect(pathTo(ROUTES.owner.path, { address: "0xAb" })).to.equal("/v1/owners/0xAb");
    expect(pathTo(ROUTES.epochSignature.path, { epoch: 12n })).to.equal("/v1/epochs/12/signature");
    expect(pathTo(ROUTES.deviceResults.path, { keyId: "a/b" }, { epoch: 3, limit: undefined })).to.equal(
      "/v1/devices/a%2Fb/results?epoch=3",
    );
    expect(() => pathTo(ROUTES.owner.path, {} as { address: string })).to.throw(/no value for :address/);
  });

  it("submits reports and reads them back: typed answers", async () => {
    const one = await oracle.submitReport(raws[0]!);
    expect(one).to.include({ status: "accepted" });
    const batch = await oracle.submitReports(raws.slice(0, 5));
    expect([batch.accepted, batch.duplicate, batch.refused]).to.deep.equal([4, 1, 0]);
    const all = await oracle.inputReports({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 2 });
    expect(all.total).to.equal(5);
    expect(all.reports.map((r) => r.raw)).to.deep.equal(
      (await svc.store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER)).slice(0, 2).map((r) => r.raw),
    );
    expect(await oracle.inputEntropy({ from: 0, to: 10 })).to.deep.equal({ entropy: [] });
    expect(await oracle.deviceResults(KEY_ID, { limit: 5 })).to.deep.equal({ device: KEY_ID, results: [] });
    expect(await oracle.health()).to.deep.equal({ status: "ok" });
    expect((await oracle.ready()).checks?.store).to.match(/^ok \(sqlite/);
  });

  it("says what went wrong: the HTTP status and the API's message and code", async () => {
    const refused = await caught(oracle.submitReport(raws[1]!.slice(0, -5)));
    expect(refused).to.include({ status: 400, code: "not_json", method: "POST" });
    expect(refused.message).to.match(
      /^POST http:\/\/127\.0\.0\.1:\d+\/v1\/reports: HTTP 400: report refused: not_json/,
    );
    const noChain = await caught(oracle.owner(`0x${"12".repeat(20)}`));
    expect(noChain).to.include({ status: 503, apiMessage: "no chain configured: the live root is unknown" });
    expect((await caught(oracle.entropy())).status).to.equal(503);
    expect((await caught(oracle.epoch(4))).apiMessage).to.equal("epoch 4 has not been closed by this oracle");
    expect((await caught(oracle.epochSignature(4))).apiMessage).to.equal(
      "this oracle has not signed epoch 4",
    );
    const bad = await caught(oracle.inputReports({ from: 9, to: 5 }));
    expect(bad).to.include({ status: 400, apiMessage: "bad range: to (5) is before from (9)" });
    expect(bad.unreachable).to.equal(false);
  });

  it("says when the oracle cannot be reached or its answer is not JSON", async () => {
    const nowhere = await caught(new OracleClient(`http://127.0.0.1:${await freePort()}`).health());
    expect(nowhere.status).to.equal(undefined);
    expect(nowhere.unreachable).to.equal(true);
    expect(nowhere.message).to.match(/cannot reach the oracle: fetch failed \(ECONNREFUSED\)/);

    const text = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end("<html>"),
    );
    await new Promise<void>((resolve) => text.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(text.address() as AddressInfo).port}`;
      const e = await caught(new OracleClient(url).health());
      expect(e).to.include({ status: 200 });
      expect(e.message).to.match(/HTTP 200: the answer is not JSON: "<html>"/);
    } finally {
      text.close();
    }
  });

  it("keeps a base URL's path prefix (an oracle behind a proxy)", async () => {
    const seen: string[] = [];
    const proxied = new OracleClient("https://example.org/oracle/", {
      fetch: async (input) => {
        seen.push(String(input));
        return new Response(JSON.stringify({ status: "ok" }), { status: 200 });
      },
    });
    await proxied.health();
    await proxied.owner("0xab");
    expect(seen).to.deep.equal([
      "https://example.org/oracle/health",
      "https://example.org/oracle/v1/owners/0xab",
    ]);
  });

  it("loads in a browser: the compiled route table and client import nothing outside themselves", () => {
    const dist = path.resolve("packages/oracle/dist/api");
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const js = readFileSync(file, "utf8");
      for (const m of js.matchAll(
        /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g,
      )) {
        const spec = m[1] ?? m[2]!;
        expect(spec, `${path.basename(file)} imports ${spec}`).to.match(/^\.\.?\//);
        visit(path.resolve(path.dirname(file), spec));
      }
    };
    visit(path.join(dist, "client.js"));
    expect([...seen].map((f) => path.relative(dist, f)).sort()).to.deep.equal(["client.js", "routes.js"]);
  });
});
