/**
 * Retention and keyset copies: `pruneEpochs` on both backends (SQLite, and PostgreSQL at
 * HEXMESH_TEST_PG_URL; skipped without it, like the store contract), and `pullInputs` across many
 * cursor pages from a real service on localhost, refused once the range is pruned.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import {
  pruneEpochs,
  PruneRefusedError,
  pullInputs,
  ResultSetPrunedError,
  ResultSets,
  SLACK_MS,
  startService,
  validateConfig,
  type ReportInput,
  type RunningService,
  type StoredEpochResult,
} from "@hexmesh/oracle";
import { OracleApiError } from "@hexmesh/oracle/api/client";
import type { Hex } from "@hexmesh/protocol";

import {
  freePort,
  openSqlite,
  reportInput,
  simulated,
  storeBackends,
  writeDevicesFile,
  type OracleStore,
} from "../../helpers/service.js";

const { fleet, sim } = simulated(20, "retention", 0);

const input = reportInput;

const W2 = 2 * SLACK_MS;
const L = 600_000;
const T0 = 1_800_000_000_000;
const startOf = (e: number) => T0 + e * L;
const rootOf = (e: number) => `0x${(0xa0 + e).toString(16).padStart(64, "0")}` as Hex;

/** Receive times at every edge a prune must respect, then spread over epochs 0 to 4. */
function times(n: number): number[] {
  const edges: number[] = [];
  for (let e = 1; e <= 4; e++) for (const d of [-W2 - 1, -W2, -1, 0, W2 - 1, W2]) edges.push(startOf(e) + d);
  const spread = Array.from({ length: n - edges.length }, (_, i) =>
    Math.floor(startOf(1) - 30_000 + (i * (4 * L + 60_000)) / (n - edges.length)),
  );
  return [...edges, ...spread];
}

async function closedEpoch(store: OracleStore, e: number): Promise<void> {
  await store.putChainIndex({
    chainId: 31337n,
    registry: `0x${"09".repeat(20)}` as Hex,
    epoch: BigInt(e),
    epochStart: startOf(e),
    epochEnd: startOf(e + 1),
    pool: 10n ** 20n,
    devices: [],
    bonds: [],
    previousCumulative: [],
    snapshotBlock: 100 + e,
    funded: 10n ** 20n,
  });
  const result: StoredEpochResult = {
    epoch: BigInt(e),
    root: rootOf(e),
    totalCumulative: 10n,
    dataHash: rootOf(50 + e),
    snapshotBlock: 100 + e,
    summary: {
      reports: 0,
      valid: 0,
      beacons: 0,
      witnesses: 0,
      rejected: {},
      devices: 0,
      owners: 1,
      pool: "100",
      distributed: "100",
      dust: "0",
    },
    owners: [{ owner: `0x${"01".repeat(20)}` as Hex, amount: 10n, cumulative: 10n }],
    computedAt: T0,
  };
  await store.putEpochResult(result, []);
}

