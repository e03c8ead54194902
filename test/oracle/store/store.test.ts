/**
 * The OracleStore contract, run against both backends: SQLite (a temp file) and PostgreSQL (a real
 * server at HEXMESH_TEST_PG_URL, a fresh schema per run; see test/helpers/service.ts for when it
 * skips and when a missing server fails).
 */
import { expect } from "chai";

import { StoreConflictError, type StoredEpochResult, type VerdictRow } from "@hexmesh/oracle";
import { CHAIN_INDEX_CHUNK } from "@hexmesh/oracle/store/chain-index";
import { LIST_CHUNK } from "@hexmesh/oracle/store/chunked";
import { MIGRATIONS, SCHEMA_VERSION } from "@hexmesh/oracle/store/migrations";
import { makeEntropy, type Hex } from "@hexmesh/protocol";

import {
  migrateTo,
  putResultBefore16,
  reportInput,
  simulated,
  storeBackends,
  type OracleStore,
} from "../../helpers/service.js";

const { sim } = simulated(9, "store contract", 0);
/** More reports than one device set gives: enough for pages written between. */
const many = simulated(20, "store keyset pages", 0).sim;

const input = reportInput;

const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Hex;

function result(epoch: bigint, root: Hex): StoredEpochResult {
  return {
    epoch,
    root,
    totalCumulative: 10n ** 24n + 7n,
    dataHash: h(99),
    snapshotBlock: 1234,
    summary: {
      reports: 3,
      valid: 2,
      beacons: 1,
      witnesses: 2,
      rejected: { bad_rssi: 1 },
      devices: 2,
      owners: 2,
      pool: "100",
      distributed: "99",
      dust: "1",
    },
    owners: [
      { owner: addr(1), amount: 5n, cumulative: 2n ** 200n },
      { owner: addr(2), amount: 0n, cumulative: 1n },
    ],
    computedAt: 1_700_000_000_000,
  };
}

function verdicts(epoch: bigint, device: Hex): VerdictRow[] {
  return [
    {
      epoch,
      seq: 0,
      id: h(1),
      device,
      kind: "beacon",
      receivedAt: 10,
      reason: null,
      detail: null,
      selected: true,
      units: 10n ** 18n,
    },
    {
      epoch,
      seq: 1,
      id: h(1),
      device,
      kind: "witness",
      receivedAt: 11,
      reason: "bad_rssi",
      detail: null,
      selected: false,
      units: 0n,
    },
    {
      epoch,
      seq: 2,
      id: h(2),
      device: null,
      kind: "malformed",
      receivedAt: 12,
      reason: "malformed",
      detail: "not_json",
      selected: false,
      units: 0n,
    },
  ];
}

