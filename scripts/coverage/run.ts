/**
 * `npm run coverage`: the Solidity tests and every mocha test file that can reach the in-process EVM,
 * under Hardhat's coverage (HEXMESH_COVERAGE=1 hardhat test --coverage <files>).
 *
 * Coverage is measured on contracts only (check.ts), and only code running on Hardhat's in-process
 * network is instrumented. A mocha file that never imports `hardhat` (directly or through the test
 * helpers, scripts and deploy modules it imports) cannot execute a contract there: the TypeScript
 * packages' own tests, the simulator, the off-chain services against their stores. Running those a
 * second time under coverage adds time to `npm test` and nothing to the figures; `hardhat test`
 * runs them once. The import graph comes from TypeScript's own pre-processor, so what counts as an
 * import is what the compiler sees (static imports, re-exports and `import()` with a literal).
 *
 *   npm run coverage                 run it
 *   npm run coverage -- --list       print the files it would run (EVM first), one per line
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import ts from "typescript";

const ROOT = process.cwd();
const TEST_DIR = path.join(ROOT, "test");
/** Imports that reach the in-process network. */
const EVM_MODULES = /^(hardhat|@nomicfoundation\/hardhat-[\w-]+)(\/|$)/;

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

const reaches = new Map<string, boolean>();

/** Whether `file` imports the in-process network, itself or through its relative imports. */
function reachesEvm(file: string, visiting = new Set<string>()): boolean {
  const known = reaches.get(file);
  if (known !== undefined) return known;
  if (visiting.has(file)) return false; // a cycle: decided by the rest of the graph
  visiting.add(file);
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const result = importedFiles.some(({ fileName }) => {
    if (EVM_MODULES.test(fileName)) return true;
    if (!fileName.startsWith(".")) return false;
    const target = resolveRelative(file, fileName);
    return target !== null && reachesEvm(target, visiting);
  });
  reaches.set(file, result);
  return result;
}

const solidity = walk(path.join(TEST_DIR, "solidity"), ".t.sol");
const mocha = walk(TEST_DIR, ".test.ts").filter((f) => reachesEvm(f));
const files = [...solidity, ...mocha].map((f) => path.relative(ROOT, f));

if (process.argv.includes("--list")) {
  console.log(files.join("\n"));
} else {
  const skipped = walk(TEST_DIR, ".test.ts").length - mocha.length;
  console.log(
    `coverage: ${solidity.length} Solidity test files and ${mocha.length} mocha files that reach the EVM ` +
      `(${skipped} that cannot are run once, by \`hardhat test\`)`,
  );
  const child = spawn("hardhat", ["test", "--coverage", ...files], {
    stdio: "inherit",
    env: { ...process.env, HEXMESH_COVERAGE: "1" },
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal !== null ? 1 : 0)));
}
