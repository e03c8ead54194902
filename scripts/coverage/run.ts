/**
 * Which test file runs where, computed from the import graph, and the runs themselves.
 *
 *   npm run coverage                 the coverage pass alone: the Solidity tests and every mocha file that
 *                                    can reach the in-process EVM, under Hardhat's coverage
 *                                    (HEXMESH_COVERAGE=1 hardhat test --coverage <files>)
 *   npm run test:once                what `npm test` runs: the plain pass and the coverage pass at the same
 *                                    time (two processes, one per core), each one's output buffered to a
 *                                    file and printed whole when it ends; either failing fails the run
 *                                    (HEXMESH_TEST_SEQUENTIAL=1: one after the other, output live)
 *   npm run coverage -- --list       print the coverage pass's files (EVM first), one per line
 *   npm run coverage -- --plan       print every test file, the pass(es) it runs in and why
 *
 * The rule, per mocha file (test/**\/*.test.ts):
 *   - it imports `hardhat` or a `@nomicfoundation/hardhat-*` plugin, itself or through its relative imports
 *     (test helpers, scripts, deploy modules): COVERAGE pass. Only code executed on Hardhat's in-process
 *     network is instrumented, and the gate measures contracts, so these are the files that make the
 *     figures; running them plain as well would repeat every test for nothing.
 *   - it does not: PLAIN pass only (the packages' own tests, the simulator, the services against their
 *     stores): under coverage it would add time and nothing to the figures.
 *   - it reaches the EVM AND its own source reads the coverage flag (`coverageRun` from
 *     test/helpers/gas.ts, or `hre.globalOptions.coverage`): BOTH passes. That flag is how a test says an
 *     assertion does not hold on instrumented bytecode (gas budgets, bytecode size, bytecode inspection,
 *     child processes that cannot be instrumented) and skips or relaxes it there; the plain pass executes
 *     those assertions on the real bytecode, the coverage pass still measures the rest of the file.
 *     A helper that reads the flag only to adapt the chain (registryFixture lifts the size limit that
 *     instrumentation breaks) relaxes no assertion and does not mark the files importing it; a helper
 *     that skipped or relaxed an assertion would have to be read in the test file to count, so keep such
 *     decisions in the test files (where this rule sees them).
 * Every Solidity test (test/solidity/**\/*.t.sol) runs in BOTH passes: plain with the full fuzz profile
 * (`quick`: 512 fuzz runs, 1,000 invariant runs of depth 50, on real bytecode), and under coverage with the
 * smaller `coverage` profile (hardhat.config.ts), enough to reach every line and branch they reach.
 *
 * The two passes share no fixed resource, so they run at the same time: the coverage pass builds into
 * coverage/artifacts and coverage/cache (hardhat.config.ts), every server a test starts listens on a port
 * the kernel picks (freePort or port 0), the PostgreSQL tests each make their own schema (pid + time),
 * deployment records and temporary folders carry the pid, and the one test with fixed ports and a fixed
 * folder (test/operate/walkthrough.test.ts: 8180/8181, 1680/1681, walkthrough/) runs plain only.
 *
 * The import graph comes from TypeScript's own pre-processor, so what counts as an import is what the
 * compiler sees (static imports, re-exports and `import()` with a literal).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import ts from "typescript";

const ROOT = process.cwd();
const TEST_DIR = path.join(ROOT, "test");
/** Imports that reach the in-process network. */
const EVM_MODULES = /^(hardhat|@nomicfoundation\/hardhat-[\w-]+)(\/|$)/;
/** A test file reading the coverage flag (test/helpers/gas.ts's `coverageRun`, or Hardhat's own option). */
const COVERAGE_FLAG = /\bcoverageRun\b|\bglobalOptions\.coverage\b/;

function walk(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full, suffix));
    else if (name.endsWith(suffix)) out.push(full);
  }
  return out;
}

/** A relative import's source file (ESM specifiers name the emitted .js; the source is .ts). */
function resolveRelative(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, path.join(base, "index.ts")];
  return candidates.find((c) => c.endsWith(".ts") && existsSync(c) && statSync(c).isFile()) ?? null;
}

/** For each file that reaches the EVM, the import chain that does (file → … → the hardhat module). */
const reaches = new Map<string, string[] | null>();

/** The import chain by which `file` reaches the in-process network, or null when it does not. */
function evmChain(file: string, visiting = new Set<string>()): string[] | null {
  const known = reaches.get(file);
  if (known !== undefined) return known;
  if (visiting.has(file)) return null; // a cycle: decided by the rest of the graph
  visiting.add(file);
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  let chain: string[] | null = null;
  for (const { fileName } of importedFiles) {
    if (EVM_MODULES.test(fileName)) {
      chain = [path.relative(ROOT, file), fileName];
      break;
    }
    if (!fileName.startsWith(".")) continue;
    const target = resolveRelative(file, fileName);
    const rest = target === null ? null : evmChain(target, visiting);
    if (rest !== null) {
      chain = [path.relative(ROOT, file), ...rest];
      break;
    }
  }
  reaches.set(file, chain);
  return chain;
}

interface Placement {
  file: string;
  plain: boolean;
  coverage: boolean;
  why: string;
}

