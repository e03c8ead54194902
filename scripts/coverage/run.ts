/**
 * Which test file runs where, computed from the import graph, and the runs themselves.
 *
 *   npm run coverage                 the coverage pass alone: the Solidity tests and every mocha file that
 *                                    can reach the in-process EVM, under Hardhat's coverage
 *                                    (HEXMESH_COVERAGE=1 hardhat test --coverage <files>)
 *   npm run test:once                what `npm test` runs: the plain pass, then the coverage pass, so that
 *                                    each test file runs once (but the files the rule below runs twice)
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
 * Every Solidity test (test/solidity/**\/*.t.sol) runs in the coverage pass only: none can read the flag,
 * and one that asserted gas would fail there.
 *
 * The import graph comes from TypeScript's own pre-processor, so what counts as an import is what the
 * compiler sees (static imports, re-exports and `import()` with a literal).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
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
  if (rel.endsWith(".t.sol")) return { file: rel, plain: false, coverage: true, why: "Solidity test" };
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

function printPlan(): void {
  const both = placements.filter((p) => p.plain && p.coverage);
  for (const p of placements) {
    const where = p.plain && p.coverage ? "plain+coverage" : p.plain ? "plain" : "coverage";
    console.log(`${where.padEnd(14)} ${p.file}  (${p.why})`);
  }
  console.log(
    `plain pass: ${plainFiles.length} mocha files (${both.length} of them also under coverage); ` +
      `coverage pass: ${coverageFiles.length} files (Solidity tests and mocha files that reach the EVM)`,
  );
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("hardhat", args, { stdio: "inherit", env });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`hardhat ${args[0]} exited with ${code ?? signal}`)),
    );
  });
}

const coveragePass = () =>
  run(["test", "--coverage", ...coverageFiles], { ...process.env, HEXMESH_COVERAGE: "1" });

try {
  if (process.argv.includes("--list")) {
    console.log(coverageFiles.join("\n"));
  } else if (process.argv.includes("--plan")) {
    printPlan();
  } else if (process.argv.includes("--with-plain")) {
    printPlan();
    console.log("== plain pass");
    await run(["test", "mocha", ...plainFiles], process.env);
    console.log("== coverage pass");
    await coveragePass();
  } else {
    console.log(
      `coverage: ${coverageFiles.length} files (Solidity tests and mocha files that reach the EVM); ` +
        "`npm run coverage -- --plan` says why",
    );
    await coveragePass();
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