for (const backend of storeBackends("retention")) {
  describe(`service: retention and prune (${backend.name})`, function () {
    this.timeout(60_000);
    let store: OracleStore;
    let stored: ReportInput[];
    const left = async () =>
      (await store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER)).map((r) => r.hash);
    const outside = (ranges: [number, number][]) =>
      stored
        .filter((r) => !ranges.some(([a, b]) => r.receivedAt >= a && r.receivedAt < b))
        .map((r) => r.hash);

    before(function () {
      if (backend.skip !== undefined) {
        console.log(`      skipped: ${backend.skip}`);
        this.skip();
      }
    });
    beforeEach(async function () {
      store = await backend.open();
      await store.migrate();
      const at = times(sim.reports.length);
      stored = sim.reports.map((r, i) => input(r.raw, at[i]!));
      await store.insertReports(stored);
      for (const e of [1, 2, 3]) await closedEpoch(store, e);
    });
    afterEach(async () => store?.close());
    after(async () => backend.cleanup());

    it("deletes the raw reports of epochs kept N epochs past live, in batches, and keeps what neighbours read", async function () {
      const all = (await left()).sort();
      const live = { epoch: 3n, root: rootOf(3) };
      // A dry run counts and deletes nothing.
      const dry = await pruneEpochs(store, { keepEpochs: 1, live, witnessWindowMs: SLACK_MS, dryRun: true });
      expect(dry.pruned.map((p) => p.epoch)).to.deep.equal([1n, 2n]);
      expect((await left()).sort()).to.deep.equal(all);
      expect(await store.prunedEpochs()).to.deep.equal([]);

      const calls: [bigint, number][] = [];
      const run = await pruneEpochs(store, {
        keepEpochs: 1,
        live,
        witnessWindowMs: SLACK_MS,
        batch: 7,
        now: () => 42,
        progress: (e, n) => calls.push([e, n]),
      });
      // Epoch 0 was never closed here and epoch 3 is within keepEpochs: the strips they read stay.
      const ranges: [number, number][] = [
        [startOf(1) + W2, startOf(2) - W2],
        [startOf(2) - W2, startOf(3) - W2],
      ];
      expect(run.pruned.map((p) => [p.epoch, p.fromMs, p.toMs, p.prunedAt])).to.deep.equal([
        [1n, ...ranges[0]!, 42],
        [2n, ...ranges[1]!, 42],
      ]);
      expect(run.pruned.map((p) => p.reports)).to.deep.equal(dry.pruned.map((p) => p.reports));
      expect(run.pruned[0]!.reports + run.pruned[1]!.reports).to.equal(
        stored.length - outside(ranges).length,
      );
      expect((await left()).sort()).to.deep.equal(outside(ranges).sort());
      // Batches of 7: one progress call per transaction.
      expect(calls.filter(([e]) => e === 1n).length).to.equal(Math.floor(run.pruned[0]!.reports / 7) + 1);
      expect(await store.prunedEpochs()).to.deep.equal(run.pruned);

      // Again: nothing to do. One epoch later, epoch 3 goes, with the strip it shares with epoch 2.
      expect(
        (await pruneEpochs(store, { keepEpochs: 1, live, witnessWindowMs: SLACK_MS })).pruned,
      ).to.deep.equal([]);
      const next = await pruneEpochs(store, {
        keepEpochs: 1,
        live: { epoch: 4n, root: rootOf(4) },
        witnessWindowMs: SLACK_MS,
      });
      expect(next.pruned.map((p) => [p.epoch, p.fromMs, p.toMs])).to.deep.equal([
        [3n, startOf(3) - W2, startOf(4) - W2],
      ]);
      expect((await left()).sort()).to.deep.equal(outside([[startOf(1) + W2, startOf(4) - W2]]).sort());
    });

    it("refuses a named epoch that is not live, within N, not closed here, or whose live root is not ours; deletes nothing", async function () {
      const before = (await left()).length;
      const o = { keepEpochs: 1, witnessWindowMs: SLACK_MS };
      const refused = async (epochs: bigint[], live: { epoch: bigint; root: string } | null, re: RegExp) => {
        let err: unknown;
        try {
          await pruneEpochs(store, { ...o, live, epochs });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(PruneRefusedError);
        expect((err as Error).message).to.match(re);
      };
      await refused([1n], null, /^epoch 1: no root is live yet$/);
      await refused(
        [3n],
        { epoch: 2n, root: rootOf(2) },
        /^epoch 3: its root is not live \(the live root is epoch 2\)$/,
      );
      await refused(
        [1n, 2n],
        { epoch: 2n, root: rootOf(2) },
        /^epoch 2 is within retention.keepEpochs \(1\) of the live epoch 2$/,
      );
      await refused([7n], { epoch: 9n, root: rootOf(9) }, /^epoch 7 has not been closed by this oracle$/);
      await refused([3n], { epoch: 3n, root: rootOf(8) }, /the live root 0x0+a8 is not this oracle's 0x0+a3/);
      expect((await left()).length).to.equal(before);
      expect(await store.prunedEpochs()).to.deep.equal([]);
      // Without names, the ineligible ones are left alone; keepEpochs 0 prunes the live epoch itself.
      const r = await pruneEpochs(store, {
        keepEpochs: 0,
        live: { epoch: 2n, root: rootOf(2) },
        witnessWindowMs: SLACK_MS,
      });
      expect(r.pruned.map((p) => p.epoch)).to.deep.equal([1n, 2n]);
    });

    it("a pruned epoch's result set is refused as pruned; its stored result stays", async function () {
      await pruneEpochs(store, {
        keepEpochs: 0,
        live: { epoch: 1n, root: rootOf(1) },
        witnessWindowMs: SLACK_MS,
      });
      let err: unknown;
      try {
        await new ResultSets(store).get(1n);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ResultSetPrunedError);
      expect((err as Error).message).to.match(/^epoch 1: the raw reports it was computed from were pruned/);
      expect((await store.getEpochResult(1n))?.root).to.equal(rootOf(1));
      expect(await store.prunedOverlapping(startOf(2) + W2, startOf(3))).to.equal(null);
      expect((await store.prunedOverlapping(startOf(0), startOf(1) + W2 + 1))?.epoch).to.equal(1n);
    });
  });
}

describe("service: pull copies a range by cursor pages from a service on localhost", function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-pull-"));
  let svc: RunningService;

  before(async () => {
    svc = await startService(
      validateConfig({
        listen: { host: "127.0.0.1", port: await freePort() },
        store: { backend: "sqlite", path: path.join(dir, "peer.sqlite") },
        ingest: { devicesFile: writeDevicesFile(path.join(dir, "devices.json"), fleet), signatureThreads: 0 },
        log: { level: "silent" },
      }),
    );
    const at = times(sim.reports.length);
    await svc.store.insertReports(sim.reports.map((r, i) => input(r.raw, at[i]!)));
  });
  after(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies every report of the range once with its receive time (pages of 7), nothing outside it", async function () {
    const mine = openSqlite(path.join(dir, "mine.sqlite"));
    await mine.migrate();
    const range = { from: startOf(2), to: startOf(3), entropyFrom: 0, entropyTo: 1 };
    const seen: number[] = [];
    const copied = await pullInputs(mine, svc.url, range, (_s, done) => seen.push(done), 7);
    const want = await svc.store.reportsReceivedBetween(range.from, range.to);
    expect(want.length).to.be.greaterThan(20);
    expect(copied).to.equal(want.length);
    expect(seen.length).to.equal(Math.floor(want.length / 7) + 1);
    const got = await mine.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER);
    expect(got).to.deep.equal(want);
    await mine.close();
  });

  it("refuses a range that meets a pruned epoch with 410 pruned (a partial copy would give another root)", async function () {
    await svc.store.recordPrune({
      epoch: 2n,
      fromMs: startOf(2) + W2,
      toMs: startOf(3) - W2,
      reports: 1,
      prunedAt: 1,
    });
    const mine = openSqlite(":memory:");
    await mine.migrate();
    let err: unknown;
    try {
      await pullInputs(mine, svc.url, {
        from: startOf(3) - W2 - 1,
        to: startOf(4),
        entropyFrom: 0,
        entropyTo: 1,
      });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(OracleApiError);
    expect(err).to.include({ status: 410, code: "pruned" });
    expect((err as Error).message).to.match(
      /the reports of epoch 2 \(received in \[\d+, \d+\)\) were pruned by retention/,
    );
    expect(await mine.countReports()).to.equal(0);
    await mine.close();
  });
});
