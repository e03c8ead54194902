import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { analyseFile, mapTags, type Branch } from "../../scripts/coverage/lib/branches.js";
import {
  instrumentStatements,
  type InstrumentedStatement,
} from "../../scripts/coverage/lib/instrumentation.js";
import {
  LANGUAGE_VERSION,
  loadProgram,
  type Program,
  type SourceFile,
} from "../../scripts/static/lib/solidity.js";

// A synthetic contract: the tags come from EDR's real instrumentation, only the hit counts are made up.
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

contract Sample {
    uint256 private _x;
    mapping(uint256 => bool) private _seen;
    uint256[] private _list;

    function guard(uint256 a) external {
        if (a == 0) revert();
        _x = a;
    }

    function choose(uint256 a) external {
        if (a == 1) {
            _x = 1;
        } else {
            _x = 2;
        }
    }

    function fallsThrough(uint256 a) external {
        if (a > 5) _x = 5;
        _x += 1;
    }

    function chain(uint256 a) external {
        if (a == 1) _x = 10;
        else if (a == 2) _x = 20;
        _x += 2;
    }

    function tail(uint256 a) external {
        _x = 0;
        if (a != 7) _x = 7;
    }

    function tailWithCall(uint256 a) external {
        _x = 0;
        if (_twice(a) > 7) _x = 8;
    }

    function tailWithArithmetic(uint256 a) external {
        _x = 0;
        if (a + 1 > 7) _x = 9;
    }

    function tailWithMapping(uint256 a) external {
        _x = 0;
        if (!_seen[a] && address(0) == msg.sender) _x = 11;
    }

    function tailWithArray(uint256 a) external {
        _x = 0;
        if (_list[a] == 1) _x = 12;
    }

    function loop(uint256 n) external {
        for (uint256 i; i < n; ++i) {
            if (i == 3) continue;
            _x += i;
        }
    }

    function pick(uint256 a) external pure returns (uint256) {
        return a > 1 ? a : 1;
    }

    function _twice(uint256 a) private pure returns (uint256) {
        return a * 2;
    }
}
`;

/** Line of the first occurrence of `text` in SOURCE (1-based). */
function lineOf(text: string): number {
  const index = SOURCE.indexOf(text);
  if (index < 0) throw new Error(`not in SOURCE: ${text}`);
  return SOURCE.slice(0, index).split("\n").length;
}

describe("coverage gate: branch derivation from statement hits", function () {
  let dir: string;
  let file: SourceFile;
  let definitions: Program["definition"];
  let statements: InstrumentedStatement[];

  /** Tag of the instrumented statement whose code (trivia stripped) starts with `code` (or matches it). */
  function tag(code: string | RegExp, nth = 0): string {
    const matches = statements.filter((s) => {
      const text = SOURCE.slice(s.start, s.end).trim();
      return typeof code === "string" ? text.startsWith(code) : code.test(text);
    });
    const s = matches[nth];
    if (!s) throw new Error(`no instrumented statement starts with ${code} (#${nth})`);
    return s.tag;
  }

  function hits(entries: [string, number][]): Map<string, number> {
    return new Map(entries);
  }

  function arm(branches: Branch[], line: number, which: "then" | "else"): Branch {
    const b = branches.find((x) => x.line === line && x.arm === which);
    if (!b) throw new Error(`no ${which}-arm at line ${line}`);
    return b;
  }

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "hexmesh-covgate-"));
    const sol = path.join(dir, "Sample.sol");
    await writeFile(sol, SOURCE);
    const program = await loadProgram(dir, [sol]);
    file = program.files[0]!;
    definitions = program.definition;
    statements = instrumentStatements(SOURCE, "project/Sample.sol", LANGUAGE_VERSION);
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("reproduces the tags Hardhat's run would produce (same inputs, same tags; other name, other tags)", function () {
    const again = instrumentStatements(SOURCE, "project/Sample.sol", LANGUAGE_VERSION);
    expect(again.map((s) => s.tag)).to.deep.equal(statements.map((s) => s.tag));
    const renamed = instrumentStatements(SOURCE, "project/Other.sol", LANGUAGE_VERSION);
    expect(renamed[0]!.tag).to.not.equal(statements[0]!.tag);
  });

  it("maps every tag to one statement and refuses a tag that fits none", function () {
    expect(mapTags(file, statements).size).to.equal(statements.length);
    const bogus = {
      tag: "ff",
      start: SOURCE.indexOf("uint256 private"),
      end: SOURCE.indexOf("uint256 private") + 5,
    };
    expect(() => mapTags(file, [...statements, bogus])).to.throw(/matches no statement/);
  });

  it("then-arm: taken iff its body was reached; terminating then-arm: false arm iff the next statement ran", function () {
    const line = lineOf("if (a == 0)");
    const onlyReverted = analyseFile(
      file,
      statements,
      hits([
        [tag("if (a == 0)"), 3],
        [tag("revert()"), 3],
      ]),
      definitions,
    );
    expect(arm(onlyReverted.branches, line, "then").covered).to.equal(true);
    expect(arm(onlyReverted.branches, line, "else").covered).to.equal(false);

    const passed = analyseFile(
      file,
      statements,
      hits([
        [tag("if (a == 0)"), 3],
        [tag("_x = a"), 1],
      ]),
      definitions,
    );
    expect(arm(passed.branches, line, "then").covered).to.equal(false);
    expect(arm(passed.branches, line, "else")).to.include({ covered: true });
    expect(arm(passed.branches, line, "else").how).to.match(/^\(a\)/);
  });

  it("if/else: each arm iff its own body was reached", function () {
    const line = lineOf("if (a == 1) {");
    // EDR tags the else-body block itself (and the statement inside it).
    const elseBlock = tag(/^\{\s*_x = 2;/);
    const r = analyseFile(
      file,
      statements,
      hits([
        [tag("if (a == 1) {"), 4],
        [elseBlock, 4],
        [tag("_x = 2"), 4],
      ]),
      definitions,
    );
    expect(arm(r.branches, line, "then").covered).to.equal(false);
    expect(arm(r.branches, line, "else").covered).to.equal(true);
    // The statement inside is not what decides: only the body statement EDR wraps the arm in.
    const inner = analyseFile(file, statements, hits([[tag("_x = 2"), 4]]), definitions);
    expect(arm(inner.branches, line, "else").covered).to.equal(false);
  });

  it("no else, then-arm falls through: false arm only when the next statement ran more often than the body", function () {
    const line = lineOf("if (a > 5)");
    const same = analyseFile(
      file,
      statements,
      hits([
        [tag("_x = 5"), 2],
        [tag("_x += 1"), 2],
      ]),
      definitions,
    );
    expect(arm(same.branches, line, "else").covered).to.equal(false);
    const more = analyseFile(
      file,
      statements,
      hits([
        [tag("_x = 5"), 2],
        [tag("_x += 1"), 3],
      ]),
      definitions,
    );
    expect(arm(more.branches, line, "else")).to.include({ covered: true });
    expect(arm(more.branches, line, "else").how).to.match(/^\(b\)/);
  });

  it("else-if chain: the inner false arm must beat both then-bodies together", function () {
    const inner = lineOf("else if (a == 2)");
    const outer = lineOf("if (a == 1) _x = 10");
    const base: [string, number][] = [
      [tag("if (a == 1) _x = 10"), 5],
      [tag("_x = 10"), 2],
      [tag("if (a == 2)"), 3],
      [tag("_x = 20"), 1],
    ];
    // The outer else-arm is the inner `if`, reached 3 times.
    expect(
      arm(analyseFile(file, statements, hits(base), definitions).branches, outer, "else").covered,
    ).to.equal(true);
    // Next statement reached 3 times = 2 + 1 through the then-bodies: rule (b) cannot tell, but the inner
    // if ran 3 times and its body once, and `a == 2` cannot revert: rule (c) shows the false arm.
    const r = analyseFile(file, statements, hits([...base, [tag("_x += 2"), 3]]), definitions);
    expect(arm(r.branches, inner, "else").how).to.match(/^\(c\)/);
    // Without the count of the inner if itself, only rule (b) could tell, and 3 is not more than 2 + 1.
    const noInner = analyseFile(
      file,
      statements,
      hits([
        [tag("_x = 10"), 2],
        [tag("_x = 20"), 1],
        [tag("_x += 2"), 3],
      ]),
      definitions,
    );
    expect(arm(noInner.branches, inner, "else").covered).to.equal(false);
    const four = analyseFile(
      file,
      statements,
      hits([
        [tag("_x = 10"), 2],
        [tag("_x = 20"), 1],
        [tag("_x += 2"), 4],
      ]),
      definitions,
    );
    expect(arm(four.branches, inner, "else")).to.include({ covered: true });
  });

  it("an if that ends its block: rule (c) for a revert-free condition, nothing for a condition with a call", function () {
    const plain = lineOf("if (a != 7)");
    const withCall = lineOf("if (_twice(a) > 7)");
    const equal = analyseFile(
      file,
      statements,
      hits([
        [tag("if (a != 7)"), 2],
        [tag("_x = 7"), 2],
      ]),
      definitions,
    );
    expect(arm(equal.branches, plain, "else").covered).to.equal(false);
    const more = analyseFile(
      file,
      statements,
      hits([
        [tag("if (a != 7)"), 3],
        [tag("_x = 7"), 2],
        [tag("if (_twice(a) > 7)"), 9],
        [tag("_x = 8"), 1],
      ]),
      definitions,
    );
    expect(arm(more.branches, plain, "else")).to.include({ covered: true });
    // `_twice` could revert between the if and its body: the gap in counts proves nothing.
    expect(arm(more.branches, withCall, "else")).to.include({ covered: false });
    expect(arm(more.branches, withCall, "else").how).to.match(/no rule applies/);
  });

  it("rule (c) refuses checked arithmetic in the condition, accepts mapping reads, `!` and conversions", function () {
    const arithmetic = lineOf("if (a + 1 > 7)");
    const mapping = lineOf("if (!_seen[a]");
    const r = analyseFile(
      file,
      statements,
      hits([
        [tag("if (a + 1 > 7)"), 5],
        [tag("if (!_seen[a]"), 5],
        [tag("if (_list[a] == 1)"), 5],
      ]),
      definitions,
    );
    // `a + 1` reverts on overflow.
    expect(arm(r.branches, arithmetic, "else")).to.include({ covered: false });
    expect(arm(r.branches, mapping, "else")).to.include({ covered: true });
    // An array index reverts out of bounds.
    expect(arm(r.branches, lineOf("if (_list[a] == 1)"), "else")).to.include({ covered: false });
  });

  it("continue leaves the loop body: the statement after the if shows the false arm", function () {
    const line = lineOf("if (i == 3)");
    const r = analyseFile(file, statements, hits([[tag("_x += i"), 1]]), definitions);
    expect(arm(r.branches, line, "else")).to.include({ covered: true });
    expect(arm(r.branches, line, "then").covered).to.equal(false);
  });

  it("lines: executable where a statement starts, covered when one that starts there ran; ternaries listed", function () {
    const r = analyseFile(file, statements, hits([[tag("_x = a"), 1]]), definitions);
    expect(r.lines).to.include(lineOf("_x = a;"));
    expect(r.lines).to.not.include(lineOf("} else {"));
    expect(r.uncoveredLines).to.not.include(lineOf("_x = a;"));
    expect(r.uncoveredLines).to.include(lineOf("if (a == 0)"));
    expect(r.lines.length - r.uncoveredLines.length).to.equal(1);
    expect(r.unmeasured).to.deep.equal([{ line: lineOf("a > 1 ? a : 1"), kind: "ternary" }]);
    // 11 ifs, two arms each.
    expect(r.branches).to.have.length(22);
  });
});
