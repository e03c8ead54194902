/**
 * Migration 8 and the store's (work, epoch) keys, on both backends: chain index snapshots, results,
 * signatures, post status and attempts of coverage, storage and compute epochs are kept apart; a
 * store at version 7 keeps its rows as coverage's when it migrates.
 */
import { expect } from "chai";

import { StoreConflictError, type StoredChainIndex, type StoredEpochResult } from "@hexmesh/oracle";
import { MIGRATIONS, MIGRATIONS_TABLE, SCHEMA_VERSION } from "@hexmesh/oracle/store/migrations";
import type { Hex } from "@hexmesh/protocol";

import { storeBackends, type OracleStore } from "../../helpers/service.js";

const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Hex;

function result(epoch: bigint, root: Hex): StoredEpochResult {
  return {
    epoch,
    root,
    totalCumulative: 1000n,
    dataHash: h(99),
    snapshotBlock: 12,
    summary: {
      reports: 1,
      valid: 1,
      beacons: 0,
      witnesses: 0,
      rejected: {},
      devices: 1,
      owners: 1,
      pool: "1000",
      distributed: "1000",
      dust: "0",
    },
    owners: [{ owner: addr(1), amount: 1000n, cumulative: 1000n }],
    computedAt: 1_700_000_000_000,
  };
}

function index(epoch: bigint, pool: bigint): StoredChainIndex {
  return {
    chainId: 31337n,
    registry: addr(9),
    epoch,
    epochStart: 0,
    epochEnd: 86_400_000,
    pool,
    devices: [],
    bonds: [],
    previousCumulative: [],
    snapshotBlock: 12,
    funded: pool,
  };
}

const sig = (epoch: bigint, signer: number, root: Hex) => ({
  epoch,
  oracleSetVersion: 1n,
  signer: addr(signer),
  signature: `0x${"ab".repeat(65)}` as Hex,
  root,
  receivedAt: 5,
});

