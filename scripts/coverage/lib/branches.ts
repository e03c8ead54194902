/**
 * Line and branch coverage of one Solidity file, derived from the statement hits of Hardhat's built-in
 * coverage and the file's Slang syntax tree.
 *
 * What EDR gives: every statement (including every `if` body and `else` body, which it wraps in a block
 * first) carries a tag; a tag's count is the number of executions (transactions, calls, Solidity test
 * calls) that reached that statement at least once. Counts are "executions that hit it", not "times hit".
 *
 * What counts as a branch here: the two arms of every `if` statement. Nothing else (ternaries, try/catch
 * clauses, loop conditions, short-circuit `&&`/`||` operands have no statement of their own for EDR to
 * tag); those are listed as "not measured" so a reader sees what the figure leaves out.
 *
 * When an arm counts as taken (each rule can only under-report, never claim an arm that did not run):
 * - then-arm: its body statement was reached.
 * - else-arm: its body statement was reached.
 * - no `else`: the false outcome has no statement, so we look at S, the statement that follows the `if`
 *   (following `else if` chains up to the outermost `if`). Every path to S goes through the false arm
 *   or through one of the chain's then-bodies T1..Tn. The false arm was taken if
 *   (a) every Ti always leaves the block (ends in return/revert/break/continue) and S was reached, or
 *   (b) more executions reached S than reached all Ti together (count(S) > sum count(Ti)): some
 *       execution reached S without entering any Ti.
 *   (c) the condition cannot revert (only names, member reads, mapping reads, literals, comparisons, `!`,
 *       `&&`, `||`, bitwise operators and elementary type conversions: no call, checked arithmetic or
 *       array index) and more
 *       executions reached the `if` itself than its then-body: such an execution evaluated the condition
 *       and went on without entering the body. (An execution that ran out of gas inside the condition
 *       would fool this rule; the tests do not run at the gas edge.)
 *   If no rule holds, the arm is reported as not shown taken.
 */
import {
  child,
  descendants,
  NK,
  TK,
  variant,
  type Program,
  type SolNode,
  type SourceFile,
} from "../../static/lib/solidity.js";
import type { InstrumentedStatement } from "./instrumentation.js";

/** Coverage tag -> number of executions that reached it. */
export type Hits = ReadonlyMap<string, number>;

export interface Branch {
  line: number;
  arm: "then" | "else";
  covered: boolean;
  /** Which rule decided it (for the report). */
  how: string;
}

export interface FileCoverage {
  /** Executable lines: lines where an instrumented non-block statement starts. */
  lines: number[];
  uncoveredLines: number[];
  branches: Branch[];
  /** Decision points without a statement per outcome, which the branch figure does not include. */
  unmeasured: { line: number; kind: string }[];
}

/** Statement nodes (the `Statement` wrappers) of a syntax tree, in source order. */
function statements(root: SolNode): SolNode[] {
  const out: SolNode[] = [];
  for (const n of descendants(root)) if (!n.terminal && n.kind === NK.Statement) out.push(n);
  return out;
}

/**
 * Maps each instrumented statement to its syntax node: the outermost `Statement` starting inside the
 * tagged range (EDR's ranges include leading trivia; ours start at the first token). Throws when a tag
 * fits no statement, since every figure below would then be built on a wrong map.
 */
export function mapTags(file: SourceFile, instrumented: InstrumentedStatement[]): Map<SolNode, string> {
  const stmts = statements(file.root).sort((a, b) => a.start - b.start || b.end - a.end);
  const byNode = new Map<SolNode, string>();
  for (const s of instrumented) {
    const node = stmts.find((n) => n.start >= s.start);
    if (!node || node.end > s.end) {
      const text = file.source.slice(s.start, s.end).trim().slice(0, 60);
      throw new Error(
        `${file.display}: coverage tag ${s.tag} (${JSON.stringify(text)}) matches no statement`,
      );
    }
    if (byNode.has(node))
      throw new Error(`${file.display}:${node.line}: two coverage tags for one statement`);
    byNode.set(node, s.tag);
  }
  return byNode;
}

function callsRevert(stmt: SolNode): boolean {
  // `revert(...)` / `revert()` written as a call (the `revert Error(...)` form is a RevertStatement).
  const expr = variant(child(stmt, "Expression"));
  if (!expr || expr.kind !== NK.FunctionCallExpression) return false;
  const callee = variant(child(expr, "Operand"));
  return callee?.terminal === true && callee.text === "revert";
}

