/**
 * Migration 12's verdict tables, on both backends: a store at version 11 with verdicts migrates
 * and serves the same verdicts through the API, byte for byte (GET /v1/devices/:keyId/results);
 * a device's verdicts of one epoch and of every epoch, newest first, across epochs that do and do
 * not hold the device; verdicts that could not read back exactly are refused with nothing stored.
 */
import { expect } from "chai";

import type { VerdictRow } from "@hexmesh/oracle";
import { SCHEMA_VERSION } from "@hexmesh/oracle/store/migrations";
import type { Hex } from "@hexmesh/protocol";

import {
  bareEpochResult,
  migrateTo,
  putResultBefore16,
  serveOracleApi,
  storeBackends,
  type OracleStore,
} from "../../helpers/service.js";

const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Hex;
const A = addr(0xa1);
const B = addr(0xb2);

const result = (epoch: bigint) => bareEpochResult(epoch, h(Number(epoch) + 100), h(99));

/** An epoch's verdicts: A and B interleaved, a malformed report, every column's shapes. */
function verdictsOf(epoch: bigint): VerdictRow[] {
  const e = Number(epoch);
  const row = (
    seq: number,
    device: Hex | null,
    kind: VerdictRow["kind"],
    extra: Partial<VerdictRow> = {},
  ) => ({
    epoch,
    seq,
    id: h(e * 1000 + seq),
    device,
    kind,
    receivedAt: 1_760_000_000_000 + e * 86_400_000 + seq,
    reason: null,
    detail: null,
    selected: false,
    units: 0n,
    ...extra,
  });
  return [
    row(0, B, "beacon", { selected: true, units: 10n ** 18n }),
    row(1, A, "witness", {
      selected: true,
      units: 2n ** 64n - 1n, // the record's largest (uint64): stored exactly
      detail: "distance 812.4 m (maximum 100000 m); signal -97.5 dBm, margin 3.1 dB",
    }),
    row(2, null, "malformed", { reason: "malformed", detail: "not_json" }),
    row(3, A, "beacon", { reason: "irregular_interval" }),
    row(4, B, "witness", {
      reason: "too_late",
      detail: 'quote ", backslash \\N \\x00, tab \t, newline \n, CR \r, unicode µ: all survive',
    }),
    row(5, A, "witness", { reason: "bad_rssi", detail: "" }),
  ];
}

/**
 * What GET /v1/devices/:keyId/results has always answered for these rows: devices.ts's fields, in
 * the order the response schema (DEVICE_RESPONSE) serializes them.
 */
function expectedBody(device: Hex, rows: readonly VerdictRow[]): string {
  return JSON.stringify({
    device,
    results: rows.map((v) => ({
      epoch: v.epoch.toString(),
      id: v.id,
      kind: v.kind,
      receivedAt: v.receivedAt,
      valid: v.reason === null,
      reason: v.reason,
      selected: v.selected,
      units: v.units.toString(),
      detail: v.detail,
    })),
  });
}

const of = (device: Hex, rows: readonly VerdictRow[]) => rows.filter((v) => v.device === device);
/** Every epoch's rows of `device`, newest epoch first, each epoch in canonical order. */
const newestFirst = (device: Hex, epochs: readonly bigint[]) =>
  [...epochs].sort((a, b) => Number(b - a)).flatMap((e) => of(device, verdictsOf(e)));

/** Writes an epoch as a version-11 oracle did: its result row and its verdicts as hex text. */
async function putVersion11Epoch(
  store: OracleStore,
  epoch: bigint,
  rows: readonly VerdictRow[],
): Promise<void> {
  await putResultBefore16(store, result(epoch));
  const sql = store.storageSql();
  for (const v of rows)
    await sql.run(
      "INSERT INTO verdicts (epoch, seq, id, device, kind, received_at, reason, detail, selected, units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [
        Number(v.epoch),
        v.seq,
        v.id,
        v.device,
        v.kind,
        v.receivedAt,
        v.reason,
        v.detail,
        v.selected ? 1 : 0,
        v.units.toString(),
      ],
    );
}

async function body(url: string, route: string): Promise<string> {
  const res = await fetch(`${url}${route}`);
  expect(res.status).to.equal(200);
  return res.text();
}

