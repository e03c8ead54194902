/**
 * Crash safety: the service runs as a child process and is killed with SIGKILL at random moments
 * (seeded) while a client streams signed reports in batches, at least 20 times; it is restarted
 * each time and the client resends what was not acknowledged (as firmware does). Afterwards every
 * acknowledged report is in the store exactly once, with the receive time it was acknowledged
 * with, and the epoch's root equals the root of a run without crashes.
 *
 * Receive times come from the "device-timestamp" clock, so both runs stamp the same times and the
 * roots are comparable; the durability path (group commit, WAL, synchronous=FULL) is the
 * production one.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";

import { runCoverageEpoch } from "@hexmesh/oracle";
import { OracleClient } from "@hexmesh/oracle/api/client";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import type { ChainIndex } from "@hexmesh/protocol";
import { Rng } from "@hexmesh/sim/fleet";

import {
  DOMAIN,
  EPOCH_END,
  EPOCH_START,
  freePort,
  simulated,
  spawnCli,
  waitReady,
  writeDevicesFile,
} from "../../helpers/service.js";

const KILLS = 20;
/** Reports held back until the last kill (see stream). */
const HOLD_BACK = 50;
const { fleet, sim } = simulated(64, "crash test", 0.02);
const raws = sim.reports.map((r) => r.raw);
const index: ChainIndex = {
  chainId: DOMAIN.chainId,
  registry: DOMAIN.verifyingContract,
  epoch: 1n,
  epochStart: EPOCH_START,
  epochEnd: EPOCH_END,
  pool: 1_000_000n * 10n ** 18n,
  devices: fleet.map((d) => d.record),
  bonds: [...new Set(fleet.map((d) => d.record.owner))].map((owner) => ({ owner, bondedDevices: 1 })),
  previousCumulative: [],
};

interface Ack {
  readonly status: string;
  readonly hash?: string;
  readonly receivedAt?: number;
}

async function rootOf(file: string): Promise<{ root: string; count: number }> {
  const store = new SqliteStore({ path: file });
  try {
    const reports = await store.reportsReceivedBetween(0, Number.MAX_SAFE_INTEGER);
    const r = await runCoverageEpoch(index, { reports, entropy: sim.entropy }, { preparer: "inline" });
    return { root: r.commit.epochRoot.root, count: reports.length };
  } finally {
    await store.close();
  }
}

/**
 * Streams every report to the service (4 concurrent batches of 1-24), resending what was not
 * acknowledged; with `kills`, SIGKILLs the service at random moments and restarts it. Returns the
 * acknowledgements by hash and how many kills hit while reports were still unacknowledged.
 */
async function stream(dir: string, name: string, kills: number, rng: Rng) {
  const file = path.join(dir, `${name}.sqlite`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = path.join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      listen: { host: "127.0.0.1", port },
      store: { backend: "sqlite", path: file },
      ingest: { devicesFile: writeDevicesFile(path.join(dir, `${name}-devices.json`), fleet) },
      clock: { mode: "device-timestamp", offsetMs: 0 },
      log: { level: "warn" },
    }),
  );
  const start = async () => {
    const svc = spawnCli(["-c", config, "serve"]);
    await waitReady(url, svc.child, svc.output);
    return svc;
  };
  let svc = await start();
  const queue = [...raws];
  const acked = new Map<string, Ack>();
  let inFlight = 0;
  let killsDone = 0;
  let killedWhileStreaming = 0;
  let restarting = false;

  const worker = async () => {
    while (queue.length > 0 || inFlight > 0) {
      // Until every kill has happened, keep some reports back: each kill must land while reports are
      // still streaming in, however fast this machine sends them.
      if (queue.length === 0 || restarting || (killsDone < kills && queue.length <= HOLD_BACK)) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const batch = queue.splice(0, 1 + rng.int(24));
      inFlight++;
      try {
        const body = (await new OracleClient(url).submitReports(batch)) as { results: Ack[] };
        body.results.forEach((a, i) => {
          const prior = acked.get(batch[i]!);
          // A resent report must be acknowledged with the receive time it was first stored with.
          if (prior?.receivedAt !== undefined && a.receivedAt !== prior.receivedAt) {
            throw new Error(`report ${a.hash} acknowledged at ${prior.receivedAt}, then ${a.receivedAt}`);
          }
          acked.set(batch[i]!, a);
        });
      } catch (e) {
        if ((e as Error).message.includes("acknowledged at")) throw e;
        queue.push(...batch); // not acknowledged: send again later
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        inFlight--;
      }
      await new Promise((r) => setTimeout(r, 2 + rng.int(10)));
    }
  };

  const killer = async () => {
    while (killsDone < kills) {
      await new Promise((r) => setTimeout(r, 20 + rng.int(180)));
      if (queue.length > 0 || inFlight > 0) killedWhileStreaming++;
      restarting = true;
      svc.child.kill("SIGKILL");
      await new Promise((r) => svc.child.once("exit", r));
      killsDone++;
      svc = await start();
      restarting = false;
    }
  };

  await Promise.all([worker(), worker(), worker(), worker(), killer()]);
  svc.child.kill("SIGKILL");
  await new Promise((r) =>
    svc.child.exitCode !== null || svc.child.signalCode !== null ? r(null) : svc.child.once("exit", r),
  );
  return { file, acked, killsDone, killedWhileStreaming };
}

describe("service: crash safety (SIGKILL while reports stream in)", function () {
  this.timeout(600_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-crash-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`keeps every acknowledged report exactly once and the same root across ${KILLS} kills`, async function () {
    const clean = await stream(dir, "clean", 0, new Rng("crash clean"));
    const crashed = await stream(dir, "crashed", KILLS, new Rng("crash kills"));
    expect(crashed.killsDone).to.equal(KILLS);
    expect(crashed.killedWhileStreaming).to.be.at.least(KILLS);

    const refused = [...crashed.acked.values()].filter((a) => a.status === "refused").length;
    const store = new SqliteStore({ path: crashed.file });
    try {
      let present = 0;
      for (const [raw, a] of crashed.acked) {
        if (a.status === "refused") continue;
        const row = await store.getReport(a.hash as `0x${string}`);
        expect(row?.raw, `acknowledged report ${a.hash} is missing`).to.equal(raw);
        expect(row?.receivedAt).to.equal(a.receivedAt);
        present++;
      }
      // Exactly once: the store holds one row per acknowledged report and nothing else.
      expect(await store.countReports()).to.equal(present);
      expect(present + refused).to.equal(new Set(raws).size);
    } finally {
      await store.close();
    }

    const a = await rootOf(clean.file);
    const b = await rootOf(crashed.file);
    expect(b).to.deep.equal(a);
    console.log(
      `      ${crashed.killsDone} SIGKILLs (${crashed.killedWhileStreaming} while reports were unacknowledged); ` +
        `${crashed.acked.size - refused} reports acknowledged and stored once, ${refused} refused as malformed; root ${b.root}`,
    );
  });
});