for (const backend of storeBackends("workkeys")) {
  describe(`service: epochs per kind of work in the store (${backend.name})`, function () {
    this.timeout(60_000);
    let store: OracleStore;

    before(function () {
      if (backend.skip !== undefined) {
        console.log(`      skipped: ${backend.skip}`);
        this.skip();
      }
    });
    afterEach(async () => store?.close());
    after(async () => backend.cleanup());

    it("keeps each kind's chain index, result, signatures, post status and attempts apart", async function () {
      store = await backend.open();
      await store.migrate();
      expect(SCHEMA_VERSION).to.be.at.least(8);
      await store.putChainIndex(index(3n, 10n));
      await store.putChainIndex(index(3n, 20n), "storage");
      expect((await store.getChainIndex(3n))!.pool).to.equal(10n);
      expect((await store.getChainIndex(3n, "storage"))!.pool).to.equal(20n);
      expect(await store.getChainIndex(3n, "compute")).to.equal(null);

      await store.putEpochResult(result(3n, h(1)), []);
      await store.putEpochResult(result(3n, h(2)), [], "storage");
      await store.putEpochResult(result(3n, h(3)), [], "compute");
      expect((await store.getEpochResult(3n))!.root).to.equal(h(1));
      expect((await store.getEpochResult(3n, "storage"))!.root).to.equal(h(2));
      expect((await store.getEpochResult(3n, "compute"))!.root).to.equal(h(3));
      // Immutable per (kind, epoch): the same root again is a no-op, another root a conflict.
      await store.putEpochResult(result(3n, h(2)), [], "storage");
      let conflict: unknown;
      try {
        await store.putEpochResult(result(3n, h(7)), [], "storage");
      } catch (e) {
        conflict = e;
      }
      expect(conflict).to.be.instanceOf(StoreConflictError);
      expect((conflict as Error).message).to.include("storage epoch 3");
      expect(await store.listEpochs(10, "storage")).to.deep.equal([{ epoch: 3n, root: h(2) }]);
      expect(await store.listEpochs(10)).to.deep.equal([{ epoch: 3n, root: h(1) }]);

      await store.putSignature(sig(3n, 1, h(1)));
      await store.putSignature(sig(3n, 1, h(2)), "storage");
      await store.putSignature(sig(3n, 2, h(2)), "storage");
      expect((await store.signatures(3n)).map((s) => s.root)).to.deep.equal([h(1)]);
      expect((await store.signatures(3n, "storage")).map((s) => s.signer)).to.deep.equal([addr(1), addr(2)]);
      expect(await store.signatures(3n, "compute")).to.deep.equal([]);

      await store.setPostStatus({ epoch: 3n, status: "posted", txHash: "0x1", detail: null, updatedAt: 1 });
      await store.setPostStatus(
        { epoch: 3n, status: "failed", txHash: null, detail: "x", updatedAt: 2 },
        "compute",
      );
      expect((await store.getPostStatus(3n))!.status).to.equal("posted");
      expect((await store.getPostStatus(3n, "compute"))!.status).to.equal("failed");
      expect(await store.getPostStatus(3n, "storage")).to.equal(null);
      const attempt = {
        epoch: 3n,
        outcome: "failed" as const,
        txHash: null,
        block: null,
        gasUsed: null,
        detail: "x",
        attemptedAt: 1,
      };
      expect((await store.recordPostAttempt(attempt, "compute")).seq).to.equal(1);
      expect((await store.recordPostAttempt(attempt, "compute")).seq).to.equal(2);
      expect((await store.recordPostAttempt(attempt)).seq).to.equal(1);
      expect((await store.postAttempts(3n, "compute")).map((a) => a.seq)).to.deep.equal([1, 2]);
      expect(await store.postAttempts(3n, "storage")).to.deep.equal([]);
    });

    it("a store at version 7 migrates to 8 with its rows as coverage's", async function () {
      store = await backend.open();
      // Version 7's schema, applied statement by statement, with one epoch's rows in the old tables.
      const sql = store.storageSql();
      await sql.run(MIGRATIONS_TABLE);
      for (const m of MIGRATIONS.filter((x) => x.version <= 7)) {
        for (const s of store.backend === "postgres" ? (m.postgres ?? m.statements) : m.statements)
          await sql.run(s);
        await sql.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
          m.version,
          m.name,
          0,
        ]);
      }
      expect(await store.schemaVersion()).to.equal(7);
      await sql.run("INSERT INTO chain_index (epoch, snapshot_block, data) VALUES (?, ?, ?)", [
        5,
        12,
        JSON.stringify({ ...index(5n, 0n), chainId: "31337", pool: "44", funded: "44", epoch: "5" }),
      ]);
      await sql.run(
        `INSERT INTO epoch_results (epoch, root, total_cumulative, data_hash, snapshot_block, summary, owners, computed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [5, h(5), "1000", h(99), 12, JSON.stringify(result(5n, h(5)).summary), "[]", 1],
      );
      await sql.run(
        "INSERT INTO signatures (epoch, oracle_set_version, signer, signature, root, received_at) VALUES (?, ?, ?, ?, ?, ?)",
        [5, 1, addr(1), `0x${"ab".repeat(65)}`, h(5), 1],
      );
      await sql.run("INSERT INTO posts (epoch, status, tx_hash, detail, updated_at) VALUES (?, ?, ?, ?, ?)", [
        5,
        "posted",
        "0x1",
        null,
        1,
      ]);
      await sql.run(
        "INSERT INTO post_attempts (epoch, seq, outcome, tx_hash, block, gas_used, detail, attempted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [5, 1, "posted", "0x1", 10, "100", null, 1],
      );

      expect(await store.migrate()).to.equal(SCHEMA_VERSION);
      expect((await store.getEpochResult(5n))!.root).to.equal(h(5));
      expect(await store.getEpochResult(5n, "storage")).to.equal(null);
      expect(await store.getChainIndex(5n)).to.not.equal(null);
      expect((await store.signatures(5n)).map((s) => s.root)).to.deep.equal([h(5)]);
      expect((await store.getPostStatus(5n))!.status).to.equal("posted");
      expect((await store.postAttempts(5n)).map((a) => a.seq)).to.deep.equal([1]);
      // The next attempt of the migrated epoch follows its history.
      expect(
        (
          await store.recordPostAttempt({
            epoch: 5n,
            outcome: "skipped",
            txHash: null,
            block: null,
            gasUsed: null,
            detail: "already live",
            attemptedAt: 2,
          })
        ).seq,
      ).to.equal(2);
    });
  });
}
