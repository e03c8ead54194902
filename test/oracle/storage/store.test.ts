/** The storage tables through one SQL runner on both backends (SQLite; PostgreSQL with HEXMESH_TEST_PG_URL). */
import { expect } from "chai";

import { StorageStore, type StoredRetrieval } from "@hexmesh/oracle/storage/store";
import { SCHEMA_VERSION } from "@hexmesh/oracle/store/migrations";

import { migrateTo, storeBackends, type OracleStore } from "../../helpers/service.js";

const retrieval = (dataSetId: bigint, day: bigint, deviceId: bigint, outcome: string): StoredRetrieval => ({
  dataSetId,
  day,
  deviceId,
  provider: "0x00000000000000000000000000000000000000AA",
  pieceRoot: "0x" + "Ab".repeat(32),
  firstLeaf: 5n,
  count: 64,
  outcome,
  answerHash: "0x" + "00".repeat(32),
  detail: outcome === "ok" ? "" : "HTTP 503",
  latencyMs: 12,
  probedAt: 1_700_000_000_000,
  signer: "0x00000000000000000000000000000000000000BB",
  signature: "0x" + "11".repeat(65),
});

for (const backend of storeBackends("storage")) {
  describe(`storage tables (${backend.name})`, function () {
    let store: OracleStore;
    before(async function () {
      if (backend.skip !== undefined) {
        console.log(`      skipped: ${backend.skip}`);
        this.skip();
      }
      store = await backend.open();
      await store.migrate();
    });
    after(async () => {
      if (backend.skip === undefined) {
        await store.close();
        await backend.cleanup();
      }
    });

    it("keeps data sets, pieces and periods idempotently, in order", async function () {
      const s = new StorageStore(store.storageSql());
      expect(await s.cursor()).to.equal(null);
      await s.setCursor(10);
      await s.setCursor(12);
      expect(await s.cursor()).to.equal(12);
      for (let i = 0; i < 2; i++) {
        await s.dataSetCreated(2n, "0xC1", "0xP1", 10n ** 70n);
        await s.dataSetCreated(10n, "0xC1", "0xP2", 3n);
        await s.dataSetAccepted(2n);
        await s.dataSetAccepted(10n);
        await s.provingStarted(10n);
        await s.pieceAdded({ dataSetId: 10n, pieceIndex: 1, root: "0xBB", size: 64, firstLeaf: 3n });
        await s.pieceAdded({ dataSetId: 10n, pieceIndex: 0, root: "0xAA", size: 70, firstLeaf: 0n });
        await s.challengeArmed(10n, 4n, 5n);
        await s.seedRecorded(10n, 4n, "0xSEED");
        await s.possessionProven(10n, 4n, 99n, 1_000);
        await s.periodSettled(10n, 4n, "Proven", 0n);
        await s.periodSettled(10n, 3n, "Faulted", 7n);
      }
      expect((await s.dataSets()).map((d) => [d.id, d.status, d.provingStarted, d.deviceId])).to.deep.equal([
        [2n, "active", false, 10n ** 70n],
        [10n, "active", true, 3n],
      ]);
      expect((await s.liveDataSets()).map((d) => d.id)).to.deep.equal([10n]);
      expect((await s.pieces(10n)).map((p) => [p.pieceIndex, p.root, p.firstLeaf])).to.deep.equal([
        [0, "0xaa", 0n],
        [1, "0xbb", 3n],
      ]);
      expect(await s.periods(10n)).to.deep.equal([
        {
          dataSetId: 10n,
          period: 3n,
          seed: null,
          challengedLeaves: null,
          provenAt: null,
          paid: null,
          outcome: "Faulted",
          fee: 7n,
        },
        {
          dataSetId: 10n,
          period: 4n,
          seed: "0xseed",
          challengedLeaves: 5n,
          provenAt: 1_000,
          paid: 99n,
          outcome: "Proven",
          fee: 0n,
        },
      ]);
      expect(await s.provenBetween(1_000, 1_001)).to.deep.equal([
        { dataSetId: 10n, deviceId: 3n, provider: "0xp2", period: 4n, challengedLeaves: 5n },
      ]);
      expect(await s.provenBetween(1_001, 2_000)).to.deep.equal([]);
      await s.dataSetTerminated(10n, "Faults");
      expect(await s.dataSet(10n)).to.deep.include({ status: "terminated", endReason: "Faults" });
      expect(await s.liveDataSets()).to.deep.equal([]);
      expect(await s.dataSet(99n)).to.equal(null);
    });

    it("keeps the first result of a data set's day; filters and orders results", async function () {
      const s = new StorageStore(store.storageSql());
      expect(await s.putRetrieval(retrieval(1n, 5n, 7n, "ok"))).to.equal(true);
      expect(await s.putRetrieval(retrieval(1n, 5n, 7n, "refused"))).to.equal(false);
      await s.putRetrieval(retrieval(2n, 5n, 8n, "timeout"));
      await s.putRetrieval(retrieval(1n, 6n, 7n, "bad_proof"));
      expect((await s.retrieval(1n, 5n))!.outcome).to.equal("ok");
      expect(await s.retrieval(1n, 9n)).to.equal(null);
      expect((await s.retrievals()).map((r) => [r.day, r.dataSetId])).to.deep.equal([
        [6n, 1n],
        [5n, 2n],
        [5n, 1n],
      ]);
      expect((await s.retrievals({ dataSetId: 1n, limit: 1 })).map((r) => r.day)).to.deep.equal([6n]);
      expect((await s.retrievals({ deviceId: 8n })).map((r) => r.outcome)).to.deep.equal(["timeout"]);
      expect(await s.retrievals({ provider: "0x00000000000000000000000000000000000000aa" })).to.have.length(
        3,
      );
      expect((await s.retrievalsThrough(5n)).map((r) => [r.day, r.dataSetId])).to.deep.equal([
        [5n, 1n],
        [5n, 2n],
      ]);
      const got = (await s.retrieval(2n, 5n))!;
      expect(got).to.deep.equal({
        ...retrieval(2n, 5n, 8n, "timeout"),
        provider: got.provider,
        pieceRoot: got.pieceRoot,
        signer: got.signer,
      });
      expect([got.provider, got.signer]).to.deep.equal([
        "0x00000000000000000000000000000000000000aa",
        "0x00000000000000000000000000000000000000bb",
      ]);
    });

    it("an epoch reads the results its close folded; a result arriving after waits for the next close", async function () {
      const s = new StorageStore(store.storageSql());
      const peer = (dataSetId: bigint, day: bigint, signer: string) => ({
        ...retrieval(dataSetId, day, 7n, "ok"),
        signer,
      });
      // The results of the test above (days 5 and 6) were folded by an earlier epoch.
      await s.foldRetrievals(6n, 2n);
      const read = async (lastDay: bigint, epoch: bigint) =>
        (await s.setRetrievalsThrough(lastDay, epoch))
          .filter((r) => r.dataSetId === 30n)
          .map((r) => [r.dataSetId, r.day, r.signer.slice(-2)]);
      await s.putRetrieval(retrieval(30n, 20n, 7n, "ok"));
      await s.putPeerRetrieval(peer(30n, 20n, "0x00000000000000000000000000000000000000c1"));
      await s.putPeerRetrieval(peer(30n, 22n, "0x00000000000000000000000000000000000000c1")); // a later day
      // Nothing folded yet: an epoch reads nothing.
      expect(await read(21n, 3n)).to.deep.equal([]);
      // Epoch 3's close folds its days' results (own and peers'), not the later day's.
      expect(await s.foldRetrievals(21n, 3n)).to.equal(2);
      expect(await read(21n, 3n)).to.deep.equal([
        [30n, 20n, "bb"],
        [30n, 20n, "c1"],
      ]);
      // A peer's result of epoch 3's day arrives after the close: epoch 3 reads the same as at its close.
      await s.putPeerRetrieval(peer(30n, 21n, "0x00000000000000000000000000000000000000c2"));
      await s.putRetrieval(retrieval(30n, 21n, 7n, "refused"));
      expect(await read(21n, 3n)).to.deep.equal([
        [30n, 20n, "bb"],
        [30n, 20n, "c1"],
      ]);
      // Epoch 4's close folds the late ones and its own day's; folding again marks nothing.
      expect(await s.foldRetrievals(22n, 4n)).to.equal(3);
      expect(await s.foldRetrievals(22n, 4n)).to.equal(0);
      expect(await read(21n, 3n)).to.have.length(2);
      expect(await read(22n, 4n)).to.deep.equal([
        [30n, 20n, "bb"],
        [30n, 20n, "c1"],
        [30n, 21n, "bb"],
        [30n, 21n, "c2"],
        [30n, 22n, "c1"],
      ]);
    });

    it("results held before migration 15 are read by every epoch, as every close since they arrived read them", async function () {
      const old = await backend.open();
      await migrateTo(old, 14);
      const s = new StorageStore(old.storageSql());
      await s.putRetrieval(retrieval(1n, 5n, 7n, "ok"));
      await s.putPeerRetrieval({ ...retrieval(1n, 5n, 7n, "timeout"), signer: "0x" + "c1".repeat(20) });
      expect(await old.migrate()).to.equal(SCHEMA_VERSION);
      for (const epoch of [0n, 9n])
        expect((await s.setRetrievalsThrough(5n, epoch)).map((r) => r.outcome)).to.deep.equal([
          "ok",
          "timeout",
        ]);
      expect(await s.foldRetrievals(5n, 9n)).to.equal(0);
      await old.close();
    });
  });
}
