/**
 * Epoch boundaries that hold (SQLite and PostgreSQL): close refuses before the epoch's end + 2 witness
 * windows + the grace; once a close has begun, ingest refuses (epoch_closed) every report received
 * before its cutoff; and under concurrent ingest and close, every acknowledged report has exactly one
 * verdict in exactly one epoch's result (property test, fast-check), including reports received
 * within a witness window of the boundary (witnesses follow the beacon they heard).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import fc from "fast-check";

import { runCoverageEpoch, type OracleStore } from "@hexmesh/oracle";
import {
  beginEpochClose,
  EpochNotOverError,
  ownedReports,
  type EpochTimes,
} from "@hexmesh/oracle/service/close";
import { Ingestor, type SubmitResult } from "@hexmesh/oracle/service/ingest";
import { InlineAuthenticator } from "@hexmesh/oracle/verify/prepare";
import {
  beaconDigest,
  fromHex,
  keccak256,
  parseReport,
  separatorOf,
  toHex,
  witnessDigest,
  type ChainIndex,
  type Hex,
} from "@hexmesh/protocol";

import {
  DOMAIN,
  dropPgSchema,
  EPOCH_END,
  EPOCH_START,
  fleetIndex,
  freshPgSchema,
  openPg,
  openSqlite,
  pgUrl,
  simulated,
} from "../../helpers/service.js";

const W = 4_000; // the verifier's witness window
const DAY = EPOCH_END - EPOCH_START;
const { fleet, sim } = simulated(24, "epoch close", 0);
const separator = separatorOf(DOMAIN);

const times = (epoch: number): EpochTimes => ({
  epoch: BigInt(epoch),
  start: EPOCH_START + epoch * DAY,
  end: EPOCH_START + (epoch + 1) * DAY,
});

const indexOf = (t: EpochTimes): ChainIndex => fleetIndex(fleet, t);

/** The verdict id of a report text: its EIP-712 digest. */
function idOf(raw: string): Hex {
  const p = parseReport(raw);
  if (!p.ok) throw new Error("simulated report does not parse");
  const r = p.report;
  return toHex(r.type === "beacon" ? beaconDigest(separator, r) : witnessDigest(separator, r));
}

/** Beacons with their witnesses (by payload), so receive times can keep witnesses near their beacon. */
const groups = (() => {
  const byPayload = new Map<string, { beacon: string; witnesses: string[] }>();
  for (const r of sim.reports) {
    const p = parseReport(r.raw);
    if (p.ok && p.report.type === "beacon")
      byPayload.set(toHex(keccak256(fromHex(p.report.payload))), { beacon: r.raw, witnesses: [] });
  }
  for (const r of sim.reports) {
    const p = parseReport(r.raw);
    if (p.ok && p.report.type === "witness") byPayload.get(p.report.beaconPayloadHash)?.witnesses.push(r.raw);
  }
  return [...byPayload.values()].slice(0, 40);
})();

function ingestorFor(store: OracleStore, stamp: (raw: string) => number): Ingestor {
  return new Ingestor(store, {
    clock: () => EPOCH_END,
    stamp,
    authenticator: new InlineAuthenticator(
      DOMAIN,
      fleet.map((d) => d.signer.key),
    ),
    limits: {
      perDevicePerMinute: 1e9,
      clientReportsPerMinute: 1e9,
      perDevicePerWindow: 1e9,
      beaconWindowMs: 6 * 3_600_000,
    },
  });
}

/** Closes epoch `e` over the store as EpochService does (after its chain index) and returns its verdict ids. */
async function close(store: OracleStore, e: number): Promise<Hex[]> {
  const t = times(e);
  await beginEpochClose(store, t, { now: t.end + 2 * W, graceMs: 0, witnessWindowMs: W });
  const reports = await ownedReports(store, t, W);
  const result = await runCoverageEpoch(
    indexOf(t),
    { reports, entropy: sim.entropy },
    { preparer: "inline" },
  );
  return result.work.verdicts.map((v) => v.id);
}

function backends(): Array<{
  name: string;
  open: (tag: string) => Promise<{ store: OracleStore; done: () => Promise<void> }>;
}> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-close-"));
  let n = 0;
  const out: ReturnType<typeof backends> = [
    {
      name: "SQLite",
      open: async () => {
        const store = openSqlite(path.join(dir, `s${n++}.sqlite`));
        await store.migrate();
        return { store, done: () => store.close() };
      },
    },
  ];
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pg = pgUrl();
  if ("url" in pg)
    out.push({
      name: "PostgreSQL",
      open: async (tag) => {
        const schema = await freshPgSchema(pg.url, `close_${tag}_${n++}`);
        const store = openPg(pg.url, schema);
        await store.migrate();
        return {
          store,
          done: async () => {
            await store.close();
            await dropPgSchema(pg.url, schema);
          },
        };
      },
    });
  else console.log(`      (${pg.skip})`);
  return out;
}

