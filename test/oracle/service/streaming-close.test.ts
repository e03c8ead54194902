/**
 * The streaming close (SQLite and PostgreSQL): the reports an epoch owns, read from the store in
 * keyset pages (streamOwnedReports) and fed to stage 1 page by page (prepareStream), give the same
 * reports as ownedBy over the whole read range, and the same verdicts, encoding, dataHash and root as
 * the in-memory path (one array, whole sort), for every page size, on the calling thread and on
 * worker threads; a source that lies about its size, fails, or carries a bad receive time is refused
 * with a clear error; verdicts are written from a generator in batches.
 */
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { runCoverageEpoch, type OracleStore, type VerdictRow } from "@hexmesh/oracle";
import {
  closeReadRange,
  epochOwnership,
  ownedBy,
  streamOwnedReports,
  type EpochTimes,
} from "@hexmesh/oracle/service/close";
import { runStoredEpoch } from "@hexmesh/oracle/service/results";
import { readPreparedSlices } from "@hexmesh/oracle/service/slice-reader";
import { AUTO_WORKERS_FROM } from "@hexmesh/oracle/verify/coverage";
import { WorkerPoolPreparer } from "@hexmesh/oracle/verify/pool";
import { InlinePreparer, type ReportSource } from "@hexmesh/oracle/verify/prepare";
import {
  ChainView,
  concatChunks,
  fromHex,
  keccak256,
  keyIdOf,
  parseReport,
  toHex,
  type ReceivedReport,
} from "@hexmesh/protocol";

import {
  DOMAIN,
  EPOCH_END,
  EPOCH_START,
  fleetIndex,
  reportInput,
  simulated,
  storeBackends,
} from "../../helpers/service.js";

const W = 4_000; // the verifier's witness window
const { fleet, sim } = simulated(30, "streaming close");
const t: EpochTimes = { epoch: 0n, start: EPOCH_START, end: EPOCH_END };
const index = fleetIndex(fleet, t);

/**
 * The day's reports at their simulated times, except: runs of equal receive times (the canonical
 * order's tie-breaks), and beacons with their witnesses moved across both boundaries (ownership
 * decided by the beacon a witness heard).
 */
const stamped: ReceivedReport[] = (() => {
  const at = new Map<string, number>(sim.reports.map((r) => [r.raw, r.receivedAt]));
  const byPayload = new Map<string, string[]>();
  for (const r of sim.reports) {
    const p = parseReport(r.raw);
    if (p.ok && p.report.type === "beacon")
      byPayload.set(toHex(keccak256(fromHex(p.report.payload))), [r.raw]);
  }
  for (const r of sim.reports) {
    const p = parseReport(r.raw);
    if (p.ok && p.report.type === "witness") byPayload.get(p.report.beaconPayloadHash)?.push(r.raw);
  }
  const groups = [...byPayload.values()];
  const offsets = [-2 * W - 5, -W - 1, -W, -1, 0, 1, W - 1, W, 2 * W - 1, 2 * W + 3];
  groups.slice(0, 20).forEach((g, i) => {
    const boundary = i % 2 === 0 ? t.end : t.start;
    const tb = boundary + offsets[i % offsets.length]!;
    g.forEach((raw, k) => at.set(raw, k === 0 ? tb : tb + ((k * 977) % (2 * W + 1)) - W));
  });
  // Ties: every 9th report of the middle of the day shares its receive time with 4 others.
  const middle = sim.reports.slice(sim.reports.length / 4, sim.reports.length / 2);
  for (let i = 0; i + 5 <= middle.length; i += 45)
    for (let k = 0; k < 5; k++) at.set(middle[i + k]!.raw, middle[i]!.receivedAt);
  // Only what parses is ever stored (ingest refuses the rest).
  return [...at].filter(([raw]) => parseReport(raw).ok).map(([raw, receivedAt]) => ({ raw, receivedAt }));
})();

const collect = async (pages: AsyncIterable<readonly ReceivedReport[]>) => {
  const out: ReceivedReport[][] = [];
  for await (const page of pages) out.push([...page]);
  return out;
};

