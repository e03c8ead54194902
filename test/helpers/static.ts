/** Shared helpers of the static-analysis tests (no top-level side effects). */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURES = path.join(ROOT, "scripts", "static", "fixtures");

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

export function display(file: string): string {
  return path.relative(ROOT, file).split(path.sep).join("/");
}

/**
 * The findings a fixture declares: each `// expect-finding: <rule>` comment names a finding on the
 * next line that is not a comment. Returned as "rule@line", sorted.
 */
export function expectedFindings(file: string): string[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: string[] = [];
  lines.forEach((text, i) => {
    const m = /^\s*\/\/ expect-finding: ([a-z-]+)\s*$/.exec(text);
    if (!m) return;
    let j = i + 1;
    while (j < lines.length && /^\s*\/\//.test(lines[j]!)) j++;
    out.push(`${m[1]}@${j + 1}`);
  });
  return out.sort();
}

/** 1-based line of the first line containing `needle`. */
export function lineOf(file: string, needle: string): number {
  const i = readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`"${needle}" not found in ${file}`);
  return i + 1;
}

/** Runs a repository script the way its npm script does (`hardhat run --no-compile`). */
export function runHardhatScript(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const hardhat = path.join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [hardhat, "run", "--no-compile", script],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
