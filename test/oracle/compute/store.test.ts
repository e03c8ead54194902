/**
 * The compute tables through one SQL runner on both backends (SQLite; PostgreSQL with
 * HEXMESH_TEST_PG_URL), and the epoch inputs derived from them: every benchmark outcome, the window's
 * edges, the sender and spec filters, and the refusal while a benchmark can still change.
 */
import { expect } from "chai";

import { BENCHMARK_OUTPUT_HASH, benchmarkJob } from "@hexmesh/oracle/compute/benchmark";
import { computeEpochInputs, ComputeInputsNotReady } from "@hexmesh/oracle/compute/inputs";
import { ComputeStore, type NewJob, type StoredVerdict } from "@hexmesh/oracle/compute/store";

import { storeBackends, type OracleStore } from "../../helpers/service.js";

const SENDER = "0x00000000000000000000000000000000000000Aa";
const CUSTOMER = "0x00000000000000000000000000000000000000C1";
const PROVIDER = "0x00000000000000000000000000000000000000B0";
const DEVICE = 10n ** 70n;
const T0 = 1_800_000_000; // a block time, s
const DAY = 86_400;

for (const backend of storeBackends("compute")) {
  describe(`compute tables and epoch inputs (${backend.name})`, function () {
    let store: OracleStore;
    let spec: string;
    before(async function () {
      if (backend.skip !== undefined) {
        console.log(`      skipped: ${backend.skip}`);
        this.skip();
      }
      spec = (await benchmarkJob()).specHash;
    });
    beforeEach(async function () {
      store = await backend.open();
      await store.migrate();
    });
    afterEach(async () => store?.close());
    after(async () => backend.cleanup());

    const job = (id: bigint, over: Partial<NewJob> = {}): NewJob => ({
      id,
      customer: SENDER,
      specHash: spec,
      deviceClass: 4,
      maxUnits: 1n,
      pricePerUnit: 1_000n,
      deadline: T0 + 1_800,
      tier: 0,
      createdAt: T0,
      ...over,
    });

    /** A verdict on job 1 signed by SENDER, with the fields given. */
    const verdictRow = (
      v: Pick<StoredVerdict, "oracleSetVersion" | "reason" | "evidenceHash">,
    ): StoredVerdict => ({
      jobId: 1n,
      provider: PROVIDER,
      prover: SENDER,
      deadline: BigInt(T0 + 8 * DAY),
      signer: SENDER,
      signature: "0x" + "11".repeat(65),
      signedAt: 2,
      submitted: null,
      ...v,
    });

    it("indexes a job's life idempotently; lists the jobs to check and the penalties due", async function () {
      const s = new ComputeStore(store.storageSql());
      expect(await s.cursor()).to.equal(null);
      await s.setCursor(10, T0);
      await s.setCursor(12, T0 + 5);
      expect(await s.cursor()).to.deep.equal({ nextBlock: 12, blockTime: T0 + 5 });
      for (let i = 0; i < 2; i++) {
        await s.jobCreated(job(1n, { customer: CUSTOMER, specHash: "0x" + "5E".repeat(32) }));
        await s.jobAccepted(1n, PROVIDER, DEVICE, T0 + 10);
        await s.resultCommitted(1n, "0x" + "7A".repeat(32), T0 + 20);
        await s.spotCheckRecorded(1n, true);
      }
      const j = (await s.job(1n))!;
      expect(j).to.deep.include({
        customer: CUSTOMER.toLowerCase(),
        specHash: "0x" + "5e".repeat(32),
        status: "committed",
        provider: PROVIDER.toLowerCase(),
        deviceId: DEVICE,
        acceptedAt: T0 + 10,
        resultHash: "0x" + "7a".repeat(32),
        committedAt: T0 + 20,
        checkSelected: true,
        directedTo: null,
        penalty: null,
      });
      expect((await s.jobsToCheck()).map((x) => x.id)).to.deep.equal([1n]);
      expect((await s.jobsAwaitingDraw()).map((x) => x.id)).to.deep.equal([]);
      await s.putCheck({
        jobId: 1n,
        outcome: "fraud",
        reason: "wrong-result",
        provider: PROVIDER,
        committedHash: j.resultHash!,
        evidenceHash: "0x" + "EE".repeat(32),
        detail: "",
        checkedAt: 1,
      });
      expect(await s.putCheck({ ...(await s.check(1n))!, outcome: "match" })).to.equal(false);
      expect((await s.check(1n))!.outcome).to.equal("fraud");
      expect(await s.jobsToCheck()).to.deep.equal([]);
      const verdict = verdictRow({ oracleSetVersion: 3n, reason: 1, evidenceHash: "0x" + "ee".repeat(32) });
      expect(await s.putVerdict(verdict)).to.equal(true);
      expect(await s.putVerdict({ ...verdict, reason: 2 })).to.equal(false);
      expect((await s.verdictsToSubmit(3n)).map((v) => v.jobId)).to.deep.equal([1n]);
      expect(await s.verdictsToSubmit(4n)).to.deep.equal([]);
      // A fraud without a verdict under the current set (it changed to 4): to sign again.
      expect(await s.fraudsUnsigned(3n)).to.deep.equal([]);
      const unsigned = await s.fraudsUnsigned(4n);
      expect(unsigned.map((u) => [u.job.id, u.check.outcome, u.check.evidenceHash])).to.deep.equal([
        [1n, "fraud", "0x" + "ee".repeat(32)],
      ]);
      expect(unsigned[0]!.check).to.deep.equal(await s.check(1n));
      await s.penaltyScheduled(1n, T0 + 4 * DAY);
      await s.jobEnded(1n, "refunded");
      expect(await s.verdictsToSubmit(3n)).to.deep.equal([]);
      expect(await s.fraudsUnsigned(4n)).to.deep.equal([]);
      expect(await s.penaltiesDue(T0 + 4 * DAY - 1)).to.deep.equal([]);
      expect((await s.penaltiesDue(T0 + 4 * DAY)).map((x) => x.id)).to.deep.equal([1n]);
      await s.penaltyEnded(1n, "executed");
      expect(await s.penaltiesDue(T0 + 9 * DAY)).to.deep.equal([]);
      // A Verified job: accepted only at its second provider (both named, again idempotently); its
      // results differ, so it has none.
      await s.jobCreated(job(2n, { tier: 1, customer: CUSTOMER }));
      await s.jobAccepted(2n, PROVIDER, DEVICE, T0);
      expect((await s.job(2n))!).to.deep.include({ status: "open", secondProvider: null });
      for (let i = 0; i < 2; i++) {
        await s.jobAccepted(2n, SENDER, 5n, T0 + 1);
        await s.jobAccepted(2n, PROVIDER, DEVICE, T0);
      }
      expect((await s.job(2n))!).to.deep.include({
        status: "accepted",
        provider: PROVIDER.toLowerCase(),
        deviceId: DEVICE,
        secondProvider: SENDER.toLowerCase(),
      });
      await s.resultCommitted(2n, "0x" + "01".repeat(32), T0 + 2);
      await s.resultCommitted(2n, "0x" + "02".repeat(32), T0 + 3);
      expect((await s.job(2n))!).to.deep.include({
        status: "accepted",
        resultHash: "0x" + "01".repeat(32),
        committedAt: null,
      });
      await s.verifiedCompared(2n, false, T0 + 3);
      expect((await s.job(2n))!).to.deep.include({
        status: "disputed",
        resultsDiffer: true,
        resultHash: null,
        committedAt: T0 + 3,
      });
      expect((await s.jobsToCheck()).map((x) => x.id)).to.deep.equal([2n]);
      expect((await s.jobs({ provider: PROVIDER })).map((x) => x.id)).to.deep.equal([2n, 1n]);
      expect((await s.jobs({ provider: SENDER })).map((x) => x.id)).to.deep.equal([2n]);
      expect((await s.jobs({ status: "disputed" })).map((x) => x.id)).to.deep.equal([2n]);
    });

    it("keeps output probes: failures counted until served or withheld (both final); a withheld job is a fraud to sign unless re-execution found one", async function () {
      const s = new ComputeStore(store.storageSql());
      const RESULT = "0x" + "7a".repeat(32);
      for (const id of [1n, 2n, 3n]) {
        await s.jobCreated(job(id, { customer: CUSTOMER }));
        await s.jobAccepted(id, PROVIDER, DEVICE, T0 + 1);
        await s.resultCommitted(id, RESULT, T0 + 2);
      }
      // Verified jobs: 4's two results match (probed, never drawn: no re-execution pending); 5's
      // differ (not probed: re-execution judges it); 6 has one commit so far (not probed yet).
      for (const id of [4n, 5n, 6n]) {
        await s.jobCreated(job(id, { customer: CUSTOMER, tier: 1 }));
        await s.jobAccepted(id, PROVIDER, DEVICE, T0 + 1);
        await s.jobAccepted(id, SENDER, 5n, T0 + 1);
        await s.resultCommitted(id, RESULT, T0 + 2);
      }
      await s.resultCommitted(4n, RESULT, T0 + 3);
      await s.verifiedCompared(4n, true, T0 + 3);
      await s.resultCommitted(5n, "0x" + "01".repeat(32), T0 + 3);
      await s.verifiedCompared(5n, false, T0 + 3);
      const verified = (await s.jobsToProbe()).find((p) => p.job.id === 4n)!;
      expect(verified.job).to.deep.include({
        status: "committed",
        resultHash: RESULT,
        committedAt: T0 + 3,
        secondProvider: SENDER.toLowerCase(),
      });
      expect(verified.reexecutionPending).to.equal(false);
      // Judged withheld after a failure here (the store keeps what the prober decides): a fraud
      // naming the first provider; then out of the way of the Standard jobs below.
      await s.probeFailed(4n, T0 + 100, "a: 404");
      await s.probeWithheld(4n, T0 + 15_000, "0x" + "cc".repeat(32));
      expect(
        (await s.fraudsUnsigned(1n)).map((u) => [u.job.id, u.check.provider, u.check.committedHash]),
      ).to.deep.equal([[4n, PROVIDER.toLowerCase(), RESULT]]);
      await s.penaltyScheduled(4n, T0 + 4 * DAY);
      // Before its draw a job's re-execution is pending; a selected job stays pending until checked.
      const due = async () =>
        (await s.jobsToProbe()).map((p) => [p.job.id, p.probe?.failures ?? 0, p.reexecutionPending]);
      expect(await due()).to.deep.equal([
        [1n, 0, true],
        [2n, 0, true],
        [3n, 0, true],
      ]);
      await s.spotCheckRecorded(1n, false);
      await s.spotCheckRecorded(2n, true);
      await s.spotCheckRecorded(3n, true);
      await s.probeFailed(1n, T0 + 100, "a: 404");
      await s.probeFailed(1n, T0 + 3_700, "a: 404");
      await s.probeFailed(2n, T0 + 100, "a: 404");
      expect(await due()).to.deep.equal([
        [1n, 2, false],
        [2n, 1, true],
        [3n, 0, true],
      ]);
      expect(await s.probe(1n)).to.deep.equal({
        jobId: 1n,
        failures: 2,
        lastFailureAt: T0 + 3_700,
        servedAt: null,
        withheldAt: null,
        evidenceHash: null,
        detail: "a: 404",
      });
      // 2 is re-executed and matches: no longer pending. 3 is re-executed and is a wrong result: not probed.
      const check = {
        provider: PROVIDER,
        committedHash: RESULT,
        evidenceHash: null,
        detail: "",
        checkedAt: 1,
      };
      await s.putCheck({ ...check, jobId: 2n, outcome: "match", reason: null });
      await s.putCheck({
        ...check,
        jobId: 3n,
        outcome: "fraud",
        reason: "wrong-result",
        evidenceHash: "0x" + "ee".repeat(32),
      });
      expect(await due()).to.deep.equal([
        [1n, 2, false],
        [2n, 1, false],
      ]);
      // Served once: final, even if a later failure or a withheld judgement is attempted.
      await s.probeServed(2n, T0 + 4_000);
      await s.probeFailed(2n, T0 + 8_000, "late");
      await s.probeWithheld(2n, T0 + 8_000, "0x" + "dd".repeat(32));
      expect(await s.probe(2n)).to.deep.include({ failures: 1, servedAt: T0 + 4_000, withheldAt: null });
      await s.probeWithheld(1n, T0 + 15_000, "0x" + "DD".repeat(32));
      await s.probeServed(1n, T0 + 16_000);
      expect(await s.probe(1n)).to.deep.include({
        withheldAt: T0 + 15_000,
        servedAt: null,
        evidenceHash: "0x" + "dd".repeat(32),
      });
      expect(await due()).to.deep.equal([]);
      // The frauds to sign: 3's wrong result and 1's withheld output, in job order.
      const unsigned = await s.fraudsUnsigned(1n);
      expect(
        unsigned.map((u) => [u.job.id, u.check.reason, u.check.committedHash, u.check.evidenceHash]),
      ).to.deep.equal([
        [1n, "output-withheld", RESULT, "0x" + "dd".repeat(32)],
        [3n, "wrong-result", RESULT, "0x" + "ee".repeat(32)],
      ]);
      expect(unsigned[0]!.check).to.deep.include({ provider: PROVIDER.toLowerCase(), outcome: "fraud" });
      await s.putVerdict(
        verdictRow({ oracleSetVersion: 1n, reason: 2, evidenceHash: "0x" + "dd".repeat(32) }),
      );
      expect((await s.fraudsUnsigned(1n)).map((u) => u.job.id)).to.deep.equal([3n]);
      expect((await s.fraudsUnsigned(2n)).map((u) => u.job.id)).to.deep.equal([1n, 3n]);
    });

    it("derives every benchmark outcome from the index; refuses while one can still change", async function () {
      const s = new ComputeStore(store.storageSql(), { benchmarkSender: SENDER });
      const start = T0 * 1000;
      const end = (T0 + DAY) * 1000;
      const directed = async (id: bigint, device: bigint, over: Partial<NewJob> = {}) => {
        await s.jobCreated(job(id, over));
        await s.jobDirected(id, device);
      };
      await directed(1n, 11n); // passed
      await s.jobAccepted(1n, PROVIDER, 11n, T0 + 3);
      await s.resultCommitted(1n, BENCHMARK_OUTPUT_HASH, T0 + 7);
      await directed(2n, 12n, { createdAt: T0 + 100, deadline: T0 + 1_900 }); // wrong output
      await s.jobAccepted(2n, PROVIDER, 12n, T0 + 101);
      await s.resultCommitted(2n, "0x" + "99".repeat(32), T0 + 160);
      await directed(3n, 13n); // accepted, never committed
      await s.jobAccepted(3n, PROVIDER, 13n, T0 + 5);
      await directed(4n, 14n, { createdAt: T0 + DAY - 1, deadline: T0 + DAY + 1_799 }); // never accepted
      // Not benchmarks: another customer's directed job, an undirected job of the sender, another spec,
      // and one sent outside the window (at its end).
      await directed(5n, 15n, { customer: CUSTOMER });
      await s.jobCreated(job(6n));
      await directed(7n, 16n, { specHash: "0x" + "5e".repeat(32) });
      await directed(8n, 17n, { createdAt: T0 + DAY });
      await s.setCursor(100, T0 + DAY);
      let err: unknown;
      await computeEpochInputs(s, start, end).catch((e) => (err = e));
      expect(err).to.be.instanceOf(ComputeInputsNotReady);
      expect(String(err)).to.match(/benchmark job 4/);
      // Index behind the epoch's end.
      await s.setCursor(90, T0 + DAY - 10);
      await computeEpochInputs(s, start, end).catch((e) => (err = e));
      expect(String(err)).to.match(/before the epoch's end/);
      await s.setCursor(120, T0 + DAY + 1_800);
      const inputs = await computeEpochInputs(s, start, end);
      expect(inputs.benchmarks).to.deep.equal([
        { deviceId: 11n, sentAt: T0 * 1000, passed: true, latencyMs: 7_000 },
        {
          deviceId: 12n,
          sentAt: (T0 + 100) * 1000,
          passed: false,
          reason: "wrong-output",
          latencyMs: 60_000,
        },
        { deviceId: 13n, sentAt: T0 * 1000, passed: false, reason: "no-result" },
        { deviceId: 14n, sentAt: (T0 + DAY - 1) * 1000, passed: false, reason: "not-accepted" },
      ]);
      // A job that ended (refunded) before its deadline is settled whatever the index time.
      await s.setCursor(130, T0 + DAY + 1);
      await s.jobEnded(4n, "refunded");
      expect((await computeEpochInputs(s, start, end)).benchmarks).to.have.length(4);
      let empty: unknown;
      await computeEpochInputs(s, end, start).catch((e) => (empty = e));
      expect(empty).to.be.instanceOf(RangeError);
    });
  });
}
