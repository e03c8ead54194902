/** Runs the static checks over a set of Solidity files and applies suppressions. */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

import { Analyzer, functionInfo, isFunctionLike } from "./model.js";
import {
  checkCallBeforeWrite,
  checkMissingEvent,
  checkUnboundedLoops,
  RULES,
  type Finding,
} from "./rules.js";
import { descendants, loadProgram } from "./solidity.js";
import { Suppressions, type Suppression, type SuppressionProblem } from "./suppress.js";

/** Rule ids of the SMTChecker run (scripts/static/smt.ts); listed here so both tools accept both. */
export const SMT_RULES = ["smt-overflow", "smt-underflow", "smt-div-by-zero", "smt-assert"] as const;
export const ALL_RULES: readonly string[] = [...RULES, ...SMT_RULES];

export interface CheckResult {
  findings: Finding[];
  suppressed: { finding: Finding; suppression: Suppression }[];
  /** Malformed or unused suppressions and parse errors: each fails the run like a finding. */
  problems: SuppressionProblem[];
  files: number;
  functions: number;
  ms: number;
}

/** Every .sol file under `dir`, skipping `exclude` directories; sorted for stable output. */
export function findSolidityFiles(dir: string, exclude: string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries.sort()) {
      const full = path.join(d, name);
      if (exclude.some((x) => path.resolve(x) === path.resolve(full))) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".sol")) out.push(path.resolve(full));
    }
  };
  walk(dir);
  return out;
}

/**
 * Checks `files` (absolute paths). Only code in those files is reported; what they import
 * (OpenZeppelin, other project files) is read to follow internal calls.
 */
export async function runStaticChecks(root: string, files: string[]): Promise<CheckResult> {
  const started = performance.now();
  const result: CheckResult = {
    findings: [],
    suppressed: [],
    problems: [],
    files: files.length,
    functions: 0,
    ms: 0,
  };
  if (files.length === 0) return result;
  const program = await loadProgram(root, files);
  const analyzer = new Analyzer(program);
  const suppressions = new Suppressions(RULES, ALL_RULES);
  const wanted = new Set(files.map((f) => path.resolve(f)));

  for (const imp of program.unresolvedImports) {
    const [file = "", spec = ""] = imp.split(": ");
    result.problems.push({
      file,
      line: 0,
      message: `import "${spec}" resolves to no file: calls through it cannot be followed`,
    });
  }

  const raw: Finding[] = [];
  for (const file of program.files) {
    if (!wanted.has(file.id)) continue;
    for (const err of file.parseErrors) {
      result.problems.push({
        file: file.display,
        line: Number(err.split(":")[0]),
        message: `parse error ${err}`,
      });
    }
    suppressions.addFile(file.display, file.source);
    for (const node of descendants(file.root)) {
      if (!isFunctionLike(node)) continue;
      const fn = functionInfo(node);
      if (fn.containerKind === "interface") continue;
      result.functions++;
      raw.push(
        ...checkCallBeforeWrite(analyzer, fn),
        ...checkUnboundedLoops(analyzer, fn),
        ...checkMissingEvent(analyzer, fn),
      );
    }
  }

  raw.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
  for (const finding of raw) {
    const suppression = suppressions.match(finding);
    if (suppression) result.suppressed.push({ finding, suppression });
    else result.findings.push(finding);
  }
  result.problems.push(...suppressions.problems);
  for (const s of suppressions.unused()) {
    result.problems.push({
      file: s.file,
      line: s.line,
      message: `unused suppression of ${s.rule} (no finding on the next line)`,
    });
  }
  result.ms = performance.now() - started;
  return result;
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line} [${f.rule}] ${f.function}: ${f.message}`;
}
