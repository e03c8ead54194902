/**
 * solc's SMTChecker (CHC, z3 inside soljson) over the math libraries in contracts/libraries/:
 * targets underflow, overflow, divByZero and assert, with `unchecked` arithmetic checked too.
 * Exits 1 on a counterexample (a reachable violation) that no `// static-check-ignore: smt-<target>`
 * justifies, or when solc fails; "unproved" and "timeout" results are printed and do not fail.
 *
 *   npm run lint:smt      (hardhat run --no-compile scripts/static/smt.ts)
 *
 * SMT_TIMEOUT_SECONDS (default 120) limits each library function; SMT_CHECK_FILES (space-separated
 * paths) replaces the default file set, e.g. to try a fixture.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

import { findSolidityFiles } from "./lib/checker.js";
import { runSmt, type SmtCheck } from "./lib/smt.js";

// The repository root, wherever the command is started from.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const files = process.env.SMT_CHECK_FILES
  ? process.env.SMT_CHECK_FILES.split(/\s+/)
      .filter(Boolean)
      .map((f) => path.resolve(root, f))
  : findSolidityFiles(path.join(root, "contracts", "libraries"));
const timeoutSeconds = Number(process.env.SMT_TIMEOUT_SECONDS ?? 120);
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
  throw new Error("SMT_TIMEOUT_SECONDS must be a positive number");

if (files.length === 0) {
  console.log("smt: no Solidity files under contracts/libraries/: nothing to check");
  process.exit(0);
}

const report = await runSmt({ root, files, timeoutMs: timeoutSeconds * 1000 });
const where = (c: SmtCheck): string => (c.line > 0 ? `${c.file}:${c.line}` : c.file || "(harness)");
const targetFiles = new Set(files.map((f) => path.relative(root, f).split(path.sep).join("/")));

console.log(
  `smt: ${files.length} file(s), ${report.libraries} librar(ies), ${report.jobs.length} function run(s); ` +
    `CHC engine with z3, ${timeoutSeconds} s limit per function`,
);
const counts = { safe: 0, violation: 0, unknown: 0, unsupported: 0 };
for (const job of report.jobs) {
  const secs = (job.ms / 1000).toFixed(1);
  if (job.status === "timeout") {
    counts.unknown++;
    console.log(`  ${job.name}: TIMEOUT after ${secs} s (unknown, not a failure)`);
    continue;
  }
  if (job.status === "error") {
    console.log(`  ${job.name}: ERROR ${job.error ?? ""}`);
    continue;
  }
  console.log(`  ${job.name}: ${secs} s`);
  const unsupportedElsewhere = job.checks.filter(
    (c) => c.status === "unsupported" && !targetFiles.has(c.file),
  );
  for (const c of job.checks) {
    if (c.status === "safe") {
      counts.safe++;
      console.log(`    verified   ${c.target ?? "?"} at ${where(c)}`);
    } else if (c.status === "unproved") {
      counts.unknown++;
      console.log(`    UNKNOWN    ${c.target ?? "?"} at ${where(c)}: ${c.message}`);
    } else if (c.status === "violation") {
      counts.violation++;
      console.log(
        `    VIOLATION  ${c.target ?? "?"} at ${where(c)}\n      ${c.message.split("\n").join("\n      ")}`,
      );
    } else if (targetFiles.has(c.file)) {
      counts.unsupported++;
      console.log(`    note       ${where(c)}: ${c.message}`);
    }
  }
  if (unsupportedElsewhere.length > 0) {
    counts.unsupported += unsupportedElsewhere.length;
    console.log(
      `    note       ${unsupportedElsewhere.length} unsupported-feature note(s) in imported files`,
    );
  }
}
for (const s of report.skipped) console.log(`  skipped ${s.name}: ${s.reason}`);
for (const { check, suppression } of report.suppressed) {
  console.log(
    `  suppressed ${check.target ?? "?"} at ${where(check)} (${check.job})\n    reason: ${suppression.reason}`,
  );
}
for (const s of report.unusedSuppressions) {
  console.log(`  note: suppression of ${s.rule} at ${s.file}:${s.line} matched nothing this run`);
}
for (const f of report.findings) console.log(`  FINDING ${f.target ?? "?"} at ${where(f)} (${f.job})`);
for (const p of report.problems) console.log(`  ERROR ${p.file}${p.line ? `:${p.line}` : ""} ${p.message}`);
console.log(
  `smt: ${counts.safe} verified, ${counts.violation} violation(s) of which ${report.suppressed.length} suppressed, ` +
    `${counts.unknown} unknown (unproved or timeout), ${report.findings.length + report.problems.length} failure(s) ` +
    `in ${(report.ms / 1000).toFixed(1)} s`,
);
if (report.findings.length + report.problems.length > 0) process.exitCode = 1;
