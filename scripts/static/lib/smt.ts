/**
 * solc's SMTChecker (CHC engine, z3 inside soljson) over the project's math libraries.
 *
 * Library functions are usually `internal`, and the model checker only explores public entry
 * points, so each internal function gets a one-function harness contract that calls it with
 * unconstrained arguments. Arithmetic inside `unchecked` blocks is not checked by the SMTChecker
 * (it assumes wrapping is intended), so the analysed copy has the `unchecked` keywords blanked
 * out (same lines and columns): a reachable overflow there becomes a counterexample. Intentional
 * wrapping is then justified with `// static-check-ignore: smt-overflow <reason>`.
 *
 * Each function is one child process with a wall-clock limit (see smt-worker.ts for why).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { ALL_RULES, SMT_RULES } from "./checker.js";
import { functionInfo } from "./model.js";
import {
  child,
  code,
  descendants,
  loadProgram,
  NK,
  TK,
  variant,
  type SolNode,
  type SourceFile,
} from "./solidity.js";
import { Suppressions, type Suppression, type SuppressionProblem } from "./suppress.js";

export const SMT_TARGETS = ["underflow", "overflow", "divByZero", "assert"] as const;
export type SmtTarget = (typeof SMT_TARGETS)[number];

const RULE_OF: Record<SmtTarget, (typeof SMT_RULES)[number]> = {
  underflow: "smt-underflow",
  overflow: "smt-overflow",
  divByZero: "smt-div-by-zero",
  assert: "smt-assert",
};

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "smt-worker.ts");
const HARNESS_DIR = "__smt__";

export interface SmtOptions {
  root: string;
  /** Library files to analyse (absolute paths). */
  files: string[];
  /** Wall-clock limit per function (one solc run), ms. */
  timeoutMs: number;
  /**
   * Only these functions ("Library.function", or "Library (public functions)"); every one must
   * exist. All functions of `files` when absent.
   */
  functions?: readonly string[];
  concurrency?: number;
}

export interface SmtCheck {
  status: "safe" | "violation" | "unproved" | "unsupported";
  target: SmtTarget | undefined;
  file: string;
  line: number;
  /** The library function whose harness produced it. */
  job: string;
  message: string;
}

export interface SmtJobResult {
  name: string;
  /**
   * done: solc answered. timeout: killed at the limit. crashed: the worker process died during the
   * job (solc-js or z3 inside it gave up; no verdict, reported as unknown). error: solc refused the
   * input (a compile error), a failure.
   */
  status: "done" | "timeout" | "crashed" | "error";
  /** Wall-clock time. */
  ms: number;
  /** CPU time of the solc worker (NaN when it did not answer). */
  cpuMs: number;
  checks: SmtCheck[];
  error?: string;
}

export interface SmtReport {
  libraries: number;
  jobs: SmtJobResult[];
  /** Functions the harness cannot call (storage or function-type parameters). */
  skipped: { name: string; reason: string }[];
  findings: SmtCheck[];
  suppressed: { check: SmtCheck; suppression: Suppression }[];
  problems: SuppressionProblem[];
  /** SMT suppressions that matched nothing this run (a note only: a timed-out query finds nothing). */
  unusedSuppressions: Suppression[];
  ms: number;
}

interface PlannedJob {
  name: string;
  sources: Record<string, string>;
  contracts: Record<string, string[]>;
}

function unitName(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

/** The library source with every `unchecked` keyword blanked out (positions preserved). */
export function withoutUnchecked(file: SourceFile): string {
  const keywords = [...descendants(file.root)].filter(
    (n) => n.terminal && n.kind === TK.UncheckedKeyword && n.parent?.kind === NK.UncheckedBlock,
  );
  let out = file.source;
  for (const k of keywords.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, k.start) + " ".repeat(k.end - k.start) + out.slice(k.end);
  }
  return out;
}

/** A parameter's type as the harness must spell it (library-local types qualified). */
function harnessType(typeNode: SolNode, libName: string, libTypes: Set<string>): string {
  const src = typeNode.file.source;
  let text = "";
  let pos = typeNode.start;
  for (const d of descendants(typeNode)) {
    if (!d.terminal) continue;
    text += src.slice(pos, d.start);
    const qualified = d.kind === TK.Identifier && libTypes.has(d.text) && src[d.start - 1] !== ".";
    text += qualified ? `${libName}.${d.text}` : d.text;
    pos = d.end;
  }
  return text + src.slice(pos, typeNode.end);
}

