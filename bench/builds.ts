/**
 * A bench that compares builds (bench/device-memory.ts, bench/spill.ts): its `child` mode runs once
 * per build in a fresh process, this checkout's and optionally another's, and prints one JSON line.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A git command's output less its trailing newline, run in this checkout (the benches record what
 * they measured). Only the end is trimmed: `status --porcelain` starts with a status column.
 */
export function git(...args: string[]): string {
  return spawnSync("git", args, { cwd: here, encoding: "utf8" }).stdout.trimEnd();
}

/**
 * Runs `script child ...args [before]` for the build at `before` (another checkout's package
 * directory), if given, then `script child ...args` for this checkout; each child's last JSON line,
 * with the build it ran.
 */
export function runBuilds(
  script: string,
  args: readonly string[],
  before?: string,
): Record<string, unknown>[] {
  const run = (dir?: string) => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", script, "child", ...args, ...(dir ? [dir] : [])],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 24,
      },
    );
    if (r.status !== 0) throw new Error(`${path.basename(script)} child exited with ${r.status}`);
    const lines = r.stdout.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  };
  const builds: Record<string, unknown>[] = [];
  if (before !== undefined) builds.push({ build: "before", dir: before, ...run(path.resolve(before)) });
  const commit = git("rev-parse", "HEAD");
  // Packages' sources changed since that commit: the figures are of the working tree, not of it.
  // -z: one path a record, unquoted
  const uncommitted = git("status", "--porcelain", "-z", "--untracked-files=no", "--", "../packages")
    .split("\0")
    .filter(Boolean)
    .map((l) => l.slice(3));
  builds.push({ build: "this", commit, ...(uncommitted.length > 0 ? { uncommitted } : {}), ...run() });
  return builds;
}