for (const backend of storeBackends("verdicts")) {
  describe(`service: verdict tables, migration 12 (${backend.name})`, function () {
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

    it("a store at version 11 with verdicts migrates and serves the same verdicts, byte for byte", async function () {
      store = await backend.open();
      await migrateTo(store, 11);
      expect(await store.schemaVersion()).to.equal(11);
      for (const e of [3n, 4n]) await putVersion11Epoch(store, e, verdictsOf(e));

      expect(await store.migrate()).to.equal(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).to.be.at.least(12);
      expect(await store.getEpochResult(4n)).to.deep.equal(result(4n));
      for (const device of [A, B]) {
        expect(await store.deviceVerdicts(device, 3n, 100)).to.deep.equal(of(device, verdictsOf(3n)));
        expect(await store.deviceVerdicts(device, null, 100)).to.deep.equal(newestFirst(device, [3n, 4n]));
      }
      const { app, url } = await serveOracleApi(store);
      try {
        expect(await body(url, `/v1/devices/${A}/results?epoch=4`)).to.equal(
          expectedBody(A, of(A, verdictsOf(4n))),
        );
        expect(await body(url, `/v1/devices/${B}/results`)).to.equal(
          expectedBody(B, newestFirst(B, [3n, 4n])),
        );
        expect(await body(url, `/v1/devices/${A}/results?limit=4`)).to.equal(
          expectedBody(A, newestFirst(A, [3n, 4n]).slice(0, 4)),
        );
      } finally {
        await app.close();
      }
      // A later epoch is written through the new tables and read with the migrated ones.
      await store.putEpochResult(result(5n), verdictsOf(5n));
      expect(await store.deviceVerdicts(A, null, 100)).to.deep.equal(newestFirst(A, [3n, 4n, 5n]));
      // Every verdict with a device is in the index by device once (migrated and written alike),
      // and no verdict is lost or doubled: as many as were written.
      const count = async (sql: string) => Number((await store.storageSql().all(sql))[0]!.n);
      for (const e of [3, 4, 5])
        expect(
          await count(`SELECT COUNT(*) AS n FROM verdicts_by_device WHERE epoch = ${e}`),
          `epoch ${e}`,
        ).to.equal(verdictsOf(BigInt(e)).filter((v) => v.device !== null).length);
      expect(await count("SELECT COUNT(*) AS n FROM verdicts")).to.equal(3 * verdictsOf(3n).length);
    });

    it("a version-11 verdict of an unknown kind fails the migration; the store stays at 11", async function () {
      store = await backend.open();
      await migrateTo(store, 11);
      await putVersion11Epoch(store, 3n, [{ ...verdictsOf(3n)[0]!, kind: "bogus" as VerdictRow["kind"] }]);
      const error = await store.migrate().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Error);
      expect(String(error)).to.match(/NOT NULL|null value in column "kind"/i);
      expect(await store.schemaVersion()).to.equal(11);
    });

    it("reads a device's verdicts of one epoch and of every epoch, newest first, skipping epochs without it", async function () {
      store = await backend.open();
      await store.migrate();
      await store.putEpochResult(result(1n), verdictsOf(1n));
      // Epoch 2 holds only B; epochs arrive out of order (7 before 6).
      await store.putEpochResult(result(2n), of(B, verdictsOf(2n)));
      await store.putEpochResult(result(7n), verdictsOf(7n));
      await store.putEpochResult(result(6n), verdictsOf(6n));
      // An epoch with a result but no verdicts at all.
      await store.putEpochResult(result(9n), []);

      expect(await store.deviceVerdicts(A, 2n, 100)).to.deep.equal([]);
      expect(await store.deviceVerdicts(A, 9n, 100)).to.deep.equal([]);
      expect(await store.deviceVerdicts(A, 6n, 100)).to.deep.equal(of(A, verdictsOf(6n)));
      expect(await store.deviceVerdicts(A, 6n, 2)).to.deep.equal(of(A, verdictsOf(6n)).slice(0, 2));
      const all = newestFirst(A, [1n, 6n, 7n]);
      expect(await store.deviceVerdicts(A, null, 100)).to.deep.equal(all);
      // A limit that ends inside an epoch.
      expect(await store.deviceVerdicts(A, null, 4)).to.deep.equal(all.slice(0, 4));
      expect(await store.deviceVerdicts(B, null, 100)).to.deep.equal(newestFirst(B, [1n, 2n, 6n, 7n]));
      // No verdicts: an unknown device, one spelled in capitals (stored keys are lowercase), nonsense.
      expect(await store.deviceVerdicts(addr(0xc3), null, 100)).to.deep.equal([]);
      expect(await store.deviceVerdicts(A.toUpperCase().replace("0X", "0x") as Hex, null, 100)).to.deep.equal(
        [],
      );
      expect(await store.deviceVerdicts("0xzz" as Hex, 1n, 100)).to.deep.equal([]);
    });

    it("refuses a verdict that would not read back as given, storing nothing of the epoch", async function () {
      store = await backend.open();
      await store.migrate();
      const rows = verdictsOf(3n);
      const refused: [Partial<VerdictRow>, RegExp][] = [
        [
          { id: h(0xabc).toUpperCase().replace("0X", "0x") as Hex },
          /verdict id 0x0{61}ABC is not lowercase hex/,
        ],
        [{ device: "0xabc" as Hex }, /verdict device 0xabc is not lowercase hex/],
        [{ id: "deadbeef" as Hex }, /verdict id deadbeef is not lowercase hex/],
        [
          { kind: "relay" as VerdictRow["kind"] },
          /verdict kind relay is not one of malformed, beacon, witness/,
        ],
      ];
      for (const [change, message] of refused) {
        const error = await store
          .putEpochResult(result(3n), [rows[0]!, { ...rows[1]!, ...change }, rows[2]!])
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(error, JSON.stringify(Object.keys(change))).to.be.instanceOf(Error);
        expect((error as Error).message).to.match(message);
        expect(await store.getEpochResult(3n)).to.equal(null);
        expect(await store.deviceVerdicts(B, 3n, 100)).to.deep.equal([]);
      }
      // The same epoch, valid, stores whole afterwards.
      await store.putEpochResult(result(3n), rows);
      expect(await store.deviceVerdicts(B, 3n, 100)).to.deep.equal(of(B, rows));
    });
  });
}
