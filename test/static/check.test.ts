import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { findSolidityFiles, runStaticChecks, type CheckResult } from "../../scripts/static/lib/checker.js";
import { RULES } from "../../scripts/static/lib/rules.js";
import { Suppressions } from "../../scripts/static/lib/suppress.js";
import { display, expectedFindings, fixture, lineOf, ROOT, runHardhatScript } from "../helpers/static.js";

const BAD = {
  "call-before-write": "CallBeforeWriteBad.sol",
  "unbounded-loop": "UnboundedLoopBad.sol",
  "missing-event": "MissingEventBad.sol",
} as const;
const GOOD = {
  "call-before-write": "CallBeforeWriteGood.sol",
  "unbounded-loop": "UnboundedLoopGood.sol",
  "missing-event": "MissingEventGood.sol",
} as const;
const SUPPRESSED = "Suppressed.sol";
const SUPPRESSION_PROBLEMS = "SuppressionProblems.sol";

function findingsIn(result: CheckResult, name: string): string[] {
  const file = display(fixture(name));
  return result.findings
    .filter((f) => f.file === file)
    .map((f) => `${f.rule}@${f.line}`)
    .sort();
}

describe("static checks (Slang syntax tree)", function () {
  let result: CheckResult;

  before(async function () {
    this.timeout(300_000);
    // One compilation unit for every fixture: the same code path as the real run over contracts/.
    const names = [...Object.values(BAD), ...Object.values(GOOD), SUPPRESSED, SUPPRESSION_PROBLEMS];
    result = await runStaticChecks(
      ROOT,
      names.map((n) => fixture(n)),
    );
  });

  for (const rule of RULES) {
    describe(rule, function () {
      it(`reports exactly the marked lines of ${BAD[rule]}`, function () {
        const expected = expectedFindings(fixture(BAD[rule]));
        expect(expected.length).to.be.greaterThan(3);
        expect(expected.every((e) => e.startsWith(`${rule}@`))).to.equal(true);
        expect(findingsIn(result, BAD[rule])).to.deep.equal(expected);
      });

      it(`is silent on ${GOOD[rule]}`, function () {
        expect(findingsIn(result, GOOD[rule])).to.deep.equal([]);
        expect(result.problems.filter((p) => p.file === display(fixture(GOOD[rule])))).to.deep.equal([]);
      });
    });
  }

  it("names the function, the call and the write of a call-before-write finding", function () {
    const file = fixture(BAD["call-before-write"]);
    const line = lineOf(file, "_token.safeTransfer(msg.sender, amount);");
    const finding = result.findings.find((f) => f.file === display(file) && f.line === line);
    expect(finding?.function).to.equal("CallBeforeWriteBad.withdraw");
    expect(finding?.message).to.contain("`_token.safeTransfer(msg.sender, amount)`");
    expect(finding?.message).to.contain("`_balances[msg.sender] -= amount`");
    expect(finding?.message).to.contain(`at line ${line + 1}`);
    // The call is traced to the CALL opcode inside OpenZeppelin's SafeERC20.
    expect(finding?.message).to.match(/via SafeERC20\.safeTransfer .*assembly call\(/);
  });

  it("follows internal functions to the write they make", function () {
    const file = fixture(BAD["missing-event"]);
    const finding = result.findings.find((f) => f.function === "MissingEventBad.bumpNonce");
    expect(finding?.message).to.contain("via _useNonce");
    expect(finding?.message).to.contain(`${display(file)}:${lineOf(file, "return _nonces[owner]++;")}`);
  });

  it("checks code only in the files it is given, not in their imports", function () {
    const files = new Set(result.findings.map((f) => f.file));
    for (const file of files) expect(file.startsWith("scripts/static/fixtures/")).to.equal(true);
  });

  describe("suppressions", function () {
    it("silence a finding and print their reason", function () {
      const file = display(fixture(SUPPRESSED));
      expect(findingsIn(result, SUPPRESSED)).to.deep.equal([]);
      const mine = result.suppressed.filter((s) => s.finding.file === file);
      expect(mine.map((s) => s.finding.rule).sort()).to.deep.equal([...RULES].sort());
      const reasons = mine.map((s) => s.suppression.reason);
      expect(reasons).to.include("governance caps the oracle set at 16 members");
      for (const s of mine) expect(s.suppression.line).to.equal(s.finding.line - 1);
      expect(result.problems.filter((p) => p.file === file)).to.deep.equal([]);
    });

    it("need a known rule and a reason, must match a finding, and never hide another rule", function () {
      const file = fixture(SUPPRESSION_PROBLEMS);
      expect(findingsIn(result, SUPPRESSION_PROBLEMS)).to.deep.equal(expectedFindings(file));
      const problems = result.problems
        .filter((p) => p.file === display(file))
        .map((p) => `${p.line}: ${p.message}`)
        .sort((a, b) => parseInt(a) - parseInt(b));
      expect(problems).to.deep.equal([
        `${lineOf(file, "// static-check-ignore: missing-event")}: suppression of missing-event needs a reason`,
        `${lineOf(file, "ignore: reentrancy")}: unknown rule "reentrancy" in suppression (known: call-before-write, unbounded-loop, missing-event, smt-overflow, smt-underflow, smt-div-by-zero, smt-assert)`,
        `${lineOf(file, "ignore: unbounded-loop")}: unused suppression of unbounded-loop (no finding on the next line)`,
        `${lineOf(file, "nothing to suppress")}: unused suppression of missing-event (no finding on the next line)`,
      ]);
    });

    it("apply only from the block of comment lines directly above the finding", function () {
      const s = new Suppressions(RULES, RULES);
      s.addFile(
        "x.sol",
        [
          "// static-check-ignore: missing-event reason one", // 1
          "// static-check-ignore: call-before-write reason two", // 2
          "function f() {", // 3
          "// static-check-ignore: unbounded-loop separated by a blank line", // 4
          "", // 5
          "for (;;) {}", // 6
          "x(); // static-check-ignore: missing-event same line", // 7
        ].join("\n"),
      );
      expect(s.match({ file: "x.sol", line: 3, rule: "missing-event" })?.reason).to.equal("reason one");
      expect(s.match({ file: "x.sol", line: 3, rule: "call-before-write" })?.reason).to.equal("reason two");
      expect(s.match({ file: "x.sol", line: 3, rule: "unbounded-loop" })).to.equal(undefined);
      expect(s.match({ file: "x.sol", line: 6, rule: "unbounded-loop" })).to.equal(undefined);
      expect(s.match({ file: "x.sol", line: 8, rule: "missing-event" })).to.equal(undefined);
      expect(s.problems.map((p) => p.line)).to.deep.equal([7]);
      expect(s.unused().map((u) => u.line)).to.deep.equal([4]);
    });
  });

  describe("file selection", function () {
    let dir: string;
    before(function () {
      dir = mkdtempSync(path.join(tmpdir(), "static-files-"));
      for (const rel of ["token/A.sol", "mocks/M.sol", "libraries/L.sol", "notes.md"]) {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), "");
      }
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it("takes every .sol file under contracts/ except contracts/mocks/", function () {
      const files = findSolidityFiles(dir, [path.join(dir, "mocks")]).map((f) => path.relative(dir, f));
      expect(files).to.deep.equal([path.join("libraries", "L.sol"), path.join("token", "A.sol")]);
    });

    it("fails on an import it cannot resolve (calls through it could not be followed)", async function () {
      const file = path.join(dir, "token", "Broken.sol");
      writeFileSync(
        file,
        'pragma solidity ^0.8.28;\nimport {Gone} from "./Gone.sol";\ncontract Broken {\n    function f() external {}\n}\n',
      );
      const broken = await runStaticChecks(dir, [file]);
      expect(broken.problems.map((p) => `${p.file}: ${p.message}`)).to.deep.equal([
        `${path.join("token", "Broken.sol")}: import "./Gone.sol" resolves to no file: calls through it cannot be followed`,
      ]);
    });

    it("handles an empty set", async function () {
      const empty = await runStaticChecks(ROOT, []);
      expect(empty.findings).to.deep.equal([]);
      expect(empty.problems).to.deep.equal([]);
      expect(findSolidityFiles(path.join(dir, "absent"))).to.deep.equal([]);
    });
  });

  describe("command line (npm run lint:static)", function () {
    this.timeout(300_000);

    it("exits non-zero on an unsuppressed finding", async function () {
      const run = await runHardhatScript("scripts/static/check.ts", {
        STATIC_CHECK_FILES: display(fixture(BAD["missing-event"])),
      });
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.contain("FINDING scripts/static/fixtures/MissingEventBad.sol:");
      expect(run.stdout).to.match(/static-check: 4 finding\(s\), 0 suppressed, 0 error\(s\)/);
    });

    it("exits zero when every finding is justified, and prints each reason", async function () {
      const run = await runHardhatScript("scripts/static/check.ts", {
        STATIC_CHECK_FILES: display(fixture(SUPPRESSED)),
      });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain("reason: a counter kept for gas benchmarks only; nothing indexes it");
      expect(run.stdout).to.match(/static-check: 0 finding\(s\), 3 suppressed, 0 error\(s\)/);
    });
  });
});