function planJobs(
  root: string,
  files: SourceFile[],
): { jobs: PlannedJob[]; skipped: SmtReport["skipped"]; libraries: number } {
  const jobs: PlannedJob[] = [];
  const skipped: SmtReport["skipped"] = [];
  let libraries = 0;
  for (const file of files) {
    const unit = unitName(root, file.id);
    for (const lib of descendants(file.root)) {
      if (lib.kind !== NK.LibraryDefinition) continue;
      libraries++;
      const libName = child(lib, "Name")?.text ?? "";
      const members = (child(lib, "Members")?.children ?? [])
        .map((m) => variant(m))
        .filter((m): m is SolNode => !!m);
      const libTypes = new Set(
        members
          .filter(
            (m) =>
              m.kind === NK.StructDefinition ||
              m.kind === NK.EnumDefinition ||
              m.kind === NK.UserDefinedValueTypeDefinition,
          )
          .map((m) => child(m, "Name")?.text ?? ""),
      );
      let hasEntryPoints = false;
      members.forEach((fn, index) => {
        if (fn.kind !== NK.FunctionDefinition) return;
        const info = functionInfo(fn);
        const name = `${libName}.${info.name}`;
        if (!info.body) return;
        if (info.visibility === "private") {
          // A harness cannot call it; it is analysed inside the runs of the functions that call it.
          skipped.push({ name, reason: "private (analysed through its callers in this library)" });
          return;
        }
        if (info.visibility === "public" || info.visibility === "external") {
          hasEntryPoints = true;
          return;
        }
        const decls: string[] = [];
        let reason: string | undefined;
        info.params.forEach((p, i) => {
          const typeNode = child(p.node, "TypeName");
          const location = child(p.node, "StorageLocation");
          if (!typeNode) return;
          if (p.storage) reason = `storage parameter \`${code(p.node)}\``;
          if ([typeNode, ...descendants(typeNode)].some((d) => d.kind === NK.FunctionType)) {
            reason = `function-type parameter \`${code(p.node)}\``;
          }
          const loc = location ? ` ${code(location)}` : "";
          decls.push(`${harnessType(typeNode, libName, libTypes)}${loc} a${i}`);
        });
        if (reason) {
          skipped.push({ name, reason });
          return;
        }
        const mutability =
          info.mutability === "view" || info.mutability === "pure" ? ` ${info.mutability}` : "";
        const args = info.params.map((_, i) => `a${i}`).join(", ");
        const harnessUnit = `${HARNESS_DIR}/${libName}_${info.name}_${index}.sol`;
        const harness = [
          "// SPDX-License-Identifier: UNLICENSED",
          "pragma solidity ^0.8.28;",
          `import "${unit}";`,
          "contract SmtHarness {",
          `    function check(${decls.join(", ")}) external${mutability} {`,
          `        ${libName}.${info.name}(${args});`,
          "    }",
          "}",
          "",
        ].join("\n");
        jobs.push({
          name,
          sources: { [harnessUnit]: harness },
          contracts: { [harnessUnit]: ["SmtHarness"] },
        });
      });
      if (hasEntryPoints) {
        // Public/external library functions are entry points of the library itself.
        jobs.push({ name: `${libName} (public functions)`, sources: {}, contracts: { [unit]: [libName] } });
      }
    }
  }
  return { jobs, skipped, libraries };
}

interface SolcError {
  severity: string;
  type: string;
  message: string;
  formattedMessage?: string;
  sourceLocation?: { file: string; start: number; end: number };
}

function lineOf(text: string | undefined, byteOffset: number): number {
  if (text === undefined || byteOffset < 0) return 0;
  const prefix = Buffer.from(text, "utf8").subarray(0, byteOffset).toString("utf8");
  return prefix.split("\n").length;
}

function targetOf(message: string): SmtTarget | undefined {
  if (/Overflow/.test(message)) return "overflow";
  if (/Underflow/.test(message)) return "underflow";
  if (/Division by zero/.test(message)) return "divByZero";
  if (/Assertion violation/.test(message)) return "assert";
  return undefined;
}

function parseChecks(
  job: string,
  errors: SolcError[],
  sourceOf: (unit: string) => string | undefined,
): SmtCheck[] {
  const checks: SmtCheck[] = [];
  for (const e of errors) {
    const msg = e.message.trim();
    let status: SmtCheck["status"] | undefined;
    if (/^(CHC|BMC): /.test(msg)) {
      if (/check is safe!/.test(msg)) status = "safe";
      else if (/ happens here/.test(msg)) status = "violation";
      else status = "unproved";
    } else if (/SMTChecker|does not yet support|not supported/i.test(msg)) {
      status = "unsupported";
    }
    if (!status) continue;
    const loc = e.sourceLocation;
    const harness = !loc || loc.file.startsWith(`${HARNESS_DIR}/`);
    // For violations keep solc's counterexample and trace (formattedMessage has the snippet too).
    const detail = status === "violation" ? msg.replace(/\n\s*\n/g, "\n") : msg.split("\n")[0]!;
    checks.push({
      status,
      target: targetOf(msg),
      file: harness ? (loc?.file ?? "") : loc.file,
      line: harness || !loc ? 0 : lineOf(sourceOf(loc.file), loc.start),
      job,
      message: detail,
    });
  }
  return checks;
}