describe("service: streaming close (keyset pages, bounded memory)", function () {
  this.timeout(300_000);

  for (const backend of storeBackends("stream")) {
    describe(backend.name, () => {
      let store: OracleStore;
      before(async function () {
        if (backend.skip !== undefined) {
          console.log(`      skipped: ${backend.skip}`);
          this.skip();
        }
        store = await backend.open();
        await store.migrate();
        for (let i = 0; i < stamped.length; i += 500)
          await store.insertReports(stamped.slice(i, i + 500).map((r) => reportInput(r.raw, r.receivedAt)));
      });
      after(async () => {
        await store?.close();
        await backend.cleanup();
      });

      it("yields exactly the reports ownedBy takes from the whole read range, in order, for every page size", async () => {
        const range = closeReadRange(t, W);
        const expected = ownedBy(await store.reportsReceivedBetween(range.from, range.to), t, W);
        // Some boundary reports belong to the neighbouring epochs, so the range and the owned set differ.
        expect(expected.length).to.be.greaterThan(100);
        expect(expected.length).to.be.lessThan(await store.countReports(range.from, range.to));
        for (const pageRows of [1, 7, 4_096]) {
          const stream = await streamOwnedReports(store, t, W, pageRows);
          const pages = await collect(stream.pages);
          const got = pages.flat();
          expect(stream.count, `count, pages of ${pageRows}`).to.equal(expected.length);
          expect(got.map((r) => r.raw)).to.deep.equal(expected.map((r) => r.raw));
          for (const p of pages) expect(p.length).to.be.within(1, pageRows);
        }
        // A short epoch (the two boundary bands meet) is read whole, with the same rules.
        const short: EpochTimes = { epoch: 0n, start: t.end - 3 * W, end: t.end };
        const r2 = closeReadRange(short, W);
        const want = ownedBy(await store.reportsReceivedBetween(r2.from, r2.to), short, W);
        const s2 = await streamOwnedReports(store, short, W, 3);
        expect(s2.count).to.equal(want.length);
        expect((await collect(s2.pages)).flat().map((r) => r.raw)).to.deep.equal(want.map((r) => r.raw));
      });

      it("gives the in-memory path's verdicts, encoding, dataHash and root (inline and on worker threads)", async () => {
        const range = closeReadRange(t, W);
        const owned = ownedBy(await store.reportsReceivedBetween(range.from, range.to), t, W);
        const inputs = { reports: owned, entropy: sim.entropy };
        const reference = await runCoverageEpoch(index, inputs, { preparer: "inline" });
        // Given in another order, the whole sort gives the same result as well.
        const shuffled = [...owned].reverse();
        const results = [
          await runCoverageEpoch(index, { reports: shuffled, entropy: sim.entropy }, { preparer: "inline" }),
        ];
        for (const [pageRows, preparer] of [
          [5, "inline"],
          [333, "workers"],
          [4_096, "inline"],
        ] as const) {
          const reports = await streamOwnedReports(store, t, W, pageRows);
          results.push(await runCoverageEpoch(index, { reports, entropy: sim.entropy }, { preparer }));
        }
        expect(reference.work.verdicts.filter((v) => v.reason === null).length).to.be.greaterThan(100);
        const expectedCounts = {
          reports: 0,
          valid: 0,
          beacons: 0,
          witnesses: 0,
          rejected: {} as Record<string, number>,
        };
        for (const v of reference.work.verdicts) {
          expectedCounts.reports++;
          if (v.kind === "beacon") expectedCounts.beacons++;
          else if (v.kind === "witness") expectedCounts.witnesses++;
          if (v.reason === null) expectedCounts.valid++;
          else expectedCounts.rejected[v.reason] = (expectedCounts.rejected[v.reason] ?? 0) + 1;
        }
        expect(Object.keys(expectedCounts.rejected).length).to.be.greaterThan(3);
        for (const r of results) {
          expect(toHex(concatChunks(r.commit.encoding))).to.equal(
            toHex(concatChunks(reference.commit.encoding)),
          );
          expect(r.commit.epochRoot).to.deep.equal(reference.commit.epochRoot);
          expect(r.work.verdicts).to.deep.equal(reference.work.verdicts);
          expect([...r.work.iterateVerdicts()]).to.deep.equal(reference.work.verdicts);
          // The stored summary's counts, taken from the outcome without verdict objects: equal to
          // counting the verdicts, with the refusals keyed in first-occurrence order (the summary's JSON).
          const counts = r.work.countVerdicts();
          expect(counts).to.deep.equal(expectedCounts);
          expect(Object.keys(counts.rejected)).to.deep.equal(Object.keys(expectedCounts.rejected));
        }
      });

      it("reads and verifies on worker threads with their own store connections, with the single reader's result", async () => {
        const config = store.readerConfig();
        expect(config, "a file or server store can be opened again by a thread").to.not.equal(null);
        const reference = (await runStoredEpoch(store, index, { preparer: "inline" })).result;
        expect(reference.work.verdicts.length).to.be.greaterThan(400);
        // One slice, slices of a few reports (many empty ones), slices of one report at the average
        // rate, on 1-3 threads, with pages of 5 rows and of 4,096.
        for (const [threads, sliceReports, pageRows] of [
          [1, 16_384, 4_096],
          [2, 37, 5],
          [3, 1, 4_096],
        ] as const) {
          const { result, reports } = await runStoredEpoch(
            store,
            index,
            { preparer: "workers" },
            { threads, sliceReports, pageRows },
          );
          const label = `${threads} threads, slices of ${sliceReports}, pages of ${pageRows}`;
          expect(reports, label).to.equal(reference.work.verdicts.length);
          expect(toHex(concatChunks(result.commit.encoding)), label).to.equal(
            toHex(concatChunks(reference.commit.encoding)),
          );
          expect(result.commit.epochRoot, label).to.deep.equal(reference.commit.epochRoot);
          expect(result.work.verdicts, label).to.deep.equal(reference.work.verdicts);
        }
        // "auto" reads on threads from AUTO_WORKERS_FROM reports: this epoch is below it, and the
        // default close gives the same result either way.
        expect(reference.work.verdicts.length).to.be.lessThan(AUTO_WORKERS_FROM);
        const auto = (await runStoredEpoch(store, index)).result;
        expect(auto.commit.epochRoot).to.deep.equal(reference.commit.epochRoot);
      });

      it("refuses a bad slice size, and ends its threads with a clear error when a thread cannot read", async () => {
        const error = (p: Promise<unknown>) =>
          p.then(
            () => null,
            (e: unknown) => e as Error,
          );
        for (const sliceReports of [0, -1, 1.5])
          expect(
            (await error(runStoredEpoch(store, index, { preparer: "workers" }, { sliceReports })))?.message,
          ).to.equal(`sliceReports must be a positive integer, not ${sliceReports}`);
        // A store the threads cannot open (a path that is not a store): the close fails, naming it.
        const ownership = await epochOwnership(store, t, W);
        const slices = readPreparedSlices(
          { backend: "sqlite", path: path.join(os.tmpdir(), `hexmesh-no-store-${process.pid}`, "x.sqlite") },
          {
            chain: new ChainView(index),
            times: t,
            witnessWindowMs: W,
            range: closeReadRange(t, W),
            ownership,
          },
          { threads: 2 },
        );
        const failed = await error(
          (async () => {
            for await (const records of slices) void records;
          })(),
        );
        expect(failed?.message).to.match(/^a close's reading thread failed: .*unable to open database file/s);
      });

      it("writes verdicts from a generator in batches, in one transaction", async () => {
        const device = keyIdOf(fleet[0]!.record.key);
        const rows = function* (): Generator<VerdictRow> {
          for (let seq = 0; seq < 4_500; seq++)
            yield {
              epoch: 3n,
              seq,
              id: toHex(keccak256(new TextEncoder().encode(`v${seq}`))),
              device,
              kind: "beacon",
              receivedAt: t.start + seq,
              reason: seq % 2 === 0 ? null : "duplicate",
              detail: null,
              selected: seq % 2 === 0,
              units: BigInt(seq),
            };
        };
        const result = {
          epoch: 3n,
          root: toHex(keccak256(new TextEncoder().encode("root"))),
          totalCumulative: 0n,
          dataHash: toHex(keccak256(new TextEncoder().encode("data"))),
          snapshotBlock: 1,
          summary: {
            reports: 4_500,
            valid: 2_250,
            beacons: 4_500,
            witnesses: 0,
            rejected: { duplicate: 2_250 },
            devices: 1,
            owners: 0,
            pool: "0",
            distributed: "0",
            dust: "0",
          },
          owners: [],
          computedAt: 1,
        };
        await store.putEpochResult(result, rows());
        const stored = await store.deviceVerdicts(device, 3n, 10_000);
        expect(stored.length).to.equal(4_500);
        expect(stored.map((v) => v.seq).sort((a, b) => a - b)).to.deep.equal([...rows()].map((v) => v.seq));
        expect(stored.find((v) => v.seq === 4_499)!.units).to.equal(4_499n);

        // A row refused in a later batch (seq 3,000 again: the key (epoch, seq)) undoes the whole
        // result: the earlier batches, the result row, nothing is left.
        const refused = function* (): Generator<VerdictRow> {
          for (const v of rows())
            yield v.seq === 3_001 ? { ...v, epoch: 4n, seq: 3_000 } : { ...v, epoch: 4n };
        };
        const error = await store.putEpochResult({ ...result, epoch: 4n }, refused()).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(Error);
        expect(await store.getEpochResult(4n)).to.equal(null);
        expect(await store.deviceVerdicts(device, 4n, 10_000)).to.deep.equal([]);
        // And the same result stores whole afterwards.
        await store.putEpochResult(
          { ...result, epoch: 4n },
          (function* () {
            for (const v of rows()) yield { ...v, epoch: 4n };
          })(),
        );
        expect((await store.deviceVerdicts(device, 4n, 10_000)).length).to.equal(4_500);
      });
    });
  }

  describe("report sources that do not hold", () => {
    const chainKeys = fleet.map((d) => d.signer.key);
    const reports = sim.reports.slice(0, 40);
    const preparers = () => [
      new InlinePreparer(DOMAIN, chainKeys),
      new WorkerPoolPreparer(DOMAIN, chainKeys, { threads: 2, batchSize: 8 }),
    ];

    it("refuses a source that yields more or fewer reports than it announced", async () => {
      for (const preparer of preparers()) {
        try {
          for (const [count, pages] of [
            [41, [reports.slice(0, 20), reports.slice(20)]],
            [39, [reports]],
          ] as const) {
            const error = await preparer.prepareStream({ count, pages }).then(
              () => null,
              (e: unknown) => e,
            );
            expect(error, `${preparer.constructor.name} ${count}`).to.be.instanceOf(RangeError);
            expect((error as Error).message).to.equal(
              `the report source announced ${count} reports and yielded 40`,
            );
          }
          // Still usable afterwards.
          const table = await preparer.prepareStream({
            count: 40,
            pages: [reports.slice(0, 13), reports.slice(13)],
          });
          expect(table.length).to.equal(40);
        } finally {
          await preparer.close();
        }
      }
    });

    it("passes on a source's failure and refuses a bad receive time, without hanging", async () => {
      for (const preparer of preparers()) {
        try {
          const failing: ReportSource = {
            count: 40,
            pages: (async function* () {
              yield reports.slice(0, 20);
              throw new Error("store went away");
            })(),
          };
          await preparer.prepareStream(failing).then(
            () => expect.fail("resolved"),
            (e: unknown) => expect((e as Error).message).to.equal("store went away"),
          );
        } finally {
          await preparer.close();
        }
      }
      const bad = [...reports.slice(0, 3), { raw: reports[3]!.raw, receivedAt: -5 }];
      const error = await runCoverageEpoch(
        index,
        { reports: { count: 4, pages: [bad] }, entropy: sim.entropy },
        { preparer: "inline" },
      ).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.equal("bad receive time -5");
    });
  });
});