describe("service: epoch boundaries (close and ingest)", function () {
  this.timeout(300_000);

  for (const backend of backends()) {
    describe(backend.name, () => {
      it("refuses to close before the epoch's end + 2 witness windows + the grace, and records nothing", async () => {
        const { store, done } = await backend.open("guard");
        try {
          const t = times(0);
          for (const now of [t.end - 1, t.end + 2 * W + 59_999]) {
            const e = await beginEpochClose(store, t, { now, graceMs: 60_000, witnessWindowMs: W }).then(
              () => null,
              (err: unknown) => err,
            );
            expect(e).to.be.instanceOf(EpochNotOverError);
            expect((e as Error).message).to.match(
              /epoch 0 cannot be closed before 2026-01-02T00:01:08\.000Z/,
            );
          }
          expect(await store.latestClose()).to.equal(null);
          const c = await beginEpochClose(store, t, {
            now: t.end + 68_000,
            graceMs: 60_000,
            witnessWindowMs: W,
          });
          expect(c).to.deep.equal({ epoch: 0n, cutoff: t.end + 2 * W, startedAt: t.end + 68_000 });
          // Idempotent: a re-run keeps the first record.
          const again = await beginEpochClose(store, t, {
            now: t.end + 99_000,
            graceMs: 60_000,
            witnessWindowMs: W,
          });
          expect(again).to.deep.equal(c);
        } finally {
          await done();
        }
      });

      it("refuses reports received before a closing epoch's cutoff (epoch_closed), keeps earlier ones acknowledged", async () => {
        const { store, done } = await backend.open("refuse");
        try {
          const t = times(0);
          const at = new Map<string, number>();
          const ingestor = ingestorFor(store, (raw) => at.get(raw)!);
          const [a, b, c] = [groups[0]!.beacon, groups[1]!.beacon, groups[2]!.beacon];
          at.set(a, t.end - 1_000)
            .set(b, t.end + 2 * W - 1)
            .set(c, t.end + 2 * W);
          expect((await ingestor.submit([a]))[0]!.status).to.equal("accepted");
          await close(store, 0);
          const [ra, rb, rc] = await ingestor.submit([a, b, c]);
          expect(ra!.status).to.equal("duplicate");
          expect(rb).to.deep.include({ status: "refused", reason: "epoch_closed", code: "epoch_closed" });
          expect((rb as { detail: string }).detail).to.match(
            /in epoch 0 or before, which is closed or closing: reports received before 2026-01-02T00:00:08\.000Z are no longer accepted/,
          );
          expect(rc!.status).to.equal("accepted");
          expect(await store.countReports()).to.equal(2);
        } finally {
          await done();
        }
      });

      it("property: under concurrent ingest and close, each acknowledged report has exactly one verdict in one epoch", async () => {
        const end = times(0).end;
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.integer({ min: -3 * W, max: 3 * W }), {
              minLength: groups.length,
              maxLength: groups.length,
            }),
            fc.array(fc.integer({ min: -W - 500, max: W + 500 }), { minLength: 400, maxLength: 400 }),
            fc.integer({ min: 0, max: 8 }),
            fc.integer({ min: 1, max: 6 }),
            async (beaconAt, witnessDelta, closeAfter, parallel) => {
              const { store, done } = await backend.open("prop");
              try {
                const at = new Map<string, number>();
                let k = 0;
                groups.forEach((g, i) => {
                  const tb = end + beaconAt[i]!;
                  at.set(g.beacon, tb);
                  for (const w of g.witnesses) at.set(w, tb + witnessDelta[k++ % witnessDelta.length]!);
                });
                const texts = [...at.keys()];
                const ingestor = ingestorFor(store, (raw) => at.get(raw)!);
                // Chunks sent by `parallel` concurrent senders; the close of epoch 0 starts after `closeAfter` chunks.
                const chunks: string[][] = [];
                for (let i = 0; i < texts.length; i += 7) chunks.push(texts.slice(i, i + 7));
                const acks = new Map<string, SubmitResult>();
                let sent = 0;
                let closing: Promise<Hex[]> | null = null;
                const sender = async () => {
                  while (chunks.length > 0) {
                    const chunk = chunks.shift()!;
                    if (++sent > closeAfter && closing === null) closing = close(store, 0);
                    const results = await ingestor.submit(chunk);
                    chunk.forEach((raw, i) => acks.set(raw, results[i]!));
                  }
                };
                await Promise.all(Array.from({ length: parallel }, sender));
                const first = await (closing ?? close(store, 0));
                const second = await close(store, 1);
                const count = new Map<Hex, number>();
                for (const id of [...first, ...second]) count.set(id, (count.get(id) ?? 0) + 1);
                for (const [raw, ack] of acks) {
                  const id = idOf(raw);
                  if (ack.status === "refused") {
                    expect(ack.code).to.equal("epoch_closed");
                    expect(count.get(id), `refused report has a verdict`).to.equal(undefined);
                  } else expect(count.get(id), `acknowledged report at ${at.get(raw)! - end} ms`).to.equal(1);
                }
                // Nothing else either: every verdict is of an acknowledged report.
                expect(first.length + second.length).to.equal(
                  [...acks.values()].filter((a) => a.status !== "refused").length,
                );
              } finally {
                await done();
              }
            },
          ),
          { numRuns: backend.name === "SQLite" ? 25 : 10, seed: 16 },
        );
      });
    });
  }
});
