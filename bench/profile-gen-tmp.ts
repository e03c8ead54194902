import { rmSync } from "node:fs";
import { importInputs } from "@hexmesh/oracle";
import { SqliteStore } from "@hexmesh/oracle/store/sqlite";
import { makeFleet, planEpoch, simulateChunk } from "@hexmesh/sim/fleet";
import { dayOptions } from "./day.js";
const devices = Number(process.argv[2] ?? 2000);
const o = dayOptions(devices, `scale ${devices}`);
let t = performance.now();
const lap = (l: string) => { const n = performance.now(); console.log(l, ((n - t) / 1000).toFixed(2)); t = n; };
const fleet = makeFleet(o.fleet); lap("fleet");
const plan = planEpoch(devices, o.epoch, 256); lap("plan");
const file = "/tmp/sg-prof.sqlite"; for (const s of ["", "-wal", "-shm"]) rmSync(file + s, { force: true });
const store = new SqliteStore({ path: file }); await store.migrate();
await importInputs(store, { reports: [], entropy: plan.entropy }, "bench");
let sim = 0, imp = 0, n = 0;
for (const c of plan.chunks) {
  let a = performance.now(); const part = simulateChunk(fleet, o.epoch, plan, c); sim += performance.now() - a;
  a = performance.now(); n += await importInputs(store, { reports: part, entropy: [] }, "bench"); imp += performance.now() - a;
}
await store.close();
console.log({ n, simS: sim / 1000, importS: imp / 1000 });
