/**
 * Memory of the device-sized steps of an epoch close at a large fleet, every device active and
 * credited: the chain index read, its view, the weighting (hex density, then each device's beacons
 * credited), the devices' work, the payout and the commit. At the 40M-report day's 1.44M devices
 * these steps, not the reports, set the close's peak once stage 1 is done.
 *
 *   DEVICE_MEMORY_DAY=/tmp/hexmesh-scale/day-1440000.sqlite npm run bench:device-memory
 *
 * The day is a cached bench:scale day (its chain index only is read). The credits are the bench
 * day's shape without its reports: each device beacons 4 times and each beacon is witnessed by 6
 * other devices (by position in the view), so every device is credited as in a full day. With
 * DEVICE_MEMORY_BEFORE=<a checkout's packages/protocol/dist> the same steps run on that build too.
 * Each build runs in its own process; after each step the heap is collected and its live size,
 * the array buffers and the RSS are read. Writes bench/results/device-memory.json.
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";

import { DatabaseSync } from "node:sqlite";

import { chainIndexFromRows } from "@hexmesh/oracle/store/chain-index";

import { runBuilds } from "./builds.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const DAY = process.env.DEVICE_MEMORY_DAY ?? "/tmp/hexmesh-scale/day-1440000.sqlite";
const BEFORE = process.env.DEVICE_MEMORY_BEFORE;
const mib = (n: number) => Math.round(n / 2 ** 20);

if (process.argv[2] === "child") await child(process.argv[3]!, process.argv[4]);
else main();

function main(): void {
  if (!existsSync(DAY)) throw new Error(`no cached day at ${DAY}: generate it with bench:scale first`);
  const builds = runBuilds(fileURLToPath(import.meta.url), [DAY], BEFORE);
  const out = {
    bench: "device-memory",
    note: "Live heap (after a full collection), array buffers and RSS after each device-sized step, every device credited (4 beacons x 6 witnesses each); peak RSS of each build's process.",
    day: path.basename(DAY),
    node: process.version,
    builds,
  };
  const file = path.join(here, "results", "device-memory.json");
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  for (const b of builds) console.log(JSON.stringify(b));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function child(day: string, dist?: string): Promise<void> {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  // The build under test: this checkout's, or another's compiled protocol package.
  const p = (await import(
    dist ? path.join(dist, "index.js") : "@hexmesh/protocol"
  )) as typeof import("@hexmesh/protocol");
  const steps: { step: string; heapMiB: number; arrayBuffersMiB: number; rssMiB: number; seconds: number }[] =
    [];
  let t = performance.now();
  const step = (name: string) => {
    const seconds = Math.round(performance.now() - t) / 1000;
    gc();
    const m = process.memoryUsage();
    steps.push({
      step: name,
      heapMiB: mib(m.heapUsed),
      arrayBuffersMiB: mib(m.arrayBuffers),
      rssMiB: mib(m.rss),
      seconds,
    });
    t = performance.now();
  };
  step("start");
  // The index is dropped once its view is built, as the oracle's close does (storedChainView): a
  // view that keeps the index's records (builds before the view's columns) keeps them here too.
  const chain = (() => {
    const db = new DatabaseSync(day, { readOnly: true });
    const row = db
      .prepare("SELECT data, device_chunks FROM chain_index WHERE work = 'coverage' AND epoch = '0'")
      .get();
    if (row === undefined) throw new Error(`${day} holds no chain index for epoch 0`);
    const chunk = db.prepare(
      "SELECT data FROM chain_index_devices WHERE work = 'coverage' AND epoch = '0' AND chunk = ?",
    );
    const index = chainIndexFromRows(
      0n,
      String(row.data),
      row.device_chunks === null ? null : Number(row.device_chunks),
      (i) => {
        const c = chunk.get(i);
        return c === undefined ? undefined : String(c.data);
      },
    );
    db.close();
    step("chain index read");
    return new p.ChainView(index);
  })();
  step("view");
  const ds = chain.devices;
  // The weighting is dropped once the devices' work is out of it, as the oracle's close does.
  const devices = (() => {
    const weighting = new p.CoverageWeighting(chain, 14);
    step("hex density");
    const witnesses: (typeof ds)[number][] = [];
    for (let i = 0; i < ds.length; i++)
      for (let b = 0; b < 4; b++) {
        witnesses.length = 0;
        for (let j = 1; j <= 6; j++) witnesses.push(ds[(i + 7 * j + b) % ds.length]!);
        weighting.addBeacon(ds[i]!, witnesses);
      }
    step("beacons credited");
    return weighting.devices();
  })();
  const work = {
    kind: "coverage",
    pools: p.coveragePools(2_000),
    metricNames: p.COVERAGE_METRICS,
    devices,
    record: [new Uint8Array(0)],
  };
  step("devices' work");
  const payout = p.computePayout(chain, work);
  step("payout");
  const commit = p.commitEpoch(chain, work, payout);
  step("commit");
  console.log(
    JSON.stringify({
      devices: ds.length,
      credited: work.devices.length,
      owners: payout.owners.length,
      root: commit.epochRoot.root,
      dataHash: commit.epochRoot.dataHash,
      steps,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