for (const backend of storeBackends("store")) {
  describe(`service: OracleStore contract (${backend.name})`, function () {
    this.timeout(60_000);
    let store: OracleStore;

    before(function () {
      if (backend.skip !== undefined) {
        console.log(`      skipped: ${backend.skip}`);
        this.skip();
      }
    });
    beforeEach(async function () {
      store = await backend.open();
      await store.migrate();
    });
    afterEach(async () => store?.close());
    after(async () => backend.cleanup());

    it("migrates to the latest version once, and again is a no-op", async function () {
      expect(await store.schemaVersion()).to.equal(SCHEMA_VERSION);
      expect(await store.migrate()).to.equal(SCHEMA_VERSION);
      // Strictly increasing (a branch may leave a gap for a migration another branch adds).
      const versions = MIGRATIONS.map((m) => m.version);
      expect(versions).to.deep.equal([...new Set(versions)].sort((a, b) => a - b));
      expect(versions[0]).to.equal(1);
    });

    it("stores each report once by hash; a duplicate keeps the first receive time", async function () {
      const a = input(sim.reports[0]!.raw, 1_000);
      const b = input(sim.reports[1]!.raw, 1_001);
      const first = await store.insertReports([a, b]);
      expect(first.map((r) => r.duplicate)).to.deep.equal([false, false]);
      const again = await store.insertReports([
        { ...a, receivedAt: 5_000 },
        input(sim.reports[2]!.raw, 1_002),
      ]);
      expect(again[0]).to.deep.equal({ hash: a.hash, receivedAt: 1_000, duplicate: true });
      expect(again[1]!.duplicate).to.equal(false);
      // The same report twice in one batch: stored once.
      const c = input(sim.reports[3]!.raw, 2_000);
      const twice = await store.insertReports([c, { ...c, receivedAt: 2_001 }]);
      expect(twice.map((r) => [r.duplicate, r.receivedAt])).to.deep.equal([
        [false, 2_000],
        [true, 2_000],
      ]);
      expect(await store.countReports()).to.equal(4);
      expect(await store.insertReports([])).to.deep.equal([]);
      const got = await store.getReport(a.hash);
      expect(got).to.deep.equal({
        hash: a.hash,
        raw: a.raw,
        receivedAt: 1_000,
        device: a.device,
        kind: a.kind,
      });
      expect(await store.getReport(h(5))).to.equal(null);
    });

    it("returns reports of a time range in (receive time, hash) order", async function () {
      const batch = sim.reports.slice(0, 40).map((r, i) => input(r.raw, 10_000 + (i % 7)));
      await store.insertReports(batch);
      const got = await store.reportsReceivedBetween(10_002, 10_005);
      const want = batch
        .filter((r) => r.receivedAt >= 10_002 && r.receivedAt < 10_005)
        .sort((x, y) => x.receivedAt - y.receivedAt || (x.hash < y.hash ? -1 : 1));
      expect(got.map((r) => r.hash)).to.deep.equal(want.map((r) => r.hash));
      expect(await store.countReports(10_002, 10_005)).to.equal(want.length);
      const first = await store.reportsReceivedBetween(10_002, 10_005, { limit: 3 });
      const paged = [
        ...first,
        ...(await store.reportsReceivedBetween(10_002, 10_005, { after: first.at(-1)!, limit: 100 })),
      ];
      expect(paged.map((r) => r.hash)).to.deep.equal(want.map((r) => r.hash));
    });

    it("keyset pages cover every report of a range once while other epochs and the range itself are written", async function () {
      // Many reports share a receive time, so pages split inside one millisecond (the hash decides).
      const inRange = many.reports.slice(0, 120).map((r, i) => input(r.raw, 20_000 + (i % 9) * 10));
      await store.insertReports(inRange);
      const want = [...inRange].sort((x, y) => x.receivedAt - y.receivedAt || (x.hash < y.hash ? -1 : 1));
      const writer = await backend.second();
      const later = many.reports.slice(120, 240);
      expect(later).to.have.length(120);
      const seen: string[] = [];
      let after: { receivedAt: number; hash: Hex } | undefined;
      for (let page = 0; ; page++) {
        const rows = await store.reportsReceivedBetween(20_000, 20_090, {
          limit: 7,
          ...(after !== undefined ? { after } : {}),
        });
        seen.push(...rows.map((r) => r.hash));
        if (rows.length < 7) break;
        after = rows.at(-1)!;
        // Between pages: other epochs (before and after the range) and an earlier time of the range
        // itself are written (an offset would then repeat a row; a cursor does not move).
        await Promise.all([
          writer.insertReports([input(later[page * 3]!.raw, 19_000 + page)]),
          writer.insertReports([input(later[page * 3 + 1]!.raw, 30_000 + page)]),
          writer.insertReports([input(later[page * 3 + 2]!.raw, 20_000)]),
        ]);
      }
      await writer.close();
      expect(new Set(seen).size).to.equal(seen.length);
      // Every report stored before the copy began, in order; rows written meanwhile appear at most once
      // (in the range and after the cursor) and never from another epoch.
      expect(seen.filter((x) => want.some((w) => w.hash === x))).to.deep.equal(want.map((w) => w.hash));
      const outside = new Set(
        (await store.reportsReceivedBetween(0, 20_000)).concat(
          await store.reportsReceivedBetween(20_090, 99_999),
        ),
      );
      expect([...outside].some((r) => seen.includes(r.hash))).to.equal(false);
      expect(
        await store.reportsReceivedBetween(20_000, 20_090, { after: want.at(-1)!, limit: 5 }),
      ).to.deep.equal([]);
    });

    it("keeps entropy per publication time and refuses a different entry for the same time", async function () {
      const e1 = makeEntropy(h(7), 600);
      const e2 = makeEntropy(h(8), 660);
      await store.putEntropy([e2]);
      await store.putEntropy([e1, e1]);
      expect(await store.entropyBetween(0, 10_000)).to.deep.equal([e1, e2]);
      expect(await store.entropyBetween(601, 660)).to.deep.equal([e2]);
      expect(await store.latestEntropy()).to.deep.equal(e2);
      let err: unknown;
      try {
        await store.putEntropy([makeEntropy(h(5), 720), makeEntropy(h(9), 600)]);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreConflictError);
      // One transaction: the good entry of the refused batch is not stored either.
      expect(await store.entropyBetween(0, 10_000)).to.deep.equal([e1, e2]);
    });

    it("round-trips a chain index snapshot with bigints", async function () {
      expect(await store.getChainIndex(3n)).to.equal(null);
      const index = {
        chainId: 31337n,
        registry: addr(9),
        epoch: 3n,
        epochStart: 1,
        epochEnd: 2,
        pool: 2n ** 100n,
        devices: [
          {
            id: 1n,
            onboardOrder: (12n << 32n) | 3n,
            owner: addr(1),
            key: { type: "secp256k1" as const, address: addr(3) },
            status: "active" as const,
            location: 0x8c2ab2d9ab6a5ffn,
            gain: 30,
            elevation: 5,
          },
        ],
        bonds: [{ owner: addr(1), bondedDevices: 1 }],
        previousCumulative: [],
        snapshotBlock: 77,
        funded: 5n,
      };
      await store.putChainIndex(index);
      expect(await store.getChainIndex(3n)).to.deep.equal(index);
    });

    it("stores a large chain index's devices in chunks, read back whole; a re-put replaces every chunk", async function () {
      const device = (i: number) => ({
        id: BigInt(i + 1),
        onboardOrder: BigInt(i + 1),
        owner: addr(1 + (i % 50)),
        key: { type: "secp256k1" as const, address: addr(100_000 + i) },
        status: "active" as const,
        location: i % 3 === 0 ? null : 0x8c2ab2d9ab6a5ffn,
        gain: 30,
        elevation: i % 7,
      });
      const index = (epoch: bigint, devices: number) => ({
        chainId: 31337n,
        registry: addr(9),
        epoch,
        epochStart: 1,
        epochEnd: 2,
        pool: 7n,
        devices: Array.from({ length: devices }, (_, i) => device(i)),
        bonds: [{ owner: addr(1), bondedDevices: 4 }],
        previousCumulative: [{ owner: addr(2), amount: 3n }],
        snapshotBlock: 8,
        funded: 7n,
      });
      const chunks = async (epoch: bigint) =>
        Number(
          (
            await store
              .storageSql()
              .all("SELECT COUNT(*) AS n FROM chain_index_devices WHERE work = 'coverage' AND epoch = ?", [
                epoch.toString(),
              ])
          )[0]!.n,
        );
      const big = index(6n, 2 * CHAIN_INDEX_CHUNK + 3);
      await store.putChainIndex(big);
      expect(await chunks(6n)).to.equal(3);
      expect(await store.getChainIndex(6n)).to.deep.equal(big);
      // Re-put with fewer devices: the third chunk is gone, not read back.
      const small = index(6n, CHAIN_INDEX_CHUNK - 1);
      await store.putChainIndex(small);
      expect(await chunks(6n)).to.equal(1);
      expect(await store.getChainIndex(6n)).to.deep.equal(small);
      // No devices: no chunks.
      const empty = index(6n, 0);
      await store.putChainIndex(empty);
      expect(await chunks(6n)).to.equal(0);
      expect(await store.getChainIndex(6n)).to.deep.equal(empty);
      // Other epochs and kinds of work keep their own chunks.
      await store.putChainIndex(index(7n, 5));
      await store.putChainIndex(index(7n, 2), "storage");
      expect((await store.getChainIndex(7n))!.devices).to.have.length(5);
      expect((await store.getChainIndex(7n, "storage"))!.devices).to.have.length(2);
    });

    it("reads a chain index stored before migration 13 (devices inside its one value); a missing chunk is an error", async function () {
      const sql = store.storageSql();
      const legacy = {
        chainId: { $n: "31337" },
        registry: addr(9),
        epoch: { $n: "8" },
        epochStart: 1,
        epochEnd: 2,
        pool: { $n: "9" },
        devices: [
          {
            id: { $n: "1" },
            onboardOrder: { $n: "1" },
            owner: addr(1),
            key: { type: "secp256k1", address: addr(3) },
            status: "active",
            location: null,
            gain: 30,
            elevation: 5,
          },
        ],
        bonds: [],
        previousCumulative: [],
        snapshotBlock: 4,
        funded: { $n: "9" },
      };
      await sql.run(
        "INSERT INTO chain_index (work, epoch, snapshot_block, data) VALUES ('coverage', ?, ?, ?)",
        [8, 4, JSON.stringify(legacy)],
      );
      const read = (await store.getChainIndex(8n))!;
      expect(read.devices.map((d) => [d.id, d.key])).to.deep.equal([
        [1n, { type: "secp256k1", address: addr(3) }],
      ]);
      expect([read.epoch, read.pool, read.snapshotBlock]).to.deep.equal([8n, 9n, 4]);
      // A row that counts two chunks with one stored: refused, not read as a smaller fleet.
      await sql.run(
        "INSERT INTO chain_index (work, epoch, snapshot_block, data, device_chunks) VALUES ('coverage', ?, ?, ?, ?)",
        [9, 4, JSON.stringify({ ...legacy, epoch: { $n: "9" }, devices: [] }), 2],
      );
      await sql.run(
        "INSERT INTO chain_index_devices (work, epoch, chunk, data) VALUES ('coverage', ?, ?, ?)",
        [9, 0, JSON.stringify(legacy.devices)],
      );
      let err: unknown;
      try {
        await store.getChainIndex(9n);
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/chain index of epoch 9: device chunk 1 of 2 is missing/);
    });

    it("stores an epoch result once with its verdicts; a different root is a conflict", async function () {
      const r = result(4n, h(44));
      const device = addr(3);
      await store.putEpochResult(r, verdicts(4n, device));
      expect(await store.getEpochResult(4n)).to.deep.equal(r);
      await store.putEpochResult(r, verdicts(4n, device)); // same root: no-op
      let err: unknown;
      try {
        await store.putEpochResult(result(4n, h(45)), []);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreConflictError);
      expect(await store.getEpochResult(5n)).to.equal(null);
      await store.putEpochResult(result(5n, h(55)), verdicts(5n, device));
      expect(await store.listEpochs(10)).to.deep.equal([
        { epoch: 5n, root: h(55) },
        { epoch: 4n, root: h(44) },
      ]);
      const rows = await store.deviceVerdicts(device, 4n, 10);
      expect(rows).to.deep.equal(verdicts(4n, device).filter((v) => v.device === device));
      expect((await store.deviceVerdicts(device, null, 10)).map((v) => v.epoch)).to.deep.equal([
        5n,
        5n,
        4n,
        4n,
      ]);
      expect(await store.deviceVerdicts(device, null, 1)).to.have.length(1);
      expect(await store.deviceVerdicts(addr(77), null, 10)).to.deep.equal([]);
    });

    it("stores a large result's owners in chunks and reads them back whole; a missing chunk is an error", async function () {
      const sql = store.storageSql();
      const chunks = async (work: string, epoch: bigint) =>
        Number(
          (
            await sql.all("SELECT COUNT(*) AS n FROM epoch_result_owners WHERE work = ? AND epoch = ?", [
              work,
              epoch.toString(),
            ])
          )[0]!.n,
        );
      const owners = Array.from({ length: 2 * LIST_CHUNK + 3 }, (_, i) => ({
        owner: addr(i + 1),
        amount: BigInt(i),
        cumulative: 2n ** 100n + BigInt(i),
      }));
      const big = { ...result(11n, h(111)), owners };
      await store.putEpochResult(big, []);
      expect(await chunks("coverage", 11n)).to.equal(3);
      expect(await store.getEpochResult(11n)).to.deep.equal(big);
      // Stored again with the same root: nothing is written twice.
      await store.putEpochResult(big, []);
      expect(await chunks("coverage", 11n)).to.equal(3);
      // No owners: no chunks. Another kind of work's epoch keeps its own.
      const none = { ...result(11n, h(112)), owners: [] };
      await store.putEpochResult(none, [], "storage");
      expect(await chunks("storage", 11n)).to.equal(0);
      expect(await store.getEpochResult(11n, "storage")).to.deep.equal(none);
      expect((await store.getEpochResult(11n))!.owners).to.have.length(owners.length);
      // A row that counts three chunks with one gone: refused, not read as fewer owners.
      await sql.run("DELETE FROM epoch_result_owners WHERE work = 'coverage' AND epoch = ? AND chunk = 1", [
        "11",
      ]);
      let err: unknown;
      try {
        await store.getEpochResult(11n);
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/coverage epoch 11's result: owner chunk 1 of 3 is missing/);
    });

    it("reads a result stored before migration 16 (owners inside its row) as it was stored", async function () {
      const old = await backend.open();
      await migrateTo(old, 15);
      const r = result(12n, h(121));
      await putResultBefore16(old, r);
      expect(await old.migrate()).to.equal(SCHEMA_VERSION);
      expect(await old.getEpochResult(12n)).to.deep.equal(r);
      await old.close();
    });

    it("keeps signatures per (epoch, oracle set, signer) and the post status", async function () {
      const sig = {
        epoch: 1n,
        oracleSetVersion: 2n,
        signer: addr(5),
        signature: `0x${"ab".repeat(65)}` as Hex,
        root: h(1),
        receivedAt: 3,
      };
      await store.putSignature(sig);
      await store.putSignature({ ...sig, receivedAt: 4 });
      await store.putSignature({ ...sig, signer: addr(4) });
      expect((await store.signatures(1n)).map((s) => s.signer)).to.deep.equal([addr(4), addr(5)]);
      expect((await store.signatures(1n))[1]).to.deep.equal(sig);
      expect(await store.getPostStatus(1n)).to.equal(null);
      await store.setPostStatus({ epoch: 1n, status: "pending", txHash: null, detail: null, updatedAt: 1 });
      await store.setPostStatus({
        epoch: 1n,
        status: "posted",
        txHash: "0xabc",
        detail: "gas 1",
        updatedAt: 2,
      });
      expect(await store.getPostStatus(1n)).to.deep.equal({
        epoch: 1n,
        status: "posted",
        txHash: "0xabc",
        detail: "gas 1",
        updatedAt: 2,
      });
      const counts = await store.counts();
      expect(counts.signatures).to.equal(2);
    });

    it("keeps the landed post when a later attempt is skipped or fails, and every attempt in order", async function () {
      const epoch = 7n;
      expect(await store.postAttempts(epoch)).to.deep.equal([]);
      const landed = {
        epoch,
        status: "posted" as const,
        txHash: `0x${"cd".repeat(32)}`,
        detail: "gas 71539",
        updatedAt: 10,
      };
      await store.setPostStatus({ epoch, status: "pending", txHash: null, detail: null, updatedAt: 9 });
      await store.setPostStatus(landed);
      const first = await store.recordPostAttempt({
        epoch,
        outcome: "posted",
        txHash: landed.txHash,
        block: 123,
        gasUsed: 71_539n,
        detail: "gas 71539",
        attemptedAt: 10,
      });
      expect(first.seq).to.equal(1);
      // A second `post` of the same epoch: pending, then skipped (already pending on chain), then failed.
      await store.setPostStatus({ epoch, status: "pending", txHash: null, detail: null, updatedAt: 11 });
      await store.setPostStatus({
        epoch,
        status: "skipped",
        txHash: null,
        detail: "already pending",
        updatedAt: 12,
      });
      await store.setPostStatus({ epoch, status: "failed", txHash: null, detail: "boom", updatedAt: 13 });
      expect(await store.getPostStatus(epoch)).to.deep.equal(landed);
      const skipped = await store.recordPostAttempt({
        epoch,
        outcome: "skipped",
        txHash: null,
        block: null,
        gasUsed: null,
        detail: "already pending",
        attemptedAt: 12,
      });
      expect(skipped.seq).to.equal(2);
      await store.recordPostAttempt({
        epoch: epoch + 1n,
        outcome: "failed",
        txHash: null,
        block: null,
        gasUsed: null,
        detail: "other epoch",
        attemptedAt: 14,
      });
      expect(await store.postAttempts(epoch)).to.deep.equal([first, skipped]);
      expect((await store.postAttempts(epoch + 1n)).map((a) => a.seq)).to.deep.equal([1]);
      // Another landed post (a re-post after a veto) does replace the record.
      const again = { ...landed, txHash: `0x${"ef".repeat(32)}`, updatedAt: 20 };
      await store.setPostStatus(again);
      expect(await store.getPostStatus(epoch)).to.deep.equal(again);
    });

    it("stores each report exactly once when two writers insert the same reports concurrently", async function () {
      // SQLite: a second connection to the same file; PostgreSQL: a second pool on the same schema.
      const second = await backend.second();
      const batch = sim.reports.slice(0, 60).map((r, i) => input(r.raw, 50_000 + i));
      const results = await Promise.all([
        store.insertReports(batch.slice(0, 40)),
        second.insertReports(batch.slice(20)),
        store.insertReports(batch.slice(10, 50)),
      ]);
      const fresh = results
        .flat()
        .filter((r) => !r.duplicate)
        .map((r) => r.hash);
      expect(new Set(fresh).size).to.equal(fresh.length);
      expect(fresh.length).to.equal(60);
      expect(await store.countReports()).to.equal(60);
      expect(await second.countReports()).to.equal(60);
      await second.close();
    });

    it("stores receipts once per router nonce within each router's budget, closes epochs, keeps settlements", async function () {
      const A = `0x${"0a".repeat(20)}` as Hex;
      const B = `0x${"0b".repeat(20)}` as Hex;
      const rc = (router: Hex, nonce: bigint, epoch: bigint, credits: bigint) => ({
        router,
        routerNonce: nonce,
        epoch,
        hotspot: 77n,
        credits,
        raw: `{"nonce":"${nonce}"}`,
        receivedAt: 1_000 + Number(nonce),
      });
      const budget = {
        unsettledFrom: 1n,
        spendable: new Map<Hex, bigint>([
          [A, 10n],
          [B, 3n],
        ]),
      };
      // An epoch-0 receipt (settled on chain) does not count against A's budget.
      expect(
        await store.insertReceipts([rc(A, 100n, 0n, 9n)], { ...budget, unsettledFrom: 0n }),
      ).to.deep.equal(["stored"]);
      const got = await store.insertReceipts(
        [
          rc(A, 1n, 1n, 6n),
          rc(A, 2n, 2n, 4n),
          rc(A, 3n, 2n, 1n),
          rc(A, 1n, 1n, 1n),
          rc(B, 10n, 1n, 4n),
          rc(B, 11n, 1n, 3n),
        ],
        budget,
      );
      expect(got).to.deep.equal(["stored", "stored", "over_balance", "duplicate", "over_balance", "stored"]);
      // Later batches count what is stored: A has 10 of 10 owed.
      expect(await store.insertReceipts([rc(A, 4n, 2n, 1n)], budget)).to.deep.equal(["over_balance"]);
      expect(await store.insertReceipts([], budget)).to.deep.equal([]);
      expect(await store.latestReceiptClose()).to.equal(null);
      await store.closeReceipts(1n, 5_000);
      await store.closeReceipts(1n, 6_000);
      expect(await store.latestReceiptClose()).to.equal(1n);
      expect(await store.insertReceipts([rc(B, 12n, 1n, 0n), rc(B, 13n, 2n, 0n)], budget)).to.deep.equal([
        "closed",
        "stored",
      ]);
      const epoch1 = await store.receiptsOfEpoch(1n);
      expect(epoch1.map((r) => [r.router, r.routerNonce, r.credits])).to.deep.equal([
        [A, 1n, 6n],
        [B, 11n, 3n],
      ]);
      expect(epoch1[0]).to.deep.equal(rc(A, 1n, 1n, 6n));

      const settlement = {
        epoch: 1n,
        entriesHash: h(9),
        entries: [{ router: A, provider: B, credits: 6n }],
        receipts: 2,
        unknownHotspot: 1,
        credits: 6n,
        creditsPerPacket: 1n,
        snapshotBlock: 12,
        txHash: null,
        computedAt: 7,
      };
      expect(await store.getSettlement(1n)).to.equal(null);
      await store.putSettlement(settlement);
      await store.putSettlement(settlement); // the same again: a no-op
      await store.putSettlement({ ...settlement, entriesHash: h(10) }).then(
        () => expect.fail("a second settlement of an epoch was stored"),
        (e: unknown) => expect(e).to.be.instanceOf(StoreConflictError),
      );
      await store.setSettlementTx(1n, "0xabc");
      expect(await store.getSettlement(1n)).to.deep.equal({ ...settlement, txHash: "0xabc" });
      const sig = {
        epoch: 1n,
        oracleSetVersion: 1n,
        signer: A,
        signature: h(3),
        entriesHash: h(9),
        receivedAt: 8,
      };
      await store.putSettlementSignature(sig);
      await store.putSettlementSignature({ ...sig, signature: h(4) }); // first one stays
      await store.putSettlementSignature({ ...sig, signer: B });
      expect(await store.settlementSignatures(1n)).to.deep.equal([sig, { ...sig, signer: B }]);
      expect(await store.settlementSignatures(2n)).to.deep.equal([]);
    });
  });
}
