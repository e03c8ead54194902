/**
 * Reproduces the statement instrumentation Hardhat's built-in coverage applies to a project file, so the
 * checker learns which source range each coverage tag stands for.
 *
 * Hardhat keeps that map (tag -> range) in memory only; what it leaves on disk is
 * `coverage/data/<runner>/*.json`: tag -> number of executions that hit it. The tags are a deterministic
 * function of (source text, source name, language version) — EDR's `addStatementCoverageInstrumentation`
 * is the very function Hardhat calls — so calling it again here with the same inputs gives the same
 * tags. `unknownHitTags` in check.ts turns any mismatch (a hit tag we cannot place) into a failure.
 */
import { addStatementCoverageInstrumentation, latestSupportedSolidityVersion } from "@nomicfoundation/edr";

/** One instrumented statement: EDR's tag (hex, as Hardhat writes it) and its UTF-16 range (with trivia). */
export interface InstrumentedStatement {
  tag: string;
  start: number;
  end: number;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The statements EDR instruments in `source`, tagged exactly as in a `hardhat test --coverage` run.
 * `sourceName` is Hardhat's source name for a project file: `project/<path from the root>`.
 */
export function instrumentStatements(
  source: string,
  sourceName: string,
  solcVersion: string,
): InstrumentedStatement[] {
  // Same rule as hardhat/internal/builtin-plugins/coverage/instrumentation.js: never above EDR's newest.
  const latest = latestSupportedSolidityVersion();
  const version = compareVersions(solcVersion, latest) <= 0 ? solcVersion : latest;
  const { metadata } = addStatementCoverageInstrumentation(source, sourceName, version);
  const out: InstrumentedStatement[] = [];
  for (const m of metadata) {
    // Hardhat also ignores any other kind (EDR emits only "statement" today).
    if (m.kind !== "statement") continue;
    out.push({ tag: Buffer.from(m.tag).toString("hex"), start: m.startUtf16, end: m.endUtf16 });
  }
  return out;
}