/** True when control can never continue after `stmt` (a `Statement` node) in its block. */
export function alwaysLeaves(stmt: SolNode | undefined): boolean {
  const v = variant(stmt);
  if (!v) return false;
  switch (v.kind) {
    case NK.ReturnStatement:
    case NK.RevertStatement:
    case NK.BreakStatement:
    case NK.ContinueStatement:
      return true;
    case NK.ExpressionStatement:
      return callsRevert(v);
    case NK.Block:
    case NK.UncheckedBlock: {
      const block = v.kind === NK.Block ? v : child(v, "Block");
      const items = child(block, "Statements")?.children ?? [];
      return items.some((s) => alwaysLeaves(s));
    }
    case NK.IfStatement: {
      const elseBody = child(child(v, "ElseBranch"), "Body");
      return elseBody !== undefined && alwaysLeaves(child(v, "Body")) && alwaysLeaves(elseBody);
    }
    default:
      return false;
  }
}

/** The `Statement` wrapper around an `IfStatement` node. */
function wrapper(ifStatement: SolNode): SolNode {
  const w = ifStatement.parent;
  if (!w || w.kind !== NK.Statement)
    throw new Error(`${ifStatement.file.display}:${ifStatement.line}: bare if`);
  return w;
}

/**
 * For an `if` without `else`: the then-bodies on every other path to the statement after it, and that
 * statement (undefined when the `if` chain is not followed by a statement in the same block).
 */
function bypassAndSuccessor(ifStatement: SolNode): { thenBodies: SolNode[]; successor: SolNode | undefined } {
  const thenBodies: SolNode[] = [];
  let current = ifStatement;
  for (;;) {
    const body = child(current, "Body");
    if (body) thenBodies.push(body);
    const stmt = wrapper(current);
    const parent = stmt.parent;
    // `else if`: this `if` is the else-body of an outer `if`; its successor is the outer one's.
    if (parent?.kind === NK.ElseBranch && parent.parent?.kind === NK.IfStatement) {
      current = parent.parent;
      continue;
    }
    if (parent?.kind === NK.Statements) {
      const siblings = parent.children;
      return { thenBodies, successor: siblings[siblings.indexOf(stmt) + 1] };
    }
    return { thenBodies, successor: undefined };
  }
}

/** Expression kinds whose evaluation cannot revert (no call, checked arithmetic or index access). */
const REVERT_FREE = new Set<string>([
  NK.Expression,
  NK.EqualityExpression,
  NK.InequalityExpression,
  NK.AndExpression,
  NK.OrExpression,
  NK.BitwiseAndExpression,
  NK.BitwiseOrExpression,
  NK.BitwiseXorExpression,
  NK.TupleExpression,
  NK.TupleValues,
  NK.TupleValue,
  NK.MemberAccessExpression,
  NK.DecimalNumberExpression,
  NK.HexNumberExpression,
  NK.ElementaryType,
  NK.AddressType,
  NK.ArgumentsDeclaration,
  NK.PositionalArgumentsDeclaration,
  NK.PositionalArguments,
]);

/** Resolves an identifier to its definition nodes (Slang bindings). */
type Definitions = Program["definition"];

/** How many mapping levels a state variable's declared type has (`mapping(a => mapping(b => c))`: 2). */
function mappingDepth(definition: SolNode): number {
  let depth = 0;
  let type = variant(child(definition, "TypeName"));
  while (type?.kind === NK.MappingType) {
    depth++;
    type = variant(child(child(type, "ValueType"), "TypeName"));
  }
  return depth;
}

/** `m[k]`, `m[k1][k2]` on a state mapping: reading a mapping never reverts (arrays can, out of bounds). */
function isMappingRead(index: SolNode, definitions: Definitions): boolean {
  let levels = 0;
  let n: SolNode | undefined = index;
  while (n?.kind === NK.IndexAccessExpression) {
    // `a[i:j]` slices (and a missing index) are not plain reads.
    if (!child(n, "Start") || child(n, "End")) return false;
    levels++;
    n = variant(child(n, "Operand"));
  }
  if (n?.kind !== TK.Identifier || !n.refs || n.refs.length !== 1) return false;
  const def = definitions(n.refs[0]!);
  return def?.kind === NK.StateVariableDefinition && mappingDepth(def) >= levels;
}

