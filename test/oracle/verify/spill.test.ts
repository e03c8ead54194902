import { expect } from "chai";
import fc from "fast-check";

import {
  DEFAULT_COVERAGE_PARAMS,
  InlinePreparer,
  RECORD_BYTES,
  ReportTable,
  runCoverageEpoch,
  SpillWriter,
  type CoverageOptions,
} from "@hexmesh/oracle";
import { ClaimLog } from "@hexmesh/oracle/verify/links";
import { chunksByteLength, concatChunks, keccak256, toHex } from "@hexmesh/protocol";

import { DOMAIN } from "../../helpers/service.js";
import { spillEpoch, verdictDigest } from "../../helpers/spill-epoch.js";

/**
 * The epoch of spillEpoch() (1,111 reports: runs of equal receive times, reports given twice,
 * malformed texts) closed by main's in-memory close before the spill (commit deaba35, its compiled
 * dist, inline and on worker threads alike): the spilled close must give these bytes.
 */
const IN_MEMORY = {
  reports: 1_111,
  root: "0x5b9fa1c411aef800ba5a8c984070d5dfb0c7375f2a0658bfe81e3651070f5638",
  dataHash: "0x6a2e9db16a25dcdf8dc704ea21e174aad0d63a88313bb79f67a4fc4ed5a25613",
  verdicts: "0x3644930b5a159afee6c1b50f4d672d3d3bae16b88d420ac04452bdea56a568d7",
  record: "0x47c33ffa9c388237cf8b89c66ffb3583f5dae8ea36fe7342e0d7e902759c0d46",
  linkTests: 57,
};

/** Sizes that cross every boundary many times: 23 chunks, 70 pages, 3 of them cached. */
const TINY: CoverageOptions["spill"] = { chunkRows: 50, pageRows: 16, cachePages: 3, writeRows: 7 };

const { index, reports, entropy } = spillEpoch();

async function summary(run: ReturnType<typeof runCoverageEpoch>) {
  const r = await run;
  return {
    reports: r.work.countVerdicts().reports,
    root: r.commit.epochRoot.root,
    dataHash: r.commit.epochRoot.dataHash,
    verdicts: verdictDigest(r.work.iterateVerdicts()),
    record: toHex(keccak256(concatChunks(r.work.record))),
    linkTests: r.work.linkTests?.length,
  };
}

