import { expect } from "chai";

import { runSmt, SolcWorker, withoutUnchecked, type SmtReport } from "../../scripts/static/lib/smt.js";
import { loadProgram } from "../../scripts/static/lib/solidity.js";
import { display, fixture, lineOf, ROOT, runHardhatScript } from "../helpers/static.js";

const SAFE = fixture("SmtSafeLib.sol");
const OVERFLOW = fixture("SmtOverflowLib.sol");
const SUPPRESSED = fixture("SmtSuppressedLib.sol");

describe("SMTChecker on math libraries (solc-js, CHC + z3)", function () {
  let report: SmtReport;

  before(async function () {
    this.timeout(900_000);
    report = await runSmt({ root: ROOT, files: [SAFE, OVERFLOW, SUPPRESSED], timeoutMs: 300_000 });
  });

  it("runs one harness per internal library function, private ones through their callers", function () {
    expect(report.libraries).to.equal(3);
    expect(report.jobs.map((j) => j.name).sort()).to.deep.equal([
      "SmtOverflowLib.accrue",
      "SmtOverflowLib.double",
      "SmtSafeLib.saturatingAdd",
      "SmtSafeLib.share",
      "SmtSafeLib.subOrZero",
      "SmtSuppressedLib.nextSlot",
    ]);
    for (const job of report.jobs) expect(job.status, `${job.name}: ${job.error ?? ""}`).to.equal("done");
    expect(report.skipped).to.deep.equal([
      { name: "SmtSafeLib._totalBps", reason: "private (analysed through its callers in this library)" },
    ]);
    expect(report.problems).to.deep.equal([]);
  });

  it("proves the safe library's targets, unchecked blocks, struct arguments and private helpers included", function () {
    const checks = report.jobs.filter((j) => j.name.startsWith("SmtSafeLib.")).flatMap((j) => j.checks);
    const decisive = checks.filter((c) => c.status !== "unsupported");
    expect(decisive.every((c) => c.status === "safe")).to.equal(true);
    const proved = decisive.map((c) => `${c.target}@${c.line}`).sort();
    expect(proved).to.deep.equal(
      [
        `overflow@${lineOf(SAFE, "uint256 sum = uint256(a) + uint256(b);")}`,
        `underflow@${lineOf(SAFE, "Comparators.gt(a, b) ? a - b : 0")}`,
        `overflow@${lineOf(SAFE, "return uint256(split.stakingBps) + split.treasuryBps;")}`,
        `overflow@${lineOf(SAFE, "(uint256(amount) * bps) / 10_000")}`,
        `divByZero@${lineOf(SAFE, "(uint256(amount) * bps) / 10_000")}`,
      ].sort(),
    );
  });

  it("finds the reachable overflow hidden by `unchecked`, with a counterexample", function () {
    expect(report.findings).to.have.length(1);
    const finding = report.findings[0]!;
    expect(finding.status).to.equal("violation");
    expect(finding.target).to.equal("overflow");
    expect(finding.file).to.equal(display(OVERFLOW));
    expect(finding.line).to.equal(lineOf(OVERFLOW, "return total + reward;"));
    expect(finding.job).to.equal("SmtOverflowLib.accrue");
    expect(finding.message).to.contain("Counterexample");
    // The counterexample really overflows uint128.
    const [total, reward] = [...finding.message.matchAll(/^a[01] = (\d+)$/gm)].map((m) => BigInt(m[1]!));
    expect(total! + reward!).to.be.greaterThan(2n ** 128n - 1n);
  });

  it("proves the bounded unchecked multiplication safe", function () {
    const job = report.jobs.find((j) => j.name === "SmtOverflowLib.double");
    expect(job?.checks.map((c) => `${c.status} ${c.target}`)).to.deep.equal(["safe overflow"]);
  });

  it("honours a justified suppression and keeps its reason", function () {
    expect(report.suppressed).to.have.length(1);
    const { check, suppression } = report.suppressed[0]!;
    expect(check.file).to.equal(display(SUPPRESSED));
    expect(check.line).to.equal(lineOf(SUPPRESSED, "return slot + 1;"));
    expect(suppression.reason).to.equal("ring index wraps at 256 by design");
    expect(report.unusedSuppressions).to.deep.equal([]);
  });

  it("reports a timeout as unknown, not as a failure", async function () {
    this.timeout(120_000);
    const slow = await runSmt({ root: ROOT, files: [OVERFLOW], timeoutMs: 50 });
    expect(slow.jobs.map((j) => j.status)).to.deep.equal(["timeout", "timeout"]);
    expect(slow.findings).to.deep.equal([]);
    expect(slow.problems).to.deep.equal([]);
  });

  it("checks only the selected functions, and reports a selected function that does not exist", async function () {
    this.timeout(300_000);
    const some = await runSmt({
      root: ROOT,
      files: [OVERFLOW],
      timeoutMs: 300_000,
      functions: ["SmtOverflowLib.double", "SmtOverflowLib.renamed"],
    });
    expect(some.jobs.map((j) => `${j.name} ${j.status}`)).to.deep.equal(["SmtOverflowLib.double done"]);
    expect(some.findings).to.deep.equal([]);
    expect(some.problems).to.deep.equal([
      { file: "SmtOverflowLib.renamed", line: 0, message: "selected function not found" },
    ]);
  });

  it("starts the next job on a fresh worker after a timeout, untouched by the killed one's exit", async function () {
    this.timeout(120_000);
    // The killed process's exit used to reach the next job and end it as "solc worker exited".
    const worker = new SolcWorker();
    const input = {
      language: "Solidity",
      sources: {
        "A.sol": { content: "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.28;\ncontract A {}\n" },
      },
      settings: { outputSelection: { "*": { "": [] } } },
    };
    try {
      expect((await worker.run(input, ROOT, {}, 1)).status).to.equal("timeout");
      const next = await worker.run(input, ROOT, {}, 100_000);
      expect(next.status, next.error).to.equal("done");
      expect(JSON.parse(next.output)).to.have.property("sources");
      expect(next.cpuMs).to.be.greaterThan(0);
    } finally {
      worker.close();
    }
  });

  it("reports a worker that dies during a job as crashed (no result), with its exit status", async function () {
    const worker = new SolcWorker(["-e", "process.stdin.once('data', () => process.exit(7))"]);
    const run = await worker.run({}, ROOT, {}, 30_000);
    expect(run.status).to.equal("crashed");
    expect(run.error).to.equal("solc worker exited (exit code 7)");
  });

  it("handles an empty set of libraries", async function () {
    const empty = await runSmt({ root: ROOT, files: [], timeoutMs: 1_000 });
    expect(empty.jobs).to.deep.equal([]);
    expect(empty.findings).to.deep.equal([]);
  });

  it("blanks out `unchecked` keywords without moving any line or column", async function () {
    const program = await loadProgram(ROOT, [OVERFLOW]);
    const file = program.files.find((f) => f.id === OVERFLOW)!;
    const out = withoutUnchecked(file);
    expect(out).to.have.length(file.source.length);
    expect(file.source.match(/\bunchecked \{/g)).to.have.length(2);
    expect(out).not.to.match(/\bunchecked \{/);
    expect(out.split("\n").map((l) => l.length)).to.deep.equal(file.source.split("\n").map((l) => l.length));
  });

  describe("command line (npm run lint:smt)", function () {
    this.timeout(600_000);

    it("exits non-zero on a counterexample and prints verified targets", async function () {
      const run = await runHardhatScript("scripts/static/smt.ts", {
        SMT_CHECK_FILES: display(OVERFLOW),
        SMT_TIMEOUT_SECONDS: "300",
      });
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.contain(
        `VIOLATION  overflow at ${display(OVERFLOW)}:${lineOf(OVERFLOW, "total + reward")}`,
      );
      expect(run.stdout).to.contain(
        `verified   overflow at ${display(OVERFLOW)}:${lineOf(OVERFLOW, "uint128(x) * 2")}`,
      );
    });

    it("exits zero when the only violation is justified", async function () {
      const run = await runHardhatScript("scripts/static/smt.ts", {
        SMT_CHECK_FILES: display(SUPPRESSED),
        SMT_TIMEOUT_SECONDS: "300",
      });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain("reason: ring index wraps at 256 by design");
    });
  });
});
