/**
 * The storage oracle set's agreed retrieval results (storage/agree.ts): the rule over the set's
 * signed results, the signature and membership checks, and fetching peers' results from a real
 * oracle API on localhost.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { agreedRetrievals, checkSignedRetrieval, pullSetRetrievals } from "@hexmesh/oracle/storage/agree";
import { scoresOf } from "@hexmesh/oracle/storage/score";
import { StorageStore, type StoredRetrieval } from "@hexmesh/oracle/storage/store";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import {
  RETRIEVAL_RESULT_TYPES,
  retrievalDomain,
  retrievalOutcomeCode,
  type RetrievalOutcome,
} from "@hexmesh/protocol";

import { serveOracleApi } from "./helpers.js";

const DEALS = "0x00000000000000000000000000000000000000d5";
const domain = retrievalDomain(31337n, DEALS);
const keys = [1, 2, 3, 4].map((i) => new Wallet(`0x${i.toString(16).padStart(64, "0")}`));
const [a, b, c, outsider] = keys as [Wallet, Wallet, Wallet, Wallet];
const members = new Set([a, b, c].map((w) => w.address.toLowerCase()));
const ROOT = `0x${"11".repeat(32)}`;
const chainSets = new Map([[7n, { deviceId: 70n, provider: "0x00000000000000000000000000000000000000aa" }]]);

async function signed(
  by: Wallet,
  day: bigint,
  outcome: RetrievalOutcome,
  over: Partial<StoredRetrieval> = {},
): Promise<StoredRetrieval> {
  const base = {
    dataSetId: 7n,
    day,
    deviceId: 999n, // a peer's word: the chain's device is used instead
    provider: "0x00000000000000000000000000000000000000bb",
    pieceRoot: ROOT,
    firstLeaf: 3n,
    count: 4,
    outcome,
    answerHash: `0x${"00".repeat(32)}`,
    detail: "",
    latencyMs: 5,
    probedAt: 1,
    ...over,
  };
  const signature = await by.signTypedData({ ...domain }, RETRIEVAL_RESULT_TYPES, {
    dataSetId: base.dataSetId,
    day: base.day,
    pieceRoot: base.pieceRoot,
    firstLeaf: base.firstLeaf,
    count: base.count,
    outcome: retrievalOutcomeCode(base.outcome as RetrievalOutcome),
    answerHash: base.answerHash,
  });
  return { ...base, signer: by.address.toLowerCase(), signature };
}

describe("storage oracle set: agreed retrieval results for a storage epoch", function () {
  this.timeout(60_000);

  it("a day fails only when more than half of the set's signers failed it; the chain names the device", async function () {
    const results = [
      // Day 10: 2 of 3 failed → failed.
      await signed(a, 10n, "timeout"),
      await signed(b, 10n, "refused"),
      await signed(c, 10n, "ok"),
      // Day 11: 1 of 3 failed → ok (one prober's bad path does not fail the provider).
      await signed(a, 11n, "ok"),
      await signed(b, 11n, "unreachable"),
      await signed(c, 11n, "ok"),
      // Day 12: a tie (1 of 2) → ok; the outsider's failure and a signer's second row do not count.
      await signed(a, 12n, "ok"),
      await signed(b, 12n, "timeout"),
      await signed(outsider, 12n, "timeout"),
      await signed(b, 12n, "refused", { probedAt: 2 }),
      // A data set the chain does not know: left out.
      await signed(a, 12n, "timeout", { dataSetId: 8n }),
    ];
    const agreed = agreedRetrievals(results, chainSets, members);
    expect(agreed.map((r) => [r.day, r.outcome])).to.deep.equal([
      [10n, "refused"],
      [11n, "ok"],
      [12n, "ok"],
    ]);
    for (const r of agreed)
      expect([r.deviceId, r.provider]).to.deep.equal([70n, chainSets.get(7n)!.provider]);
    // Any order in, the same out: the scores every oracle folds are the same.
    const shuffled = [...results].reverse();
    expect(agreedRetrievals(shuffled, chainSets, members)).to.deep.equal(agreed);
    const [score] = scoresOf(agreed);
    expect([score!.probes, score!.failures]).to.deep.equal([3, 1]);
  });

  it("checks each result's signature and its signer's membership", async function () {
    const good = await signed(a, 10n, "ok");
    expect(checkSignedRetrieval(good, domain, members)).to.equal(null);
    expect(checkSignedRetrieval(await signed(outsider, 10n, "ok"), domain, members)).to.equal(
      "not_in_oracle_set",
    );
    // Claims another signer, or its fields were changed after signing.
    expect(checkSignedRetrieval({ ...good, signer: b.address.toLowerCase() }, domain, members)).to.equal(
      "bad_signature",
    );
    expect(checkSignedRetrieval({ ...good, outcome: "timeout" }, domain, members)).to.equal("bad_signature");
    expect(checkSignedRetrieval({ ...good, signature: "0x1234" }, domain, members)).to.equal("bad_signature");
    expect(checkSignedRetrieval({ ...good, outcome: "lost" }, domain, members)).to.equal("malformed");
    // Signed under another StorageDeals: refused.
    const other = retrievalDomain(31337n, "0x00000000000000000000000000000000000000d6");
    expect(checkSignedRetrieval(good, other, members)).to.equal("bad_signature");
  });

  it("fetches peers' results from their API, keeps the set's signed ones over known pieces, once", async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-agree-"));
    const peerSql = new SqliteStore({ path: path.join(dir, "peer.sqlite") });
    const mineSql = new SqliteStore({ path: path.join(dir, "mine.sqlite") });
    await peerSql.migrate();
    await mineSql.migrate();
    const peer = new StorageStore(peerSql.storageSql());
    const mine = new StorageStore(mineSql.storageSql());
    for (const s of [peer, mine]) {
      await s.dataSetCreated(
        7n,
        "0x00000000000000000000000000000000000000c1",
        chainSets.get(7n)!.provider,
        70n,
      );
      await s.pieceAdded({ dataSetId: 7n, pieceIndex: 0, root: ROOT, size: 1024, firstLeaf: 0n });
    }
    // The peer serves: its own good result, an outsider's, a forged one, one over an unknown piece.
    await peer.putRetrieval(await signed(b, 10n, "ok"));
    await peer.putRetrieval(await signed(outsider, 11n, "ok"));
    await peer.putRetrieval({ ...(await signed(c, 12n, "ok")), outcome: "timeout" });
    await peer.putRetrieval(await signed(c, 13n, "ok", { pieceRoot: `0x${"22".repeat(32)}` }));
    const { app, url } = await serveOracleApi(peerSql);
    try {
      const options = {
        peers: [url, "http://127.0.0.1:1"],
        domain,
        oracles: [a, b, c].map((w) => w.address),
        timeoutMs: 2_000,
      };
      const pulled = await pullSetRetrievals(mine, options);
      expect(pulled).to.deep.equal({
        stored: 1,
        refused: { not_in_oracle_set: 1, bad_signature: 1, unknown_piece: 1 },
        unreachable: ["http://127.0.0.1:1"],
      });
      expect((await pullSetRetrievals(mine, options)).stored).to.equal(0);
      // Own results and the peers' together, for the rule, once an epoch's close folded them.
      await mine.putRetrieval(await signed(a, 10n, "timeout"));
      expect(await mine.foldRetrievals(10n, 1n)).to.equal(2);
      const held = await mine.setRetrievalsThrough(10n, 1n);
      expect(held.map((r) => r.signer)).to.deep.equal([a, b].map((w) => w.address.toLowerCase()).sort());
      expect(agreedRetrievals(held, chainSets, members).map((r) => r.outcome)).to.deep.equal(["ok"]);
    } finally {
      await app.close();
      await peerSql.close();
      await mineSql.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