export interface WorkerRun {
  status: "done" | "timeout" | "crashed";
  output: string;
  error: string;
  /** Wall-clock time of the job. */
  ms: number;
  /** CPU time the worker spent on the job (user + system; what a busy machine does not inflate). */
  cpuMs: number;
}

/** One child process and what it has said so far; a killed process keeps its own state. */
interface WorkerProcess {
  proc: ChildProcessWithoutNullStreams;
  stderr: string;
  /** Called with each stdout line, and with undefined when the process has exited. */
  deliver: ((line: string | undefined) => void) | undefined;
  exit: string | undefined;
}

/**
 * One long-lived smt-worker.ts process; restarted after a job is killed for taking too long.
 * Each process carries its own listeners: the `close` event of a process killed on a timeout
 * arrives after the next job has started on a new process, and must not end that job (it did,
 * and was reported as "solc worker exited" for every function run after a timeout).
 */
export class SolcWorker {
  private current: WorkerProcess | undefined;
  private nextId = 1;

  /** @param nodeArgs What node runs (smt-worker.ts; tests give a stand-in). */
  constructor(private readonly nodeArgs: readonly string[] = [WORKER]) {}

  private start(): WorkerProcess {
    const proc = spawn(process.execPath, [...this.nodeArgs], { stdio: ["pipe", "pipe", "pipe"] });
    const wp: WorkerProcess = { proc, stderr: "", deliver: undefined, exit: undefined };
    let buffer = "";
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        wp.deliver?.(line);
      }
    });
    proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (wp.stderr += chunk));
    // Writing to a process that has died fails with EPIPE; its `close` below reports the death.
    proc.stdin.on("error", () => {});
    proc.on("close", (code, signal) => {
      wp.exit = signal ? `signal ${signal}` : `exit code ${code}`;
      if (this.current === wp) this.current = undefined;
      wp.deliver?.(undefined);
    });
    this.current = wp;
    return wp;
  }

  run(input: object, root: string, overrides: Record<string, string>, timeoutMs: number): Promise<WorkerRun> {
    const wp = this.current ?? this.start();
    const id = this.nextId++;
    const started = performance.now();
    return new Promise((resolve) => {
      const finish = (run: Omit<WorkerRun, "ms">): void => {
        clearTimeout(timer);
        wp.deliver = undefined;
        resolve({ ...run, ms: performance.now() - started });
      };
      const timer = setTimeout(() => {
        if (this.current === wp) this.current = undefined;
        wp.deliver = undefined;
        wp.proc.kill("SIGKILL");
        finish({ status: "timeout", output: "", error: "", cpuMs: Number.NaN });
      }, timeoutMs);
      wp.deliver = (line) => {
        if (line === undefined) {
          // The worker died on this job: solc-js or z3 inside it gave up (not a verdict on the code).
          const why = wp.stderr.trim().split("\n").slice(-3).join(" | ");
          finish({
            status: "crashed",
            output: "",
            error: `solc worker exited (${wp.exit ?? "?"})${why ? `: ${why}` : ""}`,
            cpuMs: Number.NaN,
          });
          return;
        }
        const msg = JSON.parse(line) as { id: number; output: string; cpuMs: number };
        if (msg.id === id) finish({ status: "done", output: msg.output, error: "", cpuMs: msg.cpuMs });
      };
      wp.proc.stdin.write(`${JSON.stringify({ id, input: JSON.stringify(input), root, overrides })}\n`);
    });
  }

  close(): void {
    this.current?.proc.stdin.end();
  }
}

