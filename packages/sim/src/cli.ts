/**
 * npm run sim:report — simulates one epoch of a network with honest devices and adversaries, runs
 * it through the oracle and writes the fraud-detection report (markdown + SVG charts), and the
 * paid-usage report (usage.md: wash trading and forged receipts through the shared reward stage), and
 * the storage and compute adversaries report (markets.md: earnings per unit of collateral or bond).
 *
 * Environment (all optional):
 *   SIM_DEVICES  fleet size (default 10000)
 *   SIM_SEED     seed (default "hexmesh-sim-1")
 *   SIM_WINDOWS  6-hour beacon windows simulated (default 4: a whole day)
 *   SIM_OUT      output folder (default docs/sim); "-" writes nothing (timing runs)
 *
 * Timings go to stdout only, so the written files depend on the seed and the code alone.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { analyse, runSimulation } from "./analysis.js";
import { buildMarketsReport } from "./markets-report.js";
import { simulateMarkets } from "./markets.js";
import { buildReport } from "./report.js";
import { buildUsageReport } from "./usage-report.js";
import { simulateUsage } from "./usage.js";

const devices = Number(process.env.SIM_DEVICES ?? 10_000);
const seed = process.env.SIM_SEED ?? "hexmesh-sim-1";
const windows = Number(process.env.SIM_WINDOWS ?? 4);
const out = process.env.SIM_OUT ?? "docs/sim";
if (!Number.isSafeInteger(devices) || devices < 50) throw new Error(`SIM_DEVICES must be an integer >= 50`);
if (!Number.isSafeInteger(windows) || windows < 1 || windows > 4) throw new Error(`SIM_WINDOWS must be 1..4`);

const t0 = performance.now();
const usage = simulateUsage({ seed });
for (const w of usage.wash.filter((x) => x.path === usage.wash[0]!.path)) {
  console.log(
    `wash trading: burned ${w.burnedMesh / 10n ** 18n} MESH, returned ${Number((w.returnedMesh * 10_000n) / w.burnedMesh) / 100}%`,
  );
}
if (out !== "-") {
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "usage.md"), await buildUsageReport(usage));
  console.log(`wrote ${path.join(out, "usage.md")}`);
}
const markets = simulateMarkets(seed);
for (const r of [markets.storageHonest, ...markets.storage])
  console.log(`storage ${r.label.padEnd(38)} net/collateral ${r.netPerCollateral.toFixed(4)}`);
for (const r of [markets.computeHonest, ...markets.compute])
  console.log(`compute ${r.label.padEnd(38)} net/bond ${r.netPerBond.toFixed(4)}`);
if (out !== "-") {
  writeFileSync(path.join(out, "markets.md"), await buildMarketsReport(markets));
  console.log(`wrote ${path.join(out, "markets.md")}`);
}
console.log(`simulating ${devices} devices, seed ${seed}, ${windows} window(s)...`);
const run = await runSimulation({ devices, seed, windows, coverage: { preparer: "workers" } });
const { worldMs, reportsMs, oracleMs } = run.timings;
console.log(
  `world ${(worldMs / 1000).toFixed(1)} s, ${run.epoch.reports.length} signed reports ${(reportsMs / 1000).toFixed(1)} s ` +
    `(${run.epoch.linksHeard} links heard of ${run.epoch.linksEvaluated} evaluated), oracle ${(oracleMs / 1000).toFixed(1)} s`,
);
const analysis = analyse(run);
const h = analysis.honest;
console.log(
  `honest loss ${((100 * h.wronglyRejected) / Math.max(1, h.valid)).toFixed(3)}% (${h.wronglyRejected}/${h.valid})`,
);
for (const k of analysis.kinds) {
  console.log(
    `${k.kind.padEnd(18)} devices ${String(k.devices).padStart(6)} refused ${((100 * k.rejected) / Math.max(1, k.reports)).toFixed(1).padStart(5)}% ` +
      `reward/honest ${k.rewardRatio.toFixed(3)}`,
  );
}
if (out !== "-") {
  const report = await buildReport(analysis);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "report.md"), report.markdown);
  for (const [name, svg] of report.charts) writeFileSync(path.join(out, name), svg);
  console.log(`wrote ${path.join(out, "report.md")} and ${[...report.charts.keys()].join(", ")}`);
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