function place(file: string): Placement {
  const rel = path.relative(ROOT, file);
  if (rel.endsWith(".t.sol")) {
    return {
      file: rel,
      plain: true,
      coverage: true,
      why: "Solidity test: full fuzz profile plain, the smaller `coverage` profile under coverage",
    };
  }
  const chain = evmChain(file);
  if (chain === null) {
    return { file: rel, plain: true, coverage: false, why: "imports no hardhat module" };
  }
  const via = chain.length > 2 ? `via ${chain.slice(1, -1).join(" → ")} ` : "";
  const reach = `reaches ${chain.at(-1)} ${via}`.trim();
  const lines = readFileSync(file, "utf8").split("\n");
  const flagLine = lines.findIndex(
    (line) => COVERAGE_FLAG.test(line) && !/^\s*(\/\/|\*|import\b)/.test(line),
  );
  if (flagLine !== -1) {
    return {
      file: rel,
      plain: true,
      coverage: true,
      why: `${reach}; reads the coverage flag (line ${flagLine + 1}): assertions skipped under coverage run plain`,
    };
  }
  return { file: rel, plain: false, coverage: true, why: reach };
}

const placements = [...walk(path.join(TEST_DIR, "solidity"), ".t.sol"), ...walk(TEST_DIR, ".test.ts")].map(
  place,
);
const plainFiles = placements.filter((p) => p.plain).map((p) => p.file);
const coverageFiles = placements.filter((p) => p.coverage).map((p) => p.file);

/** "N files (S Solidity, M mocha)" */
function describeFiles(files: readonly string[]): string {
  const solidity = files.filter((f) => f.endsWith(".t.sol")).length;
  return `${files.length} files (${solidity} Solidity, ${files.length - solidity} mocha)`;
}

function printPlan(): void {
  for (const p of placements) {
    const where = p.plain && p.coverage ? "plain+coverage" : p.plain ? "plain" : "coverage";
    console.log(`${where.padEnd(14)} ${p.file}  (${p.why})`);
  }
  const both = placements.filter((p) => p.plain && p.coverage).length;
  console.log(
    `plain pass: ${describeFiles(plainFiles)}; coverage pass: ${describeFiles(coverageFiles)}; ` +
      `${both} files run in both`,
  );
}

interface Pass {
  readonly name: "plain" | "coverage";
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
}

const plainPass: Pass = { name: "plain", args: ["test", ...plainFiles], env: process.env };
const coveragePass: Pass = {
  name: "coverage",
  args: ["test", "--coverage", ...coverageFiles],
  env: { ...process.env, HEXMESH_COVERAGE: "1" },
};

const children = new Set<ReturnType<typeof spawn>>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(130);
  });
}

/** Runs a pass, its output to this terminal (`log` unset) or to the file `log`; resolves to its exit code. */
function run(pass: Pass, log?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = log === undefined ? "inherit" : openSync(log, "w");
    const child = spawn("hardhat", pass.args, { stdio: ["ignore", out, out], env: pass.env });
    children.add(child);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

const seconds = (since: number) => Math.round((Date.now() - since) / 1000);

/** Both passes at once, each buffered to a file and printed whole when it ends. */
async function runConcurrently(passes: readonly Pass[]): Promise<boolean> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hexmesh-test-passes-"));
  const started = Date.now();
  const state = new Map<string, string>(passes.map((p) => [p.name, "running"]));
  for (const pass of passes) {
    console.log(`== ${pass.name} pass started, output buffered to ${path.join(dir, `${pass.name}.log`)}`);
  }
  // A line every two minutes, so that a long silent run shows it is alive (and how far each pass is).
  const heartbeat = setInterval(() => {
    const lines = passes.map((p) => {
      const file = path.join(dir, `${p.name}.log`);
      const n = existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0;
      return `${p.name}: ${state.get(p.name)} (${n} lines)`;
    });
    console.log(`   ${seconds(started)} s: ${lines.join("; ")}`);
  }, 120_000);
  const results = await Promise.all(
    passes.map(async (pass) => {
      const log = path.join(dir, `${pass.name}.log`);
      const code = await run(pass, log);
      const took = seconds(started);
      state.set(pass.name, `exit ${code} after ${took} s`);
      console.log(`\n== ${pass.name} pass: exit ${code} after ${took} s; its output:\n`);
      process.stdout.write(readFileSync(log, "utf8"));
      console.log(`== end of the ${pass.name} pass's output`);
      return { pass, code, took };
    }),
  );
  clearInterval(heartbeat);
  console.log(
    `\n== both passes done in ${seconds(started)} s: ` +
      results.map((r) => `${r.pass.name} exit ${r.code} (${r.took} s)`).join(", "),
  );
  const failed = results.filter((r) => r.code !== 0);
  for (const r of failed) console.error(`${r.pass.name} pass failed (exit ${r.code}): its output is above`);
  return failed.length === 0;
}

async function runSequentially(passes: readonly Pass[]): Promise<boolean> {
  let ok = true;
  for (const pass of passes) {
    console.log(`== ${pass.name} pass`);
    const code = await run(pass);
    if (code !== 0) {
      console.error(`${pass.name} pass failed (exit ${code})`);
      ok = false;
    }
  }
  return ok;
}

try {
  if (process.argv.includes("--list")) {
    console.log(coverageFiles.join("\n"));
  } else if (process.argv.includes("--plan")) {
    printPlan();
  } else if (process.argv.includes("--with-plain")) {
    printPlan();
    const passes = [plainPass, coveragePass];
    const ok =
      process.env.HEXMESH_TEST_SEQUENTIAL === "1"
        ? await runSequentially(passes)
        : await runConcurrently(passes);
    if (!ok) process.exit(1);
  } else {
    console.log(
      `coverage: ${describeFiles(coverageFiles)} (Solidity tests and mocha files that reach the EVM); ` +
        "`npm run coverage -- --plan` says why",
    );
    if ((await run(coveragePass)) !== 0) process.exit(1);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
