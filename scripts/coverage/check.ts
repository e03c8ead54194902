/**
 * Coverage gate: reads what `hardhat test --coverage` left in coverage/ and fails below the thresholds.
 *
 *   npm run coverage:check     (runs `npm run coverage` first, then this script)
 *
 * Scope: every .sol under contracts/ except contracts/mocks/ (test doubles, not protocol code).
 * Interfaces have no statements and so no lines. Line and branch rules: scripts/coverage/lib/branches.ts
 * and scripts/coverage/README.md. Writes coverage/summary.json.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { LANGUAGE_VERSION, loadProgram } from "../static/lib/solidity.js";
import { analyseFile, type FileCoverage } from "./lib/branches.js";
import { instrumentStatements, type InstrumentedStatement } from "./lib/instrumentation.js";

const ROOT = process.cwd();
const COVERAGE_DIR = path.join(ROOT, "coverage");
const MIN_LINES = 95;
const MIN_BRANCHES = 90;
const EXCLUDED = ["contracts/mocks/"];

async function solFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await solFiles(full)));
    else if (entry.name.endsWith(".sol")) out.push(full);
  }
  return out.sort();
}

/** Sums coverage/data/<runner>/<worker>.json (tag -> executions) over every runner and worker. */
async function readHits(): Promise<Map<string, number>> {
  const dataDir = path.join(COVERAGE_DIR, "data");
  if (!existsSync(dataDir)) throw new Error("no coverage/data: run `npm run coverage` first");
  const hits = new Map<string, number>();
  let files = 0;
  for (const runner of await readdir(dataDir)) {
    for (const name of await readdir(path.join(dataDir, runner))) {
      if (!name.endsWith(".json")) continue;
      files++;
      const data = JSON.parse(await readFile(path.join(dataDir, runner, name), "utf8")) as Record<
        string,
        number
      >;
      for (const [tag, n] of Object.entries(data)) hits.set(tag, (hits.get(tag) ?? 0) + n);
    }
  }
  if (files === 0) throw new Error("coverage/data holds no hit files: run `npm run coverage` first");
  return hits;
}

/** Hardhat's own line figure for the same files, from its lcov.info (printed for comparison only). */
async function hardhatLineFigure(gated: Set<string>): Promise<{ hit: number; found: number } | undefined> {
  const lcovPath = path.join(COVERAGE_DIR, "lcov.info");
  if (!existsSync(lcovPath)) return undefined;
  let hit = 0;
  let found = 0;
  let current: string | undefined;
  for (const line of (await readFile(lcovPath, "utf8")).split("\n")) {
    if (line.startsWith("SF:")) current = line.slice(3).split(path.sep).join("/");
    else if (current && gated.has(current) && line.startsWith("LH:")) hit += Number(line.slice(3));
    else if (current && gated.has(current) && line.startsWith("LF:")) found += Number(line.slice(3));
  }
  return { hit, found };
}

const pct = (hit: number, total: number): number => (total === 0 ? 100 : (hit * 100) / total);
const fmt = (hit: number, total: number): string => `${pct(hit, total).toFixed(2)}% (${hit}/${total})`;

