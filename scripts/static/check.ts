/**
 * Custom static checks on the Solidity syntax tree (Slang): external calls before state writes,
 * loops bounded by growable storage, state changes without events. Checks every .sol file under
 * contracts/ except contracts/mocks/; exits 1 on any unsuppressed finding or bad suppression.
 *
 *   npm run lint:static      (hardhat run --no-compile scripts/static/check.ts)
 *
 * Suppress a justified finding with `// static-check-ignore: <rule> <reason>` on the line above it.
 * STATIC_CHECK_FILES (space-separated paths) replaces the default file set, e.g. to try a fixture.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

import { findSolidityFiles, formatFinding, runStaticChecks } from "./lib/checker.js";

// The repository root, wherever the command is started from.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const files = process.env.STATIC_CHECK_FILES
  ? process.env.STATIC_CHECK_FILES.split(/\s+/)
      .filter(Boolean)
      .map((f) => path.resolve(root, f))
  : findSolidityFiles(path.join(root, "contracts"), [path.join(root, "contracts", "mocks")]);
const result = await runStaticChecks(root, files);

console.log(
  `static-check: ${result.files} file(s), ${result.functions} function(s) checked in ${(result.ms / 1000).toFixed(1)} s`,
);
for (const { finding, suppression } of result.suppressed) {
  console.log(`  suppressed ${formatFinding(finding)}\n    reason: ${suppression.reason}`);
}
for (const f of result.findings) console.log(`  FINDING ${formatFinding(f)}`);
for (const p of result.problems)
  console.log(`  ERROR ${p.file}${p.line > 0 ? `:${p.line}` : ""} ${p.message}`);

const failures = result.findings.length + result.problems.length;
console.log(
  `static-check: ${result.findings.length} finding(s), ${result.suppressed.length} suppressed, ${result.problems.length} error(s)`,
);
if (failures > 0) process.exitCode = 1;
