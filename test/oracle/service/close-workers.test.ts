/**
 * Verification over several worker processes on one PostgreSQL database (service/partitions.ts):
 * a close split into partitions gives the single-process close's result (summary, dataHash over
 * every verdict, root) with one worker and with two; a worker SIGKILLed mid-partition loses nothing
 * (its lease runs out, the partition is claimed again, the root is unchanged); a stale claim cannot
 * complete or renew; a worker on an epoch that is not being closed, a store without partitions
 * (SQLite) and partitions that do not hold what the epoch owns are refused with a clear error.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { expect } from "chai";
import pg from "pg";

import {
  closePartitionedEpoch,
  closeStoredEpoch,
  PartitionedCloseError,
  runCoverageEpoch,
  runPartitionWorker,
  StaleClaimError,
  type StoredChainIndex,
  type StoredEpochResult,
} from "@hexmesh/oracle";
import { closeCutoff, ownedBy, type EpochTimes } from "@hexmesh/oracle/service/close";
import { InlinePreparer } from "@hexmesh/oracle/verify/prepare";
import { ChainView, fromHex, keccak256, parseReport, toHex, type ReceivedReport } from "@hexmesh/protocol";

import {
  dropPgSchema,
  EPOCH_END,
  EPOCH_START,
  fleetIndex,
  freshPgSchema,
  openPg,
  openSqlite,
  pgUrl,
  reportInput,
  simulated,
  type OracleStore,
} from "../../helpers/service.js";

const W = 4_000; // the verifier's witness window
const CLI = path.resolve("packages/oracle/bin/hexmesh-oracle.js");
const { fleet, sim } = simulated(150, "close workers");
const t: EpochTimes = { epoch: 0n, start: EPOCH_START, end: EPOCH_END };
const index: StoredChainIndex = { ...fleetIndex(fleet, t), snapshotBlock: 1, funded: 10n ** 24n };

/** The day's reports, with some beacons and their witnesses moved across the end boundary (ownership decided by beacons). */
const reports: ReceivedReport[] = (() => {
  const at = new Map<string, number>(sim.reports.map((r) => [r.raw, r.receivedAt]));
  const groups = new Map<string, string[]>();
  for (const r of sim.reports) {
    const p = parseReport(r.raw);
    if (!p.ok) continue;
    const key =
      p.report.type === "beacon" ? toHex(keccak256(fromHex(p.report.payload))) : p.report.beaconPayloadHash;
    const g = groups.get(key) ?? [];
    if (p.report.type === "beacon") g.unshift(r.raw);
    else g.push(r.raw);
    groups.set(key, g);
  }
  [...groups.values()].slice(0, 12).forEach((g, i) => {
    const tb = t.end + [-W - 1, -1, 0, W - 1, 2 * W - 1, -2 * W][i % 6]!;
    g.forEach((raw, k) => at.set(raw, k === 0 ? tb : tb + ((k * 977) % (2 * W + 1)) - W));
  });
  return [...at].filter(([raw]) => parseReport(raw).ok).map(([raw, receivedAt]) => ({ raw, receivedAt }));
})();

async function fill(store: OracleStore): Promise<void> {
  await store.migrate();
  for (let i = 0; i < reports.length; i += 500)
    await store.insertReports(reports.slice(i, i + 500).map((r) => reportInput(r.raw, r.receivedAt)));
  await store.putEntropy(sim.entropy);
  await store.putChainIndex(index);
  await store.beginClose({ epoch: 0n, cutoff: closeCutoff(t, W), startedAt: Date.now() });
}

/** The error a promise rejects with (the test fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** Rejects with an error of `type` whose message equals (string) or matches (RegExp) `message`. */
async function refused(p: Promise<unknown>, type: new (...a: never[]) => Error, message: string | RegExp) {
  const e = await rejection(p);
  expect(e, String(e)).to.be.instanceOf(type);
  if (typeof message === "string") expect(e.message).to.equal(message);
  else expect(e.message).to.match(message);
}

const same = (got: StoredEpochResult, want: StoredEpochResult) => {
  expect(got.root).to.equal(want.root);
  expect(got.dataHash).to.equal(want.dataHash); // keccak256 of the encoding, every verdict record included
  expect(got.totalCumulative).to.equal(want.totalCumulative);
  expect(got.summary).to.deep.equal(want.summary);
  expect(got.owners).to.deep.equal(want.owners);
};