/** Collapses sorted line numbers into "3-5, 9". */
function ranges(lines: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    parts.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

async function main(): Promise<void> {
  const hits = await readHits();
  const all = (await solFiles(path.join(ROOT, "contracts"))).map((f) =>
    path.relative(ROOT, f).split(path.sep).join("/"),
  );
  const gated = all.filter((f) => !EXCLUDED.some((prefix) => f.startsWith(prefix)));

  // Re-derive every project file's tags (mocks too) and require each hit tag to be one of them: a hit we
  // cannot place means the re-instrumentation differs from the run's, and no figure could be trusted.
  const instrumented = new Map<string, InstrumentedStatement[]>();
  const known = new Set<string>();
  for (const rel of all) {
    const statements = instrumentStatements(
      await readFile(path.join(ROOT, rel), "utf8"),
      `project/${rel}`,
      LANGUAGE_VERSION,
    );
    instrumented.set(rel, statements);
    for (const s of statements) known.add(s.tag);
  }
  const unknown = [...hits.keys()].filter((tag) => !known.has(tag));
  if (unknown.length > 0) {
    throw new Error(
      `${unknown.length} hit tag(s) in coverage/data match no statement of contracts/ (stale data, or a source ` +
        `changed since the run): rerun \`npm run coverage\``,
    );
  }

  const program = await loadProgram(
    ROOT,
    gated.map((f) => path.join(ROOT, f)),
  );
  const results = new Map<string, FileCoverage>();
  for (const rel of gated) {
    const file = program.files.find((f) => f.display === rel);
    if (!file) throw new Error(`${rel}: not in the parsed program`);
    if (file.parseErrors.length > 0) throw new Error(`${rel}: parse errors: ${file.parseErrors.join("; ")}`);
    results.set(rel, analyseFile(file, instrumented.get(rel) ?? [], hits, program.definition));
  }

  let linesHit = 0;
  let linesTotal = 0;
  let branchesHit = 0;
  let branchesTotal = 0;
  const rows: string[][] = [["File", "Lines", "Branches", "Uncovered lines"]];
  const missedBranches: string[] = [];
  const unmeasured: string[] = [];
  const perFile: Record<string, unknown> = {};
  for (const [rel, r] of results) {
    if (r.lines.length === 0 && r.branches.length === 0) continue; // interfaces: nothing executable
    const lHit = r.lines.length - r.uncoveredLines.length;
    const bHit = r.branches.filter((b) => b.covered).length;
    linesHit += lHit;
    linesTotal += r.lines.length;
    branchesHit += bHit;
    branchesTotal += r.branches.length;
    rows.push([
      rel,
      fmt(lHit, r.lines.length),
      fmt(bHit, r.branches.length),
      ranges(r.uncoveredLines) || "-",
    ]);
    for (const b of r.branches.filter((x) => !x.covered))
      missedBranches.push(`${rel}:${b.line} ${b.arm}-arm (${b.how})`);
    for (const u of r.unmeasured) unmeasured.push(`${rel}:${u.line} ${u.kind}`);
    perFile[rel] = {
      lines: {
        covered: lHit,
        total: r.lines.length,
        pct: pct(lHit, r.lines.length),
        uncovered: r.uncoveredLines,
      },
      branches: {
        covered: bHit,
        total: r.branches.length,
        pct: pct(bHit, r.branches.length),
        uncovered: r.branches
          .filter((b) => !b.covered)
          .map((b) => ({ line: b.line, arm: b.arm, how: b.how })),
      },
      unmeasured: r.unmeasured,
    };
  }
  rows.push(["Total", fmt(linesHit, linesTotal), fmt(branchesHit, branchesTotal), ""]);

  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log("\nCoverage gate (contracts/, excluding contracts/mocks/)\n");
  for (const row of rows)
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    );
  if (missedBranches.length > 0)
    console.log(`\nBranch arms not shown taken:\n  ${missedBranches.join("\n  ")}`);
  if (unmeasured.length > 0) {
    console.log(
      `\nNot measured (no statement per outcome; outside the branch figure):\n  ${unmeasured.join("\n  ")}`,
    );
  }
  const hardhat = await hardhatLineFigure(new Set(gated));
  if (hardhat)
    console.log(
      `\nFor comparison, Hardhat's lcov line figure for the same files: ${fmt(hardhat.hit, hardhat.found)}`,
    );

  const linePct = pct(linesHit, linesTotal);
  const branchPct = pct(branchesHit, branchesTotal);
  const failures: string[] = [];
  if (linePct < MIN_LINES) failures.push(`line coverage ${linePct.toFixed(2)}% < ${MIN_LINES}%`);
  if (branchPct < MIN_BRANCHES) failures.push(`branch coverage ${branchPct.toFixed(2)}% < ${MIN_BRANCHES}%`);

  const summary = {
    scope: "contracts/**/*.sol excluding contracts/mocks/",
    thresholds: { lines: MIN_LINES, branches: MIN_BRANCHES },
    total: {
      lines: { covered: linesHit, total: linesTotal, pct: linePct },
      branches: { covered: branchesHit, total: branchesTotal, pct: branchPct },
      hardhatLcovLines: hardhat ?? null,
    },
    files: perFile,
    passed: failures.length === 0,
  };
  await writeFile(path.join(COVERAGE_DIR, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  console.log("\nWrote coverage/summary.json");

  if (failures.length > 0) {
    console.error(`\nCoverage gate FAILED: ${failures.join("; ")}`);
    process.exitCode = 1;
  } else {
    console.log(
      `\nCoverage gate passed: lines ${linePct.toFixed(2)}% >= ${MIN_LINES}%, branches ${branchPct.toFixed(2)}% >= ${MIN_BRANCHES}%`,
    );
  }
}

try {
  await main();
} catch (e) {
  console.error(`Coverage gate error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
