/**
 * `hexmesh-oracle close-epoch e --partitions N` as an operator runs it, against a chain (the
 * in-process Hardhat network served over JSON-RPC on localhost) and a PostgreSQL store: the closing
 * process only reduces (`--reduce-only`), a `worker --epoch e` process verifies every partition, and
 * the stored result (root, dataHash over every verdict, summary) equals `close-epoch e` run in one
 * process on a second store holding the same inputs.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import { network } from "hardhat";
import pg from "pg";

import { COVERAGE_STAGES, importInputs } from "@hexmesh/oracle";
import type { Hex } from "@hexmesh/protocol";

import { suiteAddresses } from "../../../deploy/lib/suite.js";
import { closeEpoch, epochBoundsMs } from "../../../scripts/demo/epoch.js";
import { onboardFleet } from "../../../scripts/demo/fleet.js";
import { epochReports } from "../../../scripts/demo/reports.js";
import { serveJsonRpc, type JsonRpcEndpoint } from "../../../scripts/demo/rpc.js";
import { deployDemoSuite, type Suite } from "../../../scripts/demo/suite.js";
import { dropPgSchema, freshPgSchema, openPg, pgUrl } from "../../helpers/service.js";

const CLI = path.resolve("packages/oracle/bin/hexmesh-oracle.js");
/** Boulder, Colorado: inside the oracle's US915 region. */
const BOULDER: [number, number] = [40.015, -105.2705];

describe("hexmesh-oracle close-epoch --partitions against a chain, with a worker process (PostgreSQL)", function () {
  this.timeout(300_000);
  const target = pgUrl();
  let suite: Suite;
  let rpc: JsonRpcEndpoint | undefined;
  let dir: string;
  const schemas: string[] = [];
  let configs: { single: string; partitioned: string };
  let reports = 0;

  before(async function () {
    if ("skip" in target) {
      console.log(`      skipped: ${target.skip}`);
      this.skip();
    }
    dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-partitions-cli-"));
    const connection = await network.create();
    suite = await deployDemoSuite(connection, { oracleCount: 1, threshold: 1, approveMakerAtDeploy: true });
    const owners = (await suite.ethers.getSigners()).slice(4, 6);
    const fleet = await onboardFleet(suite, owners, {
      devices: 12,
      p256Share: 0.5,
      spacingM: 500,
      origin: BOULDER,
      seed: "partitions cli fleet",
    });
    const domain = {
      chainId: suite.chainId,
      verifyingContract: (await suite.registry.getAddress()).toLowerCase() as Hex,
    };
    const day = epochReports(fleet, { domain, ...epochBoundsMs(suite, 0n), seed: "partitions cli" });
    reports = day.reports.length;
    rpc = await serveJsonRpc(connection.provider);
    const { registry, vault, controller, distributor } = await suiteAddresses(suite);
    const addresses = { registry, vault, controller, distributor };
    const configFor = async (name: string) => {
      const schema = await freshPgSchema(target.url, `cli_${name}`);
      schemas.push(schema);
      const store = openPg(target.url, schema);
      await store.migrate();
      await importInputs(store, { reports: day.reports, entropy: day.entropy }, "simulated day");
      await store.close();
      const file = path.join(dir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          listen: { host: "127.0.0.1", port: 0 },
          store: { backend: "postgres", url: target.url, schema },
          chain: { rpcUrl: rpc!.url, addresses, fromBlock: suite.deployBlock },
          log: { level: "silent" },
        }),
      );
      return { file, schema };
    };
    const single = await configFor("single");
    const partitioned = await configFor("partitioned");
    configs = { single: single.file, partitioned: partitioned.file };
    await closeEpoch(suite, 0n);
  });

  after(async function () {
    await rpc?.close();
    if ("url" in target) for (const s of schemas) await dropPgSchema(target.url, s);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, HEXMESH_ORACLE_KEY: suite.oracleKeys[0]!.privateKey });
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: env() }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
      );
    });

  it("the reducer and one worker process store the single-process close's root, dataHash and summary", async function () {
    const single = await cli(["-c", configs.single, "close-epoch", "0"]);
    expect(single.code, single.stderr).to.equal(0);
    const want = JSON.parse(single.stdout) as Record<string, unknown>;
    expect(want.reports).to.equal(reports);
    expect(want.valid as number).to.be.greaterThan(0);
    // An operator sees each stage of the close end, in order, on stderr.
    expect(endedSteps(single.stderr)).to.deep.equal(["index", ...COVERAGE_STAGES, "load", "verify", "store"]);

    const reducer = cli([
      "-c",
      configs.partitioned,
      "close-epoch",
      "0",
      "--partitions",
      "3",
      "--reduce-only",
    ]);
    // The worker starts once the close has opened its partitions (a worker on an epoch not being
    // closed is refused: tested in close-workers.test.ts).
    const schema = schemas[1]!;
    const db = new pg.Client({ connectionString: (target as { url: string }).url });
    await db.connect();
    try {
      for (;;) {
        const table = await db.query(`SELECT to_regclass('${schema}.close_partitions') AS t`);
        if (table.rows[0].t !== null) {
          const open = await db.query(
            `SELECT COUNT(*)::int AS n FROM ${schema}.close_partitions WHERE epoch = 0`,
          );
          if (open.rows[0].n === 3) break;
        }
        await sleep(50);
      }
    } finally {
      await db.end();
    }
    const worker = spawn(process.execPath, [CLI, "-c", configs.partitioned, "worker", "--epoch", "0"], {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let workerOut = "";
    let workerErr = "";
    worker.stdout.on("data", (b: Buffer) => (workerOut += b.toString()));
    worker.stderr.on("data", (b: Buffer) => (workerErr += b.toString()));
    const workerCode = await new Promise<number | null>((resolve) => worker.on("exit", resolve));
    expect(workerCode, workerErr).to.equal(0);
    const partitioned = await reducer;
    expect(partitioned.code, partitioned.stderr).to.equal(0);
    expect(JSON.parse(partitioned.stdout)).to.deep.equal(want);
    expect(endedSteps(partitioned.stderr)).to.deep.equal([
      "index",
      "partitions",
      ...COVERAGE_STAGES,
      "reduce",
      "verify",
      "store",
    ]);
    // Every partition, and so every report the epoch owns, was verified by the worker process.
    expect(JSON.parse(workerOut)).to.deep.equal({ partitions: 3, reports: want.reports, stale: 0 });
  });
});

/** The steps of a command's progress lines ("  step  done / total") that ended (done = total), in order. */
function endedSteps(stderr: string): string[] {
  const steps: string[] = [];
  for (const m of stderr.matchAll(/^ {2}(\S+) +([\d,]+) \/ ([\d,]+)$/gm))
    if (m[2] === m[3] && !steps.includes(m[1]!)) steps.push(m[1]!);
  return steps;
}
