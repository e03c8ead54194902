/**
 * The demo's storage section (issue 19): a client stores a file on two storage providers, each
 * running the real provider agent (@hexmesh/storage's `startProvider`: piece store, HTTP API on
 * localhost, chain loop over JSON-RPC). The client roots the file's pieces locally, uploads them to
 * both agents, creates a data set with each (the agents accept and post collateral), adds the pieces
 * (30 days of rate locked in credits). Each proving period the chain's clock is moved into the proof
 * window and the agents arm the challenge and prove from disk; each proof pays (UsageRecorded).
 * Then provider B's disk loses most of the file: it cannot prove, its first miss is free, every
 * further one costs twice the period's rate from its collateral (half to the client, half burned),
 * and 14 faulty days in a row terminate its data set (its forfeit goes to the client). Two storage
 * oracles probe one range a day per data set; B's retrieval score falls below 0.6, both sign the
 * StorageSuspension update, one submits it, and StorageDeals refuses a new data set with B. The
 * client downloads the file from A: every piece's root is recomputed while streaming and the bytes
 * equal the original. No top-level side effects.
 */
import { createCipheriv, createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";

import { JsonRpcProvider } from "ethers";

import {
  decodeContractError,
  RewardsDistributor__factory,
  StorageDeals__factory,
  StorageSuspensions__factory,
} from "@hexmesh/contracts";
import { StorageIndexer } from "@hexmesh/oracle/storage/indexer";
import { RetrievalProber } from "@hexmesh/oracle/storage/probe";
import { scoresOf } from "@hexmesh/oracle/storage/score";
import { StorageStore, type StoredRetrieval } from "@hexmesh/oracle/storage/store";
import { SuspensionKeeper } from "@hexmesh/oracle/storage/suspend";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { retrievalDomain, SCORE_ONE, storageSuspensionsDomain } from "@hexmesh/protocol";
import {
  addDealPieces,
  createDeal,
  dealsAt,
  downloadFile,
  parseProviderConfig,
  startProvider,
  uploadFile,
  type AgentEvent,
  type Manifest,
  type RunningProvider,
} from "@hexmesh/storage";

import { demoWallet, eventsOf, fund, startOperator, type Operator } from "./operators.js";
import { freePort } from "./rpc.js";
import { MESH, STORAGE_CLASS, type Suite } from "./suite.js";

/** The file: a few MiB, not a power of two, cut into 1 MiB pieces (the last one short). */
export const FILE_SIZE = 3 * 1024 * 1024 + 123_457;
export const PIECE_SIZE = 1024 * 1024;
/** Periods both providers prove before B loses the data. */
const HEALTHY_PERIODS = 3;
/** What is left of each of B's piece files after the loss. */
const KEPT_BYTES = 4096;
const UNLIMITED = 2n ** 128n - 1n;
const OUTCOMES = ["Proven", "Rescheduled", "DeclaredFault", "FreeMiss", "Faulted"] as const;
const END_REASONS = ["ByClient", "ByProvider", "Faults", "Mutual"] as const;

export interface StorageSectionResult {
  readonly file: string;
  readonly fileSize: number;
  readonly pieces: number;
  readonly honest: { readonly dataSet: bigint; readonly provenPeriods: number; readonly paidCredits: bigint };
  readonly faulty: {
    readonly dataSet: bigint;
    readonly provenPeriods: number;
    /** Outcome of every settled period, in order. */
    readonly outcomes: string[];
    readonly fees: bigint;
    readonly endReason: string;
    readonly forfeit: bigint;
    readonly feesBurned: bigint;
    readonly feesToClient: bigint;
  };
  readonly download: { readonly file: string; readonly equal: boolean };
  /** Storage oracle 0's retrieval scores (parts per million) and probe counts. */
  readonly retrieval: {
    readonly honest: { readonly score: number; readonly probes: number; readonly failures: number };
    readonly faulty: { readonly score: number; readonly probes: number; readonly failures: number };
  };
  /** The storage oracles' suspension round after B's score fell below 0.6. */
  readonly suspension: {
    /** Oracles whose signatures went into the update, and the device it suspended. */
    readonly signatures: number;
    readonly deviceId: bigint;
    readonly suspended: boolean;
    /** The decoded revert of the client's new data set with B. */
    readonly refusal: string;
  };
}

/** A deterministic file of `size` bytes: AES-256-CTR keystream under a fixed key. */
export function demoFileBytes(size: number): Buffer {
  const key = createHash("sha256").update("hexmesh demo storage file").digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** The period the chain's clock is in (the stored one may have ended, unsettled), as the agent reads it. */
function current(ds: { period: bigint; periodEnd: bigint }, now: bigint, length = 86_400n) {
  if (now < ds.periodEnd) return { period: ds.period, periodEnd: ds.periodEnd };
  const skipped = (now - ds.periodEnd) / length + 1n;
  return { period: ds.period + skipped, periodEnd: ds.periodEnd + skipped * length };
}

/**
 * Polls `read` until it gives a value. `produce`, when given, runs every 250 ms meanwhile: the demo
 * mines a block, as a live chain keeps producing them (the in-process chain mines only on demand,
 * and an agent waits for the block after the one its challenge is armed at).
 */
async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  log: () => string,
  produce?: () => Promise<unknown>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (let i = 1; ; i++) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
    if (produce && i % 5 === 0) await produce();
  }
}

