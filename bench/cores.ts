/**
 * What a second process adds on this machine's cores, for the work that dominates an epoch close:
 * the device signature checks (three quarters of a verification worker's time at 40M reports).
 *
 *   npm run bench:cores
 *
 * For each key type, 1 and then 2 processes check signatures with the oracle's own SignatureChecker
 * (`verify`, as a worker checks a report it has no cached key object for) for CORES_BENCH_SECONDS
 * each (default 20), CORES_BENCH_ROUNDS times (default 3). Every process signs its own 1,000 reports
 * first and starts checking only when all are ready, so the processes overlap for the whole window.
 * Written to bench/results/cores.json: checks a second of each process, their sum, CPU µs a check,
 * and the median sum of 2 over the median of 1: the most 2 verification workers can gain over 1 here
 * before any database or reduction work is counted. Run it on an otherwise idle machine.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { git } from "./builds.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.CORES_BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.CORES_BENCH_ROUNDS ?? 3);
const KINDS = ["secp256k1", "p256"] as const;
type Kind = (typeof KINDS)[number];
const REPORTS = 1_000;

interface ProcessResult {
  readonly checks: number;
  readonly seconds: number;
  readonly checksPerSecond: number;
  readonly cpuSeconds: number;
  readonly cpuMicrosPerCheck: number;
}

if (process.argv[2] === "child") await child(process.argv[3] as Kind);
else await main();

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const runs: { round: number; kind: Kind; processes: number; each: ProcessResult[]; sum: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++)
    for (const kind of KINDS)
      for (const processes of [1, 2]) {
        const each = await together(kind, processes);
        const sum = each.reduce((s, r) => s + r.checksPerSecond, 0);
        runs.push({ round, kind, processes, each, sum });
        console.log(JSON.stringify(runs[runs.length - 1]));
      }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = Object.fromEntries(
    KINDS.map((kind) => {
      const of = (n: number) => runs.filter((r) => r.kind === kind && r.processes === n);
      const one = median(of(1).map((r) => r.sum));
      const two = median(of(2).map((r) => r.sum));
      const cpu = (n: number) => median(of(n).flatMap((r) => r.each.map((e) => e.cpuMicrosPerCheck)));
      return [
        kind,
        {
          checksPerSecondOne: one,
          checksPerSecondTwo: two,
          twoOverOne: Math.round((two / one) * 1000) / 1000,
          cpuMicrosPerCheckOne: cpu(1),
          cpuMicrosPerCheckTwo: cpu(2),
        },
      ];
    }),
  );
  const out = {
    bench: "cores",
    note: "Signature checks (the oracle's SignatureChecker.verify) in 1 and 2 processes at once; medians over the rounds. twoOverOne bounds what 2 verification workers can gain over 1 on this machine.",
    commit: git("rev-parse", "HEAD"),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "",
    loadAverageBefore: loadBefore,
    loadAverageAfter: os.loadavg(),
    secondsPerRun: SECONDS,
    rounds: ROUNDS,
    summary,
    runs,
  };
  const file = path.join(here, "results", "cores.json");
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(summary));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

/** Starts `n` checking processes, lets them go once all have signed their reports, and collects them. */
async function together(kind: Kind, n: number): Promise<ProcessResult[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "child", kind], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout })[Symbol.asyncIterator]());
  const next = async (i: number): Promise<string> => {
    const line = await lines[i]!.next();
    if (line.done === true) throw new Error(`cores child ${i} (${kind}) ended early`);
    return line.value;
  };
  for (let i = 0; i < n; i++) if ((await next(i)) !== "ready") throw new Error("cores child not ready");
  for (const c of children) c.stdin.write("go\n");
  const results = await Promise.all(children.map(async (_, i) => JSON.parse(await next(i)) as ProcessResult));
  // Every child must end cleanly: one that failed its own check exits non-zero.
  await Promise.all(
    children.map(async (c) => {
      const code = c.exitCode ?? ((await once(c, "exit")) as [number | null])[0];
      if (code !== 0) throw new Error(`cores child exited ${code}`);
    }),
  );
  return results;
}

async function child(kind: Kind): Promise<void> {
  const { SignatureChecker } = await import("@hexmesh/oracle/verify/signatures");
  const { p256Signer, secp256k1Signer } = await import("@hexmesh/protocol/node");
  const { toHex } = await import("@hexmesh/protocol");
  const seed = (i: number, tag: string) =>
    new Uint8Array(crypto.createHash("sha256").update(`${tag}${i}`).digest());
  const reports = Array.from({ length: REPORTS }, (_, i) => {
    const signer =
      kind === "secp256k1"
        ? secp256k1Signer(seed(i, "key"))
        : p256Signer(seed(i, "key"), { nonce: "random" });
    const digest = seed(i, "digest");
    return { key: signer.key, digest, signature: toHex(signer.sign(digest)) };
  });
  const checker = new SignatureChecker();
  for (const r of reports)
    if (!checker.verify(r.key, r.digest, r.signature)) throw new Error(`${kind}: a valid signature failed`);

  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let checks = 0;
  let valid = 0;
  while (performance.now() < end)
    for (let k = 0; k < 64; k++, checks++) {
      const r = reports[checks % REPORTS]!;
      if (checker.verify(r.key, r.digest, r.signature)) valid++;
    }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (valid !== checks) throw new Error(`${kind}: ${checks - valid} valid signatures failed`);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const result: ProcessResult = {
    checks,
    seconds: Math.round(seconds * 1000) / 1000,
    checksPerSecond: Math.round(checks / seconds),
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    cpuMicrosPerCheck: Math.round((cpuSeconds / checks) * 1e8) / 100,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdin.destroy();
}