describe("service: verification workers on PostgreSQL (partitioned close)", function () {
  this.timeout(300_000);
  const target = pgUrl();
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-workers-"));
  const schemas: string[] = [];
  const opened: OracleStore[] = [];
  let reference: StoredEpochResult;

  async function pgStore(name: string, filled = true): Promise<{ store: OracleStore; schema: string }> {
    const url = (target as { url: string }).url;
    const schema = await freshPgSchema(url, `workers_${name}`);
    schemas.push(schema);
    const store = openPg(url, schema);
    opened.push(store);
    if (filled) await fill(store);
    else await store.migrate();
    return { store, schema };
  }

  /** A `hexmesh-oracle` config file for the PostgreSQL schema (a worker needs only the store). */
  function pgConfig(name: string, schema: string, level: string): string {
    const file = path.join(dir, `${name}.json`);
    const url = (target as { url: string }).url;
    writeFileSync(file, JSON.stringify({ store: { backend: "postgres", url, schema }, log: { level } }));
    return file;
  }

  /** Another connection pool on the same schema: what a second process sees. */
  function sameSchema(schema: string): OracleStore {
    const store = openPg((target as { url: string }).url, schema);
    opened.push(store);
    return store;
  }

  before(async function () {
    if ("skip" in target) {
      console.log(`      skipped: ${target.skip}`);
      this.skip();
    }
    // The reference: the single-process streaming close on SQLite (the one-machine default).
    const sqlite = openSqlite(path.join(dir, "reference.sqlite"));
    await fill(sqlite);
    reference = await closeStoredEpoch(sqlite, index, { preparer: "inline" });
    await sqlite.close();
    expect(reference.summary.reports).to.be.greaterThan(3_000);
  });

  after(async () => {
    for (const s of opened) await s.close().catch(() => {});
    if (!("skip" in target)) for (const s of schemas) await dropPgSchema(target.url, s);
    rmSync(dir, { recursive: true, force: true });
  });

  it("one worker (the closing process, stage 1 on a worker thread) and two workers give the single-process close's result", async () => {
    const one = await pgStore("one");
    same(await closePartitionedEpoch(one.store, index, { partitions: 5, threads: 1, pollMs: 50 }), reference);
    // Records are dropped once the result is stored; the partitions stay as a record of the work.
    const q1 = one.store.closePartitions()!;
    expect(await q1.counts(0n)).to.include({ partitions: 5, done: 5, reports: reference.summary.reports });
    let released = 0;
    try {
      for await (const _ of q1.records(0n)) released++;
    } catch (e) {
      expect((e as Error).message).to.match(
        /partition 0 of epoch 0 has no records \(not done, or released\)/,
      );
    }
    expect(released).to.equal(0);

    // Two workers, each with its own connection pool, the reducer only waiting.
    const two = await pgStore("two");
    const reducer = closePartitionedEpoch(two.store, index, { partitions: 8, verify: false, pollMs: 50 });
    while ((await two.store.closePartitions()!.counts(0n)).partitions === 0) await sleep(20);
    // Each worker pauses after a claim, so neither finishes the epoch before the other starts.
    const events: Record<string, string[]> = { a: [], b: [] };
    const [a, b] = await Promise.all(
      ["a", "b"].map((w) =>
        runPartitionWorker(sameSchema(two.schema), {
          epoch: 0n,
          worker: w,
          pollMs: 50,
          onClaim: (c) => {
            events[w]!.push(`claim ${c.part}`);
            return sleep(100);
          },
          log: (msg) => events[w]!.push(msg),
        }),
      ),
    );
    // Its epoch's context is built before its first claim, so no lease runs out while it is built.
    for (const w of ["a", "b"]) expect(events[w]![0], events[w]!.join("; ")).to.equal("epoch context ready");
    expect(a!.partitions + b!.partitions).to.equal(8);
    expect(a!.partitions).to.be.greaterThan(0);
    expect(b!.partitions).to.be.greaterThan(0);
    expect(a!.reports + b!.reports).to.equal(reference.summary.reports);
    same(await reducer, reference);
    // Closed: the stored result is returned as is.
    expect((await two.store.getEpochResult(0n))!.root).to.equal(reference.root);
  });

  it("a worker SIGKILLed mid-partition loses nothing: the partition is claimed again and the root is unchanged", async () => {
    const { store, schema } = await pgStore("kill");
    const reducer = closePartitionedEpoch(store, index, { partitions: 2, verify: false, pollMs: 50 });
    const queue = store.closePartitions()!;
    while ((await queue.counts(0n)).partitions === 0) await sleep(20);
    const config = pgConfig("worker", schema, "warn");
    const worker = (lease: number) => {
      const child = spawn(
        process.execPath,
        [CLI, "-c", config, "worker", "--epoch", "0", "--lease-ms", String(lease), "--poll-ms", "50"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      return { child, exited, output: () => out };
    };
    const client = new pg.Client({ connectionString: (target as { url: string }).url });
    await client.connect();
    try {
      const claimedBy = async (pid: number) =>
        (
          await client.query(
            `SELECT part, done_at, records FROM ${schema}.close_partitions WHERE epoch = 0 AND worker LIKE $1`,
            [`%:${pid}:%`],
          )
        ).rows as { part: number; done_at: string | null; records: Buffer | null }[];
      const victim = worker(2_000);
      let claimed: { part: number; done_at: string | null }[] = [];
      const deadline = Date.now() + 60_000;
      while (claimed.length === 0 && Date.now() < deadline) {
        claimed = await claimedBy(victim.child.pid!);
        if (claimed.length === 0) await sleep(5);
      }
      victim.child.kill("SIGSTOP"); // frozen at once: what the database holds now is what a SIGKILL leaves
      const frozen = await claimedBy(victim.child.pid!);
      victim.child.kill("SIGKILL");
      expect(await victim.exited).to.equal(null);
      // Mid-partition: its first claim was not done, and nothing of it was written.
      expect(frozen.length, victim.output()).to.equal(1);
      expect(frozen[0]!.done_at).to.equal(null);
      expect(frozen[0]!.records).to.equal(null);
      const lostPart = frozen[0]!.part;

      const rescuer = worker(30_000);
      expect(await rescuer.exited, rescuer.output()).to.equal(0);
      const stats = JSON.parse(rescuer.output().slice(rescuer.output().indexOf("{"))) as {
        partitions: number;
      };
      expect(stats.partitions).to.equal(2);
      same(await reducer, reference);
      const rows = (
        await client.query(
          `SELECT part, attempts FROM ${schema}.close_partitions WHERE epoch = 0 ORDER BY part`,
        )
      ).rows as { part: number; attempts: number }[];
      expect(rows.find((r) => r.part === lostPart)!.attempts).to.equal(2);
    } finally {
      await client.end();
    }
  });

  it("a worker that learns its epoch from a claim holds the claim again once the epoch's context is built", async () => {
    const { store, schema } = await pgStore("context");
    const reducer = closePartitionedEpoch(store, index, { partitions: 2, verify: false, pollMs: 50 });
    while ((await store.closePartitions()!.counts(0n)).partitions === 0) await sleep(20);
    const other = sameSchema(schema).closePartitions()!;
    const events: string[] = [];
    const stop = new AbortController();
    let first = true;
    // Its store, telling each page of reports it reads.
    const own = sameSchema(schema);
    const watched = new Proxy(own, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== "function") return value;
        if (key !== "reportsReceivedBetween") return (value as (...a: unknown[]) => unknown).bind(target);
        return (...args: unknown[]) => {
          events.push("read");
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const worker = runPartitionWorker(watched, {
      worker: "a",
      leaseMs: 300,
      pollMs: 50,
      signal: stop.signal,
      log: (msg) => events.push(msg.split(" (")[0]!),
      onClaim: async (c) => {
        events.push(`claim ${c.part}`);
        if (!first) return;
        first = false;
        // Its lease runs out before the context is built, and another claimer takes the partition
        // (for 500 ms, and never completes it: a worker that died).
        await sleep(400);
        expect(await other.claim("other", 500, 0n)).to.include({ part: c.part, attempts: 2 });
      },
    });
    same(await reducer, reference);
    stop.abort();
    expect(await worker).to.deep.equal({ partitions: 2, reports: reference.summary.reports, stale: 1 });
    const told = events.filter((e) => e !== "read");
    expect(told.slice(0, 4)).to.deep.equal([
      "claim 0",
      "epoch context ready",
      "partition 0 of epoch 0 is no longer claimed by a",
      "claim 1",
    ]);
    // The lost claim was dropped before its reports were read (the context's boundary bands were).
    const ready = events.indexOf("epoch context ready");
    expect(events.slice(0, ready)).to.include("read");
    expect(events[ready + 1]).to.equal("partition 0 of epoch 0 is no longer claimed by a");
    // Partition 0 was verified once the other claimer's lease ran out, on its third claim.
    expect(
      told.filter((e) => e === "claim 0"),
      told.join("; "),
    ).to.have.length(2);
    expect(told.filter((e) => e === "partition verified")).to.have.length(2);
  });

  it("a long-running worker (no --epoch) verifies the partitions it finds and stops on SIGTERM", async () => {
    const { store, schema } = await pgStore("daemon");
    const config = pgConfig("daemon", schema, "info");
    // Started before any close is open: it waits.
    const child = spawn(process.execPath, [CLI, "-c", config, "worker", "--poll-ms", "50"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await sleep(500);
    same(await closePartitionedEpoch(store, index, { partitions: 3, verify: false, pollMs: 50 }), reference);
    child.kill("SIGTERM");
    expect(await exited, out).to.equal(0);
    const lines = out.trim().split("\n");
    const verified = lines.filter((l) => l.includes('"msg":"partition verified"'));
    expect(verified).to.have.length(3);
    expect(JSON.parse(out.slice(out.lastIndexOf("{\n")))).to.deep.equal({
      partitions: 3,
      reports: reference.summary.reports,
      stale: 0,
    });
  });

  it("a stale claim (lease run out, claimed again) can neither complete nor renew; the current one completes once", async () => {
    const { store } = await pgStore("stale");
    const queue = store.closePartitions()!;
    expect(await queue.open(0n, [{ fromMs: t.start, toMs: t.end }])).to.equal(1);
    // A second open keeps the first partitions (a re-run continues the same work).
    expect(
      await queue.open(0n, [
        { fromMs: 0, toMs: 1 },
        { fromMs: 1, toMs: 2 },
      ]),
    ).to.equal(1);
    const first = (await queue.claim("w1", 150, 0n))!;
    expect(first).to.include({ epoch: 0n, part: 0, worker: "w1", attempts: 1 });
    expect(await queue.claim("w2", 150, 0n), "under a live lease").to.equal(null);
    await sleep(300);
    const second = (await queue.claim("w2", 60_000, 0n))!;
    expect(second).to.include({ part: 0, worker: "w2", attempts: 2 });
    const record = new Uint8Array(160);
    for (const attempt of [queue.complete(first, 1, record), queue.renew(first, 1_000)])
      await refused(
        attempt,
        StaleClaimError,
        "partition 0 of epoch 0 is no longer claimed by w1 (claimed again by w2 after this claim's lease ran out): its work is dropped",
      );
    expect((await queue.counts(0n)).done).to.equal(0);
    await queue.renew(second, 60_000);
    await queue.complete(second, 1, record);
    expect(await queue.counts(0n)).to.deep.equal({ partitions: 1, done: 1, claimed: 0, reports: 1 });
    await refused(queue.complete(second, 1, record), StaleClaimError, /\(done by w2\)/);
    expect(await queue.claim("w3", 1_000, 0n)).to.equal(null);
    expect(await queue.openEpochs()).to.deep.equal([]);
  });

  it("stores a partition's records as they are written, not compressed by the server", async () => {
    const { store, schema } = await pgStore("records", false);
    const queue = store.closePartitions()!;
    await queue.open(0n, [{ fromMs: t.start, toMs: t.end }]);
    // 512 records of zeros: above the 2 KB at which the server would compress a value, and as
    // compressible as a value gets.
    const records = new Uint8Array(512 * 160);
    await queue.complete((await queue.claim("w1", 60_000, 0n))!, 512, records);
    const client = new pg.Client({ connectionString: (target as { url: string }).url });
    await client.connect();
    try {
      const r = await client.query(
        `SELECT octet_length(records) AS bytes, pg_column_compression(records) AS compression
         FROM ${schema}.close_partitions WHERE epoch = 0 AND part = 0`,
      );
      expect(r.rows[0]).to.deep.equal({ bytes: records.length, compression: null });
    } finally {
      await client.end();
    }
    const read: Uint8Array[] = [];
    for await (const p of queue.records(0n)) read.push(p.records);
    expect(read).to.deep.equal([Buffer.from(records)]);
  });

  it("refuses a worker on an epoch not being closed, a store without partitions, and partitions that miss reports", async () => {
    const { store } = await pgStore("bad");
    await refused(
      runPartitionWorker(store, { epoch: 7n }),
      PartitionedCloseError,
      "epoch 7 is not being closed in partitions on this store (`close-epoch 7 --partitions N` opens them): nothing to work on",
    );
    const sqlite = openSqlite(path.join(dir, "bad.sqlite"));
    await sqlite.migrate();
    try {
      for (const attempt of [runPartitionWorker(sqlite), closePartitionedEpoch(sqlite, index)])
        await refused(
          attempt,
          PartitionedCloseError,
          'verification workers need a PostgreSQL store (store.backend "postgres" or HEXMESH_STORE_URL); this store is sqlite, which closes an epoch in one process',
        );
    } finally {
      await sqlite.close();
    }
    // Partitions opened over half of the epoch (by an earlier close, say): the reducer counts what
    // they hold against what the epoch owns and refuses.
    await store.closePartitions()!.open(0n, [{ fromMs: t.start, toMs: t.start + (t.end - t.start) / 2 }]);
    await refused(
      closePartitionedEpoch(store, index, { pollMs: 50 }),
      PartitionedCloseError,
      new RegExp(`^epoch 0: the partitions hold \\d+ reports, the epoch owns ${reference.summary.reports} `),
    );
    expect(await store.getEpochResult(0n)).to.equal(null);
  });

  it("hexmesh-oracle close-epoch refuses partition options without --partitions, and --partitions 0", async () => {
    const config = path.join(dir, "close-flags.json");
    writeFileSync(config, JSON.stringify({ store: { backend: "sqlite", path: path.join(dir, "f.sqlite") } }));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, "-c", config, "close-epoch", "0", ...args], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("exit", (code) => resolve({ code, err }));
      });
    for (const flags of [["--reduce-only"], ["--threads", "2"], ["--lease-ms", "5000"]]) {
      const r = await run(flags);
      expect(r.code, flags.join(" ")).to.equal(2);
      expect(r.err).to.contain(
        "hexmesh-oracle: --reduce-only, --threads and --lease-ms go with --partitions",
      );
    }
    const zero = await run(["--partitions", "0"]);
    expect(zero.code).to.not.equal(0);
    expect(zero.err).to.contain("expected a positive integer");
  });

  it("hexmesh-oracle worker on a SQLite store exits 1 with the reason", async () => {
    const config = path.join(dir, "sqlite-worker.json");
    writeFileSync(config, JSON.stringify({ store: { backend: "sqlite", path: path.join(dir, "w.sqlite") } }));
    const child = spawn(process.execPath, [CLI, "-c", config, "worker", "--epoch", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).to.equal(1);
    expect(err).to.contain("hexmesh-oracle: verification workers need a PostgreSQL store");
  });
});

describe("verify: stages 2-5 over prepared records (the reducer of a partitioned close)", function () {
  this.timeout(120_000);
  const owned = ownedBy(
    [...reports]
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .map((r) => ({ ...reportInput(r.raw, r.receivedAt), ...r })),
    t,
    W,
  );
  let records: Uint8Array;
  before(async () => {
    const chain = new ChainView(index);
    const preparer = new InlinePreparer(
      chain.domain,
      chain.devices.map((d) => d.record.key),
    );
    records = (await preparer.prepare(owned)).bytes;
  });
  const pagesOf = async function* (...pages: Uint8Array[]) {
    for (const p of pages) yield p;
  };
  const run = (count: number, ...pages: Uint8Array[]) =>
    runCoverageEpoch(
      index,
      { prepared: { count, pages: pagesOf(...pages) }, entropy: sim.entropy },
      { preparer: "inline" },
    );

  it("gives the reports' verdicts, encoding and root, however the records are paged", async () => {
    const want = await runCoverageEpoch(
      index,
      { reports: owned, entropy: sim.entropy },
      { preparer: "inline" },
    );
    const cut = 160 * 1_001;
    const got = await run(owned.length, records.subarray(0, cut), records.subarray(cut));
    expect(got.commit.epochRoot).to.deep.equal(want.commit.epochRoot);
    expect(got.work.verdicts).to.deep.equal(want.work.verdicts);
  });

  it("refuses pages that are not whole records, records never written, unknown device indexes and a wrong count", async () => {
    const n = owned.length;
    await refused(
      run(n, records.subarray(0, 100)),
      RangeError,
      "a page of prepared records is 100 bytes, not a multiple of 160",
    );
    await refused(
      run(n - 1, records),
      RangeError,
      `the report source announced ${n - 1} reports and yielded ${n}`,
    );
    await refused(
      run(n + 1, records),
      RangeError,
      `the report source announced ${n + 1} reports and yielded ${n}`,
    );
    const unwritten = records.slice();
    unwritten.fill(0, 160 * 3 + 28, 160 * 3 + 32);
    await refused(run(n, unwritten), RangeError, "prepared record 3 was never written by stage 1");
    const foreign = records.slice();
    new DataView(foreign.buffer).setInt32(160 * 5 + 4, fleet.length, true);
    await refused(
      run(n, foreign),
      RangeError,
      `prepared record 5 names device index ${fleet.length} of ${fleet.length}`,
    );
  });
});