/**
 * Runs the storage section on `suite`'s chain, served as JSON-RPC at `rpcUrl`; files under `outDir`.
 * `print` gets each line the section shows.
 */
export async function runStorageSection(
  suite: Suite,
  rpcUrl: string,
  outDir: string,
  print: (line: string) => void,
): Promise<StorageSectionResult> {
  const deals = suite.storageDeals;
  const dealsAddress = await deals.getAddress();
  const { time } = suite;
  const dir = path.join(outDir, "storage");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // Two storage providers (a device each, bonded; MESH for collateral) and a client with credits.
  const a = await startOperator(suite, "storage A", STORAGE_CLASS, MESH(100));
  const b = await startOperator(suite, "storage B", STORAGE_CLASS, MESH(100));
  const client = demoWallet("storage client", a.wallet.provider!);
  await fund(suite, client.address, MESH(1));
  await (await suite.token.connect(client).approve(await suite.credits.getAddress(), MESH(1))).wait();
  await (await suite.credits.connect(client).burnForCredits(MESH(1), 0n, client.address)).wait();
  await (await suite.credits.connect(client).approveSpender(dealsAddress, UNLIMITED)).wait();
  const creditsBought = await suite.credits.balanceOf(client.address);

  const logs = new Map<string, AgentEvent[]>();
  const agents = new Map<string, RunningProvider>();
  const agentLog = () =>
    [...logs.entries()]
      .map(
        ([n, l]) =>
          `${n} (last events): ${l
            .slice(-12)
            .map((e) => JSON.stringify(e))
            .join("\n  ")}`,
      )
      .join("\n");
  const fromBlock = await suite.ethers.provider.getBlockNumber();
  const closers: (() => Promise<void>)[] = [];
  const start = async (op: Operator) => {
    const port = await freePort();
    const events: AgentEvent[] = [];
    logs.set(op.name, events);
    const config = parseProviderConfig({
      rpcUrl,
      deals: dealsAddress,
      mesh: await suite.token.getAddress(),
      deviceId: op.deviceId.toString(),
      dataDir: path.join(dir, op.name.replace(" ", "-")),
      host: "127.0.0.1",
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      pollMs: 50,
      fromBlock,
    });
    const running = await startProvider(config, {
      env: { HEXMESH_PROVIDER_KEY: op.wallet.privateKey },
      log: (e) => events.push(e),
    });
    agents.set(op.name, running);
    return { url: config.publicUrl, running };
  };

  try {
    const agentA = await start(a);
    const agentB = await start(b);
    const endpoints = await until(
      "both agents to register their endpoints",
      async () => {
        const [ea, eb] = [await deals.endpointOf(a.deviceId), await deals.endpointOf(b.deviceId)];
        return ea !== "" && eb !== "" ? [ea, eb] : undefined;
      },
      agentLog,
    );
    print(
      `Providers  storage A ${a.wallet.address} and storage B ${b.wallet.address}: one storage device each (class ${STORAGE_CLASS}), bonded; their agents serve ${endpoints.join(" and ")} (endpoints registered on chain)`,
    );

    // Storage oracles 0 and 1 (the storage distributor's threshold is 2): each runs @hexmesh/oracle's
    // storage indexer, retrieval prober and suspension keeper on its own SQLite store, reading the
    // chain over JSON-RPC like the agents; each day each probes the day's range of every data set.
    const oracleChain = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
    closers.push(async () => oracleChain.destroy());
    const oracleDeals = StorageDeals__factory.connect(dealsAddress, oracleChain);
    const suspensionsAddress = await suite.storageSuspensions.getAddress();
    const storageOracle = async (index: number) => {
      const sqlite = new SqliteStore({ path: path.join(dir, `storage-oracle-${index}.sqlite`) });
      await sqlite.migrate();
      closers.push(async () => sqlite.close());
      const store = new StorageStore(sqlite.storageSql());
      const key = suite.oracleKeys[index]!;
      return {
        indexer: new StorageIndexer(oracleDeals, store, { fromBlock }),
        prober: new RetrievalProber(oracleDeals, store, key, retrievalDomain(suite.chainId, dealsAddress), {
          timeoutMs: 10_000,
        }),
        // Anyone may send a signed update: the deployer's account pays the gas here.
        keeper: new SuspensionKeeper(
          StorageSuspensions__factory.connect(suspensionsAddress, suite.deployer),
          RewardsDistributor__factory.connect(await suite.storageDistributor.getAddress(), oracleChain),
          store,
          key,
          storageSuspensionsDomain(suite.chainId, suspensionsAddress),
        ),
      };
    };
    const storageOracles = [await storageOracle(0), await storageOracle(1)];
    const retrievals: StoredRetrieval[] = [];

    // The file, its pieces rooted locally and uploaded to both agents.
    const file = path.join(dir, "original.bin");
    writeFileSync(file, demoFileBytes(FILE_SIZE));
    const manifest: Manifest = await uploadFile(agentA.url, file, PIECE_SIZE);
    const manifestB = await uploadFile(agentB.url, file, PIECE_SIZE);
    if (JSON.stringify(manifestB.pieces) !== JSON.stringify(manifest.pieces))
      throw new Error("the two uploads rooted the file differently");
    print(
      `File       ${path.relative(process.cwd(), file)}: ${FILE_SIZE.toLocaleString("en-US")} bytes, ${manifest.pieces.length} pieces of up to 1 MiB rooted by the client (${manifest.pieces.map((p) => p.root.slice(0, 10) + "…").join(", ")}), uploaded to both agents (each re-rooted what it received)`,
    );

    // Data sets: created by the client, accepted by the agents; pieces added (credits locked).
    const asClient = dealsAt(dealsAddress, client);
    const dsA = (await createDeal(asClient, a.deviceId)).id;
    const dsB = (await createDeal(asClient, b.deviceId)).id;
    await until(
      "both agents to accept",
      async () =>
        (await deals.dataSet(dsA)).status === 2n && (await deals.dataSet(dsB)).status === 2n
          ? true
          : undefined,
      agentLog,
    );
    for (const id of [dsA, dsB]) await addDealPieces(asClient, id, manifest.pieces);
    const funded = await until(
      "both agents to post collateral",
      async () => {
        const out = [];
        for (const id of [dsA, dsB]) {
          const ds = await deals.dataSet(id);
          if (ds.collateral < (await deals.requiredCollateral(id))) return undefined;
          out.push(ds);
        }
        return out;
      },
      agentLog,
    );
    const [dA] = funded;
    print(
      `Deals      client ${client.address} burned 1 MESH for ${creditsBought.toLocaleString("en-US")} credits; data set ${dsA} with storage A and ${dsB} with storage B, both accepted by their agents; ${manifest.pieces.length} pieces added to each: rate ${dA!.rate} credit(s)/day ($2.50 per TiB-month, rounded up), ${dA!.locked} credits (30 days) locked per data set; each agent posted ${dA!.collateral} wei MESH of collateral (90 days of rate)`,
    );

    const settledOutcomes = new Map<bigint, string[]>([
      [dsA, []],
      [dsB, []],
    ]);
    let fees = 0n;
    let paidA = 0n;
    let provenA = 0;
    let provenB = 0;
    const recordSettlements = async (fromBlockNumber: number) => {
      for (const id of [dsA, dsB]) {
        for (const e of await deals.queryFilter(deals.filters.PeriodSettled(id), fromBlockNumber)) {
          settledOutcomes.get(id)!.push(OUTCOMES[Number(e.args.outcome)]!);
          if (id === dsB) fees += e.args.fee;
        }
      }
    };

    // One proving period: move the clock into both windows, let the agents act, then past the end.
    const day = async (n: number, bLost: boolean): Promise<string> => {
      const now = BigInt(await time.latest());
      const [x, y] = [current(await deals.dataSet(dsA), now), current(await deals.dataSet(dsB), now)];
      const window = await deals.WINDOW();
      const laterEnd = x.periodEnd > y.periodEnd ? x.periodEnd : y.periodEnd;
      const earlierEnd = x.periodEnd < y.periodEnd ? x.periodEnd : y.periodEnd;
      if (laterEnd - window >= earlierEnd) throw new Error("the two data sets' windows do not overlap");
      const blockBefore = await suite.ethers.provider.getBlockNumber();
      const seen = logs.get(b.name)!.length;
      await time.increaseTo(laterEnd - window + 1n);
      const period = y.period;
      // Both agents arm their challenge (anyone may); the seed is the hash of the next block, which
      // the demo mines (on a live chain blocks keep coming; the in-process chain mines on demand).
      await until(
        `both agents to arm day ${n}'s challenge`,
        async () =>
          (await deals.queryFilter(deals.filters.ChallengeArmed(dsA, x.period), blockBefore)).length > 0 &&
          (await deals.queryFilter(deals.filters.ChallengeArmed(dsB, period), blockBefore)).length > 0
            ? true
            : undefined,
        agentLog,
      );
      const mine = () => suite.connection.networkHelpers.mine(1);
      await mine();
      const provenA = await until(
        `storage A to prove period ${x.period}`,
        async () => (await deals.queryFilter(deals.filters.PossessionProven(dsA, x.period), blockBefore))[0],
        agentLog,
        mine,
      );
      let bText: string;
      if (!bLost) {
        await until(
          `storage B to prove period ${period}`,
          async () => (await deals.queryFilter(deals.filters.PossessionProven(dsB, period), blockBefore))[0],
          agentLog,
          mine,
        );
        bText = "B proven";
      } else {
        // B's agent derives the challenges, finds the challenged leaves no longer match their roots
        // and sends no proof.
        await until(
          `storage B's agent to find period ${period} unprovable`,
          async () =>
            logs
              .get(b.name)!
              .slice(seen)
              .some(
                (e) =>
                  e.dataSet === dsB.toString() &&
                  (e.event === "proof_unavailable" || e.event === "data_set_failed"),
              )
              ? true
              : undefined,
          agentLog,
          mine,
        );
        bText = "B could not prove (challenged leaves lost)";
      }
      // The oracle's probe of the day: one range per data set, from each agent's registered endpoint.
      let probes: StoredRetrieval[] = [];
      for (const [i, o] of storageOracles.entries()) {
        await o.indexer.run();
        const own = await o.prober.tick();
        if (i === 0) probes = own;
      }
      retrievals.push(...probes);
      const probeOf = (id: bigint) => probes.find((r) => r.dataSetId === id)?.outcome ?? "not probed";
      await time.increaseTo(laterEnd);
      return `  day ${String(n).padEnd(3)}    A proven (paid ${provenA.args.paid} credit(s)), ${bText}; retrieval probes: A ${probeOf(dsA)}, B ${probeOf(dsB)}`;
    };

    const firstBlock = await suite.ethers.provider.getBlockNumber();
    for (let n = 0; n < HEALTHY_PERIODS; n++) print(await day(n, false));

    // B's disk fails: every piece file keeps only its first 4 KiB (its trees stay, the data does not).
    for (const p of manifest.pieces) {
      const data = await agentB.running.agent.store.dataPath(p.root);
      const handle = openSync(data, "r+");
      try {
        writeSync(handle, Buffer.alloc(p.size - KEPT_BYTES), 0, p.size - KEPT_BYTES, KEPT_BYTES);
      } finally {
        closeSync(handle);
      }
    }
    print(
      `Loss       storage B's disk lost most of the file: each of its ${manifest.pieces.length} piece files reads back zeros after its first ${KEPT_BYTES} bytes`,
    );
    const limit = Number(await deals.MAX_CONSECUTIVE_FAULTS());
    for (let n = HEALTHY_PERIODS; n < HEALTHY_PERIODS + limit; n++) print(await day(n, true));

    // Settle both (anyone may): B's data set is at the fault limit and ends.
    const settleA = await (await deals.connect(suite.deployer).settle(dsA)).wait();
    const settleB = await (await deals.connect(suite.deployer).settle(dsB)).wait();
    void settleA;
    const ended = eventsOf(deals.interface, settleB, "DataSetTerminated")[0];
    if (ended === undefined) throw new Error(`data set ${dsB} did not end after ${limit} faulty days`);
    await recordSettlements(firstBlock);
    for (const e of await deals.queryFilter(deals.filters.PossessionProven(dsA), firstBlock)) {
      provenA++;
      paidA += e.args.paid;
    }
    provenB = (await deals.queryFilter(deals.filters.PossessionProven(dsB), firstBlock)).length;
    const outcomesB = settledOutcomes.get(dsB)!;
    const faulted = outcomesB.filter((o) => o === "Faulted").length;
    const perFee = faulted > 0 ? fees / BigInt(faulted) : 0n;
    const topUps = await deals.queryFilter(deals.filters.CollateralDeposited(dsB), firstBlock);
    const toppedUp = topUps.reduce((sum, e) => sum + e.args.amount, 0n);
    print(
      `Faults     data set ${dsB}: ${provenB} periods proven, then ${outcomesB.filter((o) => o === "FreeMiss").length} free miss and ${faulted} faulted periods at ${perFee} wei MESH each (2 days of rate, from B's collateral): ${fees} wei; B's agent topped its collateral back up to 90 days of rate ${topUps.length} times (${toppedUp} wei)`,
    );

    // The fault fees: half owed to the client, half burned (anyone burns them).
    const owedToClient = await deals.meshOwed(client.address);
    const burnReceipt = await (await deals.connect(suite.deployer).burnFees()).wait();
    const burned = eventsOf(deals.interface, burnReceipt, "FeesBurned")[0]!.args.amount as bigint;
    const clientBefore = await suite.token.balanceOf(client.address);
    await (await deals.connect(client).withdrawMesh()).wait();
    const withdrawn = (await suite.token.balanceOf(client.address)) - clientBefore;
    const reason = END_REASONS[Number(ended.args.reason)]!;
    print(
      `Ended      data set ${dsB} terminated after ${limit} consecutive faulty days (reason ${reason}): ${ended.args.forfeitToClient} wei MESH of B's collateral forfeited to the client, ${ended.args.collateralReturned} wei returned to B, ${ended.args.creditsReleased} locked credits released to the client; fees: ${burned} wei MESH burned, ${withdrawn} wei withdrawn by the client`,
    );
    const scores = scoresOf(retrievals);
    const scoreOf = (op: Operator) => {
      const sc = scores.find((x) => x.deviceId === op.deviceId);
      if (sc === undefined) throw new Error(`no retrieval score for ${op.name}`);
      return sc;
    };
    const [scoreA, scoreB] = [scoreOf(a), scoreOf(b)];
    const fmtScore = (v: number) => (v / SCORE_ONE).toFixed(3);
    print(
      `Retrievals storage oracles 0 and 1 each probed one range a day per data set (signed RetrievalResults); oracle 0's scores: A ${scoreA.probes - scoreA.failures}/${scoreA.probes} ok, score ${fmtScore(scoreA.score)}; B ${scoreB.probes - scoreB.failures}/${scoreB.probes} ok, score ${fmtScore(scoreB.score)} (λ = 0.95: below 0.9 usage rewards are scaled by the score, below 0.6 the storage oracles suspend the device from new data sets)`,
    );

    // The suspension round: oracle 1 proposes and signs the update its own scores call for; oracle 0
    // gathers it with its own signature (identical values) and submits StorageSuspensions.update.
    const lastDay = retrievals.reduce((d, r) => (r.day > d ? r.day : d), 0n);
    const peers = await storageOracles[1]!.keeper.proposals(lastDay);
    const submitted = await storageOracles[0]!.keeper.submit(lastDay, peers);
    const forB = submitted.find((x) => x.deviceId === b.deviceId);
    if (forB?.outcome !== "sent" || !forB.suspended) {
      throw new Error(`the suspension of storage B was not sent: ${JSON.stringify(submitted)}`);
    }
    if (!(await suite.storageSuspensions.isSuspended(b.deviceId)))
      throw new Error("storage B is not suspended");
    const [updated] = await suite.storageSuspensions.queryFilter(
      suite.storageSuspensions.filters.SuspensionUpdated(b.deviceId),
      firstBlock,
    );
    const signatures = Number(forB.detail.split(" ")[0]);
    print(
      `Suspended  storage oracles 0 and 1 both signed StorageSuspension{device ${b.deviceId.toString().slice(0, 10)}…, suspended, nonce ${updated!.args.nonce}, oracle set ${updated!.args.oracleSetVersion}} (B's score ${fmtScore(scoreB.score)} < 0.600); oracle 0 submitted it with ${signatures} of the ${await suite.storageDistributor.threshold()} required signatures: SuspensionUpdated, storage B suspended from new data sets (its running ones are untouched)`,
    );
    let refusal: string;
    try {
      await (await asClient.createDataSet(b.deviceId)).wait();
      throw new Error("StorageDeals accepted a new data set with a suspended device");
    } catch (err) {
      const decoded = decodeContractError(err);
      if (decoded?.name !== "StorageDeviceSuspended") throw err;
      refusal = decoded.text;
    }
    print(`Refused    the client's new data set with storage B: createDataSet reverted with ${refusal}`);
    print(
      `Paid       storage A proved all ${provenA} periods of data set ${dsA}: ${paidA} credits consumed in ${provenA} UsageRecorded (one per proven period); data set ${dsA} stays active`,
    );

    // The client downloads from A: each piece re-rooted while streaming, then compared byte for byte.
    const out = path.join(dir, "downloaded.bin");
    await downloadFile(agentA.url, manifest, out);
    const equal = readFileSync(out).equals(readFileSync(file));
    if (!equal) throw new Error("the downloaded file differs from the original");
    const sha = createHash("sha256").update(readFileSync(out)).digest("hex");
    print(
      `Download   from storage A: ${manifest.pieces.length} pieces, each root recomputed while streaming, ${FILE_SIZE.toLocaleString("en-US")} bytes equal to the original (sha256 ${sha.slice(0, 16)}…), ${path.relative(process.cwd(), out)}`,
    );

    return {
      file,
      fileSize: FILE_SIZE,
      pieces: manifest.pieces.length,
      honest: { dataSet: dsA, provenPeriods: provenA, paidCredits: paidA },
      faulty: {
        dataSet: dsB,
        provenPeriods: provenB,
        outcomes: outcomesB,
        fees,
        endReason: reason,
        forfeit: ended.args.forfeitToClient as bigint,
        feesBurned: burned,
        feesToClient: owedToClient,
      },
      download: { file: out, equal },
      retrieval: {
        honest: { score: scoreA.score, probes: scoreA.probes, failures: scoreA.failures },
        faulty: { score: scoreB.score, probes: scoreB.probes, failures: scoreB.failures },
      },
      suspension: { signatures, deviceId: b.deviceId, suspended: true, refusal },
    };
  } finally {
    for (const agent of agents.values()) await agent.stop();
    for (const close of closers) await close();
  }
}
