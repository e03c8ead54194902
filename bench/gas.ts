/**
 * `npm run bench:gas`: measures receipt gasUsed per operation and writes bench/results/gas.json.
 *
 * Each file in bench/gas/ exports a default `GasBench`: it deploys what it needs on its own
 * in-process chain and returns `{ "area.operation": gasUsed }`. Keys are sorted so that diffs
 * of the committed file are easy to read.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import type { GasBench } from "./gas/types.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.join(here, "gas");
const outFile = path.join(here, "results", "gas.json");

const files = (await readdir(benchDir)).filter((f) => f.endsWith(".ts") && f !== "types.ts").sort();
const results: Record<string, number> = {};
for (const file of files) {
  const mod = (await import(pathToFileURL(path.join(benchDir, file)).href)) as { default: GasBench };
  const measured = await mod.default();
  for (const [key, gas] of Object.entries(measured)) {
    if (key in results) throw new Error(`duplicate gas key ${key} (from ${file})`);
    results[key] = Number(gas);
    console.log(`${key.padEnd(40)} ${Number(gas).toLocaleString("en-US").padStart(12)}`);
  }
}
const sorted = Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(sorted, null, 2) + "\n");
console.log(`wrote ${path.relative(process.cwd(), outFile)}`);
