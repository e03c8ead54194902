/**
 * Child process of scripts/static/smt.ts: runs solc-js compilations (with the SMTChecker) one at
 * a time, one JSON job per stdin line, one JSON result per stdout line. A separate process so that
 * a query z3 cannot finish can be killed: soljson's own `modelChecker.timeout` makes z3 start a
 * timer thread, which the single-threaded WebAssembly build cannot do ("thread constructor
 * failed"), so time limits are enforced by the parent. The process is reused between jobs to pay
 * for loading soljson once.
 *
 * Runs under Node's built-in type stripping (no loader): node imports only, erasable types only.
 * Job: {"id": 1, "input": "<standard JSON>", "root": "<project root>", "overrides": {"<unit>": "<source>"}}
 * Result: {"id": 1, "output": "<solc standard JSON output>", "cpuMs": <CPU time of the job>}
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";

interface Job {
  id: number;
  input: string;
  root: string;
  overrides: Record<string, string>;
}

type ImportResult = { contents: string } | { error: string };

interface SolcJs {
  compile(input: string, callbacks?: { import: (p: string) => ImportResult }): string;
}

const require = createRequire(import.meta.url);
const solc = require("solc") as SolcJs;

function packagePath(root: string, spec: string): string | undefined {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", spec);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function importer(job: Job): (unit: string) => ImportResult {
  return (unit) => {
    const override = job.overrides[unit];
    if (override !== undefined) return { contents: override };
    const local = path.join(job.root, unit);
    const file = existsSync(local) ? local : packagePath(job.root, unit);
    if (!file) return { error: `not found: ${unit}` };
    return { contents: readFileSync(file, "utf8") };
  };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  const job = JSON.parse(line) as Job;
  const cpu = process.cpuUsage();
  const output = solc.compile(job.input, { import: importer(job) });
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  process.stdout.write(`${JSON.stringify({ id: job.id, output, cpuMs })}\n`);
}