describe("oracle / spilled close (per-report state on disk, read back in pages)", function () {
  this.timeout(120_000);

  it("gives the in-memory close's root, dataHash, record and verdicts, for any spill sizes, preparer and input order", async () => {
    expect(reports.length).to.equal(IN_MEMORY.reports);
    for (const spill of [undefined, TINY, { chunkRows: 1, pageRows: 1, cachePages: 1, writeRows: 1 }])
      for (const preparer of ["inline", "workers"] as const) {
        const options: CoverageOptions = { preparer, ...(spill ? { spill } : {}) };
        expect(await summary(runCoverageEpoch(index, { reports, entropy }, options))).to.deep.equal(
          IN_MEMORY,
        );
      }
    // Not in receive-time order: sorted whole at the end, the same result.
    const reversed = [...reports].reverse();
    expect(
      await summary(runCoverageEpoch(index, { reports: reversed, entropy }, { spill: TINY })),
    ).to.deep.equal(IN_MEMORY);
    // The record and the encoding are built again on every read, the same bytes each time.
    const r = await runCoverageEpoch(index, { reports, entropy }, { spill: TINY });
    expect(toHex(concatChunks(r.commit.encoding))).to.equal(toHex(concatChunks(r.commit.encoding)));
    expect(concatChunks(r.commit.encoding).length).to.equal(r.commit.byteLength);
    expect(concatChunks(r.work.record).length).to.equal(chunksByteLength(r.work.record));
    expect(r.work.verdicts).to.have.length(IN_MEMORY.reports);
    // Released (a close, once its verdicts are stored): the temp file is closed, reads are refused.
    r.work.release();
    r.work.release();
    expect(() => [...r.work.iterateVerdicts()]).to.throw(/the spilled records were released/);
    expect(() => concatChunks(r.commit.encoding)).to.throw(/the spilled records were released/);
  });

  it("a partitioned close's reducer (prepared records in pages) gives the same result through the spill", async () => {
    const keys = index.devices.map((d) => d.key);
    const table = await new InlinePreparer(DOMAIN, keys).prepare(reports);
    const pages = function* () {
      for (let i = 0; i < table.length; i += 13)
        yield table.bytes.slice(i * RECORD_BYTES, Math.min(table.length, i + 13) * RECORD_BYTES);
    };
    for (const spill of [undefined, TINY])
      expect(
        await summary(
          runCoverageEpoch(
            index,
            { prepared: { count: table.length, pages: toAsync(pages()) }, entropy },
            spill ? { spill } : {},
          ),
        ),
      ).to.deep.equal(IN_MEMORY);
  });

  describe("SpillWriter and SpilledTable", () => {
    /** A table of `times.length` rows: row k at times[k], id = keccak(k % ids), stage-2 reason k % 3. */
    function rows(times: readonly number[], ids: number) {
      const t = new ReportTable(times.length);
      times.forEach((at, k) => {
        t.setHeader(k, 2, 0, false, 0, k, at);
        t.bytes.set(keccak256(new Uint8Array([k % ids])), t.at(k, "id"));
        t.setStage2Reason(k, k % 3);
      });
      return t;
    }
    const canonical = (t: ReportTable) =>
      Array.from({ length: t.length }, (_, k) => k).sort(
        (a, b) =>
          t.receivedAt(a) - t.receivedAt(b) ||
          t.compare32(a, b, "id") ||
          t.stage2Reason(a) - t.stage2Reason(b),
      );

    it("reads back the rows in canonical order (receive time, id, stage-2 reason), sorted or not, in any pieces", () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 0, maxLength: 120 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 4 }),
          (times, sortTimes, piece, ids) => {
            const t = rows(sortTimes ? [...times].sort((a, b) => a - b) : times, ids);
            const w = new SpillWriter(t.length, { pageRows: 4, cachePages: 2, writeRows: 3 });
            for (let i = 0; i < t.length; i += piece) w.add(t, i, Math.min(t.length, i + piece));
            const s = w.finish();
            const want = canonical(t);
            expect(s.length).to.equal(t.length);
            want.forEach((k, pos) => {
              expect(s.receivedAt(pos)).to.equal(t.receivedAt(k));
              expect(s.idHex(pos)).to.equal(t.idHex(k));
              expect(s.stage2Reason(pos)).to.equal(t.stage2Reason(k));
              expect(s.deviceIndex(pos)).to.equal(t.deviceIndex(k));
            });
            s.close();
          },
        ),
        { numRuns: 60 },
      );
    });

    it("keeps at most cachePages pages: an in-order read loads each page once, going back loads it again", () => {
      const t = rows(
        Array.from({ length: 100 }, (_, k) => k),
        100,
      );
      const w = new SpillWriter(100, { pageRows: 10, cachePages: 2 });
      w.add(t, 0, 100);
      const s = w.finish();
      for (let i = 0; i < 100; i++) s.kind(i);
      expect(s.reads).to.equal(10);
      s.kind(95); // page 9: still cached
      expect(s.reads).to.equal(10);
      s.kind(0); // page 0 was dropped
      expect(s.reads).to.equal(11);
      // Fields of rows on different pages compare as the in-memory table's.
      expect(Math.sign(s.compare32(3, 77, "id"))).to.equal(Math.sign(t.compare32(3, 77, "id")));
      expect(s.compare32(42, 42, "id")).to.equal(0);
      expect(() => s.kind(100)).to.throw(RangeError, /row 100 of a spilled table of 100/);
      s.close();
    });

    it("reads any row in any order right while dropped pages are read into again, a short last page included", () => {
      const t = rows(
        Array.from({ length: 103 }, (_, k) => k),
        103,
      );
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 102 }), { minLength: 1, maxLength: 300 }),
          fc.integer({ min: 1, max: 3 }),
          (order, cachePages) => {
            const w = new SpillWriter(103, { pageRows: 10, cachePages });
            w.add(t, 0, 103);
            const s = w.finish();
            for (const i of order) {
              expect([s.receivedAt(i), s.idHex(i), s.deviceIndex(i)]).to.deep.equal([
                t.receivedAt(i),
                t.idHex(i),
                t.deviceIndex(i),
              ]);
              const j = order[(i * 7) % order.length]!;
              expect(Math.sign(s.compare32(i, j, "id"))).to.equal(Math.sign(t.compare32(i, j, "id")));
            }
            s.close();
          },
        ),
        { numRuns: 40 },
      );
    });

    it("refuses a spill that holds more or fewer rows than announced, and sizes that are not positive", () => {
      const t = rows([1, 2, 3], 3);
      const w = new SpillWriter(4);
      w.add(t, 0, 3);
      expect(() => w.finish()).to.throw(RangeError, /the spill holds 3 records, the epoch has 4/);
      const more = new SpillWriter(2);
      more.add(t, 0, 3);
      expect(() => more.finish()).to.throw(RangeError, /the spill holds 3 records, the epoch has 2/);
      expect(() => new SpillWriter(1, { pageRows: 0 })).to.throw(
        RangeError,
        /spill pageRows must be a positive integer/,
      );
      expect(() => new SpillWriter(1, { chunkRows: 1.5 })).to.throw(RangeError, /spill chunkRows/);
    });
  });

  it("the one-way claim log compacts to one claim per link as it fills: the same test as with room for every claim", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 9 }),
            fc.integer({ min: 0, max: 9 }),
            fc.integer({ min: -300, max: 300 }),
          ),
          {
            maxLength: 400,
          },
        ),
        (claims) => {
          const roomy = new ClaimLog(claims.length, 10);
          const small = new ClaimLog(1, 10, claims.length);
          for (const [w, b, v] of claims) {
            roomy.add(w, b, v);
            small.add(w, b, v);
          }
          const links = new Set(claims.map(([w, b]) => `${w}-${b}`)).size;
          // Grown in place only when compacting frees less than half: under 3 slots a link.
          expect(small.held).to.be.at.most(small.capacity);
          expect(small.capacity).to.be.at.most(Math.max(16, 3 * links));
          const budget = new Int32Array(10).fill(370);
          const beacons = new Uint32Array(10).fill(2);
          const rule = DEFAULT_COVERAGE_PARAMS.oneWayLinks!;
          expect(small.test(budget, beacons, rule)).to.deep.equal(roomy.test(budget, beacons, rule));
        },
      ),
      { numRuns: 80 },
    );
  });
});

async function* toAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  yield* it;
}