export async function runSmt(opts: SmtOptions): Promise<SmtReport> {
  const started = performance.now();
  const report: SmtReport = {
    libraries: 0,
    jobs: [],
    skipped: [],
    findings: [],
    suppressed: [],
    problems: [],
    unusedSuppressions: [],
    ms: 0,
  };
  if (opts.files.length === 0) return report;

  const program = await loadProgram(opts.root, opts.files);
  const wanted = new Set(opts.files.map((f) => path.resolve(f)));
  const targets = program.files.filter((f) => wanted.has(f.id));
  const overrides: Record<string, string> = {};
  const suppressions = new Suppressions(SMT_RULES, ALL_RULES);
  for (const f of targets) {
    overrides[unitName(opts.root, f.id)] = withoutUnchecked(f);
    suppressions.addFile(unitName(opts.root, f.id), f.source);
    for (const err of f.parseErrors) {
      report.problems.push({
        file: unitName(opts.root, f.id),
        line: Number(err.split(":")[0]),
        message: `parse error ${err}`,
      });
    }
  }
  const plan = planJobs(opts.root, targets);
  if (opts.functions) {
    const wantedNames = new Set(opts.functions);
    const planned = new Set([...plan.jobs.map((j) => j.name), ...plan.skipped.map((s) => s.name)]);
    for (const name of wantedNames) {
      // A renamed or removed function must not silently leave the selected set.
      if (!planned.has(name))
        report.problems.push({ file: name, line: 0, message: "selected function not found" });
    }
    plan.jobs = plan.jobs.filter((j) => wantedNames.has(j.name));
    plan.skipped = plan.skipped.filter((s) => wantedNames.has(s.name));
  }
  report.libraries = plan.libraries;

  report.skipped = plan.skipped;

  const sourceOf = (unit: string): string | undefined => {
    if (overrides[unit] !== undefined) return overrides[unit];
    try {
      return readFileSync(path.join(opts.root, unit), "utf8");
    } catch {
      return undefined;
    }
  };

  const slots = Math.max(1, Math.min(opts.concurrency ?? availableParallelism(), plan.jobs.length));
  const workers = Array.from({ length: slots }, () => new SolcWorker());
  let next = 0;
  const results: SmtJobResult[] = new Array<SmtJobResult>(plan.jobs.length);
  const runJob = async (worker: SolcWorker, job: PlannedJob): Promise<SmtJobResult> => {
    const input = {
      language: "Solidity",
      sources: Object.fromEntries(Object.entries(job.sources).map(([k, v]) => [k, { content: v }])),
      settings: {
        evmVersion: "cancun",
        outputSelection: { "*": { "": [] } },
        modelChecker: {
          engine: "chc",
          solvers: ["z3"],
          targets: [...SMT_TARGETS],
          contracts: job.contracts,
          showProvedSafe: true,
          showUnproved: true,
          showUnsupported: true,
        },
      },
    };
    // Sources given by name only are read through the import callback (with overrides applied).
    for (const unit of Object.keys(job.contracts)) {
      if (!(unit in input.sources))
        (input.sources as Record<string, { content: string }>)[unit] = { content: sourceOf(unit) ?? "" };
    }
    const run = await worker.run(input, opts.root, overrides, opts.timeoutMs);
    const result: SmtJobResult = {
      name: job.name,
      status: run.status,
      ms: run.ms,
      cpuMs: run.cpuMs,
      checks: [],
    };
    if (run.status !== "done") {
      if (run.status === "crashed") result.error = run.error;
      return result;
    }
    let output: { errors?: SolcError[] };
    try {
      output = JSON.parse(run.output) as { errors?: SolcError[] };
    } catch {
      return { ...result, status: "error", error: `unreadable solc output: ${run.output.slice(0, 200)}` };
    }
    const errors = output.errors ?? [];
    const fatal = errors.filter((e) => e.severity === "error");
    if (fatal.length > 0) {
      return {
        ...result,
        status: "error",
        error: fatal.map((e) => e.formattedMessage ?? e.message).join("\n"),
      };
    }
    result.checks = parseChecks(job.name, errors, sourceOf);
    return result;
  };
  await Promise.all(
    workers.map(async (worker) => {
      while (next < plan.jobs.length) {
        const i = next++;
        results[i] = await runJob(worker, plan.jobs[i]!);
      }
      worker.close();
    }),
  );
  report.jobs = results;

  for (const job of report.jobs) {
    if (job.status === "error") {
      report.problems.push({ file: job.name, line: 0, message: `solc failed: ${job.error ?? ""}` });
    }
    for (const check of job.checks) {
      if (check.status !== "violation") continue;
      const rule = check.target ? RULE_OF[check.target] : "smt-assert";
      const suppression = suppressions.match({ rule, file: check.file, line: check.line });
      if (suppression) report.suppressed.push({ check, suppression });
      else report.findings.push(check);
    }
  }
  report.problems.push(...suppressions.problems);
  report.unusedSuppressions = suppressions.unused();
  report.ms = performance.now() - started;
  return report;
}
