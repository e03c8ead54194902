/**
 * The bench day generator (`bench/scale-child.ts generate`, run as bench:scale runs it): the day it
 * stores is bench/day.ts's simulated day except for the P-256 signatures (OpenSSL, random nonce),
 * and it closes with every report accepted, to the deterministic day's root and dataHash (neither
 * depends on signature bytes), so a cached day regenerated keeps its recorded root.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { DatabaseSync } from "node:sqlite";

import { closeStoredEpoch, importInputs } from "@hexmesh/oracle";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import type { StoredReport } from "@hexmesh/oracle/store/types";

import { simulatedDay } from "../../bench/day.js";

const DEVICES = 120;
const REGISTERED = 700;

describe("bench / a generated day (bench/scale-child.ts generate)", function () {
  this.timeout(180_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-bench-day-"));
  const file = path.join(dir, `day-${DEVICES}.sqlite`);
  let store: SqliteStore;
  let root: string | undefined; // the day's, from its close

  before(() => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", path.resolve("bench/scale-child.ts"), "generate", String(DEVICES), file],
      { encoding: "utf8", env: { ...process.env, SCALE_BENCH_GEN_THREADS: "2" } },
    );
    expect(run.status, run.stderr).to.equal(0);
    const out = JSON.parse(run.stdout.trim().split("\n").pop()!) as { reports: number; devices: number };
    expect(out.devices).to.equal(DEVICES);
    store = new SqliteStore({ path: file });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores simulatedDay's reports with their receive times; only the P-256 signatures differ", async () => {
    const { sim } = simulatedDay(DEVICES, `scale ${DEVICES}`);
    const stored: StoredReport[] = [];
    for (let after: { receivedAt: number; hash: `0x${string}` } | undefined; ; ) {
      const page = await store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER, {
        ...(after ? { after } : {}),
        limit: 1_000,
      });
      if (page.length === 0) break;
      stored.push(...page);
      after = { receivedAt: page[page.length - 1]!.receivedAt, hash: page[page.length - 1]!.hash };
    }
    expect(stored.length).to.equal(sim.reports.length);
    const unsigned = (raw: string) => raw.replace(/"signature":"0x[0-9a-f]+"\}$/, "");
    const key = (raw: string, at: number) => `${at} ${unsigned(raw)}`;
    const want = new Map(sim.reports.map((r) => [key(r.raw, r.receivedAt), r.raw]));
    let resigned = 0;
    for (const r of stored) {
      const raw = want.get(key(r.raw, r.receivedAt));
      expect(raw, `stored report ${r.hash} is not one of the day's`).to.not.equal(undefined);
      want.delete(key(r.raw, r.receivedAt));
      if (raw !== r.raw) resigned++;
    }
    expect(want.size).to.equal(0);
    // A P-256 device signs ~20% of the reports; each of them got a fresh nonce, no other report changed.
    const p256Reports = sim.reports.filter((r) => /"signature":"0x[0-9a-f]{128}"\}$/.test(r.raw)).length;
    expect(resigned)
      .to.equal(p256Reports)
      .and.to.be.greaterThan(sim.reports.length * 0.1);
  });

  it("appends the rows in receive order, as an oracle's ingest does (rowid order is (receive time, hash))", () => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const rows = db.prepare("SELECT received_at AS at, hash FROM reports ORDER BY rowid").all() as {
        at: number;
        hash: string;
      }[];
      expect(rows.length).to.be.greaterThan(DEVICES * 10);
      const sorted = [...rows].sort(
        (a, b) => a.at - b.at || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0),
      );
      expect(rows).to.deep.equal(sorted);
      // The day spans several of the generator's hourly buckets.
      expect(rows[rows.length - 1]!.at - rows[0]!.at).to.be.greaterThan(6 * 3_600_000);
    } finally {
      db.close();
    }
  });

  it("closes with every report accepted, to the root and dataHash of the day signed with RFC 6979 nonces", async () => {
    const index = (await store.getChainIndex(0n))!;
    expect(index.devices.length).to.equal(DEVICES);
    const out = await closeStoredEpoch(store, index);
    expect(out.summary.reports).to.equal(await store.countReports());
    expect(out.summary.valid).to.equal(out.summary.reports);
    expect(out.summary.rejected).to.deep.equal({});
    expect(out.summary.beacons).to.equal(DEVICES * 4);
    // The same day with simulatedDay's deterministic signatures, in a store of its own.
    const { sim } = simulatedDay(DEVICES, `scale ${DEVICES}`);
    const deterministic = new SqliteStore({ path: ":memory:" });
    try {
      await deterministic.migrate();
      await importInputs(deterministic, sim, "simulatedDay");
      await deterministic.putChainIndex(index);
      const want = await closeStoredEpoch(deterministic, index);
      expect([out.root, out.dataHash, out.summary]).to.deep.equal([want.root, want.dataHash, want.summary]);
      root = out.root;
    } finally {
      await deterministic.close();
    }
  });

  it("a quiet day (generate DEVICES FILE REGISTERED): the same reports and root, more devices registered and silent", async () => {
    const quietFile = path.join(dir, `day-${DEVICES}-of-${REGISTERED}.sqlite`);
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        path.resolve("bench/scale-child.ts"),
        "generate",
        String(DEVICES),
        quietFile,
        String(REGISTERED),
      ],
      { encoding: "utf8", env: { ...process.env, SCALE_BENCH_GEN_THREADS: "1" } },
    );
    expect(run.status, run.stderr).to.equal(0);
    const quiet = new SqliteStore({ path: quietFile });
    try {
      const index = (await quiet.getChainIndex(0n))!;
      expect(index.devices.length).to.equal(REGISTERED);
      expect(new Set(index.devices.map((d) => d.id)).size).to.equal(REGISTERED);
      expect(new Set(index.devices.map((d) => JSON.stringify(d.key))).size).to.equal(REGISTERED);
      expect(await quiet.countReports()).to.equal(await store.countReports());
      const out = await closeStoredEpoch(quiet, index);
      expect(root).to.match(/^0x[0-9a-f]{64}$/);
      expect(out.root).to.equal(root);
    } finally {
      await quiet.close();
    }
    const bad = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        path.resolve("bench/scale-child.ts"),
        "generate",
        "10",
        path.join(dir, "bad.sqlite"),
        "9",
      ],
      { encoding: "utf8" },
    );
    expect(bad.status).to.not.equal(0);
    expect(bad.stderr).to.match(/REGISTERED \(9\) must be an integer >= DEVICES \(10\)/);
  });
});