/** True when evaluating `expr` cannot revert: see rule (c) above. */
export function revertFree(expr: SolNode, definitions: Definitions): boolean {
  for (const n of [expr, ...descendants(expr)]) {
    if (n.terminal) continue;
    if (n.kind === NK.IndexAccessExpression) {
      if (!isMappingRead(n, definitions)) return false;
      continue;
    }
    if (n.kind === NK.PrefixExpression) {
      // `!x` only: `-x` reverts on the minimum signed value, `++`/`--` write and can overflow.
      if (child(n, "Operator")?.text !== "!") return false;
      continue;
    }
    if (n.kind === NK.FunctionCallExpression) {
      // `address(0)`, `uint256(x)`: conversions between elementary types never revert.
      if (child(child(n, "Operand"), "Variant")?.kind !== NK.ElementaryType) return false;
      continue;
    }
    if (!REVERT_FREE.has(n.kind)) return false;
  }
  return true;
}

function isBlock(stmt: SolNode): boolean {
  const v = variant(stmt);
  return v?.kind === NK.Block || v?.kind === NK.UncheckedBlock;
}

/** The false outcome of an `if` without `else`: rules (a), (b), (c) above, the first that holds. */
function falseArmWithoutElse(
  ifStatement: SolNode,
  count: (stmt: SolNode) => number,
  definitions: Definitions,
): { covered: boolean; how: string } {
  const { thenBodies, successor } = bypassAndSuccessor(ifStatement);
  const rules: string[] = [];
  if (successor) {
    if (thenBodies.every((b) => alwaysLeaves(b))) {
      if (count(successor) > 0)
        return { covered: true, how: "(a) next statement reached, then-arm always leaves" };
      rules.push("a");
    } else {
      const through = thenBodies.reduce((sum, b) => sum + count(b), 0);
      if (count(successor) > through) return { covered: true, how: "(b) next statement reached more often" };
      rules.push("b");
    }
  }
  const condition = child(ifStatement, "Condition");
  if (condition && revertFree(condition, definitions)) {
    const body = child(ifStatement, "Body")!;
    if (count(wrapper(ifStatement)) > count(body))
      return { covered: true, how: "(c) if reached more often than its body" };
    rules.push("c");
  }
  return {
    covered: false,
    how:
      rules.length === 0
        ? "no rule applies (no next statement, condition may revert)"
        : `not shown by rule ${rules.join(", ")}`,
  };
}

export function analyseFile(
  file: SourceFile,
  instrumented: InstrumentedStatement[],
  hits: Hits,
  definitions: Definitions,
): FileCoverage {
  const tags = mapTags(file, instrumented);
  const count = (stmt: SolNode): number => {
    const tag = tags.get(stmt);
    if (tag === undefined) {
      throw new Error(
        `${file.display}:${stmt.line}: statement has no coverage tag (instrumentation changed?)`,
      );
    }
    return hits.get(tag) ?? 0;
  };

  // Lines: where an instrumented statement starts; blocks are left out (their `{` sits on the line of
  // the `if`/`for`/`unchecked` that owns them). A line is covered when any statement starting on it ran.
  const lineHit = new Map<number, boolean>();
  for (const stmt of tags.keys()) {
    if (isBlock(stmt)) continue;
    lineHit.set(stmt.line, (lineHit.get(stmt.line) ?? false) || count(stmt) > 0);
  }

  const branches: Branch[] = [];
  const unmeasured: FileCoverage["unmeasured"] = [];
  for (const n of descendants(file.root)) {
    if (n.terminal) continue;
    if (n.kind === NK.ConditionalExpression) unmeasured.push({ line: n.line, kind: "ternary" });
    if (n.kind === NK.TryStatement) unmeasured.push({ line: n.line, kind: "try/catch" });
    if (n.kind !== NK.IfStatement) continue;

    const body = child(n, "Body");
    if (!body) throw new Error(`${file.display}:${n.line}: if without a body`);
    const thenTaken = count(body) > 0;
    branches.push({
      line: n.line,
      arm: "then",
      covered: thenTaken,
      how: `then-body ${thenTaken ? "" : "never "}reached`,
    });

    const elseBody = child(child(n, "ElseBranch"), "Body");
    if (elseBody) {
      const elseTaken = count(elseBody) > 0;
      branches.push({
        line: n.line,
        arm: "else",
        covered: elseTaken,
        how: `else-body ${elseTaken ? "" : "never "}reached`,
      });
      continue;
    }
    branches.push({ line: n.line, arm: "else", ...falseArmWithoutElse(n, count, definitions) });
  }

  const lines = [...lineHit.keys()].sort((a, b) => a - b);
  return {
    lines,
    uncoveredLines: lines.filter((l) => lineHit.get(l) === false),
    branches,
    unmeasured,
  };
}
