/**
 * One process of `npm run bench:scale` (bench/scale.ts), so that each close's peak RSS is its own:
 *
 *   generate DEVICES FILE        a simulated day of signed reports (bench/day.ts) imported into a
 *                                fresh SQLite store at FILE, with the epoch's chain index
 *   close streaming FILE         closes epoch 0 of FILE with this checkout's close (closeStoredEpoch:
 *                                keyset pages, verdicts written in batches)
 *   close baseline FILE DIST     the same with the whole-epoch-in-memory close of another checkout's
 *                                compiled @hexmesh/oracle (DIST = its packages/oracle/dist): one read
 *                                of the epoch, one array of verdicts, one write, as EpochService.close did
 *
 * Prints one JSON line: reports, seconds, peak RSS (MiB), root.
 */
import { renameSync, rmSync } from "node:fs";
import path from "node:path";

import { DatabaseSync } from "node:sqlite";

import { closeStoredEpoch, importInputs } from "@hexmesh/oracle";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import type { StoredChainIndex } from "@hexmesh/oracle/store/types";

import { DAY_DOMAIN, DAY_END, DAY_START, simulatedDay } from "./day.js";

const [command, ...args] = process.argv.slice(2);
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

if (command === "generate") {
  const [devices, file] = [Number(args[0]), args[1]!];
  const { fleet, sim } = simulatedDay(devices, `scale ${devices}`);
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true });
  const store = new SqliteStore({ path: tmp });
  await store.migrate();
  const reports = await importInputs(store, { reports: sim.reports, entropy: sim.entropy }, "bench");
  const pool = 10n ** 24n;
  const index: StoredChainIndex = {
    chainId: DAY_DOMAIN.chainId,
    registry: DAY_DOMAIN.verifyingContract,
    epoch: 0n,
    epochStart: DAY_START,
    epochEnd: DAY_END,
    pool,
    devices: fleet.map((d) => d.record),
    bonds: [...new Set(fleet.map((d) => d.record.owner))].map((owner) => ({ owner, bondedDevices: 4 })),
    previousCumulative: [],
    snapshotBlock: 1,
    funded: pool,
  };
  await store.putChainIndex(index);
  await store.close();
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
  renameSync(tmp, file);
  for (const suffix of ["-wal", "-shm"]) rmSync(`${tmp}${suffix}`, { force: true });
  console.log(JSON.stringify({ reports, devices, peakRssMiB: peakRssMiB() }));
} else if (command === "close") {
  const [mode, file, dist] = [args[0], args[1]!, args[2]];
  // Each run closes epoch 0 afresh.
  const db = new DatabaseSync(file);
  db.exec("DELETE FROM verdicts; DELETE FROM epoch_results");
  db.close();
  const t0 = performance.now();
  let reports: number;
  let root: string;
  if (mode === "streaming") {
    const store = new SqliteStore({ path: file });
    const index = (await store.getChainIndex(0n))!;
    const out = await closeStoredEpoch(store, index);
    await store.close();
    reports = out.summary.reports;
    root = out.root;
  } else if (mode === "baseline" && dist !== undefined) {
    ({ reports, root } = await baselineClose(file, path.resolve(dist)));
  } else throw new Error(`unknown close mode ${mode}`);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ mode, reports, seconds, peakRssMiB: peakRssMiB(), root }));
} else throw new Error(`unknown command ${command}`);

/** The close as another checkout's EpochService.close ran it: everything of the epoch in memory at once. */
async function baselineClose(file: string, dist: string): Promise<{ reports: number; root: string }> {
  const oracle: any = await import(path.join(dist, "index.js"));
  const { SqliteStore: BaselineStore }: any = await import(path.join(dist, "store", "sqlite.js"));
  const store = new BaselineStore({ path: file });
  const index = await store.getChainIndex(0n);
  const times = { epoch: 0n, start: index.epochStart, end: index.epochEnd };
  const range = oracle.inputRangeOf(index.epochStart, index.epochEnd);
  const owned = await oracle.ownedReports(store, times, oracle.SLACK_MS);
  const entropy = await store.entropyBetween(range.entropyFrom, range.entropyTo);
  const result = await oracle.runCoverageEpoch(index, { reports: owned, entropy });
  const verdicts: any[] = result.work.verdicts;
  const root = result.commit.epochRoot;
  const rows = verdicts.map((v, seq) => ({ ...v, epoch: 0n, seq }));
  await store.putEpochResult(
    {
      epoch: 0n,
      root: root.root,
      totalCumulative: root.totalCumulative,
      dataHash: root.dataHash,
      snapshotBlock: index.snapshotBlock,
      summary: { reports: verdicts.length },
      owners: result.payout.owners,
      computedAt: Date.now(),
    },
    rows,
  );
  await store.close();
  return { reports: verdicts.length, root: root.root };
}
